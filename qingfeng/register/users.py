"""Users, units, passwords (argon2) and the access log."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from qingfeng.register.errors import InvalidInput, NotFound
from qingfeng.register.lifecycle import ACCESS_ACTIONS, ROLES
from qingfeng.register.models import AccessLog, Unit, User, utcnow

_hasher = PasswordHasher()


def get_or_create_unit(session: Session, name: str, code: str | None = None) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.name == name))
    if unit is None:
        unit = Unit(name=name, code=code)
        session.add(unit)
        session.flush()
    return unit


def create_user(
    session: Session,
    username: str,
    role: str,
    *,
    password: str | None = None,
    unit: str | None = None,
    display_name: str | None = None,
) -> User:
    """Add a user (flushes, does not commit). A liaison must belong to a unit."""
    if role not in ROLES:
        raise InvalidInput(f"未知角色 {role!r}，可选：{', '.join(ROLES)}")
    if role == "liaison" and not unit:
        raise InvalidInput("派驻机构联络员必须指定所属单位（--unit）")
    if not username.strip():
        raise InvalidInput("用户名不能为空")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise InvalidInput(f"用户 {username} 已存在")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=_hasher.hash(password) if password else None,
        unit=get_or_create_unit(session, unit) if unit else None,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    user.password_hash = _hasher.hash(password)


def audit(
    session: Session,
    user: User | str | None,
    action: str,
    target: str | None = None,
    detail: str | None = None,
    ip: str | None = None,
) -> AccessLog:
    """Write one access-log row (added to the session; the caller's transaction commits it)."""
    if action not in ACCESS_ACTIONS:
        raise InvalidInput(f"未知的访问日志动作 {action!r}")
    name = user.username if isinstance(user, User) else (user or "anonymous")
    row = AccessLog(
        user_id=user.id if isinstance(user, User) else None,
        username=name,
        action=action,
        target=target,
        detail=detail,
        ip=ip,
        at=utcnow(),
    )
    session.add(row)
    return row


def authenticate(session: Session, username: str, password: str, *, ip: str | None = None) -> User | None:
    """Check a password; logs login or login_failed and commits the log row."""
    user = session.scalar(select(User).where(User.username == username))
    ok = False
    if user is not None and user.active and user.password_hash:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if ok and _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
    audit(session, user if ok else username, "login" if ok else "login_failed", target=username, ip=ip)
    session.commit()
    return user if ok else None


def list_units(session: Session) -> list[Unit]:
    """Units a clue can be dispatched to, by name (for the dispatch form)."""
    return list(session.scalars(select(Unit).order_by(Unit.name)))


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))
