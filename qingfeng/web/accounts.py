"""Sign-in and the access log, through the register's user service."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from qingfeng.register import users
from qingfeng.register.models import User
from qingfeng.web.deps import CurrentUser, client_ip


def _current(user: User) -> CurrentUser:
    return CurrentUser(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        unit_id=user.unit_id,
        unit_name=user.unit.name if user.unit else None,
    )


def load_user(session: Session, user_id: int) -> CurrentUser | None:
    user = session.scalar(select(User).options(joinedload(User.unit)).where(User.id == user_id))
    if user is None or not user.active:
        return None
    return _current(user)


def sign_in(request: Request, username: str, password: str) -> CurrentUser | None:
    """Verify the password (the register logs login / login_failed) and start a fresh session."""
    with request.app.state.sessions() as session:
        user = users.authenticate(session, username, password, ip=client_ip(request))
        if user is None:
            return None
        current = _current(user)
    request.session.clear()  # no fixation: a new session (and CSRF token) after sign-in
    request.session.update({"uid": current.id, "role": current.role})
    return current


def audit(request: Request, action: str, target: str | None = None, detail: str | None = None) -> None:
    """One access-log row for the signed-in user, committed at once (views and exports too)."""
    current: CurrentUser | None = getattr(request.state, "user", None)
    with request.app.state.sessions() as session:
        actor = session.get(User, current.id) if current else None
        users.audit(session, actor, action, target=target, detail=detail, ip=client_ip(request))
        session.commit()
