"""月报: each project reports once per month. A month is submitted once; a second submission for the
same month is refused, and the text may be revised afterwards without moving the submission time
(which is what makes a report on time or late, docs/campaigns.md)."""

from __future__ import annotations

from sqlalchemy import select

from qingfeng.campaigns.base import CampaignBase, ProjectRef, required_text
from qingfeng.register.bounds import parse_month
from qingfeng.register.errors import InvalidInput, NotFound
from qingfeng.register.lifecycle import PROJECT_PLANNED
from qingfeng.register.models import ProjectReport


class ReportActions(CampaignBase):
    def submit_report(self, project: ProjectRef, month: str, summary: str) -> ProjectReport:
        """The monthly report of ``month`` (YYYY-MM): not a future month, not before the project began."""
        self.require("edit_tasks")
        owner = self.project(project)
        month = self._month(month, owner.period_start.strftime("%Y-%m"))
        if owner.status == PROJECT_PLANNED:
            raise InvalidInput(f"项目 {owner.code} 尚在筹备,不报送月报")
        if self._existing(owner.id, month) is not None:
            raise InvalidInput(f"项目 {owner.code} 已报送 {month} 月报;如需更正,请修改已报送的月报")
        report = ProjectReport(
            project=owner,
            month=month,
            summary=required_text(summary, "月报内容", limit=20000),
            submitted_by=self.actor,
            submitted_at=self.now,
        )
        self.session.add(report)
        self.session.flush()
        self.commit(f"project:{owner.id}", f"报送 {month} 月报")
        return report

    def revise_report(self, project: ProjectRef, month: str, summary: str) -> ProjectReport:
        """Correct the text of a submitted report; its submission time (and lateness) stays."""
        self.require("edit_tasks")
        owner = self.project(project)
        month = parse_month(month, today=self.today)
        report = self._existing(owner.id, month)
        if report is None:
            raise NotFound(f"项目 {owner.code} 尚未报送 {month} 月报")
        report.summary = required_text(summary, "月报内容", limit=20000)
        self.commit(f"project:{owner.id}", f"更正 {month} 月报")
        return report

    def _month(self, month: str, first: str) -> str:
        month = parse_month(month, today=self.today)
        if month > self.today.strftime("%Y-%m"):
            raise InvalidInput(f"月份 {month} 尚未到来,不能报送月报")
        if month < first:
            raise InvalidInput(f"月份 {month} 早于项目开始的 {first}")
        return month

    def _existing(self, project_id: int, month: str) -> ProjectReport | None:
        return self.session.scalar(
            select(ProjectReport).where(ProjectReport.project_id == project_id, ProjectReport.month == month)
        )
