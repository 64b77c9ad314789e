"""专项治理 pages (issue #16): the project list, the new and edit forms, and the project page with its
任务清单, monthly reports (月报), inspections (检查), institutions (制度) and linked problems.

Every change goes through ``CampaignService`` (roles, checks, audit, commit) with the version its form
was rendered with; a refusal is shown with the service's own message, which names the field, above the
page or form as the user typed it (400). Every page view is audited (``view``, ``project:N``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qingfeng.campaigns.config import CampaignsConfig, campaigns_config
from qingfeng.campaigns.periods import beijing_today
from qingfeng.campaigns.projects import FIELDS as PROJECT_FIELDS
from qingfeng.campaigns.service import CampaignService, Finding, task_colour
from qingfeng.contract import DOMAIN_TITLES
from qingfeng.register.bounds import valid_id
from qingfeng.register.errors import InvalidInput, NotFound, PermissionDenied, RegisterError
from qingfeng.register.lifecycle import (
    PROJECT_ACTIVE,
    PROJECT_STATUSES,
    SEVERITY_RANK,
    SOURCE_TITLES,
    TASK_STATUSES,
)
from qingfeng.register.models import CampaignProject, CampaignTask, Unit
from qingfeng.web import accounts
from qingfeng.web.campaign_pages import (
    PROBLEM_LIMIT,
    inspection_rows,
    month_rows,
    problem_counts,
    project_problems,
    project_rows,
    project_rules,
)
from qingfeng.web.deps import client_ip, flash, orm_user, render
from qingfeng.web.masking import Masker

router = APIRouter()

SHORT, LONG = 1000, 40000  # form bounds well above the service's limits, so that its messages apply


def _project_id(project_id: Annotated[int, Path()]) -> int:
    """The path's project id (``{project_id:int}``: ASCII digits) within 1..2^31-1, else 404."""
    if not valid_id(project_id):
        raise HTTPException(404, f"专项治理项目 {project_id} 不存在")
    return project_id


ProjectId = Annotated[int, Depends(_project_id)]


def _config(request: Request) -> CampaignsConfig:
    return campaigns_config(request.app.state.settings.campaigns_config)


def _version(value: str) -> int | None:
    """The version a form was rendered with; empty is None, which ``require_version`` refuses."""
    text = value.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and valid_id(int(text))):
        raise InvalidInput(f"版本号「{text[:20]}」无效,更改未保存:请刷新页面后重试")
    return int(text)


def _service(request: Request, session: Any) -> CampaignService:
    return CampaignService(
        session, orm_user(session, request.state.user), require_version=True, ip=client_ip(request)
    )


def _change(
    request: Request,
    action: Callable[[CampaignService], Any],
    *,
    done: Callable[[Any], tuple[str, str]],
    again: Callable[[], Response],
) -> Response:
    """Run one service action. Done: its message and the page to go to (303). Refused: the service's
    message over ``again()``, the page with the form as typed; a refused role is also audited."""
    refusal: RegisterError | None = None
    with request.app.state.sessions() as session:
        try:
            message, target = done(action(_service(request, session)))
        except RegisterError as exc:
            session.rollback()
            refusal = exc
    if refusal is not None:
        if isinstance(refusal, PermissionDenied):
            accounts.audit(request, "denied", target=f"POST {request.url.path}"[:200], detail=refusal.message)
        flash(request, "error", refusal.message)
        return again()
    flash(request, "ok", message)
    return RedirectResponse(target, status_code=303)


def _at(request: Request, project_id: int, anchor: str = "") -> str:
    return request.url_for("campaign_detail", project_id=project_id).path + (f"#{anchor}" if anchor else "")


def _active_units(session: Any) -> list[str]:
    return list(session.scalars(select(Unit.name).where(Unit.active.is_(True)).order_by(Unit.name)))


# -- the project list ------------------------------------------------------------------------------


