"""Resident IDs (GB 11643) and unified social credit codes (GB 32100), and their delivered quirks."""

from __future__ import annotations

import datetime as dt
import random

from stdnum.cn import ric, uscc

AREA = "330109"  # 萧山区
OTHER_AREAS = ("330108", "330110", "330621")  # born elsewhere (滨江, 余杭, 绍兴)


class IdFactory:
    """Hands out unique 18-digit IDs: one sequence counter per (area, birth date, sex) keeps them
    unique without remembering every ID issued."""

    def __init__(self) -> None:
        self._next: dict[tuple[dt.date, bool, str], int] = {}
        self._ymd: dict[dt.date, str] = {}

    def issue(self, birth: dt.date, male: bool, area: str = AREA) -> str:
        key = (birth, male, area)
        n = self._next.get(key, 0)
        if n >= 500:  # this birth date is full in this area: use a neighbouring one
            nxt = OTHER_AREAS[(OTHER_AREAS.index(area) + 1) % 3] if area in OTHER_AREAS else OTHER_AREAS[0]
            return self.issue(birth, male, nxt)
        self._next[key] = n + 1
        ymd = self._ymd.get(birth)
        if ymd is None:
            ymd = self._ymd[birth] = f"{birth.year:04d}{birth.month:02d}{birth.day:02d}"
        # spread the sequence (37 is coprime to 500, so it stays unique); odd last digit for men
        seq = 2 * ((n * 37 + int(ymd)) % 500) + male
        body = f"{area}{ymd}{seq:03d}"
        return body + ric.calc_check_digit(body + "0")


def to_legacy15(id18: str) -> str | None:
    """The legacy 15-digit form (people born 1900-1999 only: the upgrade inserts '19')."""
    if id18[6:8] != "19":
        return None
    return id18[:6] + id18[8:17]


def typo(id18: str, rng: random.Random) -> str:
    """Change one digit of the body: always breaks the check digit (weights are non-zero mod 11)."""
    pos = rng.randrange(6, 17)
    old = id18[pos]
    new = str((int(old) + rng.randrange(1, 10)) % 10)
    return id18[:pos] + new + id18[pos + 1 :]


def transpose(id18: str, rng: random.Random) -> str | None:
    """Swap two adjacent different digits of the body (adjacent weights differ, so the check fails)."""
    spots = [i for i in range(6, 16) if id18[i] != id18[i + 1]]
    if not spots:
        return None
    i = rng.choice(spots)
    return id18[:i] + id18[i + 1] + id18[i] + id18[i + 2 :]


def is_valid_id(value: str) -> bool:
    return len(value) == 18 and value[:17].isdigit() and ric.calc_check_digit(value) == value[17]


_ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(rng: random.Random, seen: set[str]) -> str:
    """A company's credit code: 91 (企业) + 330109 + organisation code + check character."""
    while True:
        body = "91" + AREA + "".join(rng.choice("0123456789") for _ in range(8)) + rng.choice(_ALNUM)
        code = body + uscc.calc_check_digit(body)
        # an all-digit code can also pass the resident-ID check digit: avoid that ambiguity
        if code not in seen and not is_valid_id(code):
            seen.add(code)
            return code


def account(rng: random.Random, prefix: str = "6217") -> str:
    return prefix + "".join(rng.choice("0123456789") for _ in range(15))


ACCOUNT_STYLES = (
    lambda a: "'" + a,  # Excel's text marker, kept by a CSV export
    lambda a: " ".join(a[i : i + 4] for i in range(0, len(a), 4)),
    lambda a: "-".join(a[i : i + 4] for i in range(0, len(a), 4)),
    lambda a: a.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
)
ACCOUNT_NOISE_RATE = 0.05


def spelled_account(account: str, salt: str) -> str:
    """How a clerk typed the account on one row: mostly as is, sometimes with Excel's ', spaces,
    hyphens or full-width digits (issue #20). Chosen by a hash of the row, not the district's
    random stream, so the rest of the district keeps its bytes."""
    import zlib

    if not account:
        return account
    h = zlib.crc32(f"{account}|{salt}".encode())
    if (h % 10_000) >= ACCOUNT_NOISE_RATE * 10_000:
        return account
    return ACCOUNT_STYLES[(h // 10_000) % len(ACCOUNT_STYLES)](account)
