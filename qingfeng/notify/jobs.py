"""What the CLI, the DAG and the web run: the sweep, the delivery and a test message, each on a
register session of the settings' register."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from qingfeng.notify import senders as senders_mod
from qingfeng.notify.delivery import deliver, deliver_pending
from qingfeng.notify.events import TEST
from qingfeng.notify.queue import PENDING, Policy
from qingfeng.notify.render import render
from qingfeng.notify.sweep import sweep
from qingfeng.register.errors import InvalidInput
from qingfeng.register.models import Notification, utcnow
from qingfeng.settings import Settings

log = logging.getLogger("qingfeng.notify")


@contextmanager
def register(settings: Settings) -> Iterator[Session]:
    """A session on the settings' register, for a DAG task or a background attempt."""
    from qingfeng.register.db import make_engine, session_factory

    engine = make_engine(settings.resolved_register_url)
    try:
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def run_sweep(session: Session, settings: Settings, today: dt.date) -> Counter[str]:
    counts = sweep(session, today, Policy.from_settings(settings))
    log.info("notify: sweep of %s queued %s", today, dict(counts))
    return counts


def run_delivery(session: Session, settings: Settings, *, limit: int | None = None) -> Counter[str]:
    """Deliver what is due through the configured channels (none configured: nothing is sent, the
    messages wait)."""
    sender = senders_mod.from_settings(settings)
    if not sender.channels:
        log.warning("notify: no channel configured (QINGFENG_NOTIFY_SMTP_HOST, QINGFENG_NOTIFY_SMS_URL)")
        return Counter()
    counts = deliver_pending(session, sender, policy=Policy.from_settings(settings), limit=limit)
    log.info("notify: delivery %s: %s", sender.describe(), dict(counts))
    return counts


def deliver_soon(sessions: Callable[[], Session], settings: Settings, limit: int = 20) -> None:
    """The web's best-effort attempt after an action (a background task after the answer): a few due
    messages, with the same claims and retries as the DAG. Never raises."""
    try:
        sender = senders_mod.from_settings(settings)
        if sender.channels:
            with sessions() as session:
                deliver_pending(session, sender, policy=Policy.from_settings(settings), limit=limit)
    except Exception as exc:
        log.warning("notify: the web's delivery attempt failed: %r", exc)


def channel_of(address: str) -> str:
    return "email" if "@" in address else "sms"


def send_test(session: Session, settings: Settings, address: str) -> Notification:
    """One test message to ``address`` (an e-mail address or a mobile number), logged and tried once
    now: a test tells at once whether the channel works, it is not retried."""
    from qingfeng.notify.preferences import parse_email, parse_phone

    channel = channel_of(address)
    clean = parse_email(address) if channel == "email" else parse_phone(address)
    sender = senders_mod.from_settings(settings)
    if channel not in sender.channels:
        setting = "QINGFENG_NOTIFY_SMTP_HOST" if channel == "email" else "QINGFENG_NOTIFY_SMS_URL"
        raise InvalidInput(f"未配置{'邮件' if channel == 'email' else '短信'}通道({setting})")
    policy = Policy.from_settings(settings)
    now = utcnow()
    message = render(
        TEST,
        {
            "sent_at": f"{now:%Y-%m-%d %H:%M} UTC",
            "base_url": policy.base_url,
            "settings_link": policy.url("/account/notifications"),
        },
    )
    row = Notification(
        event=TEST,
        channel=channel,
        address=clean,
        subject=message.subject,
        body=message.body(channel),
        dedupe_key=f"{TEST}|{uuid.uuid4().hex}",
        state=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.commit()
    deliver(session, sender, row.id, now, Policy(max_attempts=1))
    session.refresh(row)
    return row