@router.get("/campaigns", name="campaigns")
def campaign_list(request: Request, status: str = "") -> Response:
    chosen = status.strip()
    errors = []
    if chosen and chosen not in PROJECT_STATUSES:
        errors.append(f"项目状态「{chosen[:20]}」无效,可选:{'、'.join(PROJECT_STATUSES)};已显示全部项目")
        chosen = ""
    cfg = _config(request)
    today = beijing_today()
    with request.app.state.sessions() as session:
        _service(request, session).require("view_campaign")
        rows = project_rows(session, status=chosen or None, today=today, warn_days=cfg.tasks.warn_days)
    accounts.audit(request, "view", target="projects", detail=f"状态 {chosen}" if chosen else None)
    return render(
        request,
        "campaigns.html",
        title="专项治理",
        active="campaigns",
        rows=rows,
        status=chosen,
        statuses=PROJECT_STATUSES,
        errors=errors,
        warn_days=cfg.tasks.warn_days,
    )


# -- new and edit ----------------------------------------------------------------------------------


class ProjectForm(BaseModel):
    code: str = Field("", max_length=SHORT)
    title: str = Field("", max_length=SHORT)
    domain: str = Field("", max_length=SHORT)
    lead_unit: str = Field("", max_length=SHORT)
    office: str = Field("", max_length=SHORT)
    hotline: str = Field("", max_length=SHORT)
    liaison_unit: str = Field("", max_length=SHORT)
    task_force: str = Field("", max_length=LONG)
    description: str = Field("", max_length=LONG)
    period_start: str = Field("", max_length=SHORT)
    period_end: str = Field("", max_length=SHORT)
    status: str = Field(PROJECT_ACTIVE, max_length=SHORT)
    version: str = Field("", max_length=SHORT)

    def fields(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in PROJECT_FIELDS}


def _project_values(project: CampaignProject) -> dict[str, str]:
    values = {name: getattr(project, name) for name in PROJECT_FIELDS}
    values["lead_unit"] = project.lead_unit.name if project.lead_unit else ""
    values["liaison_unit"] = project.liaison_unit.name if project.liaison_unit else ""
    values["version"] = project.version
    return {k: "" if v is None else str(v) for k, v in values.items()}


def _form_page(
    request: Request, values: dict[str, str], *, project: CampaignProject | None, status_code: int = 200
) -> Response:
    """The new or edit form: unit pickers of the active units (and a unit kept since it was deactivated),
    the project's rules from config/campaigns.yml shown, not edited."""
    with request.app.state.sessions() as session:
        units = _active_units(session)
    kept = {values.get("lead_unit", ""), values.get("liaison_unit", "")} - set(units) - {""}
    cfg = _config(request)
    rules = project_rules(cfg, values.get("code") or "")
    return render(
        request,
        "campaign_form.html",
        status_code=status_code,
        title=f"编辑项目 {project.code}" if project else "新建专项治理项目",
        active="campaigns",
        project=project,
        v=values,
        units=units,
        kept_units=sorted(kept),
        domains=DOMAIN_TITLES,
        statuses=PROJECT_STATUSES,
        rules=rules,
        configured={code: ", ".join(p.rules) for code, p in cfg.projects.items()},
    )


@router.get("/campaigns/new", name="campaign_new")
def campaign_new(request: Request) -> Response:
    accounts.audit(request, "view", target="project:new")
    values = {"status": PROJECT_ACTIVE, "period_start": beijing_today().isoformat()}
    return _form_page(request, values, project=None)


@router.post("/campaigns/new", name="campaign_create")
def campaign_create(request: Request, form: Annotated[ProjectForm, Form()]) -> Response:
    fields = form.fields()
    code, title = fields.pop("code"), fields.pop("title")
    return _change(
        request,
        lambda s: s.create_project(code, title, **fields),
        done=lambda p: (f"已新建专项治理项目 {p.code}「{p.title}」。", _at(request, p.id)),
        again=lambda: _form_page(request, form.model_dump(), project=None, status_code=400),
    )


def _load_project(request: Request, session: Any, project_id: int) -> CampaignProject:
    try:
        return _service(request, session).get_project(project_id)
    except NotFound as exc:
        raise HTTPException(404, exc.message) from exc


