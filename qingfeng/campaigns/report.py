"""Stand-in for the campaign report's per-project figures (replaced by branch camp-report at merge):
the signature and the definitions of the contract, nothing else. Periods are inclusive dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from qingfeng.register.lifecycle import CLOSED, TASK_DONE, TASK_OPEN
from qingfeng.register.models import (
    CampaignProject,
    CampaignTask,
    Clue,
    Event,
    Inspection,
    Institution,
    Rectification,
)


@dataclass(frozen=True)
class ProjectFigures:
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
    tasks: int
    tasks_done: int
    tasks_overdue: int


def _times(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return dt.datetime.combine(start, dt.time()), dt.datetime.combine(end + dt.timedelta(days=1), dt.time())


def _one(session: Session, stmt: Any) -> Any:
    return session.execute(stmt).one()


def project_figures(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    project_id: int | None = None,
    today: dt.date | None = None,
) -> list[ProjectFigures]:
    today = today or dt.date.today()
    s, e = _times(start, end)
    query = select(CampaignProject).order_by(CampaignProject.code)
    if project_id is not None:
        query = query.where(CampaignProject.id == project_id)
    out = []
    for p in session.scalars(query):
        inspections = list(
            session.scalars(
                select(Inspection).where(
                    Inspection.project_id == p.id,
                    Inspection.inspected_on >= start,
                    Inspection.inspected_on <= end,
                )
            )
        )
        found = _one(
            session,
            select(func.count(), func.count().filter(Clue.source == "rule")).where(
                Clue.project_id == p.id, Clue.first_seen >= start, Clue.first_seen <= end
            ),
        )
        rectified = session.scalar(
            select(func.count(distinct(Event.clue_id)))
            .join(Event.clue)
            .where(
                Clue.project_id == p.id,
                Event.kind == "status_change",
                Event.to_status == CLOSED,
                Event.at >= s,
                Event.at < e,
            )
        )
        outcomes = _one(
            session,
            select(
                func.coalesce(func.sum(Rectification.sanction_count), 0),
                func.coalesce(func.sum(Rectification.org_handling_count), 0),
                func.coalesce(func.sum(Rectification.accountability_count), 0),
                func.coalesce(func.sum(Rectification.exposure_count), 0),
                func.sum(Rectification.recovered_amount),
            )
            .join(Rectification.clue)
            .where(Clue.project_id == p.id, Rectification.recorded_at >= s, Rectification.recorded_at < e),
        )
        institutions = session.scalar(
            select(func.count()).where(
                Institution.project_id == p.id, Institution.issued_on >= start, Institution.issued_on <= end
            )
        )
        tasks = list(session.scalars(select(CampaignTask).where(CampaignTask.project_id == p.id)))
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
                inspections=len(inspections),
                places=sum(len(i.places or []) for i in inspections),
                problems_found=int(found[0]),
                problems_rectified=int(rectified or 0),
                institutions=int(institutions or 0),
                clues_found=int(found[1]),
                sanctioned=int(outcomes[0]),
                org_handled=int(outcomes[1]),
                accountability=int(outcomes[2]),
                exposed=int(outcomes[3]),
                recovered=Decimal(outcomes[4] or 0),
                tasks=len(tasks),
                tasks_done=sum(t.status == TASK_DONE for t in tasks),
                tasks_overdue=sum(t.status == TASK_OPEN and t.deadline < today for t in tasks),
            )
        )
    return out
