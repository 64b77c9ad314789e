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
        self._mistyped: set[str] = set()  # IDs shown by typos: never issued to anyone later

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
        pid = body + ric.calc_check_digit(body + "0")
        return self.issue(birth, male, area) if self._mistyped and pid in self._mistyped else pid

    def issued(self, pid: str) -> bool:
        """Whether ``pid`` went to someone already (inverts the sequence spreading of ``issue``)."""
        birth = birth_of(pid)
        if birth is None or not is_valid_id(pid):
            return False
        seq, male = int(pid[14:17]), int(pid[16]) % 2 == 1
        n = ((seq // 2 - int(pid[6:14])) * _INV37) % 500
        return n < self._next.get((birth, male, pid[:6]), 0)

    def checksum_valid_typo(self, pid: str, rng: random.Random, *, keep_century: bool = False) -> str:
        """One body digit mistyped and the check digit recomputed to fit (an agency system that fills
        it in, or the one random typo in 11 that passes): a valid-looking ID of nobody, now or later."""
        while True:
            pos = rng.choice([i for i in range(17) if not (keep_century and i in (6, 7))])
            body = pid[:pos] + str((int(pid[pos]) + rng.randrange(1, 10)) % 10) + pid[pos + 1 : 17]
            shown = body + ric.calc_check_digit(body + "0")
            if birth_of(shown) is not None and not self.issued(shown) and shown not in self._mistyped:
                self._mistyped.add(shown)
                return shown


_INV37 = pow(37, -1, 500)


def birth_of(pid: str) -> dt.date | None:
    try:
        return dt.date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
    except ValueError:
        return None


def to_legacy15(id18: str) -> str | None:
    """The legacy 15-digit form (people born 1900-1999 only: the upgrade inserts '19')."""
    if id18[6:8] != "19":
        return None
    return id18[:6] + id18[8:17]


def legacy15_typo(factory: IdFactory, id18: str, rng: random.Random) -> str | None:
    """The 15-digit form with one digit mistyped: it upgrades to a checksum-valid ID of nobody."""
    if id18[6:8] != "19":
        return None
    return to_legacy15(factory.checksum_valid_typo(id18, rng, keep_century=True))


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
