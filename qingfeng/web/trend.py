"""Month-by-month trend of the monthly-report counts, as one small indexed COUNT per month and figure.

Same definitions as ``register.report.monthly_report`` (docs/register.md; a test checks that they
agree month by month), without building the full per-rule/per-town report twelve times.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from qingfeng.register.lifecycle import CLOSED
from qingfeng.register.models import Clue, Dispatch, Event, Rectification
from qingfeng.register.report import month_bounds

TREND_FIGURES = ("found", "dispatched", "rectified", "closed")


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def month_counts(session: Session, month: str) -> dict[str, int]:
    start, end = month_bounds(month)
    s, e = _at(start), _at(end)
    queries: dict[str, Any] = {
        "found": select(func.count()).where(Clue.first_seen >= start, Clue.first_seen < end),
        "dispatched": select(func.count(distinct(Dispatch.clue_id))).where(Dispatch.sent_at >= s, Dispatch.sent_at < e),
        "rectified": select(func.count(distinct(Rectification.clue_id))).where(
            Rectification.recorded_at >= s, Rectification.recorded_at < e),
        "closed": select(func.count(distinct(Event.clue_id))).where(
            Event.kind == "status_change", Event.to_status == CLOSED, Event.at >= s, Event.at < e),
    }
    return {name: int(session.scalar(stmt) or 0) for name, stmt in queries.items()}


def trend(session: Session, months: list[str]) -> dict[str, list[float]]:
    counts = [month_counts(session, m) for m in months]
    return {name: [float(c[name]) for c in counts] for name in TREND_FIGURES}