@router.get("/campaigns/{project_id:int}/edit", name="campaign_edit_form")
def campaign_edit_form(request: Request, project_id: ProjectId) -> Response:
    with request.app.state.sessions() as session:
        project = _load_project(request, session, project_id)
        values = _project_values(project)
    accounts.audit(request, "view", target=f"project:{project_id}", detail="编辑表单")
    return _form_page(request, values, project=project)


@router.post("/campaigns/{project_id:int}/edit", name="campaign_edit")
def campaign_edit(request: Request, project_id: ProjectId, form: Annotated[ProjectForm, Form()]) -> Response:
    def again() -> Response:
        with request.app.state.sessions() as session:
            project = _load_project(request, session, project_id)
        return _form_page(request, form.model_dump(), project=project, status_code=400)

    return _change(
        request,
        lambda s: s.edit_project(project_id, expected_version=_version(form.version), **form.fields()),
        done=lambda p: (f"项目 {p.code} 已保存。", _at(request, p.id)),
        again=again,
    )


@router.post("/campaigns/{project_id:int}/close", name="campaign_close")
def campaign_close(
    request: Request, project_id: ProjectId, version: Annotated[str, Form(max_length=SHORT)] = ""
) -> Response:
    return _change(
        request,
        lambda s: s.close_project(project_id, expected_version=_version(version)),
        done=lambda p: (f"项目 {p.code} 已结束(结束日期 {p.period_end.isoformat()})。", _at(request, p.id)),
        again=lambda: _project_page(request, project_id, status_code=400),
    )


@router.post("/campaigns/{project_id:int}/publish", name="campaign_publish")
def campaign_publish(
    request: Request,
    project_id: ProjectId,
    public: Annotated[str, Form(max_length=SHORT)] = "",
    version: Annotated[str, Form(max_length=SHORT)] = "",
) -> Response:
    def act(s: CampaignService) -> CampaignProject:
        if public not in ("1", "0"):
            raise InvalidInput("公开选项无效:应为向社会公开或撤回公开")
        return s.set_public(project_id, public == "1", expected_version=_version(version))

    return _change(
        request,
        act,
        done=lambda p: (
            f"项目 {p.code} 已{'向社会公开' if p.public else '撤回公开'}。",
            _at(request, p.id),
        ),
        again=lambda: _project_page(request, project_id, status_code=400),
    )


# -- the project page ------------------------------------------------------------------------------


def _project_page(
    request: Request, project_id: int, *, typed: dict[str, Any] | None = None, status_code: int = 200
) -> Response:
    """The project page; ``typed``: one form's values as the user sent them (``form`` names the form),
    shown again after a refusal."""
    current = request.state.user
    cfg = _config(request)
    today = beijing_today()
    with request.app.state.sessions() as session:
        project = _load_project(request, session, project_id)
        tasks = list(
            session.scalars(
                select(CampaignTask)
                .where(CampaignTask.project_id == project_id)
                .options(selectinload(CampaignTask.notes), selectinload(CampaignTask.responsible_unit))
                .order_by(CampaignTask.deadline, CampaignTask.id)
            )
        )
        counts = problem_counts(session, project_id)
        accounts.audit(
            request,
            "view",
            target=f"project:{project_id}",
            detail=Masker(current.full_ids).audit_detail(None),
        )
        return render(  # within the session: the template reads the project's relationships
            request,
            "campaign.html",
            status_code=status_code,
            title=f"{project.code} {project.title}",
            active="campaigns",
            p=project,
            rules=project_rules(cfg, project.code),
            tasks=[(t, task_colour(t, today, cfg.tasks.warn_days)) for t in tasks],
            task_statuses=TASK_STATUSES,
            months=month_rows(project, today, cfg.evaluation.report_due_day),
            due_day=cfg.evaluation.report_due_day,
            inspections=inspection_rows(session, project_id),
            counts=counts,
            problems=project_problems(session, project_id),
            problem_limit=PROBLEM_LIMIT,
            source_titles=SOURCE_TITLES,
            severities=list(SEVERITY_RANK),
            units=_active_units(session),
            typed=typed or {"form": ""},
            val=_typed_value(typed),
            today=today.isoformat(),
            this_month=today.strftime("%Y-%m"),
            warn_days=cfg.tasks.warn_days,
        )


