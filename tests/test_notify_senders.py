"""The two senders against real servers on 127.0.0.1: an SMTP server (aiosmtpd; plain, and STARTTLS with
a login) receives the message with the right recipient, subject and Chinese body; an SMS gateway (an
HTTP server) records the request, and its answer decides. Then the ``qingfeng notify`` commands."""

from __future__ import annotations

import datetime as dt
import os
import ssl
from pathlib import Path

import pytest
from click.testing import CliRunner
from notifykit import DEADLINE, SmsGatewayStub, SmtpCatcher, free_port, seed_register
from sqlalchemy import select

from qingfeng.cli import main
from qingfeng.mailer import SmtpServer
from qingfeng.notify import senders
from qingfeng.notify.senders import EmailSender, Outgoing, SendError, SmsGateway
from qingfeng.register.db import make_engine, session_factory, upgrade
from qingfeng.register.models import Notification
from qingfeng.settings import get_settings

SUBJECT = "【清风】收到派件:线索 #12(S03 重复领取补贴),办理期限 2026-04-20"
BODY = (
    "赵联络:\n\n区农业农村局派驻纪检组收到一件派件,请登录平台办理。\n查看:https://qingfeng.example/clues/12\n"
)


def test_smtp_delivers_recipient_subject_and_chinese_body() -> None:
    with SmtpCatcher() as smtp:
        sender = EmailSender(SmtpServer("127.0.0.1", smtp.port), "qingfeng@district.example")
        sender.send(Outgoing("email", "zhao@district.example", SUBJECT, BODY, "dispatch_received", 5))
    [mail] = smtp.mails
    assert mail.rcpt_to == ["zhao@district.example"] and mail.mail_from == "qingfeng@district.example"
    assert mail.subject == SUBJECT  # RFC 2047 encoded on the wire, decoded here
    assert mail.body == BODY
    assert mail.message["X-Qingfeng-Event"] == "dispatch_received"
    assert mail.message.get_content_charset() == "utf-8"


def test_smtp_with_starttls_and_login_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_alerts import _self_signed

    cert, key = _self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test server's certificate
    with SmtpCatcher(login=("robot", "pa55"), tls=server_tls) as smtp:
        settings = get_settings(
            notify_smtp_host="127.0.0.1",
            notify_smtp_port=smtp.port,
            notify_smtp_starttls=True,
            notify_smtp_user="robot",
            notify_smtp_password="pa55",
        )
        sender = senders.from_settings(settings)
        assert sender.channels == {"email"} and "pa55" not in sender.describe()
        sender.send(Outgoing("email", "zhao@district.example", SUBJECT, BODY, "dispatch_received"))
        wrong = senders.from_settings(settings.model_copy(update={"notify_smtp_password": "nope"}))
        with pytest.raises(Exception, match=r"535|uthentication"):
            wrong.send(Outgoing("email", "zhao@district.example", SUBJECT, BODY, "dispatch_received"))
    [mail] = smtp.mails
    assert mail.login == "robot" and mail.mail_from.startswith("qingfeng@")  # the login is no address
    assert mail.subject == SUBJECT and "区农业农村局派驻纪检组收到一件派件" in mail.body


def test_sms_gateway_gets_json_with_the_token_and_its_answer_decides() -> None:
    with SmsGatewayStub(answers=[(200, {"code": 0}), (200, {"code": 1, "msg": "余额不足"}), (500, {})]) as gw:
        sms = SmsGateway(gw.url, token="gw-token", success_field="code")
        message = Outgoing(
            "sms", "13912345678", SUBJECT, "【清风】收到派件:线索 #12,请办理。", "dispatch_received", 9
        )
        sms.send(message)
        with pytest.raises(SendError, match=r"code=1.*余额不足"):
            sms.send(message)
        with pytest.raises(SendError, match="HTTP 500"):
            sms.send(message)
    first = gw.requests[0]
    assert first.path == "/sms/send" and first.content_type.startswith("application/json")
    assert first.headers["Authorization"] == "Bearer gw-token"
    assert first.payload == {
        "phone": "13912345678",
        "content": "【清风】收到派件:线索 #12,请办理。",
        "event": "dispatch_received",
        "id": "9",
    }
    assert len(gw.requests) == 3


