"""Users, units and the access log: accounts (argon2 passwords under the policy in ``passwords``),
the administrator's operations on them, and the one function that writes an audit record.

Every administrative change is audited, ends the sessions it makes stale, and keeps at least one
active administrator. Sign-in, lockout and sessions are in ``qingfeng.register.auth``.
"""

from __future__ import annotations

import re
import unicodedata

from argon2 import PasswordHasher
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from qingfeng.register import audit_chain, passwords
from qingfeng.register.errors import InvalidInput, NotFound
from qingfeng.register.lifecycle import ACCESS_ACTIONS, ROLES
from qingfeng.register.models import AccessLog, Unit, User, WebSession, utcnow

hasher = PasswordHasher()
USERNAME = re.compile(r"^[\w.@-]{2,64}$")


def normalise(username: str) -> str:
    """The stored form of a user name: NFKC (full-width ａｄｍｉｎ is admin) and lower case."""
    return unicodedata.normalize("NFKC", username or "").strip().lower()


def get_or_create_unit(session: Session, name: str, code: str | None = None) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.name == name))
    if unit is None:
        unit = Unit(name=name, code=code, active=True)
        session.add(unit)
        session.flush()
    return unit


def _active_unit(session: Session, name: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.name == name.strip()))
    if unit is None:
        raise NotFound(f"单位「{name}」不存在,请先在单位管理中添加")
    if not unit.active:
        raise InvalidInput(f"单位「{name}」已停用")
    return unit


def create_user(
    session: Session,
    username: str,
    role: str,
    *,
    password: str | None = None,
    unit: str | None = None,
    display_name: str | None = None,
    must_change_password: bool = False,
) -> User:
    """Add a user (flushes, does not commit). A liaison must belong to a unit; a new unit name is created."""
    name = normalise(username)
    if role not in ROLES:
        raise InvalidInput(f"未知角色 {role!r},可选:{', '.join(ROLES)}")
    if role == "liaison" and not unit:
        raise InvalidInput("派驻机构联络员必须指定所属单位")
    if not USERNAME.match(name):
        raise InvalidInput("用户名须为 2–64 位字母、数字或 . _ - @,不含空格")
    if get_user(session, name) is not None:
        raise InvalidInput(f"用户 {name} 已存在")
    if password is not None:
        passwords.check(password, name)
    user = User(
        username=name,
        display_name=(display_name or name).strip()[:200],
        role=role,
        password_hash=hasher.hash(password) if password else None,
        password_changed_at=utcnow() if password else None,
        must_change_password=must_change_password,
        unit=get_or_create_unit(session, unit.strip()) if unit else None,
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    return user


def require_user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise NotFound(f"用户 {normalise(username)} 不存在")
    return user


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalise(username)))


def end_sessions(session: Session, user: User, reason: str, *, keep: str | None = None) -> int:
    """End every open session of ``user`` (but ``keep``, the caller's own); returns how many."""
    stmt = update(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
    if keep:
        stmt = stmt.where(WebSession.id != keep)
    result = session.execute(stmt.values(ended_at=utcnow(), end_reason=reason))
    return int(getattr(result, "rowcount", 0) or 0)


def set_password(
    session: Session,
    username: str,
    password: str,
    *,
    must_change: bool = False,
    keep_session: str | None = None,
) -> User:
    """A new password under the policy; every other session of the user ends."""
    user = require_user(session, username)
    passwords.check(password, user.username)
    if user.password_hash:
        try:
            if hasher.verify(user.password_hash, password):
                raise InvalidInput("新口令不能与当前口令相同。")
        except InvalidInput:
            raise
        except Exception:
            pass
    user.password_hash = hasher.hash(password)
    user.password_changed_at = utcnow()
    user.must_change_password = must_change
    user.failed_logins = 0
    user.locked_until = None
    end_sessions(session, user, "password_changed", keep=keep_session)
    return user


def hasher_verify(user: User, password: str) -> bool:
    try:
        return bool(user.password_hash) and hasher.verify(str(user.password_hash), password)
    except Exception:
        return False


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count()).where(User.role == "admin", User.active.is_(True))) or 0


