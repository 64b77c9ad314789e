"""What the 专项治理 pages read from the register: the project list with its task and problem counts,
and one project's tasks with their colours, monthly reports (on time, late, missing), inspections
with their findings, institutions and the problems linked to it. Changes go through
``qingfeng.campaigns.service``; this module only reads (the route has checked ``view_campaign``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from qingfeng.campaigns.base import code_of
from qingfeng.campaigns.config import CampaignsConfig
from qingfeng.campaigns.periods import beijing_day, report_due
from qingfeng.contract import CATALOGUE
from qingfeng.register.lifecycle import (
    OPEN_STATUSES,
    PROJECT_PLANNED,
    SOURCE_TITLES,
    STATUSES,
    TASK_OPEN,
)
from qingfeng.register.models import CampaignProject, CampaignTask, Clue, Inspection

PROBLEM_LIMIT = 200  # problems listed on a project page (the counts cover them all)


# -- the project list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectRow:
    project: CampaignProject
    open_tasks: int
    red_tasks: int  # open and past the deadline
    yellow_tasks: int  # open and due within warn_days
    problems: int
    open_problems: int


def project_rows(session: Session, *, status: str | None, today: dt.date, warn_days: int) -> list[ProjectRow]:
    """Every project (of one status) by code, with its task and problem counts: three queries."""
    stmt = (
        select(CampaignProject)
        .options(selectinload(CampaignProject.lead_unit), selectinload(CampaignProject.liaison_unit))
        .order_by(CampaignProject.code)
    )
    if status:
        stmt = stmt.where(CampaignProject.status == status)
    found = list(session.scalars(stmt))
    soon = today + dt.timedelta(days=warn_days)
    tasks = {
        pid: (int(n or 0), int(red or 0), int(yellow or 0))
        for pid, n, red, yellow in session.execute(
            select(
                CampaignTask.project_id,
                func.count(),
                func.sum(case((CampaignTask.deadline < today, 1), else_=0)),
                func.sum(
                    case(((CampaignTask.deadline >= today) & (CampaignTask.deadline <= soon), 1), else_=0)
                ),
            )
            .where(CampaignTask.status == TASK_OPEN)
            .group_by(CampaignTask.project_id)
        )
    }
    problems = {
        pid: (int(n or 0), int(still or 0))
        for pid, n, still in session.execute(
            select(
                Clue.project_id,
                func.count(),
                func.sum(case((Clue.status.in_(OPEN_STATUSES), 1), else_=0)),
            )
            .where(Clue.project_id.is_not(None))
            .group_by(Clue.project_id)
        )
    }
    return [ProjectRow(p, *tasks.get(p.id, (0, 0, 0)), *problems.get(p.id, (0, 0))) for p in found]


# -- one project -----------------------------------------------------------------------------------


def project_rules(config: CampaignsConfig, code: str) -> list[tuple[str, str]]:
    """数据比对规则: the rules config/campaigns.yml assigns to the project, with their names."""
    return [(rule, CATALOGUE[rule].name) for rule in config.rules_of(code_of(code))]


@dataclass(frozen=True)
class MonthRow:
    month: str
    due: dt.date
    report: Any  # ProjectReport | None
    state: str  # 按时报送, 迟报, 未报送 (due and missing), 待报送 (not due yet)


def month_rows(project: CampaignProject, today: dt.date, due_day: int) -> list[MonthRow]:
    """Each month of the project up to the current one (and every month reported), newest first."""
    reports = {r.month: r for r in project.reports}
    months = set(reports)
    if project.status != PROJECT_PLANNED:
        last = min(today, project.period_end or today)
        cursor = project.period_start.replace(day=1)
        while cursor <= last:
            months.add(cursor.strftime("%Y-%m"))
            cursor = (cursor + dt.timedelta(days=32)).replace(day=1)
    rows = []
    for month in sorted(months, reverse=True):
        due, report = report_due(month, due_day), reports.get(month)
        if report is not None:
            state = "迟报" if beijing_day(report.submitted_at) > due else "按时报送"
        else:
            state = "未报送" if today > due else "待报送"
        rows.append(MonthRow(month, due, report, state))
    return rows


@dataclass(frozen=True)
class FindingRow:
    clue: Clue
    text: str


def inspection_rows(session: Session, project_id: int) -> list[tuple[Inspection, list[FindingRow]]]:
    """The project's inspections, newest first, each with its findings (problems in the register)."""
    found = session.scalars(
        select(Inspection)
        .where(Inspection.project_id == project_id)
        .options(selectinload(Inspection.findings))
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
    )
    return [(i, [FindingRow(c, finding_text(c, i)) for c in i.findings]) for i in found]


def finding_text(clue: Clue, inspection: Inspection) -> str:
    """What the inspection found: the problem's evidence note without the visit's own facts (unit, date,
    places), which the inspection row shows; the whole note when it reads otherwise."""
    note = str((clue.evidence or [{}])[0].get("note") or "")
    sites = list(inspection.places or [])
    where = "、".join(sites[:5]) + (" 等" if len(sites) > 5 else "")
    head = f"{inspection.inspecting_unit} {inspection.inspected_on.isoformat()} 检查 {where}:"
    return note[len(head) :] if note.startswith(head) else note


@dataclass(frozen=True)
class ProblemCounts:
    by_source: dict[str, dict[str, int]]  # source → status → count
    statuses: tuple[str, ...]  # the statuses that occur, in lifecycle order

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.by_source.values())

    def status_total(self, status: str) -> int:
        return sum(row.get(status, 0) for row in self.by_source.values())


def problem_counts(session: Session, project_id: int) -> ProblemCounts:
    rows = session.execute(
        select(Clue.source, Clue.status, func.count())
        .where(Clue.project_id == project_id)
        .group_by(Clue.source, Clue.status)
    )
    by_source: dict[str, dict[str, int]] = {}
    for source, status, n in rows:
        by_source.setdefault(source, {})[status] = int(n)
    seen = {s for row in by_source.values() for s in row}
    order = [s for s in SOURCE_TITLES if s in by_source] + sorted(set(by_source) - set(SOURCE_TITLES))
    return ProblemCounts({s: by_source[s] for s in order}, tuple(s for s in STATUSES if s in seen))


def project_problems(session: Session, project_id: int, limit: int = PROBLEM_LIMIT) -> list[Clue]:
    """The most recent problems and clues of the project: open ones first, then by id, newest first."""
    still_open = case((Clue.status.in_(OPEN_STATUSES), 0), else_=1)
    return list(
        session.scalars(
            select(Clue)
            .where(Clue.project_id == project_id)
            .order_by(still_open, Clue.id.desc())
            .limit(limit)
        )
    )


def project_choices(session: Session) -> list[tuple[int, str, str, str]]:
    """(id, code, title, status) of every project, for the move-to-project picker."""
    return [
        (pid, code, title, status)
        for pid, code, title, status in session.execute(
            select(
                CampaignProject.id, CampaignProject.code, CampaignProject.title, CampaignProject.status
            ).order_by(CampaignProject.code)
        )
    ]
