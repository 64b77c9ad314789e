"""Outcomes beyond a rectification (``ClueService.record_rectification`` records 处分, 组织处理, 问责,
通报曝光 and funds recovered): systems built (建立健全制度), and moving a problem to another project."""

from __future__ import annotations

import datetime as dt

from qingfeng.campaigns.base import CampaignBase, ProjectRef, day, required_text, text
from qingfeng.register.errors import InvalidInput
from qingfeng.register.models import Clue, Institution

MOVE_EVENT = "project"  # the timeline kind of a manual move; ``link`` leaves such clues alone
INSTITUTION_EVENT = "institution"


class OutcomeActions(CampaignBase):
    def record_institution(
        self,
        title: str,
        *,
        issued_on: dt.date | str,
        issuer: str | None = None,
        project: ProjectRef | None = None,
        clue_id: int | None = None,
    ) -> Institution:
        """建立健全制度 of a project, of one problem, or both. Given a problem alone, the institution counts
        for the problem's project (when it has one); the problem's timeline shows it."""
        self.require("edit_tasks")
        if (project is None or project == "") and clue_id is None:
            raise InvalidInput("制度须关联一个专项治理项目或一条线索")
        owner = None if project is None or project == "" else self.project(project)
        clue = None if clue_id is None else self.clue_for_change(clue_id, "view_clue", versioned=False)
        if owner is None and clue is not None:
            owner = clue.project
        row = Institution(
            project=owner,
            clue=clue,
            title=required_text(title, "制度名称", limit=300),
            issued_on=day(issued_on, "印发日期", latest=self.today),
            issuer=text(issuer, "制定单位", limit=200),
            recorded_by=self.actor,
            recorded_at=self.now,
        )
        self.session.add(row)
        if clue is not None:
            by = f"{row.issuer}," if row.issuer else ""
            self.clue_event(
                clue, INSTITUTION_EVENT, f"建立健全制度《{row.title}》({by}{row.issued_on.isoformat()})"
            )
        self.session.flush()
        where = f"project:{owner.id}" if owner else f"clue:{clue.id}" if clue else "institution"
        self.commit(where, f"建立健全制度《{row.title[:60]}》(制度 {row.id})")
        return row

    def move_clue(
        self,
        clue_id: int,
        project: ProjectRef | None,
        *,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> Clue:
        """Put a problem in another project, or in none (``project`` None). Publishing never moves it back."""
        clue = self.clue_for_change(clue_id, "transition", expected_version)
        target = None if project is None or project == "" else self.project(project)
        if clue.project_id == (target.id if target else None):
            raise InvalidInput(f"线索 {clue.id} 已在{'该项目' if target else '项目之外'}")
        why = text(reason, "理由", limit=2000)
        before = clue.project
        clue.project = target
        moved = f"由「{before.title}」" if before else "由(无项目)"
        moved += f"移入专项治理项目「{target.title}」" if target else "移出专项治理项目"
        self.clue_event(clue, MOVE_EVENT, moved + (f":{why}" if why else ""))
        self.commit(
            f"clue:{clue.id}", f"project {before.code if before else '-'} → {target.code if target else '-'}"
        )
        return clue
