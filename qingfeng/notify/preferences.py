"""A user's contact details and muted events: validated, changed through one function, audited."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from qingfeng.notify.events import EVENTS, MANDATORY, MUTABLE
from qingfeng.register.errors import InvalidInput
from qingfeng.register.models import User
from qingfeng.register.safe_output import mask_text
from qingfeng.register.users import audit

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
MOBILE = re.compile(r"^1[3-9]\d{9}$")
EMAIL_MAX = 254


def parse_email(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > EMAIL_MAX or not EMAIL.match(text):
        raise InvalidInput(f"电子邮箱「{text[:60]}」格式不正确,应如 name@example.cn")
    return text


def parse_phone(value: str | None) -> str | None:
    """A mainland mobile number, stored as its 11 digits (spaces, hyphens and +86 are dropped)."""
    text = re.sub(r"[\s-]", "", (value or "").strip())
    if not text:
        return None
    digits = text.removeprefix("+86").removeprefix("0086")
    if not MOBILE.match(digits):
        raise InvalidInput("手机号应为 11 位大陆手机号码(1 开头,第二位 3–9),如 139 1234 5678")
    return digits


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
