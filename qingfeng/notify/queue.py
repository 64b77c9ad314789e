"""Queueing: one ``notification`` row per recipient and channel, in the caller's transaction.

A recipient gets the message on every channel they entered an address for (e-mail, mobile); a
recipient with neither gets one ``skipped`` row saying so. A muted event queues nothing for that user
unless it is mandatory. The dedupe key (event, the event's own key, recipient, channel) is unique in
the register, and rows are inserted with ON CONFLICT DO NOTHING, so that a message already queued is
never queued again, however often (or concurrently) an event or the sweep runs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from qingfeng.notify.events import EVENTS, MANDATORY
from qingfeng.notify.render import render
from qingfeng.register.lifecycle import allowed
from qingfeng.register.models import Notification, User, utcnow
from qingfeng.settings import Settings, get_settings

log = logging.getLogger("qingfeng.notify")

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
STATES = (PENDING, SENT, FAILED, SKIPPED)
CHANNELS = ("email", "sms")
NO_ADDRESS = "未登记电子邮箱或手机号,无法通知"
WORKING_ROLES = ("supervisor", "analyst", "liaison")  # 三员分立: no clue work, no clue messages


@dataclass(frozen=True)
class Policy:
    """The notification settings that queueing and delivery need (``QINGFENG_NOTIFY_*``)."""

    base_url: str = "http://localhost:8000"
    due_soon_days: int = 3
    red_after_days: int = 7
    max_attempts: int = 5
    retry_minutes: float = 10

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Policy:
        s = settings or get_settings()
        return cls(
            base_url=s.notify_base_url,
            due_soon_days=s.notify_due_soon_days,
            red_after_days=s.notify_red_after_days,
            max_attempts=s.notify_max_attempts,
            retry_minutes=s.notify_retry_minutes,
        )

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def retry_delay(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th failed attempt: doubling, at most a day."""
        minutes = self.retry_minutes * 2 ** max(attempts - 1, 0)
        return dt.timedelta(minutes=min(minutes, 24 * 60))


def muted(user: User, event: str) -> bool:
    return event not in MANDATORY and event in (user.muted_events or [])


def addresses(user: User) -> list[tuple[str | None, str | None]]:
    """(channel, address) pairs the user can be reached on; ``[(None, None)]`` when none."""
    found: list[tuple[str | None, str | None]] = [
        (c, a) for c, a in (("email", user.email), ("sms", user.phone)) if a
    ]
    return found or [(None, None)]


def dedupe_key(event: str, key: str, user_id: int, channel: str | None) -> str:
    return f"{event}|{key}|u{user_id}|{channel or '-'}"


def queue(
    session: Session,
    event: str,
    users: Iterable[User],
    *,
    key: str,
    target: str,
    path: str,
    context: Mapping[str, Any],
    policy: Policy,
    path_action: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Queue ``event`` for ``users``; returns how many rows were added. ``key`` identifies the event's
    occurrence (``dispatch:3``, ``task:5|2026-03-31|red``); ``path`` is the page the message links to,
    for users whose role may open it (``path_action``), else the site's front page."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    now = now or utcnow()
    recipients = {u.id: u for u in users if u.active and not muted(u, event)}
    wanted = {
        dedupe_key(event, key, u.id, channel): (u, channel, address)
        for u in recipients.values()
        for channel, address in addresses(u)
    }
    if not wanted:
        return 0
    known = set(
        session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.in_(list(wanted))))
    )
    rendered: dict[int, Any] = {}
    rows = []
    for dkey, (user, channel, address) in wanted.items():
        if dkey in known:
            continue
        if user.id not in rendered:
            reachable = path_action is None or allowed(user.role, path_action)
            rendered[user.id] = render(
                event,
                {
                    **context,
                    "recipient": user.display_name,
                    "link": policy.url(path if reachable else "/"),
                    "settings_link": policy.url("/account/notifications"),
                },
            )
        message = rendered[user.id]
        rows.append(
            {
                "event": event,
                "recipient_id": user.id,
                "channel": channel,
                "address": address,
                "subject": message.subject,
                "body": message.body(channel),
                "target": target,
                "dedupe_key": dkey,
                "state": PENDING if channel else SKIPPED,
                "attempts": 0,
                "last_error": None if channel else NO_ADDRESS,
                "next_attempt_at": now if channel else None,
                "created_at": now,
            }
        )
    return insert_new(session, rows)


def insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose dedupe key is new; a key inserted meanwhile by another sweep is skipped."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # the register runs on these; elsewhere the keys read first
        for row in rows:
            session.execute(insert(Notification).values(**row))
        return len(rows)
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    added = 0
    for row in rows:
        stmt = upsert(Notification).values(**row).on_conflict_do_nothing(index_elements=["dedupe_key"])
        added += len(session.execute(stmt.returning(Notification.id)).all())  # no row: it was there
    return added


def safely(session: Session, what: str, action: Callable[[], int]) -> int:
    """Queue without ever failing the action that caused it: inside a savepoint, so that a broken
    template or a failed statement is rolled back alone, logged, and the action commits without it."""
    try:
        with session.begin_nested():
            return action()
    except Exception:
        log.exception("notify: could not queue the messages of %s; the action goes on without them", what)
        return 0


def unit_users(session: Session, unit_id: int | None, roles: Iterable[str] = ("liaison",)) -> list[User]:
    """The active users of a unit in ``roles`` (a dispatch goes to the unit's liaisons)."""
    if unit_id is None:
        return []
    stmt = select(User).where(User.unit_id == unit_id, User.active.is_(True), User.role.in_(tuple(roles)))
    return list(session.scalars(stmt.order_by(User.id)))


def role_users(session: Session, roles: Iterable[str]) -> list[User]:
    stmt = select(User).where(User.active.is_(True), User.role.in_(tuple(roles)))
    return list(session.scalars(stmt.order_by(User.id)))
