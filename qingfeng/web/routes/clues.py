"""Clue detail (facts, evidence, relation graph, timeline) and the actions on a clue.

Every action goes through ``ClueService``; a refusal (forbidden transition, missing
rectification, stale version, wrong unit) is shown to the user with the service's own message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from qingfeng.register.errors import NotFound, PermissionDenied, RegisterError
from qingfeng.register.lifecycle import CLOSED, STATUSES, TRANSITIONS
from qingfeng.register.models import Unit, User
from qingfeng.register.queries import clue_detail as load_detail
from qingfeng.register.service import ClueService
from qingfeng.web.deps import client_ip, flash, orm_user, render
from qingfeng.web.graph import clue_graph
from qingfeng.web.masking import Masker

router = APIRouter()
PERSONAL_KEYS = frozenset({"person", "cadre", "account"})


def _masked(detail: dict[str, Any], masker: Masker) -> dict[str, Any]:
    clue = dict(detail["clue"])
    clue["keys"] = {
        k: masker.id(v) if k in PERSONAL_KEYS else masker.text(v) for k, v in (clue.get("keys") or {}).items()
    }
    clue["subjects"] = [
        {**s, "shown_id": masker.subject_id(s.get("kind") or "", s.get("id"))}
        for s in clue.get("subjects") or []
    ]
    clue["path_text"] = masker.text(clue.get("path"))
    evidence = [{**e, "note": masker.text(e.get("note"))} for e in detail["evidence"]]
    events = [{**e, "text": masker.text(e.get("text"))} for e in detail["events"]]
    return {**detail, "clue": clue, "evidence": evidence, "events": events}


@router.get("/clues/{clue_id}", name="clue_detail")
def clue_detail(request: Request, clue_id: int) -> Response:
    current = request.state.user
    with request.app.state.sessions() as session:
        actor = orm_user(session, current)
        try:
            detail = load_detail(
                session, actor, clue_id, warn_days=request.app.state.settings.warn_days, ip=client_ip(request)
            )
        except NotFound as exc:
            raise HTTPException(404, exc.message) from exc
        except PermissionDenied as exc:
            raise HTTPException(403, exc.message) from exc
        units = list(session.scalars(select(Unit.name).order_by(Unit.name)))
        assignees = list(
            session.execute(
                select(User.username, User.display_name)
                .where(User.active.is_(True), User.role.in_(("admin", "supervisor", "analyst")))
                .order_by(User.username)
            )
        )
    masker = Masker(current.full_ids)
    shown = _masked(detail, masker)
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
    )


def _act(request: Request, clue_id: int, done: str, action: Callable[[ClueService], Any]) -> Response:
    """Run one service action; show its message (success or refusal) on the detail page."""
    with request.app.state.sessions() as session:
        service = ClueService(session, orm_user(session, request.state.user))
        try:
            action(service)
        except RegisterError as exc:
            session.rollback()
            flash(request, "error", exc.message)
        else:
            flash(request, "ok", done)
    return RedirectResponse(request.url_for("clue_detail", clue_id=clue_id).path, status_code=303)


def _version(value: str) -> int | None:
    return int(value) if value.isdigit() else None


@router.post("/clues/{clue_id}/comment", name="clue_comment")
def clue_comment(
    request: Request, clue_id: int, text: Annotated[str, Form(max_length=4000)] = ""
) -> Response:
    return _act(request, clue_id, "批注已保存。", lambda s: s.comment(clue_id, text))


@router.post("/clues/{clue_id}/assign", name="clue_assign")
def clue_assign(
    request: Request,
    clue_id: int,
    assignee: Annotated[str, Form(max_length=100)] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        clue_id,
        "承办人已更新。",
        lambda s: s.assign(clue_id, assignee or None, expected_version=_version(version)),
    )


@router.post("/clues/{clue_id}/status", name="clue_status")
def clue_status(
    request: Request,
    clue_id: int,
    to_status: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        clue_id,
        f"状态已变更为「{to_status}」。",
        lambda s: s.transition(clue_id, to_status, reason=reason, expected_version=_version(version)),
    )


@router.post("/clues/{clue_id}/close", name="clue_close")
def clue_close(
    request: Request,
    clue_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        clue_id,
        "线索已销号。",
        lambda s: s.close(clue_id, reason=reason, expected_version=_version(version)),
    )


@router.post("/clues/{clue_id}/dispatch", name="clue_dispatch")
def clue_dispatch(
    request: Request,
    clue_id: int,
    unit: Annotated[str, Form(max_length=200)] = "",
    deadline: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    try:
        due = dt.date.fromisoformat(deadline)
    except ValueError:
        flash(request, "error", f"办理期限「{deadline}」不是有效日期(YYYY-MM-DD)。")
        return RedirectResponse(request.url_for("clue_detail", clue_id=clue_id).path, status_code=303)
    return _act(
        request,
        clue_id,
        f"已派至{unit},办理期限 {due.isoformat()}。",
        lambda s: s.dispatch(clue_id, unit, due, note=note or None, expected_version=_version(version)),
    )


@router.post("/clues/{clue_id}/rectify", name="clue_rectify")
def clue_rectify(
    request: Request,
    clue_id: int,
    measures: Annotated[str, Form(max_length=8000)] = "",
    recovered_amount: Annotated[str, Form(max_length=30)] = "0",
    sanction_count: Annotated[int, Form(ge=0, le=10_000)] = 0,
    sanction_text: Annotated[str, Form(max_length=4000)] = "",
    org_handling_count: Annotated[int, Form(ge=0, le=10_000)] = 0,
    org_handling_text: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    return _act(
        request,
        clue_id,
        "整改情况已登记。",
        lambda s: s.record_rectification(
            clue_id,
            measures=measures,
            recovered_amount=recovered_amount.strip() or "0",
            sanction_count=sanction_count,
            sanction_text=sanction_text or None,
            org_handling_count=org_handling_count,
            org_handling_text=org_handling_text or None,
            expected_version=_version(version),
        ),
    )
