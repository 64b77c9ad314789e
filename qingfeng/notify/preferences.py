"""A user's contact details and muted events: validated, changed through one function, audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from qingfeng.notify.events import EVENTS, MANDATORY, MUTABLE
from qingfeng.register.bounds import parse_email, parse_phone
from qingfeng.register.errors import InvalidInput
from qingfeng.register.models import User
from qingfeng.register.safe_output import mask_text
from qingfeng.register.users import audit


@dataclass(frozen=True)
class Preferences:
    email: str | None
    phone: str | None
    muted: tuple[str, ...]


def current(user: User) -> Preferences:
    return Preferences(user.email, user.phone, tuple(e for e in MUTABLE if e in (user.muted_events or [])))


def set_preferences(
    session: Session,
    actor: User,
    user: User,
    *,
    email: str | None,
    phone: str | None,
    receive: Iterable[str],
    ip: str | None = None,
) -> list[str]:
    """Set ``user``'s contact details and which mutable events they receive (the others are muted;
    mandatory events are always received). Audits what changed (the new numbers masked) and commits;
    returns the changes."""
    wanted = set(receive)
    unknown = sorted(wanted - set(EVENTS))
    if unknown:
        raise InvalidInput(f"未知的通知事件:{'、'.join(unknown)}")
    new = Preferences(parse_email(email), parse_phone(phone), tuple(e for e in MUTABLE if e not in wanted))
    old = current(user)
    changes = []
    if new.email != old.email:
        changes.append("电子邮箱" + ("已更改" if new.email else "已清除"))  # the address is not logged
    if new.phone != old.phone:
        changes.append(f"手机号 {mask_text(new.phone)}" if new.phone else "手机号已清除")
    if new.muted != old.muted:
        changes.append("免打扰 " + ("、".join(EVENTS[e].title for e in new.muted) or "(无)"))
    if not changes:
        return []
    user.email, user.phone, user.muted_events = new.email, new.phone, list(new.muted)
    audit(
        session,
        actor,
        "change",
        target=f"user:{user.username}",
        detail="通知设置:" + ";".join(changes),
        ip=ip,
    )
    session.commit()
    return changes


__all__ = ["MANDATORY", "Preferences", "current", "parse_email", "parse_phone", "set_preferences"]
