"""Report periods of the campaign layer: Beijing calendar days over stored naive-UTC timestamps, month
keys in the backend's own SQL, and the names of inspected places as they are counted."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from sqlalchemy import func, literal_column
from sqlalchemy.orm import Session

from qingfeng.register.bounds import parse_day
from qingfeng.register.errors import InvalidInput

# Timestamps are stored as naive UTC (``models.utcnow``); a day of the report is a day in Beijing, as
# the pages show it. China keeps no daylight saving time, so the offset is fixed.
BEIJING_OFFSET = dt.timedelta(hours=8)


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The stored-UTC half-open range [start 00:00, end + 1 day 00:00) of Beijing days start..end."""
    return (
        dt.datetime.combine(start, dt.time()) - BEIJING_OFFSET,
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time()) - BEIJING_OFFSET,
    )


def beijing_day(stamp: dt.datetime) -> dt.date:
    """The Beijing calendar day of a stored naive-UTC timestamp."""
    return (stamp + BEIJING_OFFSET).date()


def beijing_today() -> dt.date:
    """The commission's calendar day, whatever the server's time zone."""
    return (dt.datetime.now(dt.UTC).replace(tzinfo=None) + BEIJING_OFFSET).date()


def report_due(month: str, due_day: int) -> dt.date:
    """The last day a month's ("YYYY-MM") report is on time: ``due_day`` of the next month (config
    ``evaluation.report_due_day``)."""
    year, number = int(month[:4]), int(month[5:7])
    return dt.date(year + (number == 12), number % 12 + 1, due_day)


def date_month(session: Session, column: Any) -> Any:
    """'YYYY-MM' of a date column, in the backend's SQL (a literal format: GROUP BY repeats it exactly)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime(literal_column("'%Y-%m'"), column)
    return func.to_char(column, literal_column("'YYYY-MM'"))


def stamp_month(session: Session, column: Any) -> Any:
    """'YYYY-MM' of the Beijing day of a stored naive-UTC timestamp column."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime(literal_column("'%Y-%m'"), column, literal_column("'+8 hours'"))
    return func.to_char(column + literal_column("interval '8 hours'"), literal_column("'YYYY-MM'"))


def months_between(start: dt.date, end: dt.date) -> list[str]:
    """Every 'YYYY-MM' from start's month to end's month, oldest first."""
    y, m, out = start.year, start.month, []
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return out


def parse_period(start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    """``--from``/``--to`` (or the page's 起止日期): real YYYY-MM-DD days in ``bounds.day_range``, in order."""
    first = parse_day(start, label="开始日期")
    last = parse_day(end, label="结束日期")
    if first > last:
        raise InvalidInput(f"开始日期 {first.isoformat()} 晚于结束日期 {last.isoformat()}")
    return first, last


def place_key(name: object) -> str:
    """An inspected unit or place as counted: NFKC (full-width letters and digits as ASCII), trimmed,
    inner runs of white space as one space. Empty names are not places."""
    return " ".join(unicodedata.normalize("NFKC", str(name or "")).split())