def _keep_an_admin(session: Session, user: User) -> None:
    if user.role == "admin" and user.active and _active_admins(session) <= 1:
        raise InvalidInput("不能停用或降级最后一个系统管理员。")


def deactivate(session: Session, username: str) -> User:
    user = require_user(session, username)
    _keep_an_admin(session, user)
    user.active = False
    end_sessions(session, user, "deactivated")
    return user


def activate(session: Session, username: str) -> User:
    user = require_user(session, username)
    user.active = True
    user.failed_logins = 0
    user.locked_until = None
    return user


def unlock(session: Session, username: str) -> User:
    user = require_user(session, username)
    user.failed_logins = 0
    user.locked_until = None
    return user


def reset_password(session: Session, username: str) -> tuple[User, str]:
    """A generated temporary password, to be changed at the next sign-in."""
    temporary = passwords.generate()
    user = set_password(session, username, temporary, must_change=True)
    return user, temporary


def set_role(session: Session, username: str, role: str) -> User:
    if role not in ROLES:
        raise InvalidInput(f"未知角色 {role!r},可选:{', '.join(ROLES)}")
    user = require_user(session, username)
    if role == user.role:
        return user
    _keep_an_admin(session, user)
    if role == "liaison" and user.unit is None:
        raise InvalidInput("派驻机构联络员必须先指定所属单位,再改为联络员角色")
    user.role = role
    end_sessions(session, user, "role_changed")
    return user


def set_unit(session: Session, username: str, unit: str | None) -> User:
    user = require_user(session, username)
    if unit is None and user.role == "liaison":
        raise InvalidInput("派驻机构联络员必须属于一个单位")
    user.unit = _active_unit(session, unit) if unit else None
    end_sessions(session, user, "unit_changed")  # a liaison's clues are their unit's
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def list_units(session: Session, *, active_only: bool = True) -> list[Unit]:
    """Units a clue can be dispatched to, by name (for the dispatch form)."""
    stmt = select(Unit).order_by(Unit.name)
    if active_only:
        stmt = stmt.where(Unit.active.is_(True))
    return list(session.scalars(stmt))


def add_unit(session: Session, name: str, code: str | None = None) -> Unit:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("单位名称不能为空,且不超过 200 字")
    if session.scalar(select(Unit).where(Unit.name == name)) is not None:
        raise InvalidInput(f"单位「{name}」已存在")
    unit = Unit(name=name, code=(code or None), active=True)
    session.add(unit)
    session.flush()
    return unit


def require_unit(session: Session, name: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.name == name.strip()))
    if unit is None:
        raise NotFound(f"单位「{name}」不存在")
    return unit


def rename_unit(session: Session, name: str, new_name: str) -> Unit:
    unit = require_unit(session, name)
    new_name = new_name.strip()
    if not new_name or len(new_name) > 200:
        raise InvalidInput("单位名称不能为空,且不超过 200 字")
    if session.scalar(select(Unit).where(Unit.name == new_name, Unit.id != unit.id)) is not None:
        raise InvalidInput(f"单位「{new_name}」已存在")
    unit.name = new_name
    return unit


def activate_unit(session: Session, name: str) -> Unit:
    unit = require_unit(session, name)
    unit.active = True
    return unit


def deactivate_unit(session: Session, name: str) -> Unit:
    """A unit that no longer receives dispatches; its open dispatches and its liaisons stay as they are."""
    unit = require_unit(session, name)
    unit.active = False
    return unit


def audit(
    session: Session,
    user: User | str | None,
    action: str,
    target: str | None = None,
    detail: str | None = None,
    ip: str | None = None,
) -> AccessLog:
    """Write one chained audit record (added to the session; the caller's transaction commits it)."""
    if action not in ACCESS_ACTIONS:
        raise InvalidInput(f"未知的访问日志动作 {action!r}")
    name = user.username if isinstance(user, User) else (user or "anonymous")
    row = AccessLog(
        user_id=user.id if isinstance(user, User) else None,
        username=name[:100],
        action=action,
        target=target[:200] if target else target,
        detail=detail,
        ip=ip,
        at=utcnow(),
    )
    return audit_chain.append(session, row)
