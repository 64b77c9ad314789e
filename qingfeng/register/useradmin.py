"""The administrator's operations on users and units, shared by ``qingfeng users|units`` and the admin
pages: each one applies the change, writes its audit record and returns what to tell the operator."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from qingfeng.register import users
from qingfeng.register.bounds import parse_email, parse_phone
from qingfeng.register.errors import InvalidInput, NotFound
from qingfeng.register.lifecycle import ROLE_TITLES
from qingfeng.register.models import User, WebSession, utcnow
from qingfeng.register.safe_output import mask_text

USER_ACTIONS = (
    "deactivate",
    "activate",
    "unlock",
    "reset-password",
    "set-role",
    "set-unit",
    "end-sessions",
    "set-email",  # where notifications reach the user (docs/notifications.md); empty clears
    "set-phone",
)
UNIT_ACTIONS = ("rename", "deactivate", "activate")
# what no administrator does to their own account: 三员分立 would be void if one could give itself a
# clue role, and a self-deactivation or self-reset locks the only way in
NOT_ON_ONESELF = frozenset({"deactivate", "set-role", "reset-password"})


@dataclass(frozen=True)
class Outcome:
    message: str
    secret: str | None = None  # a temporary password, shown once to the administrator


def user_action(
    session: Session,
    actor: User | str,
    action: str,
    username: str,
    value: str | None = None,
    ip: str | None = None,
) -> Outcome:
    """One change to one user, audited as ``user_admin`` (commits)."""
    secret = None
    if isinstance(actor, User) and users.normalise(username) == actor.username and action in NOT_ON_ONESELF:
        raise InvalidInput("不能对自己的账号执行此操作,请由另一名系统管理员办理。")
    if action == "deactivate":
        user = users.deactivate(session, username)
        message = f"已停用 {user.username},其会话均已结束"
    elif action == "activate":
        user = users.activate(session, username)
        message = f"已启用 {user.username}"
    elif action == "unlock":
        user = users.unlock(session, username)
        message = f"已解锁 {user.username}"
    elif action == "reset-password":
        user, secret = users.reset_password(session, username)
        message = f"已重置 {user.username} 的口令(下次登录须修改),其会话均已结束"
    elif action == "set-role":
        user = users.set_role(session, username, value or "")
        message = f"{user.username} 的角色改为{ROLE_TITLES.get(user.role, user.role)},其会话均已结束"
    elif action == "set-unit":
        user = users.set_unit(session, username, value or None)
        message = f"{user.username} 的单位改为{user.unit.name if user.unit else '(无)'}"
    elif action == "set-email":
        user = users.require_user(session, username)
        user.email = parse_email(value)
        message = f"{user.username} 的电子邮箱" + ("已更新" if user.email else "已清除")
        value = None  # the address is not written into the audit trail
    elif action == "set-phone":
        user = users.require_user(session, username)
        user.phone = parse_phone(value)
        value = mask_text(user.phone) if user.phone else None
        message = f"{user.username} 的手机号" + (f"改为 {value}" if value else "已清除")
    elif action == "end-sessions":
        user = users.require_user(session, username)
        count = users.end_sessions(session, user, "ended_by_admin")
        message = f"已结束 {user.username} 的 {count} 个会话"
    else:
        raise InvalidInput(f"未知操作 {action!r},可选:{', '.join(USER_ACTIONS)}")
    audit_action = (
        "unlock" if action == "unlock" else "session_end" if action == "end-sessions" else "user_admin"
    )
    detail = f"{action}" + (f" {value}" if value and action != "reset-password" else "")
    users.audit(session, actor, audit_action, target=f"user:{user.username}", detail=detail, ip=ip)
    session.commit()
    return Outcome(message, secret)


def add_user(
    session: Session,
    actor: User | str,
    username: str,
    role: str,
    *,
    unit: str | None = None,
    display_name: str | None = None,
    password: str | None = None,
    ip: str | None = None,
) -> Outcome:
    """A new account. Without a password one is generated; either way it must be changed at first sign-in."""
    secret = None
    if password is None:
        from qingfeng.register import passwords

        password = secret = passwords.generate()
    user = users.create_user(
        session,
        username,
        role,
        password=password,
        unit=unit,
        display_name=display_name,
        must_change_password=True,
    )
    users.audit(session, actor, "user_admin", target=f"user:{user.username}", detail=f"add {role}", ip=ip)
    session.commit()
    return Outcome(f"已添加用户 {user.username}(首次登录须修改口令)", secret)


def end_session(session: Session, actor: User | str, session_id: str, ip: str | None = None) -> Outcome:
    """End one session (listed on the admin page by its stored hash), audited as ``session_end``."""
    found = session.get(WebSession, session_id)
    if found is None or found.ended_at is not None:
        raise NotFound("会话不存在或已结束。")
    found.ended_at, found.end_reason = utcnow(), "ended_by_admin"
    users.audit(
        session,
        actor,
        "session_end",
        target=f"session:{found.id[:12]}",
        detail=f"user_id={found.user_id}",
        ip=ip,
    )
    session.commit()
    return Outcome("会话已结束。")


def unit_action(
    session: Session,
    actor: User | str,
    action: str,
    name: str,
    value: str | None = None,
    ip: str | None = None,
) -> Outcome:
    if action == "add":
        unit = users.add_unit(session, name, value)
        message = f"已添加单位「{unit.name}」"
    elif action == "rename":
        unit = users.rename_unit(session, name, value or "")
        message = f"单位「{name}」已更名为「{unit.name}」"
    elif action == "deactivate":
        unit = users.deactivate_unit(session, name)
        message = f"单位「{unit.name}」已停用(不再接收派件)"
    elif action == "activate":
        unit = users.activate_unit(session, name)
        message = f"单位「{unit.name}」已启用"
    else:
        raise InvalidInput(f"未知操作 {action!r},可选:add、{'、'.join(UNIT_ACTIONS)}")
    users.audit(
        session,
        actor,
        "unit_admin",
        target=f"unit:{unit.id}",
        detail=f"{action} {name} {value or ''}".strip(),
        ip=ip,
    )
    session.commit()
    return Outcome(message)
