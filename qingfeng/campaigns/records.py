"""The records behind each figure of the campaign report (穿透查询): the same conditions as the counts
(``report.*_where``), so a count-figure's list has exactly that many rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from qingfeng.campaigns.periods import place_key
from qingfeng.campaigns.report import (
    CLUE_SOURCES,
    FIGURES,
    OUTCOME_COLUMNS,
    PROBLEM_SOURCES,
    closed_where,
    found_where,
    inspection_where,
    institution_where,
    rectification_where,
)
from qingfeng.register.errors import InvalidInput
from qingfeng.register.models import Clue, Event, Inspection, Institution, Rectification

KINDS = {  # figure -> the kind of record listed
    "inspections": "inspection",
    "places": "place",
    "problems_found": "clue",
    "problems_rectified": "clue",
    "institutions": "institution",
    "clues_found": "clue",
    **dict.fromkeys(OUTCOME_COLUMNS, "rectification"),
}


@dataclass(frozen=True)
class Place:
    """One inspected unit or place (as counted: ``periods.place_key``) and the inspections that visited it."""

    name: str
    inspections: list[Inspection]


@dataclass(frozen=True)
class Closed:
    """A problem behind 推动整改问题, with the day of its last 销号 in the period (stored UTC)."""

    clue: Clue
    closed_at: dt.datetime


@dataclass(frozen=True)
class Records:
    figure: str
    kind: str
    total: int  # all records behind the figure (the rows may be one page of them)
    rows: list[Any]


def figure_records(
    session: Session,
    figure: str,
    start: dt.date,
    end: dt.date,
    *,
    project_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Records:
    """The records behind ``figure`` for the period and scope (``report.scoped``), oldest first.

    For 党纪政务处分, 组织处理, 问责 and 通报曝光 the records are the rectifications with a count above
    zero (the figure is their sum); for the funds, those with an amount."""
    if figure not in FIGURES:
        raise InvalidInput(f"未知的统计指标「{str(figure)[:40]}」")
    if start > end:
        raise InvalidInput(f"开始日期 {start.isoformat()} 晚于结束日期 {end.isoformat()}")
    if figure == "places":
        return _places(session, start, end, project_id, limit, offset)
    stmt: Any
    if figure == "inspections":
        stmt = select(Inspection).where(*inspection_where(start, end, project_id))
        order: tuple[Any, ...] = (Inspection.inspected_on, Inspection.id)
    elif figure in ("problems_found", "clues_found"):
        sources = PROBLEM_SOURCES if figure == "problems_found" else CLUE_SOURCES
        stmt = select(Clue).where(*found_where(sources, start, end, project_id))
        order = (Clue.first_seen, Clue.id)
    elif figure == "problems_rectified":
        last = (
            select(Event.clue_id, func.max(Event.at).label("closed_at"))
            .join(Event.clue)
            .where(*closed_where(start, end, project_id))
            .group_by(Event.clue_id)
            .subquery()
        )
        stmt = select(Clue, last.c.closed_at).join(last, last.c.clue_id == Clue.id)
        order = (last.c.closed_at, Clue.id)
    elif figure == "institutions":
        stmt = select(Institution).where(*institution_where(start, end, project_id))
        order = (Institution.issued_on, Institution.id)
    else:
        column = getattr(Rectification, OUTCOME_COLUMNS[figure])
        stmt = (
            select(Rectification)
            .join(Rectification.clue)
            .where(*rectification_where(start, end, project_id), column != 0)
            .options(selectinload(Rectification.clue))
        )
        order = (Rectification.recorded_at, Rectification.id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = stmt.order_by(*order).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    if figure == "problems_rectified":
        rows: list[Any] = [Closed(clue, at) for clue, at in session.execute(page)]
    else:
        rows = list(session.scalars(page))
    return Records(figure=figure, kind=KINDS[figure], total=total, rows=rows)


def _places(
    session: Session, start: dt.date, end: dt.date, project_id: int | None, limit: int | None, offset: int
) -> Records:
    visits: dict[str, list[Inspection]] = {}
    stmt = select(Inspection).where(*inspection_where(start, end, project_id))
    for inspection in session.scalars(stmt.order_by(Inspection.inspected_on, Inspection.id)):
        for key in dict.fromkeys(k for k in map(place_key, inspection.places or []) if k):
            visits.setdefault(key, []).append(inspection)
    places = [Place(name, found) for name, found in sorted(visits.items())]
    stop = None if limit is None else offset + limit
    return Records(figure="places", kind="place", total=len(places), rows=places[offset:stop])


def period_rectifications(
    session: Session, start: dt.date, end: dt.date, project_id: int | None = None
) -> list[Rectification]:
    """Every rectification recorded in the period (the outcomes are sums over these), oldest first."""
    stmt = (
        select(Rectification)
        .join(Rectification.clue)
        .where(*rectification_where(start, end, project_id))
        .options(selectinload(Rectification.clue))
    )
    return list(session.scalars(stmt.order_by(Rectification.recorded_at, Rectification.id)))
