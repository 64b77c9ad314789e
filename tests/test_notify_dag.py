"""The notify_deadlines DAG under ``airflow dags test`` (SQLite metadata in the home, the register on
SQLite), on a register with a due-soon dispatch and an overdue (red) task item: run twice on the same
day, the SMTP server and the SMS gateway receive exactly the expected messages, once."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from notifykit import SmsGatewayStub, SmtpCatcher, seed_register
from sqlalchemy import select

from qingfeng import airflow_env
from qingfeng.register.db import make_engine, session_factory, upgrade
from qingfeng.register.models import Notification
from qingfeng.settings import get_settings

pytestmark = [pytest.mark.airflow]

DAY = "2026-04-18"  # dispatch due 04-20: 2 days left; task due 04-10: 8 days over, red


def test_the_sweep_dag_sends_the_expected_messages_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("QINGFENG_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'register.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        seed_register(session)
    settings = get_settings(home=home)
    with SmtpCatcher() as smtp, SmsGatewayStub() as gateway:
        monkeypatch.setenv("QINGFENG_NOTIFY_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("QINGFENG_NOTIFY_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("QINGFENG_NOTIFY_SMS_URL", gateway.url)
        monkeypatch.setenv("QINGFENG_NOTIFY_BASE_URL", "https://qingfeng.district.example")
        for run in range(2):
            proc = airflow_env.dags_test(settings, "notify_deadlines", DAY, timeout=600)
            assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
            # the liaison (e-mail and SMS): received, due soon, red; the lead unit's analyst (SMS): red
            mails = Counter(m.subject.split(":")[0] for m in smtp.mails)
            assert mails == {"【清风】收到派件": 1, "【清风】办理期限临近": 1, "【清风】红牌预警": 1}, run
            assert {m.rcpt_to[0] for m in smtp.mails} == {"zhao@district.example"}
            texts = Counter((r.payload["phone"], r.payload["event"]) for r in gateway.requests)
            assert texts == {
                ("13912345678", "dispatch_received"): 1,
                ("13912345678", "deadline_soon"): 1,
                ("13912345678", "deadline_passed"): 1,
                ("13800001111", "deadline_passed"): 1,
            }, run
            assert all(r.payload["content"].startswith("【清风】") for r in gateway.requests)
    red = next(m for m in smtp.mails if "红牌" in m.subject)
    assert "已超期 8 天" in red.subject and "2026-04-10" in red.body
    with session_factory(engine)() as session:
        states = Counter(session.scalars(select(Notification.state)))
    engine.dispose()
    assert states == {"sent": 7, "skipped": 3}  # the liaison without an address: once per event
