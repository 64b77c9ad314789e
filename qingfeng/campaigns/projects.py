"""专项治理项目: create, edit, close, publish (向社会公开), list and read.

The supervisor manages projects (``manage_campaigns``) and publishes them (``publish``); the supervisor
and the analysts read them (``view_campaign``). Units are ``Unit`` rows, named exactly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qingfeng.campaigns.base import (
    CampaignBase,
    ProjectRef,
    choice,
    day,
    optional_day,
    required_text,
    text,
    valid_code,
)
from qingfeng.contract import DOMAIN_TITLES
from qingfeng.register.errors import InvalidInput
from qingfeng.register.lifecycle import PROJECT_ACTIVE, PROJECT_CLOSED, PROJECT_STATUSES
from qingfeng.register.models import CampaignProject

FIELDS = (
    "code",
    "title",
    "domain",
    "lead_unit",
    "office",
    "hotline",
    "liaison_unit",
    "task_force",
    "description",
    "period_start",
    "period_end",
    "status",
)
FIELD_TITLES = {
    "code": "项目编号",
    "title": "项目名称",
    "domain": "领域",
    "lead_unit": "牵头单位",
    "office": "职能科室",
    "hotline": "监督举报电话",
    "liaison_unit": "派驻机构",
    "task_force": "工作专班",
    "description": "项目说明",
    "period_start": "开始日期",
    "period_end": "结束日期",
    "status": "项目状态",
}
HOTLINE_CHARS = set("0123456789-+() 、/转")
KEEP = object()  # an unchanged unit


def domain_of(value: str | None) -> str | None:
    """A domain key (subsidy …) or its Chinese title (民生资金 …); empty is none."""
    stripped = (value or "").strip()
    if not stripped:
        return None
    if stripped in DOMAIN_TITLES:
        return stripped
    by_title = {title: key for key, title in DOMAIN_TITLES.items()}
    if stripped in by_title:
        return by_title[stripped]
    options = "、".join(f"{k}({t})" for k, t in DOMAIN_TITLES.items())
    raise InvalidInput(f"领域「{stripped[:40]}」无效,可选:{options},或留空")


def hotline_of(value: str | None) -> str | None:
    found = text(value, "监督举报电话", limit=50)
    if found and not (set(found) <= HOTLINE_CHARS and any(c.isdigit() for c in found)):
        raise InvalidInput(f"监督举报电话「{found}」无效:只能包含数字、空格及 - + ( ) 、/ 转")
    return found


class ProjectActions(CampaignBase):
    def create_project(
        self,
        code: str,
        title: str,
        *,
        lead_unit: str | None,
        period_start: dt.date | str,
        domain: str | None = None,
        office: str | None = None,
        hotline: str | None = None,
        liaison_unit: str | None = None,
        task_force: str | None = None,
        description: str | None = None,
        period_end: dt.date | str | None = None,
        status: str = PROJECT_ACTIVE,
    ) -> CampaignProject:
        """A new project; its lead unit (牵头单位) is required, the liaison unit (派驻机构) is not."""
        self.require("manage_campaigns")
        if not (lead_unit or "").strip():
            raise InvalidInput("牵头单位不能为空")
        project = CampaignProject(created_by=self.actor, created_at=self.now, public=False)
        self._apply_project(
            project,
            {
                "code": code,
                "title": title,
                "domain": domain,
                "lead_unit": lead_unit,
                "office": office,
                "hotline": hotline,
                "liaison_unit": liaison_unit,
                "task_force": task_force,
                "description": description,
                "period_start": period_start,
                "period_end": period_end,
                "status": status,
            },
        )
        self.session.add(project)
        self.session.flush()
        self.commit(f"project:{project.id}", f"新建专项治理项目 {project.code}「{project.title}」")
        return project

    def edit_project(
        self, ref: ProjectRef, *, expected_version: int | None = None, **changes: Any
    ) -> CampaignProject:
        """Change any of ``FIELDS``; an empty value clears an optional field."""
        self.require("manage_campaigns")
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise InvalidInput(f"不能修改的项目字段:{', '.join(unknown)}")
        project = self.project(ref)
        self.check_version(f"项目 {project.code} ", project.version, expected_version)
        changed = self._apply_project(project, changes)
        if not changed:
            return project
        self.commit(f"project:{project.id}", "修改 " + "、".join(FIELD_TITLES[k] for k in changed))
        return project

    def close_project(self, ref: ProjectRef, *, expected_version: int | None = None) -> CampaignProject:
        """已结束: an open end becomes today, so that clues found afterwards no longer link to it."""
        self.require("manage_campaigns")
        project = self.project(ref)
        self.check_version(f"项目 {project.code} ", project.version, expected_version)
        if project.status == PROJECT_CLOSED:
            raise InvalidInput(f"项目 {project.code} 已结束")
        self._apply_project(project, {"status": PROJECT_CLOSED})
        self.commit(f"project:{project.id}", f"结束专项治理项目 {project.code}")
        return project

    def set_public(
        self, ref: ProjectRef, public: bool, *, expected_version: int | None = None
    ) -> CampaignProject:
        """向社会公开 (or withdraw from the public page)."""
        self.require("publish")
        project = self.project(ref)
        self.check_version(f"项目 {project.code} ", project.version, expected_version)
        if project.public == public:
            return project
        project.public = public
        self.commit(f"project:{project.id}", "向社会公开" if public else "撤回公开")
        return project

    def list_projects(
        self, *, status: str | None = None, public: bool | None = None
    ) -> list[CampaignProject]:
        self.require("view_campaign")
        return projects(self.session, status=status, public=public)

    def get_project(self, ref: ProjectRef) -> CampaignProject:
        self.require("view_campaign")
        return self.project(ref)

    # -- the fields -------------------------------------------------------------------------------

    def _apply_project(self, project: CampaignProject, values: dict[str, Any]) -> list[str]:
        """Check every given field, then set them (nothing is set when one is refused); returns the
        fields that changed."""
        new = {name: self._checked(project, name, raw) for name, raw in values.items()}
        status = new.get("status", project.status)
        closing = status == PROJECT_CLOSED and project.status != PROJECT_CLOSED
        open_end = new.get("period_end") is None and (project.period_end is None or "period_end" in new)
        if closing and open_end:  # an open end becomes the closing day: later clues no longer link
            new["period_end"] = max(self.today, new.get("period_start") or project.period_start or self.today)
        start, end = new.get("period_start", project.period_start), new.get("period_end", project.period_end)
        if end is not None and end < start:
            raise InvalidInput(f"结束日期 {end.isoformat()} 早于开始日期 {start.isoformat()}")
        if "status" in new and status != project.status:
            project.closed_at = self.now if status == PROJECT_CLOSED else None
        changed = []
        for name, value in new.items():
            if name in ("lead_unit", "liaison_unit") and value is KEEP:
                continue
            if getattr(project, name) != value:
                setattr(project, name, value)
                changed.append(name)
        return changed

    def _checked(self, project: CampaignProject, name: str, raw: Any) -> Any:
        if name == "code":
            code = valid_code(raw)
            clash = self.session.scalar(
                select(CampaignProject.id).where(
                    CampaignProject.code == code, CampaignProject.id != project.id
                )
            )
            if clash is not None:
                raise InvalidInput(f"项目编号 {code} 已存在")
            return code
        if name == "title":
            return required_text(raw, "项目名称", limit=200)
        if name == "domain":
            return domain_of(raw)
        if name in ("lead_unit", "liaison_unit"):
            wanted = (raw or "").strip()
            if name == "lead_unit" and not wanted:
                raise InvalidInput("牵头单位不能为空")
            current = getattr(project, name)
            if current is not None and current.name == wanted:
                return KEEP  # keeping a unit that was deactivated since is allowed
            return self.unit(wanted, FIELD_TITLES[name])
        if name == "office":
            return text(raw, "职能科室", limit=200)
        if name == "hotline":
            return hotline_of(raw)
        if name in ("task_force", "description"):
            return text(raw, FIELD_TITLES[name], limit=4000)
        if name == "period_start":
            return day(raw, "开始日期")
        if name == "period_end":
            return optional_day(raw, "结束日期")
        assert name == "status"
        return choice((raw or "").strip(), "项目状态", PROJECT_STATUSES)


def projects(
    session: Session, *, status: str | None = None, public: bool | None = None
) -> list[CampaignProject]:
    """Projects by code, optionally of one status or only the public ones (no role check: callers check)."""
    stmt = select(CampaignProject).order_by(CampaignProject.code)
    if status is not None:
        stmt = stmt.where(CampaignProject.status == status)
    if public is not None:
        stmt = stmt.where(CampaignProject.public.is_(public))
    return list(session.scalars(stmt))
