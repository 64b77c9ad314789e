"""The campaign report (专项治理成效): the headline sentence, the per-project table behind it and the
monthly series, for any period, out of the register. The 统计口径 are in docs/campaigns.md; each is
written once below (the ``*_where`` functions) and shared by the counts and the drill-down lists
(``qingfeng.campaigns.records``), so a count and its list cannot disagree.

Every figure is a grouped SQL count or sum over the whole period (by project and month), whatever the
number of projects; only the few (project, month) cells are rolled up in Python."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, select, true
from sqlalchemy.orm import Session

from qingfeng.campaigns.periods import date_month, day_bounds, months_between, place_key, stamp_month
from qingfeng.register.errors import InvalidInput, NotFound
from qingfeng.register.lifecycle import CLOSED, PROJECT_PLANNED, TASK_CANCELLED, TASK_DONE, TASK_OPEN
from qingfeng.register.models import (
    CampaignProject,
    CampaignTask,
    Clue,
    Event,
    Inspection,
    Institution,
    Rectification,
)

NO_PROJECT = 0  # the project_id of the "未归入项目" scope (ids start at 1)
ZERO = Decimal("0.00")

FIGURES = (
    "inspections",
    "places",
    "problems_found",
    "problems_rectified",
    "institutions",
    "clues_found",
    "sanctioned",
    "org_handled",
    "accountability",
    "exposed",
    "recovered",
)
FIGURE_TITLES = {
    "inspections": "开展检查(次)",
    "places": "检查单位(场所)(家)",
    "problems_found": "发现问题(个)",
    "problems_rectified": "推动整改问题(个)",
    "institutions": "建立健全制度(项)",
    "clues_found": "发现问题线索(条)",
    "sanctioned": "党纪政务处分(人)",
    "org_handled": "组织处理(人)",
    "accountability": "问责(人)",
    "exposed": "通报曝光典型案例(起)",
    "recovered": "追缴或挽回资金(元)",
}
PROBLEM_SOURCES = ("inspection", "petition")  # 发现问题
CLUE_SOURCES = ("rule", "petition")  # 发现问题线索
OUTCOME_COLUMNS = {  # figure -> the Rectification column summed
    "sanctioned": "sanction_count",
    "org_handled": "org_handling_count",
    "accountability": "accountability_count",
    "exposed": "exposure_count",
    "recovered": "recovered_amount",
}


@dataclass(frozen=True)
class Figures:
    """The eleven figures of one scope (the district, a project, or the records with no project)."""

    inspections: int = 0
    places: int = 0
    problems_found: int = 0
    problems_rectified: int = 0
    institutions: int = 0
    clues_found: int = 0
    sanctioned: int = 0
    org_handled: int = 0
    accountability: int = 0
    exposed: int = 0
    recovered: Decimal = ZERO

    def value(self, figure: str) -> int | Decimal:
        if figure not in FIGURES:
            raise InvalidInput(f"未知的统计指标 {figure!r}")
        value: int | Decimal = getattr(self, figure)
        return value


@dataclass(frozen=True)
class ProjectFigures:
    """One project's row of the report (and of the public page, with start = the project's start)."""

    project_id: int
    code: str
    title: str
    domain: str | None
    lead_unit: str | None
    liaison_unit: str | None
    office: str | None
    hotline: str | None
    period_start: dt.date
    period_end: dt.date | None
    status: str
    public: bool
    inspections: int
    places: int
    problems_found: int
    problems_rectified: int
    institutions: int
    clues_found: int
    sanctioned: int
    org_handled: int
    accountability: int
    exposed: int
    recovered: Decimal
    tasks: int  # task items not cancelled, as of today (not limited to the period)
    tasks_done: int
    tasks_overdue: int  # open, deadline before today

    @property
    def figures(self) -> Figures:
        return Figures(**{k: getattr(self, k) for k in FIGURES})


@dataclass(frozen=True)
class CampaignReport:
    start: dt.date
    end: dt.date
    scope: int | None  # None: the district; a project id; NO_PROJECT: the records of no project
    project: ProjectFigures | None  # the project the report is limited to, if any
    headline: Figures
    parts: tuple[tuple[str, str | None], ...]  # the sentence as (text, figure or None) runs
    projects: list[ProjectFigures]  # projects active in the period or with any figure in it
    unassigned: Figures | None  # records of no project (None when limited to a project)
    months: list[str]
    series: dict[str, list[Any]]  # figure -> one value per month

    @property
    def sentence(self) -> str:
        return "".join(text for text, _figure in self.parts)


# ---- the 统计口径, one function each (shared with the drill-down lists) ----------------------------


def scoped(column: Any, project_id: int | None) -> ColumnElement[bool]:
    """All records (None), one project's (an id), or those of no project (``NO_PROJECT``)."""
    if project_id is None:
        return true()
    if project_id == NO_PROJECT:
        return column.is_(None)
    return column == project_id


