"""Notifications in the register (docs/notifications.md): what an action and the deadline sweep queue,
for whom, once; mutes; no address; delivery with retries against real receivers and a dead server.
On SQLite and PostgreSQL where the backend matters (dedupe, savepoints)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from notifykit import (
    DEADLINE,
    DISPATCHED,
    UNIT,
    SmsGatewayStub,
    SmtpCatcher,
    free_port,
    seed_register,
)
from sqlalchemy import func, select, text
from test_register_support import *  # noqa: F403

from qingfeng.mailer import SmtpServer
from qingfeng.notify import delivery, triggers
from qingfeng.notify.delivery import deliver_pending
from qingfeng.notify.preferences import set_preferences
from qingfeng.notify.queue import NO_ADDRESS, Policy
from qingfeng.notify.senders import EmailSender, Senders, SmsGateway
from qingfeng.notify.sweep import sweep
from qingfeng.register.models import CampaignTask, Clue, Dispatch, Notification, User
from qingfeng.register.service import ClueService

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])  # the backend does not matter here
POLICY = Policy(base_url="https://qingfeng.district.example", due_soon_days=3, red_after_days=7)


@pytest.fixture
def seeded(session):
    return seed_register(session)


def rows(session, **where) -> list[Notification]:
    stmt = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Notification, name) == value)
    return list(session.scalars(stmt))


def shape(found: list[Notification]) -> Counter[tuple[str, str, str | None, str]]:
    return Counter((n.event, n.recipient.username, n.channel, n.state) for n in found)


def test_a_dispatch_queues_one_message_per_liaison_and_channel_and_sends_nothing(session, seeded) -> None:
    found = rows(session)
    assert shape(found) == Counter(
        {
            ("dispatch_received", "lo1", "email", "pending"): 1,
            ("dispatch_received", "lo1", "sms", "pending"): 1,
            ("dispatch_received", "lo2", None, "skipped"): 1,  # no address: recorded, not raised
        }
    )
    skipped = next(n for n in found if n.state == "skipped")
    assert skipped.last_error == NO_ADDRESS and skipped.address is None and skipped.attempts == 0
    mail = next(n for n in found if n.channel == "email")
    assert mail.address == "zhao@district.example" and mail.target == f"dispatch:{seeded['dispatch']}"
    assert mail.subject == f"【清风】收到派件:线索 #1(S01 规则S01),办理期限 {DEADLINE}"
    assert UNIT in mail.body and "赵联络" in mail.body and "/clues/1" in mail.body
    sms = next(n for n in found if n.channel == "sms")
    assert sms.address == "13912345678" and len(sms.body) < 120 and "/clues/1" in sms.body
    for n in found:  # the subject is named by clue number and rule, never by person or ID
        assert "张三" not in n.body + n.subject and "330109198001011234" not in n.body + n.subject
        assert n.sent_at is None and n.created_at == DISPATCHED


def test_the_deadline_sweep_queues_each_state_once_however_often_it_runs(session, seeded) -> None:
    """Task due 04-10 (responsible unit: 2 liaisons, one without address; lead unit: an analyst with a
    phone), dispatch due 04-20 (the same liaisons)."""
    before = len(rows(session))
    expected = {
        dt.date(2026, 4, 5): {},
        dt.date(2026, 4, 7): {"deadline_soon": 4},  # task: 3 days left
        dt.date(2026, 4, 12): {"deadline_passed": 4},  # task: yellow
        dt.date(2026, 4, 17): {"deadline_soon": 3},  # dispatch: 3 days left; task still yellow (7 days)
        dt.date(2026, 4, 18): {"deadline_passed": 4},  # task: red (8 days > 7)
        dt.date(2026, 4, 21): {"deadline_passed": 3},  # dispatch: yellow; task still red
    }
    total = 0
    for day, counts in expected.items():
        for run in range(3):
            got = sweep(session, day, POLICY)
            assert {k: v for k, v in got.items() if v} == (counts if run == 0 else {}), (day, run)
        total += sum(counts.values())
    assert len(rows(session)) == before + total
    red = rows(session, event="deadline_passed", target=f"task:{seeded['task']}")
    assert {n.dedupe_key.split("|")[3] for n in red} == {"yellow", "red"}
    by_user = {(n.recipient.username, n.channel): n for n in red if "red" in n.dedupe_key}
    lead = by_user["lead1", "sms"]
    assert lead.body.startswith(
        "【清风】红牌预警:专项治理「民生资金专项治理」任务:全面排查低保资金发放已超过办理期限"
    )
    assert "/campaigns/1#task-1" in lead.body  # the lead unit's analyst may open the project
    assert f"查看:{POLICY.url('/')}\n" in by_user["lo1", "email"].body  # a liaison may not: the front page
    assert "/campaigns/" not in by_user["lo1", "email"].body


@SQLITE_ONLY
def test_a_changed_deadline_or_a_closed_item_changes_what_the_sweep_queues(session, seeded) -> None:
    sweep(session, dt.date(2026, 4, 7), POLICY)
    task = session.get(CampaignTask, seeded["task"])
    task.deadline = dt.date(2026, 4, 30)
    task.title = "核查 330109198001011234 的低保,联系 13912345678"  # personal data typed into a title
    session.commit()
    # the task's new deadline is due again (4); the dispatch of 04-20 is a week overdue (3)
    assert sweep(session, dt.date(2026, 4, 27), POLICY) == {"deadline_soon": 4, "deadline_passed": 3}
    for n in rows(session, event="deadline_soon", target=f"task:{seeded['task']}"):
        if "2026-04-30" in n.dedupe_key and n.channel:
            assert "330109198001011234" not in n.subject + n.body and "330109********1234" in n.body
            assert "13912345678" not in n.body
    task.status = "已完成"
    session.get(Dispatch, seeded["dispatch"]).state = "answered"
    session.commit()
    assert sum(sweep(session, dt.date(2026, 5, 20), POLICY).values()) == 0


@SQLITE_ONLY
def test_mutes_hold_for_mutable_events_and_not_for_mandatory_ones(session, seeded) -> None:
    liaison = session.get(User, seeded["liaison"])
    set_preferences(session, liaison, liaison, email=liaison.email, phone=liaison.phone, receive=[])
    assert set(liaison.muted_events) == {"deadline_soon", "clue_assigned", "monthly_report_ready"}
    assert sweep(session, dt.date(2026, 4, 7), POLICY)["deadline_soon"] == 2  # the other two only
    assert not rows(session, event="deadline_soon", recipient_id=liaison.id)
    # mandatory events cannot be muted, even when written into the register by hand
    liaison.muted_events = ["dispatch_received", "deadline_passed", "deadline_soon"]
    session.commit()
    assert sweep(session, dt.date(2026, 4, 12), POLICY)["deadline_passed"] == 4
    assert len(rows(session, event="deadline_passed", recipient_id=liaison.id)) == 2
    analyst = session.get(User, seeded["analyst"])
    ClueService(session, analyst, now=DISPATCHED).dispatch(1, UNIT, DEADLINE + dt.timedelta(days=5))
    assert len(rows(session, event="dispatch_received", recipient_id=liaison.id)) == 4


@SQLITE_ONLY
def test_assignment_report_and_listing_reach_their_recipients_once(session, seeded, people) -> None:
    analyst = session.get(User, seeded["analyst"])
    people["analyst2"].email = "fenxi2@district.example"
    session.commit()
    service = ClueService(session, analyst, now=DISPATCHED)
    service.assign(1, "an1")  # to oneself: no message
    service.assign(1, "fenxi2")
    service.assign(1, None)
    service.assign(1, "fenxi2")  # assigned again: a second message
    assigned = rows(session, event="clue_assigned")
    assert [n.recipient.username for n in assigned] == ["fenxi2", "fenxi2"]
    assert assigned[0].subject == "【清风】分派承办:线索 #1(S01 规则S01)" and "李分析" in assigned[0].body

    for _ in range(2):
        triggers.monthly_report_ready(session, "2026-03", policy=POLICY)
        session.commit()
    report = rows(session, event="monthly_report_ready")
    working = {
        u.username for u in session.scalars(select(User).where(User.role.in_(("supervisor", "analyst"))))
    }
    assert {n.recipient.username for n in report} == working  # once each; a user without address: skipped
    assert all(n.target == "report:2026-03" for n in report)
    assert "/reports/monthly?month=2026-03" in next(n for n in report if n.channel).body

    leader = people["supervisor"]
    leader.phone = "13700002222"
    liaison = session.get(User, seeded["liaison"])
    liaison.muted_events = ["supervision_listed"]  # mandatory: ignored
    session.commit()
    for _ in range(2):
        triggers.supervision_listed(
            session,
            listing_id=7,
            target="clue:1",
            item=triggers.clue_item(session.get(Clue, 1)),
            path="/clues/1",
            unit_id=liaison.unit_id,
            unit_name=UNIT,
            leader="王主任",
            deadline=dt.date(2026, 5, 31),
            reports="每月 5 日前报送进展",
            leader_user=leader,
            policy=POLICY,
        )
        session.commit()
    listed = rows(session, event="supervision_listed")
    assert shape(listed) == Counter(
        {
            ("supervision_listed", "lo1", "email", "pending"): 1,
            ("supervision_listed", "lo1", "sms", "pending"): 1,
            ("supervision_listed", "lo2", None, "skipped"): 1,
            ("supervision_listed", "zhuren", "sms", "pending"): 1,
        }
    )
    assert "督办领导:王主任" in listed[0].body and "每月 5 日前报送进展" in listed[0].body


def test_a_failure_while_queueing_never_fails_the_action(session, seeded, monkeypatch) -> None:
    """A broken statement inside the queueing is rolled back alone (a savepoint: PostgreSQL would
    otherwise refuse the whole transaction); the dispatch commits without its messages."""

    def broken(*args, **kwargs):
        session.execute(text("SELECT no_such_column FROM notification"))
        raise AssertionError("unreachable")

    monkeypatch.setattr(triggers, "queue", broken)
    before = len(rows(session))
    analyst = session.get(User, seeded["analyst"])
    dispatch = ClueService(session, analyst, now=DISPATCHED).dispatch(1, UNIT, DEADLINE)
    session.expire_all()
    assert session.get(Dispatch, dispatch.id).state == "sent"
    assert session.get(Clue, 1).status == "处置"
    assert len(rows(session)) == before


@SQLITE_ONLY
def test_an_outage_is_retried_with_backoff_then_failed_and_never_blocks_the_action(session, seeded) -> None:
    dead = SmtpServer("127.0.0.1", free_port(), timeout=2)  # nothing listens there
    sender = Senders(EmailSender(dead, "qingfeng@district.example"))
    policy = Policy(max_attempts=3, retry_minutes=10)
    analyst = session.get(User, seeded["analyst"])
    second = ClueService(session, analyst, now=DISPATCHED).dispatch(1, UNIT, DEADLINE + dt.timedelta(days=1))
    assert second.state == "sent"  # the action succeeded while the mail server is down
    mails = rows(session, channel="email")
    assert len(mails) == 2
    t = DISPATCHED
    plan = [
        (t, {"retry": 2}, 1),
        (t + dt.timedelta(minutes=9), {}, 1),  # not due yet
        (t + dt.timedelta(minutes=10), {"retry": 2}, 2),
        (t + dt.timedelta(minutes=29), {}, 2),  # the wait doubled: 20 minutes
        (t + dt.timedelta(minutes=30), {"failed": 2}, 3),
        (t + dt.timedelta(days=3), {}, 3),  # failed is final
    ]
    for now, counts, attempts in plan:
        assert dict(deliver_pending(session, sender, now, policy=policy)) == counts, now
        session.expire_all()
        assert {n.attempts for n in rows(session, channel="email")} == {attempts}
    for n in rows(session, channel="email"):
        assert n.state == "failed" and n.sent_at is None and n.next_attempt_at is None
        assert n.last_error.startswith("ConnectionRefusedError")
    assert {n.state for n in rows(session, channel="sms")} == {"pending"}  # no SMS sender: they wait


@SQLITE_ONLY
def test_a_retry_succeeds_once_the_channels_answer(session, seeded) -> None:
    with SmtpCatcher() as smtp, SmsGatewayStub(answers=[(503, {"msg": "busy"})]) as gateway:
        sender = Senders(
            EmailSender(SmtpServer("127.0.0.1", smtp.port), "qingfeng@district.example"),
            SmsGateway(gateway.url, token="gw-token"),
        )
        assert dict(deliver_pending(session, sender, DISPATCHED, policy=POLICY)) == {"sent": 1, "retry": 1}
        later = DISPATCHED + POLICY.retry_delay(1)
        assert dict(deliver_pending(session, sender, later, policy=POLICY)) == {"sent": 1}
        assert dict(deliver_pending(session, sender, later, policy=POLICY)) == {}
        assert len(smtp.mails) == 1 and len(gateway.requests) == 2
    sms = rows(session, channel="sms")[0]
    assert sms.state == "sent" and sms.attempts == 2 and "HTTP 503" in sms.last_error
    assert sms.sent_at == later


def test_a_claimed_message_is_not_sent_twice(session, seeded, engine) -> None:
    """Two deliverers (the DAG and the web): one claims a message, the other skips it until the lease
    ends (a deliverer that died mid-send)."""
    from qingfeng.register.db import session_factory

    mail = rows(session, channel="email")[0]
    assert delivery._claim(session, mail.id, DISPATCHED)
    with SmtpCatcher() as smtp, session_factory(engine)() as other:
        sender = EmailSender(SmtpServer("127.0.0.1", smtp.port))
        assert dict(deliver_pending(other, sender, DISPATCHED, policy=POLICY)) == {}
        after = DISPATCHED + delivery.LEASE
        assert dict(deliver_pending(other, sender, after, policy=POLICY)) == {"sent": 1}
        assert len(smtp.mails) == 1


def test_policy_backoff_doubles_up_to_a_day() -> None:
    policy = Policy(retry_minutes=10)
    assert [policy.retry_delay(n).total_seconds() / 60 for n in (1, 2, 3)] == [10, 20, 40]
    assert policy.retry_delay(20) == dt.timedelta(days=1)


@SQLITE_ONLY
def test_no_notification_row_is_left_without_a_state(session, seeded) -> None:
    sweep(session, dt.date(2026, 4, 18), POLICY)
    states = dict(
        session.execute(select(Notification.state, func.count()).group_by(Notification.state)).all()
    )
    assert set(states) <= {"pending", "skipped"} and states["skipped"] >= 1


@SQLITE_ONLY
def test_the_monthly_report_task_tells_supervisors_and_analysts_once(register_url, session, seeded) -> None:
    """The hook of the monthly_report DAG (after the report is written), run twice for one month."""
    from qingfeng.pipeline.tasks import _report_ready
    from qingfeng.settings import get_settings

    settings = get_settings(register_url=register_url, notify_base_url=POLICY.base_url)
    assert _report_ready(settings, "2026-03") == 2
    assert _report_ready(settings, "2026-03") == 0
    session.expire_all()
    found = rows(session, event="monthly_report_ready")
    assert shape(found) == Counter(  # the liaisons get none; no channel configured: they wait
        {
            ("monthly_report_ready", "an1", "email", "pending"): 1,
            ("monthly_report_ready", "lead1", "sms", "pending"): 1,
        }
    )
    assert f"查看:{POLICY.url('/reports/monthly?month=2026-03')}" in found[0].body
