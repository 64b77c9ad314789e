"""The monthly progress report (进度月报): figures per rule and per town. Definitions in docs/register.md."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qingfeng.register.errors import InvalidInput
from qingfeng.register.lifecycle import CLOSED
from qingfeng.register.models import Clue, Dispatch, Event, Rectification

FIGURES = ("found", "dispatched", "rectified", "closed", "recovered", "sanctioned", "org_handled", "overdue")
FIGURE_TITLES = {
    "found": "发现线索", "dispatched": "派件", "rectified": "整改", "closed": "销号", "recovered": "追缴/挽回资金(元)",
    "sanctioned": "党纪政务处分(人)", "org_handled": "组织处理(人)", "overdue": "超期未办结派件",
}


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2026-03' -> (2026-03-01, 2026-04-01): the month is [start, end)."""
    try:
        start = dt.date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise InvalidInput(f"月份 {month!r} 格式应为 YYYY-MM") from exc
    end = dt.date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def _start(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time())


def monthly_report(session: Session, month: str) -> dict[str, Any]:
    """{'month', 'by_rule': {rule: figures}, 'by_town': {town: figures}, 'total': figures, 'rule_names': {...}}."""
    start, end = month_bounds(month)
    s, e = _start(start), _start(end)
    facts: dict[int, tuple[str, str]] = {}
    names: dict[str, str] = {}
    figures: dict[int, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))

    def clue_ids(stmt: Any) -> set[int]:
        return set(session.scalars(stmt))

    for cid in clue_ids(select(Clue.id).where(Clue.first_seen >= start, Clue.first_seen < end)):
        figures[cid]["found"] = 1
    for cid in clue_ids(select(Dispatch.clue_id).where(Dispatch.sent_at >= s, Dispatch.sent_at < e)):
        figures[cid]["dispatched"] = 1
    for cid in clue_ids(select(Event.clue_id).where(Event.kind == "status_change", Event.to_status == CLOSED,
                                                     Event.at >= s, Event.at < e)):
        figures[cid]["closed"] = 1
    for r in session.scalars(select(Rectification).where(Rectification.recorded_at >= s, Rectification.recorded_at < e)):
        f = figures[r.clue_id]
        f["rectified"] = 1
        f["recovered"] += Decimal(r.recovered_amount or 0)
        f["sanctioned"] += r.sanction_count
        f["org_handled"] += r.org_handling_count
    overdue = select(Dispatch.clue_id, Dispatch.id).where(
        Dispatch.state != "withdrawn",
        Dispatch.sent_at < e,
        Dispatch.deadline < end,
        or_(Dispatch.answered_at.is_(None), Dispatch.answered_at >= e),
    )
    for cid, _did in session.execute(overdue):
        figures[cid]["overdue"] += 1
    if figures:
        for cid, rule, rule_name, town in session.execute(
            select(Clue.id, Clue.rule, Clue.rule_name, Clue.town).where(Clue.id.in_(list(figures)))
        ):
            facts[cid] = (rule, town or "（未知乡镇）")
            names[rule] = rule_name or rule

    def rollup(index: int) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
        for cid, f in figures.items():
            row = out[facts[cid][index]]
            for k in FIGURES:
                row[k] += f[k]
        return {k: _finish(v) for k, v in sorted(out.items())}

    total = dict.fromkeys(FIGURES, 0)
    for f in figures.values():
        for k in FIGURES:
            total[k] += f[k]
    return {"month": month, "by_rule": rollup(0), "by_town": rollup(1), "total": _finish(total),
            "rule_names": dict(sorted(names.items()))}


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
