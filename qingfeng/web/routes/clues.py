"""Clue detail (facts, evidence, relation graph, timeline) and the actions on a clue.

Every action goes through ``ClueService``; a refusal (forbidden transition, missing
rectification, stale version, wrong unit) is shown to the user with the service's own message.
Input out of its range (an id no row can have, a missing or malformed version, an amount or a deadline
that is not one) is refused before the service: 404 or 400 with a Chinese message, nothing changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from qingfeng.campaigns.periods import beijing_today
from qingfeng.campaigns.service import CampaignService
from qingfeng.register.bounds import AHEAD_DAYS, parse_day, parse_money, parse_version, valid_id
from qingfeng.register.errors import InvalidInput, NotFound, PermissionDenied, RegisterError
from qingfeng.register.lifecycle import CLOSED, SOURCE_TITLES, STATUSES, TRANSITIONS
from qingfeng.register.models import Unit, User
from qingfeng.register.queries import clue_detail as load_detail
from qingfeng.register.service import ClueService
from qingfeng.web import accounts, permissions
from qingfeng.web.campaign_pages import project_choices
from qingfeng.web.deps import client_ip, flash, orm_user, render
from qingfeng.web.graph import clue_graph
from qingfeng.web.masking import Masker
from qingfeng.web.opaque import Sealer, sealer

router = APIRouter()


def _clue_id(clue_id: Annotated[str, Path()]) -> int:
    """The path's clue id: ASCII digits (not ``1.0``, ``+1`` or ``1_0``, which int parsing would take)
    within 1..2^31-1 (PostgreSQL ``integer``); anything else names no clue: 404, the database not asked."""
    if not (clue_id.isascii() and clue_id.isdigit() and len(clue_id) <= 12 and valid_id(int(clue_id))):
        raise HTTPException(404, f"线索「{clue_id[:30]}」不存在")
    return int(clue_id)


ClueId = Annotated[int, Depends(_clue_id)]


def _masked(detail: dict[str, Any], masker: Masker, sealer: Sealer) -> dict[str, Any]:
    """What the pattern scan cannot recognise, masked whole (a person or account key, a person's or an
    account's subject id), and subject links sealed. Free text (evidence notes, the timeline, the
    rectifications, the path and its SVG) is masked where every value is: at the page boundary."""
    clue = dict(detail["clue"])
    clue["keys"] = {k: masker.key(k, v) for k, v in (clue.get("keys") or {}).items()}
    clue["subjects"] = [
        {
            **s,
            "shown_id": masker.subject_id(s.get("kind") or "", s.get("id")),
            "ref": sealer.subject(s.get("kind") or "", str(s["id"])) if s.get("id") else "",
        }
        for s in clue.get("subjects") or []
    ]
    clue["path_text"] = clue.get("path") or ""
    return {**detail, "clue": clue}


@router.get("/clues/{clue_id}", name="clue_detail")
def clue_detail(request: Request, clue_id: ClueId) -> Response:
    current = request.state.user
    masker = Masker(current.full_ids)
    with request.app.state.sessions() as session:
        actor = orm_user(session, current)
        try:
            detail = load_detail(
                session,
                actor,
                clue_id,
                warn_days=request.app.state.settings.warn_days,
                ip=client_ip(request),
                detail=masker.audit_detail(None),  # "显示完整号码" for a role that sees them
            )
        except NotFound as exc:
            raise HTTPException(404, exc.message) from exc
        except PermissionDenied as exc:
            raise HTTPException(403, exc.message) from exc
        units = list(session.scalars(select(Unit.name).where(Unit.active.is_(True)).order_by(Unit.name)))
        projects = project_choices(session) if permissions.can(current.role, "transition") else []
        assignees = list(
            session.execute(
                select(User.username, User.display_name)
                .where(User.active.is_(True), User.role.in_(("supervisor", "analyst")))
                .order_by(User.username)
            )
        )
    shown = _masked(detail, masker, sealer(request))
    status = detail["clue"]["status"]
    legal = [s for s in TRANSITIONS.get(status, ()) if s != CLOSED]
    others = [s for s in STATUSES if s not in legal and s not in (status, CLOSED)]
    return render(
        request,
        "clue.html",
        title=f"线索 #{clue_id}",
        active="queue",
        d=shown,
        graph=clue_graph(detail["clue"], request.app.state.settings, shown["clue"]["path_text"]),
        units=units,
        assignees=assignees,
        legal_statuses=legal,
        other_statuses=others,
        today=dt.date.today().isoformat(),
        beijing_today=beijing_today().isoformat(),
        projects=projects,
        source_titles=SOURCE_TITLES,
    )


def _refused(request: Request, exc: RegisterError) -> Response:
    """Input the form cannot have sent: 400 with the message, and nothing changed."""
    return render(request, "error.html", status_code=400, heading="输入有误", message=exc.message)


def _act(
    request: Request,
    clue_id: int,
    done: str,
    action: Callable[[Any, int | None], Any],
    version: str | None,
    service_class: type[ClueService] | type[CampaignService] = ClueService,
    *,
    notifies: bool = False,
) -> Response:
    """Run one service action (``ClueService``, or ``CampaignService`` for the project and the
    institutions) with the form's version (the optimistic lock: required for a change, a missing or
    malformed one is a 400; ``None`` for an addition); show the service's message (success or refusal)
    on the detail page."""
    try:
        expected = None if version is None else parse_version(version)
    except RegisterError as exc:
        return _refused(request, exc)
    with request.app.state.sessions() as session:
        service = service_class(
            session, orm_user(session, request.state.user), require_version=True, ip=client_ip(request)
        )
        try:
            action(service, expected)
        except PermissionDenied as exc:  # a role or unit reaching past its rights: a refused attempt
            session.rollback()
            flash(request, "error", exc.message)
            accounts.audit(request, "denied", target=f"POST {request.url.path}"[:200], detail=exc.message)
        except RegisterError as exc:
            session.rollback()
            flash(request, "error", exc.message)
        else:
            flash(request, "ok", done)
            if notifies:
                return _with_delivery(request, clue_id)
    return RedirectResponse(request.url_for("clue_detail", clue_id=clue_id).path, status_code=303)


def _with_delivery(request: Request, clue_id: int) -> Response:
    """The detail page's redirect, then (after the answer) a best-effort attempt to send the messages
    the action queued. Correctness never depends on it: the DAG and ``qingfeng notify send-pending``
    deliver whatever is still pending."""
    from starlette.background import BackgroundTask

    from qingfeng.notify.jobs import deliver_soon

    settings = request.app.state.settings
    task = BackgroundTask(deliver_soon, request.app.state.sessions, settings)
    background = task if settings.notify_deliver_from_web else None
    target = request.url_for("clue_detail", clue_id=clue_id).path
    return RedirectResponse(target, status_code=303, background=background)


@router.post("/clues/{clue_id}/comment", name="clue_comment")
def clue_comment(
    request: Request, clue_id: ClueId, text: Annotated[str, Form(max_length=4000)] = ""
) -> Response:
    """A comment only adds to the timeline, overwriting nothing: it needs no version (a page gone stale
    meanwhile must not lose the text typed into it)."""
    return _act(request, clue_id, "批注已保存。", lambda s, _v: s.comment(clue_id, text), None)


@router.post("/clues/{clue_id}/assign", name="clue_assign")
def clue_assign(
    request: Request,
    clue_id: ClueId,
    assignee: Annotated[str, Form(max_length=100)] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        clue_id,
        "承办人已更新。",
        lambda s, v: s.assign(clue_id, assignee or None, expected_version=v),
        version,
        notifies=True,
    )


@router.post("/clues/{clue_id}/status", name="clue_status")
def clue_status(
    request: Request,
    clue_id: ClueId,
    to_status: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        clue_id,
        f"状态已变更为「{to_status}」。",
        lambda s, v: s.transition(clue_id, to_status, reason=reason, expected_version=v),
        version,
    )


@router.post("/clues/{clue_id}/close", name="clue_close")
def clue_close(
    request: Request,
    clue_id: ClueId,
    reason: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        clue_id,
        "线索已销号。",
        lambda s, v: s.close(clue_id, reason=reason, expected_version=v),
        version,
    )


@router.post("/clues/{clue_id}/dispatch", name="clue_dispatch")
def clue_dispatch(
    request: Request,
    clue_id: ClueId,
    unit: Annotated[str, Form(max_length=200)] = "",
    deadline: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    today = dt.date.today()
    try:  # from today to a year ahead, like the form's date picker
        due = parse_day(deadline, label="办理期限", first=today, last=today + dt.timedelta(days=AHEAD_DAYS))
    except RegisterError as exc:
        return _refused(request, exc)
    return _act(
        request,
        clue_id,
        f"已派至{unit},办理期限 {due.isoformat()}。",
        lambda s, v: s.dispatch(clue_id, unit, due, note=note or None, expected_version=v),
        version,
        notifies=True,
    )


@router.post("/clues/{clue_id}/rectify", name="clue_rectify")
def clue_rectify(
    request: Request,
    clue_id: ClueId,
    measures: Annotated[str, Form(max_length=8000)] = "",
    recovered_amount: Annotated[str, Form(max_length=30)] = "0",
    sanction_count: Annotated[int, Form(ge=0, le=10_000)] = 0,
    sanction_text: Annotated[str, Form(max_length=4000)] = "",
    org_handling_count: Annotated[int, Form(ge=0, le=10_000)] = 0,
    org_handling_text: Annotated[str, Form(max_length=4000)] = "",
    accountability_count: Annotated[int, Form(ge=0, le=10_000)] = 0,
    accountability_text: Annotated[str, Form(max_length=4000)] = "",
    exposure_count: Annotated[int, Form(ge=0, le=10_000)] = 0,
    version: Annotated[str, Form()] = "",
) -> Response:
    try:  # NaN, infinity, negative, more than two decimals or beyond Numeric(18, 2): refused
        amount = parse_money(recovered_amount.strip() or "0", label="追缴/挽回资金")
    except RegisterError as exc:
        return _refused(request, exc)
    return _act(
        request,
        clue_id,
        "整改情况已登记。",
        lambda s, v: s.record_rectification(
            clue_id,
            measures=measures,
            recovered_amount=amount,
            sanction_count=sanction_count,
            sanction_text=sanction_text or None,
            org_handling_count=org_handling_count,
            org_handling_text=org_handling_text or None,
            accountability_count=accountability_count,
            accountability_text=accountability_text or None,
            exposure_count=exposure_count,
            expected_version=v,
        ),
        version,
    )


@router.post("/clues/{clue_id}/project", name="clue_move")
def clue_move(
    request: Request,
    clue_id: ClueId,
    project: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    """Put the problem in another 专项治理 project (the picker sends its id), or in none (empty)."""
    target = project.strip()
    if target and not (target.isascii() and target.isdigit()):
        return _refused(request, InvalidInput(f"专项治理项目「{target[:20]}」无效"))
    return _act(
        request,
        clue_id,
        "已移入该专项治理项目。" if target else "已移出专项治理项目。",
        lambda s, v: s.move_clue(clue_id, int(target) if target else None, reason=reason, expected_version=v),
        version,
        CampaignService,
    )


@router.post("/clues/{clue_id}/institution", name="clue_institution")
def clue_institution(
    request: Request,
    clue_id: ClueId,
    title: Annotated[str, Form(max_length=1000)] = "",
    issued_on: Annotated[str, Form(max_length=100)] = "",
    issuer: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """建立健全制度 on the problem: it only adds (no version); it counts for the problem's project."""
    return _act(
        request,
        clue_id,
        f"已登记制度《{title.strip()[:60]}》。",
        lambda s, _v: s.record_institution(title, issued_on=issued_on, issuer=issuer, clue_id=clue_id),
        None,
        CampaignService,
    )