def _typed_value(typed: dict[str, Any] | None) -> Callable[..., str]:
    """``val(form, name, default)`` in the template: what the user typed into that form, if it was the
    one refused, else the default (the stored value, or empty)."""
    sent = typed or {}

    def val(form: str, name: str, default: Any = "") -> str:
        return str(sent.get(name, default) if sent.get("form") == form else default)

    return val


@router.get("/campaigns/{project_id:int}", name="campaign_detail")
def campaign_detail(request: Request, project_id: ProjectId) -> Response:
    return _project_page(request, project_id)


def _on_page(
    request: Request,
    project_id: int,
    form_id: str,
    typed: dict[str, Any],
    action: Callable[[CampaignService], Any],
    done: Callable[[Any], str],
    anchor: str,
) -> Response:
    """A form of the project page: back to its section when done, the page with the form as typed when
    refused."""
    return _change(
        request,
        action,
        done=lambda result: (done(result), _at(request, project_id, anchor)),
        again=lambda: _project_page(request, project_id, typed={"form": form_id, **typed}, status_code=400),
    )


class TaskForm(BaseModel):
    title: str = Field("", max_length=LONG)
    responsible_unit: str = Field("", max_length=SHORT)
    responsible_person: str = Field("", max_length=SHORT)
    deadline: str = Field("", max_length=SHORT)
    method: str = Field("", max_length=LONG)
    version: str = Field("", max_length=SHORT)

    def fields(self) -> dict[str, str]:
        return self.model_dump(exclude={"version"})


@router.post("/campaigns/{project_id:int}/tasks", name="campaign_task_add")
def campaign_task_add(request: Request, project_id: ProjectId, form: Annotated[TaskForm, Form()]) -> Response:
    fields = form.fields()
    title = fields.pop("title")
    return _on_page(
        request,
        project_id,
        "task-add",
        form.model_dump(),
        lambda s: s.add_task(project_id, title, **fields),
        lambda t: f"已添加任务:{t.title[:40]}(完成时限 {t.deadline.isoformat()})。",
        "tasks",
    )


def _task_of(service: CampaignService, project_id: int, task_id: int) -> CampaignTask:
    """The task, when it is one of this project's (the address names both)."""
    task = service.task(task_id)
    if task.project_id != project_id:
        raise NotFound(f"任务 {task_id} 不属于本项目")
    return task


@router.post("/campaigns/{project_id:int}/tasks/{task_id:int}/edit", name="campaign_task_edit")
def campaign_task_edit(
    request: Request, project_id: ProjectId, task_id: int, form: Annotated[TaskForm, Form()]
) -> Response:
    def act(s: CampaignService) -> CampaignTask:
        _task_of(s, project_id, task_id)
        return s.edit_task(task_id, expected_version=_version(form.version), **form.fields())

    return _on_page(
        request,
        project_id,
        f"task-edit-{task_id}",
        form.model_dump(),
        act,
        lambda t: f"任务 {t.id} 已保存。",
        f"task-{task_id}",
    )


@router.post("/campaigns/{project_id:int}/tasks/{task_id:int}/status", name="campaign_task_status")
def campaign_task_status(
    request: Request,
    project_id: ProjectId,
    task_id: int,
    status: Annotated[str, Form(max_length=SHORT)] = "",
    note: Annotated[str, Form(max_length=LONG)] = "",
    version: Annotated[str, Form(max_length=SHORT)] = "",
) -> Response:
    def act(s: CampaignService) -> CampaignTask:
        _task_of(s, project_id, task_id)
        return s.set_task_status(task_id, status, note=note, expected_version=_version(version))

    return _on_page(
        request,
        project_id,
        f"task-status-{task_id}",
        {"status": status, "note": note},
        act,
        lambda t: f"任务 {t.id} 已标记为「{t.status}」。",
        f"task-{task_id}",
    )