def inspection_where(start: dt.date, end: dt.date, project_id: int | None) -> tuple[Any, ...]:
    """开展检查 and 检查单位(场所): inspections by their date."""
    return (
        Inspection.inspected_on >= start,
        Inspection.inspected_on <= end,
        scoped(Inspection.project_id, project_id),
    )


def found_where(
    sources: tuple[str, ...], start: dt.date, end: dt.date, project_id: int | None
) -> tuple[Any, ...]:
    """发现问题 (inspection, petition) and 发现问题线索 (rule, petition): by first_seen."""
    return (
        Clue.source.in_(sources),
        Clue.first_seen >= start,
        Clue.first_seen <= end,
        scoped(Clue.project_id, project_id),
    )


def closed_where(start: dt.date, end: dt.date, project_id: int | None) -> tuple[Any, ...]:
    """推动整改问题: a 销号 status change in the period (of Event, joined to its clue), any source."""
    since, until = day_bounds(start, end)
    return (
        Event.kind == "status_change",
        Event.to_status == CLOSED,
        Event.at >= since,
        Event.at < until,
        scoped(Clue.project_id, project_id),
    )


def institution_where(start: dt.date, end: dt.date, project_id: int | None) -> tuple[Any, ...]:
    """建立健全制度: by issued_on, the institution's own project."""
    return (
        Institution.issued_on >= start,
        Institution.issued_on <= end,
        scoped(Institution.project_id, project_id),
    )


def rectification_where(start: dt.date, end: dt.date, project_id: int | None) -> tuple[Any, ...]:
    """The outcomes: rectifications recorded in the period (joined to their clue for the project)."""
    since, until = day_bounds(start, end)
    return (
        Rectification.recorded_at >= since,
        Rectification.recorded_at < until,
        scoped(Clue.project_id, project_id),
    )


# ---- the figures -----------------------------------------------------------------------------------

Key = tuple[int | None, str]  # (project id or None, 'YYYY-MM')


