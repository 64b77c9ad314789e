"""The monthly progress report (进度月报): figures per rule and per town. Definitions in docs/register.md."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func, literal_column, or_, select
from sqlalchemy.orm import Session

from qingfeng.register.errors import InvalidInput
from qingfeng.register.lifecycle import CLOSED, OPEN_STATUSES
from qingfeng.register.models import Clue, Dispatch, Event, Rectification

FIGURES = ("found", "dispatched", "rectified", "closed", "recovered", "sanctioned", "org_handled", "overdue")
FIGURE_TITLES = {
    "found": "发现线索",
    "dispatched": "派件",
    "rectified": "整改",
    "closed": "销号",
    "recovered": "追缴/挽回资金(元)",
    "sanctioned": "党纪政务处分(人)",
    "org_handled": "组织处理(人)",
    "overdue": "超期未办结派件",
}


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2026-03' -> (2026-03-01, 2026-04-01): the month is [start, end)."""
    try:
        start = dt.date.fromisoformat(f"{month}-01")
        end = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)  # 9999-12 has no end
    except ValueError as exc:
        raise InvalidInput(f"月份 {month!r} 无效:格式应为 YYYY-MM") from exc
    return start, end


def _start(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time())


UNKNOWN_TOWN = "（未知乡镇）"
TREND_FIGURES = ("found", "dispatched", "rectified", "closed")