@router.post("/campaigns/{project_id:int}/tasks/{task_id:int}/note", name="campaign_task_note")
def campaign_task_note(
    request: Request, project_id: ProjectId, task_id: int, note: Annotated[str, Form(max_length=LONG)] = ""
) -> Response:
    """A progress note only adds: it needs no version (a page gone stale must not lose the text)."""

    def act(s: CampaignService) -> Any:
        _task_of(s, project_id, task_id)
        return s.add_task_note(task_id, note)

    return _on_page(
        request,
        project_id,
        f"task-note-{task_id}",
        {"note": note},
        act,
        lambda _n: f"任务 {task_id} 的进展情况已记录。",
        f"task-{task_id}",
    )


@router.post("/campaigns/{project_id:int}/reports", name="campaign_monthly_submit")
def campaign_monthly_submit(
    request: Request,
    project_id: ProjectId,
    month: Annotated[str, Form(max_length=SHORT)] = "",
    summary: Annotated[str, Form(max_length=LONG)] = "",
) -> Response:
    return _on_page(
        request,
        project_id,
        "report-add",
        {"month": month, "summary": summary},
        lambda s: s.submit_report(project_id, month, summary),
        lambda r: f"已报送 {r.month} 月报。",
        "reports",
    )


@router.post("/campaigns/{project_id:int}/reports/revise", name="campaign_monthly_revise")
def campaign_monthly_revise(
    request: Request,
    project_id: ProjectId,
    month: Annotated[str, Form(max_length=SHORT)] = "",
    summary: Annotated[str, Form(max_length=LONG)] = "",
) -> Response:
    return _on_page(
        request,
        project_id,
        f"report-{month.strip()[:7]}",
        {"month": month, "summary": summary},
        lambda s: s.revise_report(project_id, month, summary),
        lambda r: f"{r.month} 月报已更正(报送时间不变)。",
        "reports",
    )


# A finding line may start with its severity: "高:低保对象死亡后未停发" (full-width colon too).
SEVERITY_PREFIX = re.compile(r"^\s*(高|中|低)\s*[:：]\s*")
SEVERITY_BY_LABEL = {"高": "high", "中": "medium", "低": "low"}


def findings_of(text: str, default_severity: str) -> list[Finding]:
    """One finding per non-empty line, of the default severity unless the line starts with 高:/中:/低:."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        prefix = SEVERITY_PREFIX.match(line)
        severity = SEVERITY_BY_LABEL[prefix.group(1)] if prefix else default_severity
        out.append(Finding(line[prefix.end() :] if prefix else line, severity=severity))
    return out


class InspectionForm(BaseModel):
    inspected_on: str = Field("", max_length=SHORT)
    inspecting_unit: str = Field("", max_length=SHORT)
    places: str = Field("", max_length=LONG)
    summary: str = Field("", max_length=LONG)
    findings: str = Field("", max_length=LONG)
    severity: str = Field("medium", max_length=SHORT)


@router.post("/campaigns/{project_id:int}/inspections", name="campaign_inspection_add")
def campaign_inspection_add(
    request: Request, project_id: ProjectId, form: Annotated[InspectionForm, Form()]
) -> Response:
    return _on_page(
        request,
        project_id,
        "inspection",
        form.model_dump(),
        lambda s: s.record_inspection(
            project=project_id,
            inspected_on=form.inspected_on,
            inspecting_unit=form.inspecting_unit,
            places=form.places.splitlines(),
            summary=form.summary,
            findings=findings_of(form.findings, form.severity),
        ),
        lambda i: (
            f"已登记 {i.inspected_on.isoformat()} 的检查:检查单位(场所){len(i.places)} 家,"
            f"发现问题 {len(i.findings)} 个。"
        ),
        "inspections",
    )


@router.post("/campaigns/{project_id:int}/institutions", name="campaign_institution_add")
def campaign_institution_add(
    request: Request,
    project_id: ProjectId,
    title: Annotated[str, Form(max_length=SHORT)] = "",
    issued_on: Annotated[str, Form(max_length=SHORT)] = "",
    issuer: Annotated[str, Form(max_length=SHORT)] = "",
) -> Response:
    return _on_page(
        request,
        project_id,
        "institution",
        {"title": title, "issued_on": issued_on, "issuer": issuer},
        lambda s: s.record_institution(title, issued_on=issued_on, issuer=issuer, project=project_id),
        lambda i: f"已登记制度《{i.title}》。",
        "institutions",
    )
