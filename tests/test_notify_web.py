"""The notification settings page and the web's actions that notify, over HTTP (TestClient): a user
sets their own e-mail and mobile number (validated, audited, never masked back into the form) and the
events they receive; a dispatch queues the liaison's messages and the web tries to send them right
after the answer, and a dead mail server never fails the dispatch."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from notifykit import SmtpCatcher, free_port
from sqlalchemy import select

from qingfeng.notify import senders
from qingfeng.notify.delivery import deliver_pending
from qingfeng.notify.jobs import run_delivery
from qingfeng.notify.queue import Policy
from qingfeng.register.db import session_factory
from qingfeng.register.models import AccessLog, Clue, Notification, User, utcnow
from qingfeng.register.service import ClueService
from qingfeng.synth.sample_register import PASSWORD, UNITS, seed
from qingfeng.web import create_app
from qingfeng.web.settings import web_settings


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("register") / "register.db"
    engine = seed(f"sqlite:///{path}", as_of=dt.date(2025, 6, 30))
    with session_factory(engine)() as session:
        analyst = session.scalar(select(User).where(User.username == "analyst1"))
        ClueService(session, analyst).transition(1, "核查", reason="初步核实")
    engine.dispose()
    return path


def make_app(home: Path, template_db: Path, **overrides: Any):
    shutil.copy(template_db, home / "register.db")
    return create_app(web_settings(home=home, session_secret="test-secret-" + "x" * 40, **overrides))


def login(app, username: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    token = csrf(client, "/login")
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303
    return client


def csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, path
    return match.group(1)


def save(client: TestClient, **form: Any):
    return client.post(
        "/account/notifications", data={"csrf_token": csrf(client, "/account/notifications"), **form}
    )


def the_user(app, username: str) -> User:
    with app.state.sessions() as session:
        found = session.scalar(select(User).where(User.username == username))
        assert found is not None
        return found


def test_a_user_sets_contact_details_and_mutes(home: Path, template_db: Path) -> None:
    app = make_app(home, template_db)
    liaison = login(app, "liaison1")
    page = liaison.get("/account/notifications")
    assert page.status_code == 200 and "通知设置" in page.text
    assert 'href="/account/notifications"' in liaison.get("/clues").text  # the top bar links it
    for mandatory in ("dispatch_received", "deadline_passed", "supervision_listed"):
        assert f'value="{mandatory}"' not in page.text  # shown, but no checkbox that could mute it
    assert page.text.count("必收") >= 3

    done = save(liaison, email=" sun@district.example ", phone="+86 139-1234-5678", receive=["clue_assigned"])
    assert done.status_code == 303
    user = the_user(app, "liaison1")
    assert (user.email, user.phone) == ("sun@district.example", "13912345678")
    assert set(user.muted_events) == {"deadline_soon", "monthly_report_ready"}
    shown = liaison.get("/account/notifications").text
    # the user's own number goes back into the form whole (masked, the next save would refuse it)
    assert 'value="13912345678"' in shown and 'value="sun@district.example"' in shown
    assert "通知设置已保存" in shown
    assert re.search(r'value="deadline_soon" id="receive-deadline_soon">', shown)  # unchecked
    assert re.search(r'value="clue_assigned" id="receive-clue_assigned" checked>', shown)
    with app.state.sessions() as session:
        [row] = session.scalars(
            select(AccessLog).where(AccessLog.target == "user:liaison1", AccessLog.action == "change")
        )
    assert "手机号 139****5678" in row.detail and "13912345678" not in row.detail
    assert "sun@district.example" not in row.detail and "免打扰" in row.detail

    assert (
        save(
            liaison, email="sun@district.example", phone="13912345678", receive=["clue_assigned"]
        ).status_code
        == 303
    )
    assert "通知设置未改变" in liaison.get("/account/notifications").text
    app.state.engine.dispose()


BAD_FORMS = [
    ({"email": "not-an-address", "phone": ""}, "电子邮箱「not-an-address」格式不正确"),
    ({"email": "", "phone": "1391234567"}, "手机号应为 11 位大陆手机号码"),
    ({"email": "", "phone": "12912345678"}, "手机号应为 11 位大陆手机号码"),
    ({"email": "", "phone": "", "receive": ["everything"]}, "未知的通知事件:everything"),
]


def test_bad_contact_details_are_refused_and_nothing_changes(home: Path, template_db: Path) -> None:
    app = make_app(home, template_db)
    analyst = login(app, "analyst1")
    assert save(analyst, email="a1@district.example", phone="").status_code == 303
    for form, message in BAD_FORMS:
        refused = save(analyst, **form)
        assert refused.status_code == 400 and message in refused.text, form
        if form["email"]:
            assert f'value="{form["email"]}"' in refused.text  # shown again as typed
        user = the_user(app, "analyst1")
        assert user.email == "a1@district.example" and user.phone is None, form
    app.state.engine.dispose()


def _dispatch(client: TestClient) -> Any:
    page = client.get("/clues/1").text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    return client.post(
        "/clues/1/dispatch",
        data={
            "csrf_token": csrf(client, "/clues/1"),
            "unit": UNITS[0],
            "deadline": due,
            "version": version.group(1),
        },
    )


def test_a_web_dispatch_reaches_the_liaison_right_after_the_answer(home: Path, template_db: Path) -> None:
    with SmtpCatcher() as smtp:
        app = make_app(home, template_db, notify_smtp_host="127.0.0.1", notify_smtp_port=smtp.port)
        assert save(login(app, "liaison1"), email="sun@district.example", phone="").status_code == 303
        answer = _dispatch(login(app, "analyst1"))
        assert answer.status_code == 303 and answer.headers["location"] == "/clues/1"
        [mail] = smtp.mails
    assert mail.rcpt_to == ["sun@district.example"] and mail.subject.startswith(
        "【清风】收到派件:线索 #1(S03"
    )
    assert "孙联络" in mail.body and UNITS[0] in mail.body and "330109" not in mail.body
    with app.state.sessions() as session:
        [row] = session.scalars(select(Notification))
        assert row.state == "sent" and row.attempts == 1
    app.state.engine.dispose()


def test_a_dead_mail_server_never_fails_a_web_dispatch(home: Path, template_db: Path) -> None:
    dead = free_port()
    app = make_app(home, template_db, notify_smtp_host="127.0.0.1", notify_smtp_port=dead)
    assert save(login(app, "liaison1"), email="sun@district.example", phone="").status_code == 303
    analyst = login(app, "analyst1")
    answer = _dispatch(analyst)
    assert answer.status_code == 303
    assert "已派至" in analyst.get("/clues/1").text
    with app.state.sessions() as session:
        assert session.get(Clue, 1).status == "处置"
        [row] = session.scalars(select(Notification))
        # the web's one attempt failed; the message waits for the next delivery
        assert row.state == "pending" and row.attempts == 1 and row.last_error.startswith("ConnectionRefused")
    with SmtpCatcher() as smtp, app.state.sessions() as session:
        settings = app.state.settings.model_copy(update={"notify_smtp_port": smtp.port})
        assert dict(run_delivery(session, settings)) == {}  # not due yet: the back-off holds
        later = utcnow() + Policy.from_settings(settings).retry_delay(1)
        sender = senders.from_settings(settings)
        assert dict(deliver_pending(session, sender, later, policy=Policy.from_settings(settings))) == {
            "sent": 1
        }
        assert [m.rcpt_to for m in smtp.mails] == [["sun@district.example"]]
    app.state.engine.dispose()


def test_the_administrator_sets_contact_details(home: Path, template_db: Path) -> None:
    app = make_app(home, template_db)
    admin = login(app, "admin1")

    def act(action: str, value: str):
        token = csrf(admin, "/admin/users")
        return admin.post(f"/admin/users/liaison1/{action}", data={"csrf_token": token, "value": value})

    assert act("set-phone", "139 1234 5678").status_code == 303
    assert act("set-email", "sun@district.example").status_code == 303
    assert act("set-phone", "123").status_code == 303
    page = admin.get("/admin/users").text
    assert "手机号应为 11 位" in page  # the refusal, shown as the page's message
    assert 'placeholder="139****5678"' in page and "13912345678" not in page  # masked for the administrator
    user = the_user(app, "liaison1")
    assert (user.email, user.phone) == ("sun@district.example", "13912345678")
    with app.state.sessions() as session:
        details = list(
            session.scalars(
                select(AccessLog.detail).where(
                    AccessLog.action == "user_admin", AccessLog.target == "user:liaison1"
                )
            )
        )
    assert details == ["set-phone 139****5678", "set-email"]
    app.state.engine.dispose()