def test_sms_gateway_as_a_form_post() -> None:
    with SmsGatewayStub() as gw:
        settings = get_settings(notify_sms_url=gw.url + "?key=secret", notify_sms_format="form")
        sender = senders.from_settings(settings)
        assert "secret" not in sender.describe() and sender.channels == {"sms"}
        sender.send(Outgoing("sms", "13912345678", SUBJECT, "短信内容", "deadline_soon"))
    [request] = gw.requests
    assert request.content_type.startswith("application/x-www-form-urlencoded")
    assert request.payload["content"] == "短信内容" and "Authorization" not in request.headers


# ---- qingfeng notify ----


@pytest.fixture
def register_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    for name in [k for k in os.environ if k.startswith("QINGFENG_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("QINGFENG_HOME", str(home))
    url = f"sqlite:///{home / 'register.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        seed_register(session)
    engine.dispose()
    return home


def _rows(home: Path) -> list[Notification]:
    engine = make_engine(f"sqlite:///{home / 'register.db'}")
    with session_factory(engine)() as session:
        found = list(session.scalars(select(Notification).order_by(Notification.id)))
    engine.dispose()
    return found


def test_the_notify_commands(register_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["users", "set-phone", "lead1", "+86 138 0000 2222"]).exit_code == 0
    assert runner.invoke(main, ["users", "set-phone", "lead1", "13800001111"]).exit_code == 0
    refused = runner.invoke(main, ["notify", "send-pending"])
    assert refused.exit_code == 1 and "no channel configured" in refused.output
    with SmtpCatcher() as smtp, SmsGatewayStub() as gw:
        monkeypatch.setenv("QINGFENG_NOTIFY_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("QINGFENG_NOTIFY_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("QINGFENG_NOTIFY_SMS_URL", gw.url)
        swept = runner.invoke(
            main, ["notify", "sweep", "--today", (DEADLINE - dt.timedelta(days=1)).isoformat()]
        )
        assert swept.exit_code == 0, swept.output
        # the dispatch (1 day left) and the task (9 days over: red) for the liaisons and the lead unit
        assert "queued 3 due-soon and 4 overdue message(s)" in swept.output
        sent = runner.invoke(main, ["notify", "send-pending"])
        assert sent.exit_code == 0, sent.output
        assert "sent 7, to retry 0, failed 0" in sent.output  # 2 of the dispatch + 2 + 3 of the sweep
        assert len(smtp.mails) == 3 and len(gw.requests) == 4
        again = runner.invoke(
            main, ["notify", "sweep", "--today", (DEADLINE - dt.timedelta(days=1)).isoformat(), "--send"]
        )
        assert "queued 0 due-soon and 0 overdue" in again.output and "sent 0" in again.output
        listed = runner.invoke(main, ["notify", "list", "--state", "sent"])
        assert listed.exit_code == 0 and "139****5678" in listed.output and "13912345678" not in listed.output
        test_mail = runner.invoke(main, ["notify", "test", "--to", "ops@district.example"])
        test_sms = runner.invoke(main, ["notify", "test", "--to", "139 1234 5678"])
        assert test_mail.exit_code == 0 and test_sms.exit_code == 0, test_mail.output + test_sms.output
        assert smtp.mails[-1].subject == "【清风】通知测试" and "工作正常" in smtp.mails[-1].body
        assert gw.requests[-1].payload["phone"] == "13912345678"
    monkeypatch.setenv("QINGFENG_NOTIFY_SMTP_PORT", str(free_port()))  # now nothing listens
    down = runner.invoke(main, ["notify", "test", "--to", "ops@district.example"])
    assert down.exit_code == 1 and "not sent: ConnectionRefusedError" in down.output
    bad = runner.invoke(main, ["notify", "test", "--to", "12345"])
    assert bad.exit_code == 1 and "手机号应为 11 位" in bad.output
    tests = [n for n in _rows(register_home) if n.event == "test"]
    assert [n.state for n in tests] == ["sent", "sent", "failed"] and tests[-1].attempts == 1
