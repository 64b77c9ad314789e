"""Sign-in, sessions and the access log, through the register's auth and user services.

The signed cookie holds only the session token (and the CSRF token and flashes); the register decides
whether that token is still a live session, on every request.
"""

from __future__ import annotations

from fastapi import Request

from qingfeng.register import auth, users
from qingfeng.register.models import User
from qingfeng.web.deps import CurrentUser, client_ip

TOKEN = "sid"


def _current(user: User, *, must_change: bool = False, session_id: str | None = None) -> CurrentUser:
    return CurrentUser(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        unit_id=user.unit_id,
        unit_name=user.unit.name if user.unit else None,
        must_change_password=must_change,
        session_id=session_id,
    )


def current_from_cookie(request: Request) -> CurrentUser | None:
    """The signed-in user of this request's session token, or None (and the cookie is cleared)."""
    token = request.session.get(TOKEN)
    if not isinstance(token, str) or not token:
        return None
    policy = request.app.state.settings.login_policy()
    with request.app.state.sessions() as session:
        live = auth.resume(session, token, policy)
        if live is None:
            request.session.clear()
            return None
        web_session, user = live
        must_change = user.must_change_password or auth.password_expired(user, policy)
        _ = user.unit  # load while the session is open
        return _current(user, must_change=must_change, session_id=web_session.id)


def sign_in(request: Request, username: str, password: str) -> auth.SignIn:
    """Verify the password (audited by the register) and start a fresh server-side session."""
    policy = request.app.state.settings.login_policy()
    with request.app.state.sessions() as session:
        result = auth.authenticate(session, username, password, ip=client_ip(request), policy=policy)
        if not result.ok or result.user is None:
            return result
        token = auth.start_session(
            session, result.user, ip=client_ip(request), user_agent=request.headers.get("user-agent")
        )
        session.commit()
    request.session.clear()  # no fixation: a new session (and CSRF token) after sign-in
    request.session[TOKEN] = token
    return result


def sign_out(request: Request) -> None:
    token = request.session.get(TOKEN)
    if isinstance(token, str) and token:
        with request.app.state.sessions() as session:
            auth.end_session(session, token, "logout")
            session.commit()
    request.session.clear()


def audit(request: Request, action: str, target: str | None = None, detail: str | None = None) -> None:
    """One access-log row for the signed-in user (or anonymous), committed at once."""
    current: CurrentUser | None = getattr(request.state, "user", None)
    with request.app.state.sessions() as session:
        actor = session.get(User, current.id) if current else None
        users.audit(session, actor, action, target=target, detail=detail, ip=client_ip(request))
        session.commit()