def _grouped(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """Rows of ``stmt`` (already joined to clue) grouped by the clue's rule and town."""
    return [tuple(row) for row in session.execute(stmt.group_by(Clue.rule, Clue.town))]


def monthly_report(session: Session, month: str) -> dict[str, Any]:
    """{'month', 'by_rule': {rule: figures}, 'by_town': {town: figures}, 'total': figures, 'rule_names': {...}}.

    One GROUP BY (rule, town) per figure in SQL (each clue counted once where the definition says so);
    only the few (rule, town) cells are rolled up in Python."""
    start, end = month_bounds(month)
    s, e = _start(start), _start(end)
    dims = (Clue.rule, Clue.town, func.max(Clue.rule_name))
    cells: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    names: dict[str, str] = {}

    def add(rows: list[tuple[Any, ...]], *figures: str) -> None:
        for rule, town, rule_name, *values in rows:
            names[rule] = names.get(rule) or rule_name or rule
            cell = cells[(rule, town or UNKNOWN_TOWN)]
            for figure, value in zip(figures, values, strict=True):
                cell[figure] += Decimal(value or 0) if figure == "recovered" else int(value or 0)

    add(
        _grouped(session, select(*dims, func.count()).where(Clue.first_seen >= start, Clue.first_seen < end)),
        "found",
    )
    add(
        _grouped(
            session,
            select(*dims, func.count(distinct(Dispatch.clue_id)))
            .join(Dispatch.clue)
            .where(Dispatch.sent_at >= s, Dispatch.sent_at < e),
        ),
        "dispatched",
    )
    add(
        _grouped(
            session,
            select(
                *dims,
                func.count(distinct(Rectification.clue_id)),
                func.sum(Rectification.recovered_amount),
                func.sum(Rectification.sanction_count),
                func.sum(Rectification.org_handling_count),
            )
            .join(Rectification.clue)
            .where(Rectification.recorded_at >= s, Rectification.recorded_at < e),
        ),
        "rectified",
        "recovered",
        "sanctioned",
        "org_handled",
    )
    add(
        _grouped(
            session,
            select(*dims, func.count(distinct(Event.clue_id)))
            .join(Event.clue)
            .where(Event.to_status == CLOSED, Event.kind == "status_change", Event.at >= s, Event.at < e),
        ),
        "closed",
    )
    add(
        _grouped(
            session,
            select(*dims, func.count())
            .join(Dispatch.clue)
            .where(
                Dispatch.state != "withdrawn",
                Dispatch.sent_at < e,
                Dispatch.deadline < end,
                or_(Dispatch.answered_at.is_(None), Dispatch.answered_at >= e),
            ),
        ),
        "overdue",
    )

    def rollup(index: int) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
        for key, f in cells.items():
            row = out[key[index]]
            for k in FIGURES:
                row[k] += f[k]
        return {k: _finish(v) for k, v in sorted(out.items())}

    total = dict.fromkeys(FIGURES, 0)
    for f in cells.values():
        for k in FIGURES:
            total[k] += f[k]
    return {
        "month": month,
        "by_rule": rollup(0),
        "by_town": rollup(1),
        "total": _finish(total),
        "rule_names": dict(sorted(names.items())),
    }


def _month_key(session: Session, column: Any) -> Any:
    """'YYYY-MM' of a date or timestamp column, in the backend's own SQL."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime(literal_column("'%Y-%m'"), column)
    return func.to_char(column, literal_column("'YYYY-MM'"))  # a literal: GROUP BY must repeat it exactly


def monthly_trend(session: Session, months: list[str]) -> dict[str, list[int]]:
    """The found, dispatched, rectified and closed totals of ``months`` (same definitions as
    ``monthly_report``), as one GROUP BY month per figure over the whole span, for the dashboard chart."""
    if not months:
        return {k: [] for k in TREND_FIGURES}
    first, _ = month_bounds(min(months))
    _, last = month_bounds(max(months))
    s, e = _start(first), _start(last)

    def per_month(column: Any, counted: Any, *where: Any) -> dict[str, int]:
        key = _month_key(session, column)
        return {m: int(n) for m, n in session.execute(select(key, counted).where(*where).group_by(key))}

    series = {
        "found": per_month(Clue.first_seen, func.count(), Clue.first_seen >= first, Clue.first_seen < last),
        "dispatched": per_month(
            Dispatch.sent_at,
            func.count(distinct(Dispatch.clue_id)),
            Dispatch.sent_at >= s,
            Dispatch.sent_at < e,
        ),
        "rectified": per_month(
            Rectification.recorded_at,
            func.count(distinct(Rectification.clue_id)),
            Rectification.recorded_at >= s,
            Rectification.recorded_at < e,
        ),
        "closed": per_month(
            Event.at,
            func.count(distinct(Event.clue_id)),
            Event.to_status == CLOSED,
            Event.kind == "status_change",
            Event.at >= s,
            Event.at < e,
        ),
    }
    return {k: [series[k].get(m, 0) for m in months] for k in TREND_FIGURES}


def open_clue_counts(session: Session) -> dict[str, list[tuple[str, int]]]:
    """Open clues (发现…整改) per rule and per town, largest first (the dashboard's distribution charts).

    Grouped by (status, rule, town) over the covering index ``ix_clue_status_rule_town`` and filtered here:
    with ``WHERE status IN (...)`` SQLite scans by rule and sorts (20x slower)."""
    by_rule: dict[str, int] = defaultdict(int)
    by_town: dict[str, int] = defaultdict(int)
    for status, rule, town, n in session.execute(
        select(Clue.status, Clue.rule, Clue.town, func.count()).group_by(Clue.status, Clue.rule, Clue.town)
    ):
        if status not in OPEN_STATUSES:
            continue
        by_rule[rule] += n
        by_town[town or UNKNOWN_TOWN] += n

    def ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    return {"by_rule": ranked(by_rule), "by_town": ranked(by_town)}


def months_back(month: str, count: int) -> list[str]:
    """``count`` months ending with ``month``, oldest first."""
    start, _ = month_bounds(month)
    y, m = start.year, start.month
    out = []
    for _ in range(count):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row["recovered"] = str(Decimal(row["recovered"]).quantize(Decimal("0.01")))
    return row


def report_rows(report: dict[str, Any]) -> list[list[Any]]:
    """Flat rows (dimension, key, figures...) for tables and spreadsheets."""
    rows: list[list[Any]] = []
    for dim, title in (("by_rule", "规则"), ("by_town", "乡镇")):
        for key, f in report[dim].items():
            label = f"{key} {report['rule_names'].get(key, '')}".strip() if dim == "by_rule" else key
            rows.append([title, label, *[f[k] for k in FIGURES]])
    rows.append(["合计", "", *[report["total"][k] for k in FIGURES]])
    return rows
