"""Delivery: send the pending messages that are due, one at a time, each in its own short transaction.

A message is first claimed (its next attempt moved ``LEASE`` ahead, only if it is still pending and
due), so that two deliverers (the DAG, the CLI, the web's best-effort attempt) never send it twice;
a deliverer that dies mid-send leaves it to be retried once the lease is over. A failed attempt
records the error and waits ``retry_minutes``, doubling each time (at most a day); after
``max_attempts`` the message is ``failed``. Nothing here raises for a channel's fault."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from qingfeng.notify.queue import FAILED, PENDING, SENT, Policy
from qingfeng.notify.senders import Outgoing, Sender
from qingfeng.register.models import Notification, utcnow

log = logging.getLogger("qingfeng.notify")

LEASE = dt.timedelta(minutes=15)
ERROR_MAX = 1000


def _due(now: dt.datetime) -> ColumnElement[bool]:
    return or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)


def deliver_pending(
    session: Session,
    sender: Sender,
    now: dt.datetime | None = None,
    *,
    policy: Policy | None = None,
    limit: int | None = None,
) -> Counter[str]:
    """Send the due pending messages of the sender's channels; returns counts: ``sent``, ``retry``
    (failed, to be tried again) and ``failed`` (given up)."""
    policy = policy or Policy.from_settings()
    now = now or utcnow()
    counts: Counter[str] = Counter()
    if not sender.channels:
        return counts
    stmt = (
        select(Notification.id)
        .where(Notification.state == PENDING, Notification.channel.in_(sender.channels), _due(now))
        .order_by(Notification.id)
    )
    ids = list(session.scalars(stmt.limit(limit) if limit else stmt))
    session.commit()  # end the read transaction: each message is its own
    for message_id in ids:
        counts[deliver(session, sender, message_id, now, policy)] += 1
    return counts


def _claim(session: Session, message_id: int, now: dt.datetime) -> bool:
    claimed = session.execute(
        update(Notification)
        .where(Notification.id == message_id, Notification.state == PENDING, _due(now))
        .values(next_attempt_at=now + LEASE)
        .returning(Notification.id)
    ).all()
    session.commit()
    return len(claimed) == 1


def deliver(session: Session, sender: Sender, message_id: int, now: dt.datetime, policy: Policy) -> str:
    """One attempt at one pending message: ``sent``, ``retry``, ``failed``, or ``taken`` when it is not
    (or no longer) this deliverer's to send."""
    if not _claim(session, message_id, now):
        return "taken"  # another deliverer has it, or it is no longer due
    row = session.get(Notification, message_id, populate_existing=True)
    assert row is not None and row.channel and row.address
    outgoing = Outgoing(row.channel, row.address, row.subject, row.body, row.event, row.id)
    row.attempts += 1
    try:
        sender.send(outgoing)
    except Exception as exc:
        row.last_error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
        if row.attempts >= policy.max_attempts:
            row.state, row.next_attempt_at, outcome = FAILED, None, "failed"
        else:
            row.next_attempt_at, outcome = now + policy.retry_delay(row.attempts), "retry"
        log.warning(
            "notify: %s #%d (%s) attempt %d failed: %s",
            row.channel,
            row.id,
            row.event,
            row.attempts,
            row.last_error,
        )
    else:
        row.state, row.sent_at, row.next_attempt_at, outcome = SENT, now, None, "sent"
    session.commit()
    return outcome
