"""Which campaign project a rule clue belongs to (docs/campaigns.md, "Linking").

config/campaigns.yml maps each rule to a project code. A clue goes to that project when the project
exists, is not 筹备, and its period covers the clue's ``first_seen`` (no end: still running). Publishing
links a clue when it is new and never touches an existing clue's project (an analyst may have moved
it); ``link_unlinked`` (``qingfeng campaigns link``) links the clues published before their project
existed, except those an analyst moved out by hand.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from qingfeng.campaigns.config import CampaignsConfig
from qingfeng.register.lifecycle import PROJECT_PLANNED
from qingfeng.register.models import CampaignProject, Clue, Event, utcnow

LINK_EVENT = "project"  # the same timeline kind as a manual move (outcomes.MOVE_EVENT)
LINKED_BY = "system:campaigns"


def rule_projects(config: CampaignsConfig) -> dict[str, str]:
    """rule → project code, from the configuration."""
    return {rule: code for code, project in config.projects.items() for rule in project.rules}


def covers(project: CampaignProject, day: dt.date) -> bool:
    if project.status == PROJECT_PLANNED or day < project.period_start:
        return False
    return project.period_end is None or day <= project.period_end


class ProjectLinker:
    """The projects of a rule → code mapping, read once (one query per publish)."""

    def __init__(self, session: Session, mapping: Mapping[str, str]) -> None:
        self.mapping = dict(mapping)
        codes = set(self.mapping.values())
        stmt = select(CampaignProject).where(CampaignProject.code.in_(codes))
        found: list[CampaignProject] = list(session.scalars(stmt)) if codes else []
        self.projects = {p.code: p for p in found}

    def project_for(self, rule: str, first_seen: dt.date) -> CampaignProject | None:
        project = self.projects.get(self.mapping.get(rule, ""))
        return project if project is not None and covers(project, first_seen) else None


def link_unlinked(
    session: Session, mapping: Mapping[str, str], *, dry_run: bool = False, actor: str = LINKED_BY
) -> dict[str, int]:
    """Link every rule clue without a project to its project; returns clues linked per project code.
    Idempotent. Clues whose project someone changed by hand (a ``project`` event) are left alone.
    Flushes; the caller audits and commits (or rolls back a dry run)."""
    linker = ProjectLinker(session, mapping)
    if not linker.projects:
        return {}
    moved_by_hand = select(Event.clue_id).where(Event.kind == LINK_EVENT)
    candidates = session.scalars(
        select(Clue)
        .where(
            Clue.project_id.is_(None),
            Clue.source == "rule",
            Clue.rule.in_(list(linker.mapping)),
            Clue.id.not_in(moved_by_hand),
        )
        .order_by(Clue.id)
    )
    linked: Counter[str] = Counter()
    for clue in candidates:
        project = linker.project_for(clue.rule, clue.first_seen)
        if project is None:
            continue
        linked[project.code] += 1
        if dry_run:
            continue
        clue.project_id = project.id
        clue.updated_at = utcnow()
        session.add(
            Event(
                clue=clue,
                kind=LINK_EVENT,
                actor=actor,
                text=f"按规则 {clue.rule} 归入专项治理项目「{project.title}」",
            )
        )
    session.flush()
    return dict(sorted(linked.items()))
