"""``qingfeng notify``: deliver, sweep, list the message log, send a test (docs/notifications.md)."""

from __future__ import annotations

import datetime as dt

import click

from qingfeng.clikit import Settings, fail, with_settings
from qingfeng.register.cli import console, domain_errors, register_session

STATES = ("pending", "sent", "failed", "skipped")


@click.group("notify")
def notify() -> None:
    """Notifications to users: e-mail and SMS (docs/notifications.md)."""


@notify.command("send-pending")
@click.option("--limit", type=click.IntRange(1, 100_000), default=None, help="At most this many messages.")
@with_settings
def send_pending(limit: int | None, settings: Settings) -> None:
    """Send the pending messages that are due, through the configured channels (with retries)."""
    from qingfeng.notify import senders
    from qingfeng.notify.jobs import run_delivery

    sender = senders.from_settings(settings)
    if not sender.channels:
        fail("no channel configured: set QINGFENG_NOTIFY_SMTP_HOST and/or QINGFENG_NOTIFY_SMS_URL")
    with register_session(settings) as session:
        counts = run_delivery(session, settings, limit=limit)
    click.echo(
        f"{sender.describe()}: sent {counts['sent']}, to retry {counts['retry']}, failed {counts['failed']}"
    )


@notify.command("sweep")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to sweep for (YYYY-MM-DD; default today in Beijing).",
)
@click.option("--send", is_flag=True, help="Then send what is due.")
@with_settings
def sweep(today: dt.datetime | None, send: bool, settings: Settings) -> None:
    """Queue the deadline messages due today (临近, 黄牌, 红牌); running it again queues nothing new."""
    from qingfeng.campaigns.periods import beijing_today
    from qingfeng.notify.jobs import run_delivery, run_sweep

    day = today.date() if today else beijing_today()
    with register_session(settings) as session:
        counts = run_sweep(session, settings, day)
        click.echo(
            f"{day}: queued {counts['deadline_soon']} due-soon and {counts['deadline_passed']} overdue "
            f"message(s); {counts['no_recipient']} item(s) whose unit has no active user"
        )
        if send:
            sent = run_delivery(session, settings)
            click.echo(f"sent {sent['sent']}, to retry {sent['retry']}, failed {sent['failed']}")


@notify.command("list")
@click.option("--state", type=click.Choice(STATES), default=None)
@click.option("--event", default=None, help="dispatch_received, deadline_passed, …")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@with_settings
def list_messages(state: str | None, event: str | None, limit: int, settings: Settings) -> None:
    """The message log, newest first (addresses masked)."""
    from rich.table import Table
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from qingfeng.register.models import Notification
    from qingfeng.register.safe_output import mask_text

    stmt = select(Notification).options(selectinload(Notification.recipient))
    if state:
        stmt = stmt.where(Notification.state == state)
    if event:
        stmt = stmt.where(Notification.event == event)
    with register_session(settings) as session:
        rows = list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))
        table = Table(title=f"通知 {len(rows)}")
        for column in ("id", "created", "event", "to", "channel", "address", "state", "tries", "error"):
            table.add_column(column)
        for n in rows:
            table.add_row(
                str(n.id),
                f"{n.created_at:%Y-%m-%d %H:%M}",
                n.event,
                n.recipient.username if n.recipient else "-",
                n.channel or "-",
                mask_text(n.address) if n.address else "-",
                n.state,
                str(n.attempts),
                (n.last_error or "")[:80],
            )
    console().print(table)


@notify.command("test")
@click.option("--to", "address", required=True, help="An e-mail address or a mobile number.")
@with_settings
def test_message(address: str, settings: Settings) -> None:
    """Send one test message now (logged; not retried)."""
    from qingfeng.notify.jobs import send_test

    with register_session(settings) as session, domain_errors():
        row = send_test(session, settings, address)
        state, error = row.state, row.last_error
    if state != "sent":
        fail(f"test message #{row.id} not sent: {error}")
    click.echo(f"test message #{row.id} sent to {address} ({row.channel})")


commands = [notify]
