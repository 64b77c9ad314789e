"""The campaign service: every change to projects, task lists, monthly reports, inspections and their
outcomes goes through here, whoever calls (web pages, CLI, demo, tests). Each action checks the role
(``lifecycle.PERMISSIONS``), validates its input with a Chinese message naming the field, writes an
audit row and commits; projects and tasks carry an optimistic version, as clues do.

    CampaignService(session, user, now=None, require_version=False, ip=None)

``user`` is a register ``User``, or the name of the command-line operator (``cli:<login>``), who owns
the database and passes the role checks, audited under that name (as ``qingfeng clues export``).
"""

from __future__ import annotations

from collections.abc import Mapping

from qingfeng.campaigns.inspections import Finding, InspectionActions
from qingfeng.campaigns.linking import link_unlinked
from qingfeng.campaigns.monthly import ReportActions
from qingfeng.campaigns.outcomes import OutcomeActions
from qingfeng.campaigns.projects import ProjectActions
from qingfeng.campaigns.tasks import DueTask, TaskActions, due_tasks, task_colour


class CampaignService(ProjectActions, TaskActions, ReportActions, InspectionActions, OutcomeActions):
    def link_clues(self, mapping: Mapping[str, str], *, dry_run: bool = False) -> dict[str, int]:
        """Link the rule clues without a project to the projects ``mapping`` (rule → code) names;
        returns clues per project code. A dry run changes nothing and writes no audit row."""
        self.require("manage_campaigns")
        linked = link_unlinked(self.session, mapping, dry_run=dry_run, actor=self.actor)
        if dry_run or not linked:
            self.session.rollback()
            return linked
        detail = ", ".join(f"{code} {n}" for code, n in linked.items())
        self.commit("clue", f"归入专项治理项目:{detail}")
        return linked


__all__ = ["CampaignService", "DueTask", "Finding", "due_tasks", "task_colour"]
