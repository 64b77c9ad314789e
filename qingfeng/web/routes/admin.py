"""The administrator's pages: users (roles, units, locks, passwords, sessions) and units.

The administrator manages accounts and reads no clue (三员分立); every change goes through
``qingfeng.register.useradmin``, the same code as ``qingfeng users|units``, and is audited there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from qingfeng.register import auth, useradmin
from qingfeng.register import users as accounts_db
from qingfeng.register.errors import RegisterError
from qingfeng.register.lifecycle import ROLE_TITLES, ROLES
from qingfeng.register.models import User, WebSession, utcnow
from qingfeng.web import accounts
from qingfeng.web.deps import client_ip, flash, orm_user, render

router = APIRouter()


@router.get("/admin/users", name="admin_users")
def admin_users(request: Request) -> Response:
    return _users_page(request)


def _users_page(request: Request, secret: str | None = None) -> Response:
    """The users page; ``secret``, a temporary password, is shown on this one answer and kept nowhere."""
    with request.app.state.sessions() as session:
        people = accounts_db.list_users(session)
        units = accounts_db.list_units(session, active_only=False)
        open_sessions = auth.open_sessions(session)
        names = dict(session.execute(select(User.id, User.username)).tuples().all())
        rows = [
            {
                "user": u,
                "unit": u.unit.name if u.unit else "",
                "locked": bool(u.locked_until and u.locked_until > utcnow()),
                "sessions": sum(1 for s in open_sessions if s.user_id == u.id),
            }
            for u in people
        ]
        shown_sessions = [_session_row(s, names) for s in open_sessions]
    accounts.audit(request, "view", target="admin:users")
    return render(
        request,
        "admin_users.html",
        title="用户管理",
        active="admin_users",
        rows=rows,
        units=units,
        roles=[(r, ROLE_TITLES[r]) for r in ROLES],
        role_titles=ROLE_TITLES,
        actions=useradmin.USER_ACTIONS,
        sessions=shown_sessions,
        secret=secret,
    )


def _session_row(s: WebSession, names: dict[int, str]) -> dict[str, object]:
    return {
        "id": s.id,
        "short": s.id[:12],
        "username": names.get(s.user_id, "?"),
        "created_at": s.created_at,
        "last_seen_at": s.last_seen_at,
        "ip": s.ip,
    }


def _apply(request: Request, op: Callable[[Session, User, str | None], useradmin.Outcome]) -> Response:
    """Run one administrative operation as the signed-in administrator; its message (or refusal) goes to
    the next page. A temporary password is shown in this answer itself, never put in the (signed, not
    encrypted) session cookie."""
    with request.app.state.sessions() as session:
        try:
            outcome = op(session, orm_user(session, request.state.user), client_ip(request))
        except RegisterError as exc:
            session.rollback()
            flash(request, "error", exc.message)
        else:
            flash(request, "ok", outcome.message)
            if outcome.secret:
                return _users_page(request, outcome.secret)
    page = "admin_units" if request.url.path.startswith("/admin/units") else "admin_users"
    return RedirectResponse(request.url_for(page).path, status_code=303)


@router.post("/admin/users", name="admin_user_add")
def admin_user_add(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    unit: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return _apply(
        request,
        lambda session, actor, ip: useradmin.add_user(
            session, actor, username, role, unit=unit or None, display_name=display_name or None, ip=ip
        ),
    )


@router.post("/admin/users/{username}/{action}", name="admin_user_action")
def admin_user_action(
    request: Request, username: str, action: str, value: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    return _apply(
        request,
        lambda session, actor, ip: useradmin.user_action(
            session, actor, action[:40], username[:100], value or None, ip=ip
        ),
    )


@router.post("/admin/sessions/{session_id}/end", name="admin_session_end")
def admin_session_end(request: Request, session_id: str) -> Response:
    return _apply(
        request, lambda session, actor, ip: useradmin.end_session(session, actor, session_id[:64], ip=ip)
    )


@router.get("/admin/units", name="admin_units")
def admin_units(request: Request) -> Response:
    with request.app.state.sessions() as session:
        units = accounts_db.list_units(session, active_only=False)
    accounts.audit(request, "view", target="admin:units")
    return render(request, "admin_units.html", title="单位管理", active="admin_units", units=units)


@router.post("/admin/units", name="admin_unit_action")
def admin_unit_action(
    request: Request,
    action: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    value: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return _apply(
        request,
        lambda session, actor, ip: useradmin.unit_action(session, actor, action, name, value or None, ip=ip),
    )