@dataclass
class _Tally:
    cells: dict[Key, dict[str, Any]]  # additive figures per (project, month)
    places: dict[Key, set[str]]
    rectified_by_project: dict[int | None, int]  # distinct problems: not additive over months
    rectified_by_month: dict[str, int]

    def project(self, project_id: int | None) -> Figures:
        return self._figures(lambda key: key[0] == project_id, self.rectified_by_project.get(project_id, 0))

    def total(self) -> Figures:
        return self._figures(lambda _key: True, sum(self.rectified_by_project.values()))

    def _figures(self, chosen: Any, rectified: int) -> Figures:
        sums: dict[str, Any] = dict.fromkeys(FIGURES, 0)
        sums["recovered"] = ZERO
        for key, cell in self.cells.items():
            if chosen(key):
                for figure, value in cell.items():
                    sums[figure] += value
        places: set[str] = set().union(*(p for key, p in self.places.items() if chosen(key)))
        return Figures(**{**sums, "places": len(places), "problems_rectified": rectified})

    def series(self, months: list[str]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for figure in FIGURES:
            if figure == "places":
                per: dict[str, set[str]] = defaultdict(set)
                for (_p, month), names in self.places.items():
                    per[month] |= names
                out[figure] = [len(per[m]) for m in months]
            elif figure == "problems_rectified":
                out[figure] = [self.rectified_by_month.get(m, 0) for m in months]
            else:
                zero: Any = ZERO if figure == "recovered" else 0
                out[figure] = [
                    sum((c.get(figure, zero) for (_p, m), c in self.cells.items() if m == month), zero)
                    for month in months
                ]
        return out


def _tally(session: Session, start: dt.date, end: dt.date, project_id: int | None) -> _Tally:
    cells: dict[Key, dict[str, Any]] = defaultdict(dict)

    def add(rows: Iterable[Any], *figures: str) -> None:
        for project, month, *values in rows:
            cell = cells[(project, month)]
            for figure, value in zip(figures, values, strict=True):
                cell[figure] = cell.get(figure, 0) + (value or 0)

    month = date_month(session, Inspection.inspected_on)
    add(
        session.execute(
            select(Inspection.project_id, month, func.count())
            .where(*inspection_where(start, end, project_id))
            .group_by(Inspection.project_id, month)
        ),
        "inspections",
    )
    places: dict[Key, set[str]] = defaultdict(set)
    for project, month_text, names in session.execute(
        select(Inspection.project_id, month, Inspection.places).where(
            *inspection_where(start, end, project_id)
        )
    ):
        places[(project, month_text)].update(k for k in map(place_key, names or []) if k)

    month = date_month(session, Clue.first_seen)
    for figure, sources in (("problems_found", PROBLEM_SOURCES), ("clues_found", CLUE_SOURCES)):
        add(
            session.execute(
                select(Clue.project_id, month, func.count())
                .where(*found_where(sources, start, end, project_id))
                .group_by(Clue.project_id, month)
            ),
            figure,
        )

    month = date_month(session, Institution.issued_on)
    add(
        session.execute(
            select(Institution.project_id, month, func.count())
            .where(*institution_where(start, end, project_id))
            .group_by(Institution.project_id, month)
        ),
        "institutions",
    )

    month = stamp_month(session, Rectification.recorded_at)
    sums = [func.sum(getattr(Rectification, OUTCOME_COLUMNS[f])) for f in OUTCOME_COLUMNS]
    add(
        session.execute(
            select(Clue.project_id, month, *sums)
            .join(Rectification.clue)
            .where(*rectification_where(start, end, project_id))
            .group_by(Clue.project_id, month)
        ),
        *OUTCOME_COLUMNS,
    )

    closed = func.count(distinct(Event.clue_id))
    by_project = {
        project: int(n)
        for project, n in session.execute(
            select(Clue.project_id, closed)
            .join(Event.clue)
            .where(*closed_where(start, end, project_id))
            .group_by(Clue.project_id)
        )
    }
    month = stamp_month(session, Event.at)
    by_month = {
        m: int(n)
        for m, n in session.execute(
            select(month, closed)
            .join(Event.clue)
            .where(*closed_where(start, end, project_id))
            .group_by(month)
        )
    }
    return _Tally(
        cells=dict(cells), places=dict(places), rectified_by_project=by_project, rectified_by_month=by_month
    )


def _task_counts(session: Session, today: dt.date, project_id: int | None) -> dict[int, tuple[int, int, int]]:
    rows = session.execute(
        select(
            CampaignTask.project_id,
            func.count(),
            func.sum(case((CampaignTask.status == TASK_DONE, 1), else_=0)),
            func.sum(
                case(((CampaignTask.status == TASK_OPEN) & (CampaignTask.deadline < today), 1), else_=0)
            ),
        )
        .where(CampaignTask.status != TASK_CANCELLED, scoped(CampaignTask.project_id, project_id))
        .group_by(CampaignTask.project_id)
    )
    return {p: (int(n), int(done or 0), int(late or 0)) for p, n, done, late in rows}


def _projects(session: Session, project_id: int | None) -> list[CampaignProject]:
    stmt = select(CampaignProject).order_by(CampaignProject.code)
    if project_id == NO_PROJECT:
        return []
    if project_id is not None:
        stmt = stmt.where(CampaignProject.id == project_id)
    return list(session.scalars(stmt))


def _rows(
    projects: list[CampaignProject], tally: _Tally, tasks: dict[int, tuple[int, int, int]]
) -> list[ProjectFigures]:
    out = []
    for p in projects:
        figures = tally.project(p.id)
        n, done, late = tasks.get(p.id, (0, 0, 0))
        out.append(
            ProjectFigures(
                project_id=p.id,
                code=p.code,
                title=p.title,
                domain=p.domain,
                lead_unit=p.lead_unit.name if p.lead_unit else None,
                liaison_unit=p.liaison_unit.name if p.liaison_unit else None,
                office=p.office,
                hotline=p.hotline,
                period_start=p.period_start,
                period_end=p.period_end,
                status=p.status,
                public=p.public,
                **{f.name: getattr(figures, f.name) for f in fields(Figures)},
                tasks=n,
                tasks_done=done,
                tasks_overdue=late,
            )
        )
    return out


def _check_period(start: dt.date, end: dt.date) -> None:
    if start > end:
        raise InvalidInput(f"开始日期 {start.isoformat()} 晚于结束日期 {end.isoformat()}")


def project_figures(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    project_id: int | None = None,
    today: dt.date | None = None,
) -> list[ProjectFigures]:
    """One row per project (every project, or the one asked for), ordered by code."""
    _check_period(start, end)
    projects = _projects(session, project_id)
    if not projects:
        return []
    tally = _tally(session, start, end, project_id)
    return _rows(projects, tally, _task_counts(session, today or dt.date.today(), project_id))


def default_period(session: Session, today: dt.date) -> tuple[dt.date, dt.date]:
    """What the pages show when no period is asked for: from the start of the earliest project still
    running (or ended this year) to today, so a campaign that began last year is reported whole;
    1 January of this year to today when there is none."""
    new_year = dt.date(today.year, 1, 1)
    earliest = session.scalar(
        select(func.min(CampaignProject.period_start)).where(
            CampaignProject.status != PROJECT_PLANNED,
            (CampaignProject.period_end.is_(None)) | (CampaignProject.period_end >= new_year),
        )
    )
    return (min(earliest, today) if earliest else new_year), today


def project_by_code(session: Session, code: str) -> CampaignProject:
    found = session.scalar(select(CampaignProject).where(CampaignProject.code == code.strip()))
    if found is None:
        raise NotFound(f"未找到专项治理项目「{code.strip()[:50]}」")
    return found


def _active(p: ProjectFigures, start: dt.date, end: dt.date) -> bool:
    overlaps = p.period_start <= end and (p.period_end is None or p.period_end >= start)
    return overlaps or any(p.figures.value(f) for f in FIGURES)


def campaign_report(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    project_id: int | None = None,
    today: dt.date | None = None,
) -> CampaignReport:
    """The report of the district, of one project or of the records of none (``scoped``) over [start, end],
    both days included."""
    _check_period(start, end)
    projects = _projects(session, project_id)
    if project_id not in (None, NO_PROJECT) and not projects:
        raise NotFound(f"未找到专项治理项目 #{project_id}")
    tally = _tally(session, start, end, project_id)
    rows = _rows(projects, tally, _task_counts(session, today or dt.date.today(), project_id))
    headline = tally.total()
    months = months_between(start, end)
    return CampaignReport(
        start=start,
        end=end,
        scope=project_id,
        project=rows[0] if rows and project_id is not None else None,
        headline=headline,
        parts=headline_parts(headline),
        projects=[r for r in rows if project_id is not None or _active(r, start, end)],
        unassigned=tally.project(None) if project_id in (None, NO_PROJECT) else None,
        months=months,
        series=tally.series(months),
    )


# ---- the sentence ----------------------------------------------------------------------------------


def wan_yuan(amount: Decimal) -> str:
    """元 → 万元, rounded half up to two places, trailing zeros dropped: 103484000.00 → '10348.4'."""
    text = f"{(amount / 10000).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def headline_parts(f: Figures) -> tuple[tuple[str, str | None], ...]:
    """The commission's headline sentence, as runs of text and figures (each number a link on the page)."""
    runs: list[tuple[str, str | None]] = []

    def put(before: str, figure: str, after: str) -> None:
        value = f.value(figure)
        runs.append((before, None))
        runs.append((wan_yuan(Decimal(value)) if figure == "recovered" else str(value), figure))
        runs.append((after, None))

    put("共开展检查", "inspections", "次，")
    put("检查单位（场所）", "places", "家，")
    put("发现问题", "problems_found", "个，")
    put("推动整改问题", "problems_rectified", "个、")
    put("建立健全制度", "institutions", "项，")
    put("发现问题线索", "clues_found", "条，")
    put("党纪政务处分", "sanctioned", "人、")
    put("组织处理", "org_handled", "人、")
    put("问责", "accountability", "人，")
    put("通报曝光典型案例", "exposed", "起，")
    put("追缴或挽回资金", "recovered", "万元")
    merged: list[tuple[str, str | None]] = []
    for text, figure in runs:  # adjacent plain runs as one
        if merged and figure is None and merged[-1][1] is None:
            merged[-1] = (merged[-1][0] + text, None)
        else:
            merged.append((text, figure))
    return tuple(merged)
