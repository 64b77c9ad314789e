"""Request-scoped helpers: the register session, the signed-in user, rendering and auditing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from qingfeng.web import masking
from qingfeng.web import permissions as perm
from qingfeng.web.csrf import csrf_token


class NotAuthenticated(Exception):
    """No valid session: pages redirect to the login form, other requests get 401."""


class PasswordChangeRequired(Exception):
    """First sign-in, an administrator's reset, or an expired password: only the change form opens."""


class Forbidden(Exception):
    def __init__(self, message: str = "您的角色无权访问此页面。") -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    display_name: str
    role: str
    unit_id: int | None
    unit_name: str | None
    must_change_password: bool = False
    session_id: str | None = None  # the hash the register keeps of this request's session token

    @property
    def full_ids(self) -> bool:
        return perm.sees_full_ids(self.role)

    @property
    def may_search(self) -> bool:
        return perm.may_search(self.role)

    @property
    def unit_scoped(self) -> bool:
        return self.role in perm.UNIT_SCOPED_ROLES


def db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def user(request: Request) -> CurrentUser:
    found = getattr(request.state, "user", None)
    if found is None:
        raise NotAuthenticated()
    return found


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


NAV = (
    ("dashboard", "工作台"),
    ("queue", "线索台账"),
    ("report", "进度月报"),
    ("campaigns", "专项治理"),
    ("campaign_report", "治理成效"),
    ("campaign_evaluation", "评估单"),
    ("audit", "访问日志"),
    ("admin_users", "用户管理"),
    ("admin_units", "单位管理"),
)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    current = getattr(request.state, "user", None)
    nav = [(name, label) for name, label in NAV if current and perm.allowed(name, current.role)]
    flashes = request.session.pop("flashes", [])
    base = {
        "user": current,
        "role_label": perm.ROLE_LABELS.get(current.role, current.role) if current else "",
        "nav": nav,
        "csrf": masking.Unmasked(csrf_token(request)),
        "masker": masking.Masker(bool(current and current.full_ids)),
        "flashes": flashes,
        "active": context.pop("active", None),
        "can": lambda action: current is not None and perm.can(current.role, action),
    }
    return request.app.state.templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code
    )


def flash(request: Request, kind: str, text: str) -> None:
    request.session.setdefault("flashes", []).append([kind, text])
    request.session["flashes"] = request.session["flashes"]


def orm_user(session: Session, current: CurrentUser):  # -> qingfeng.register.models.User
    """The acting user as the register's service layer wants it (same session as the action)."""
    from qingfeng.register.models import User

    found = session.get(User, current.id)
    if found is None:
        raise NotAuthenticated()
    return found
