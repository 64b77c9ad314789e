"""The ranges of the register's inputs, checked before a value reaches the database.

One rule per kind of value, used by the service, the web UI and the CLI alike: ids and versions (the
columns are ``Integer``: PostgreSQL's ``integer`` ends at 2^31-1, SQLite's at 2^63-1), money
(``Numeric(18, 2)``: 16 digits before the point, 2 after), months, days and page numbers. A value out of
range raises ``InvalidInput`` with a Chinese message that names it; nothing is clamped silently except
where the caller says so.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from qingfeng.register.errors import InvalidInput

INT4_MAX = 2**31 - 1  # ids and versions are Integer columns: int4 on PostgreSQL
CENT = Decimal("0.01")
MONEY_MAX = Decimal("9999999999999999.99")  # Numeric(18, 2)
MONEY_MAX_TEXT = "9,999,999,999,999,999.99"
FIRST_YEAR = 2000  # no register data (nor any month or day a user asks about) is older
AHEAD_DAYS = 366  # dates in the future: at most a year ahead (a deadline, a filter, a report month)
MAX_PAGE = 1_000_000

_DIGITS = re.compile(r"[0-9]{1,12}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# plain notation only: 7560, 7560.5, 7,560.50 (thousands grouped by three), an optional sign
_AMOUNT = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")


def _shown(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def valid_id(value: int) -> bool:
    """Whether ``value`` can be the id of a row (1..2^31-1): outside, no row exists on any backend."""
    return 1 <= value <= INT4_MAX


def parse_version(value: object) -> int:
    """The clue version a form was rendered with (the optimistic lock): required, digits, in range."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput("缺少线索版本号,更改未保存:请刷新页面后重试")
    if not _DIGITS.fullmatch(text) or not valid_id(int(text)):
        raise InvalidInput(f"线索版本号「{_shown(text)}」无效,更改未保存:请刷新页面后重试")
    return int(text)


def parse_money(
    value: object, *, label: str = "金额", exact: bool = True, allow_negative: bool = False
) -> Decimal:
    """An amount in yuan as ``Decimal`` with two places, or ``InvalidInput``.

    Text is NFKC-normalised (full-width digits, as an IME types them) and must be plain notation: no
    exponent, no NaN or infinity, thousands separators only in groups of three. ``exact``: more than two
    decimal places are refused (a typo, not a rounding to make silently); without it they are rounded
    half up (sums computed by the pipeline). Negative amounts are refused unless ``allow_negative``; the
    magnitude is at most 9,999,999,999,999,999.99 (``Numeric(18, 2)``)."""
    invalid = InvalidInput(
        f"{label}「{_shown(value)}」不是有效金额:请填写以元为单位的数字,如 7560 或 7,560.50"
    )
    if isinstance(value, bool) or value is None:
        raise invalid
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise invalid
        amount = Decimal(repr(value))  # the shortest text that is this float: 0.1, not 0.1000000000000000055
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if not _AMOUNT.fullmatch(text):
            raise invalid
        amount = Decimal(text.replace(",", ""))
    else:
        raise invalid
    if not amount.is_finite():
        raise invalid
    over = InvalidInput(f"{label}「{_shown(value)}」超出范围:金额最大为 {MONEY_MAX_TEXT} 元")
    if amount.copy_abs() >= 10**17:  # before quantize, which fails beyond the context's 28 digits
        raise over
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if exact and rounded != amount:
        raise InvalidInput(f"{label}「{_shown(value)}」有误:金额最多两位小数(精确到分)")
    if rounded.copy_abs() > MONEY_MAX:
        raise over
    if rounded < 0 and not allow_negative:
        raise InvalidInput(f"{label}「{_shown(value)}」有误:金额不能为负数")
    return rounded if rounded else CENT * 0  # -0.00 is 0.00


def month_range(today: dt.date | None = None) -> tuple[str, str]:
    """The months a report may be asked for: January 2000 to December of next year."""
    today = today or dt.date.today()
    return f"{FIRST_YEAR:04d}-01", f"{today.year + 1:04d}-12"


def parse_month(value: str | None, *, today: dt.date | None = None) -> str:
    """``YYYY-MM`` within ``month_range``; anything else (9999-12, 2025-13, full-width digits) refused."""
    text = (value or "").strip()
    found = _MONTH.fullmatch(text)
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise InvalidInput(f"月份「{_shown(text)}」格式应为 YYYY-MM(如 2025-06)")
    first, last = month_range(today)
    if not first <= text <= last:
        raise InvalidInput(f"月份 {text} 超出范围:应在 {first} 至 {last} 之间")
    return text


def day_range(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days a filter may name: 1 January 2000 to a year from today."""
    today = today or dt.date.today()
    return dt.date(FIRST_YEAR, 1, 1), today + dt.timedelta(days=AHEAD_DAYS)


def parse_day(
    value: str | None,
    *,
    label: str = "日期",
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> dt.date:
    """``YYYY-MM-DD``, a real date, from ``first`` to ``last`` (default ``day_range``)."""
    text = (value or "").strip()
    if not _DAY.fullmatch(text):
        raise InvalidInput(f"{label}「{_shown(text)}」格式应为 YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{label}「{text}」不是有效日期") from exc
    low, high = day_range()
    first, last = first or low, last or high
    if not first <= day <= last:
        raise InvalidInput(f"{label} {text} 超出范围:应在 {first.isoformat()} 至 {last.isoformat()} 之间")
    return day


def parse_page(value: str | None) -> int:
    """A page number 1..1,000,000; empty is page 1."""
    text = (value or "").strip()
    if not text:
        return 1
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= MAX_PAGE:
        raise InvalidInput(f"页码无效:应为 1 至 {MAX_PAGE:,} 的整数")
    return int(text)


# A user's contact details for the notifications (docs/notifications.md).
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL_MAX = 254


def parse_email(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > EMAIL_MAX or not _EMAIL.match(text):
        raise InvalidInput(f"电子邮箱「{text[:60]}」格式不正确,应如 name@example.cn")
    return text


def parse_phone(value: str | None) -> str | None:
    """A mainland mobile number, stored as its 11 digits (spaces, hyphens and +86 are dropped)."""
    text = re.sub(r"[\s-]", "", (value or "").strip())
    if not text:
        return None
    digits = text.removeprefix("+86").removeprefix("0086")
    if not _MOBILE.match(digits):
        raise InvalidInput("手机号应为 11 位大陆手机号码(1 开头,第二位 3–9),如 139 1234 5678")
    return digits


__all__ = [
    "EMAIL_MAX",
    "INT4_MAX",
    "MAX_PAGE",
    "MONEY_MAX",
    "day_range",
    "month_range",
    "parse_day",
    "parse_email",
    "parse_money",
    "parse_month",
    "parse_page",
    "parse_phone",
    "parse_version",
    "valid_id",
]
