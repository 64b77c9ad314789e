"""任务清单: a project's task items (responsible unit and person, deadline, method), their status and
progress notes, and their escalation colour: an open item turns yellow when due within
``tasks.warn_days`` days of config/campaigns.yml and red when overdue, as dispatches do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from qingfeng.campaigns.base import CampaignBase, ProjectRef, choice, day, required_text, text
from qingfeng.register.bounds import valid_id
from qingfeng.register.errors import InvalidInput, NotFound
from qingfeng.register.lifecycle import PROJECT_CLOSED, TASK_DONE, TASK_OPEN, TASK_STATUSES
from qingfeng.register.models import CampaignProject, CampaignTask, TaskNote
from qingfeng.register.queries import escalation_colour

TASK_FIELDS = ("title", "responsible_unit", "responsible_person", "deadline", "method")
TASK_FIELD_TITLES = {
    "title": "任务内容",
    "responsible_unit": "责任单位",
    "responsible_person": "责任人",
    "deadline": "完成时限",
    "method": "完成方式",
}


def task_colour(task: CampaignTask, today: dt.date, warn_days: int) -> str | None:
    """red (overdue), yellow (due within ``warn_days``), green; None once done or cancelled."""
    if task.status != TASK_OPEN:
        return None
    return escalation_colour(task.deadline, today, warn_days)


@dataclass(frozen=True)
class DueTask:
    task: CampaignTask
    colour: str  # red or yellow


def due_tasks(
    session: Session, today: dt.date, warn_days: int, *, project_id: int | None = None
) -> list[DueTask]:
    """Open task items overdue (red) or due within ``warn_days`` (yellow), earliest deadline first."""
    stmt = (
        select(CampaignTask)
        .where(
            CampaignTask.status == TASK_OPEN,
            CampaignTask.deadline <= today + dt.timedelta(days=warn_days),
        )
        .options(selectinload(CampaignTask.project), selectinload(CampaignTask.responsible_unit))
        .order_by(CampaignTask.deadline, CampaignTask.id)
    )
    if project_id is not None:
        stmt = stmt.where(CampaignTask.project_id == project_id)
    out = []
    for task in session.scalars(stmt):
        colour = task_colour(task, today, warn_days)
        assert colour in ("red", "yellow")
        out.append(DueTask(task, colour))
    return out


class TaskActions(CampaignBase):
    def add_task(
        self,
        project: ProjectRef,
        title: str,
        *,
        responsible_unit: str,
        deadline: dt.date | str,
        responsible_person: str | None = None,
        method: str | None = None,
    ) -> CampaignTask:
        """A new open item. A deadline already past is accepted (a task list entered afterwards): it is red."""
        self.require("edit_tasks")
        owner = self.project(project)
        if owner.status == PROJECT_CLOSED:
            raise InvalidInput(f"项目 {owner.code} 已结束,不能再添加任务")
        task = CampaignTask(status=TASK_OPEN, created_by=self.actor, created_at=self.now)
        self._apply_task(
            task,
            {
                "title": title,
                "responsible_unit": responsible_unit,
                "responsible_person": responsible_person,
                "deadline": deadline,
                "method": method,
            },
        )
        task.project = owner  # only now: the relationship would put a refused task in the session
        self.session.add(task)
        self.session.flush()
        self.commit(f"task:{task.id}", f"项目 {owner.code} 新增任务:{task.title[:60]}")
        return task

    def edit_task(self, task_id: int, *, expected_version: int | None = None, **changes: Any) -> CampaignTask:
        """Change any of ``TASK_FIELDS`` (the status has its own action)."""
        self.require("edit_tasks")
        unknown = sorted(set(changes) - set(TASK_FIELDS))
        if unknown:
            raise InvalidInput(f"不能修改的任务字段:{', '.join(unknown)}")
        task = self.task(task_id)
        self.check_version(f"任务 {task.id} ", task.version, expected_version)
        changed = self._apply_task(task, changes)
        if changed:
            self.commit(f"task:{task.id}", "修改 " + "、".join(TASK_FIELD_TITLES[k] for k in changed))
        return task

    def set_task_status(
        self, task_id: int, status: str, *, note: str | None = None, expected_version: int | None = None
    ) -> CampaignTask:
        """进行中, 已完成 (done_at now) or 已取消; an optional note is added to the progress notes."""
        self.require("edit_tasks")
        status = choice((status or "").strip(), "任务状态", TASK_STATUSES)
        task = self.task(task_id)
        self.check_version(f"任务 {task.id} ", task.version, expected_version)
        if task.status == status:
            raise InvalidInput(f"任务 {task.id} 已是「{status}」")
        remark = text(note, "进展情况", limit=4000)
        previous = task.status
        task.status = status
        task.done_at = self.now if status == TASK_DONE else None
        if remark:
            self.session.add(TaskNote(task=task, text=remark, author=self.actor, at=self.now))
        self.commit(f"task:{task.id}", f"{previous} → {status}")
        return task

    def add_task_note(self, task_id: int, note: str) -> TaskNote:
        self.require("edit_tasks")
        task = self.task(task_id)
        row = TaskNote(
            task=task, text=required_text(note, "进展情况", limit=4000), author=self.actor, at=self.now
        )
        self.session.add(row)
        self.commit(f"task:{task.id}", "进展情况")
        return row

    def get_task(self, task_id: int) -> CampaignTask:
        self.require("view_campaign")
        return self.task(task_id)

    def list_tasks(self, project: ProjectRef | None = None) -> list[CampaignTask]:
        self.require("view_campaign")
        stmt = (
            select(CampaignTask)
            .options(selectinload(CampaignTask.project), selectinload(CampaignTask.responsible_unit))
            .order_by(CampaignTask.project_id, CampaignTask.deadline, CampaignTask.id)
        )
        if project is not None:
            stmt = stmt.where(CampaignTask.project_id == self.project(project).id)
        return list(self.session.scalars(stmt))

    def due_tasks(
        self, today: dt.date, warn_days: int, *, project: ProjectRef | None = None
    ) -> list[DueTask]:
        self.require("view_campaign")
        project_id = None if project is None else self.project(project).id
        return due_tasks(self.session, today, warn_days, project_id=project_id)

    # -- helpers ----------------------------------------------------------------------------------

    def task(self, task_id: int) -> CampaignTask:
        found = self.session.get(CampaignTask, task_id) if valid_id(task_id) else None
        if found is None:
            raise NotFound(f"任务 {task_id} 不存在")
        return found

    def _apply_task(self, task: CampaignTask, values: dict[str, Any]) -> list[str]:
        """Check every given field, then set them; returns the fields that changed."""
        new = {name: self._checked_task(task, name, raw) for name, raw in values.items()}
        changed = []
        for name, value in new.items():
            if getattr(task, name) != value:
                setattr(task, name, value)
                changed.append(name)
        return changed

    def _checked_task(self, task: CampaignTask, name: str, raw: Any) -> Any:
        if name == "title":
            return required_text(raw, "任务内容", limit=2000)
        if name == "responsible_unit":
            wanted = (raw or "").strip()
            if not wanted:
                raise InvalidInput("责任单位不能为空")
            if task.responsible_unit is not None and task.responsible_unit.name == wanted:
                return task.responsible_unit  # kept, even if deactivated since
            return self.unit(wanted, "责任单位")
        if name == "responsible_person":
            return text(raw, "责任人", limit=100)
        if name == "deadline":
            return day(raw, "完成时限")
        assert name == "method"
        return text(raw, "完成方式", limit=4000)


def project_tasks(
    project: CampaignProject, today: dt.date, warn_days: int
) -> list[tuple[CampaignTask, str | None]]:
    """A project's tasks with their colours (for the CLI's and the pages' task tables)."""
    return [(t, task_colour(t, today, warn_days)) for t in project.tasks]
