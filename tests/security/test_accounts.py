"""Sessions, login failures, passwords, user administration and the audit trail, over HTTP against a
running ``qingfeng serve`` (issue #14: one test per finding, each of which failed on the old code)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rolematrix import matrix
from sqlalchemy import select, text

from qingfeng.register.db import make_engine, session_factory
from qingfeng.register.models import AccessLog, Event, User

pytestmark = pytest.mark.slow  # starts a server process and verifies argon2 hashes by the dozen

STRONG = "Lvshui#Qingshan9"


def _rows(live, model, *where):
    engine = make_engine(live.url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(model).where(*where)))
    finally:
        engine.dispose()


def _cli(live, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "qingfeng"), *args, "--home", str(live.home)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_cookie_saved_before_logout_is_refused_after_it(live):
    client = live.signed_in("analyst1")
    saved = dict(client.cookies)
    assert client.get("/clues").status_code == 200
    token = live.csrf(client, "/clues/1")
    assert live.post(client, "/logout").status_code == 303
    replay = live.client(cookies=saved)
    assert replay.get("/clues").status_code == 303  # to the login form
    assert replay.get("/clues").headers["location"].startswith("/login")
    posted = replay.post("/clues/1/comment", data={"text": "登出后的批注", "csrf_token": token})
    assert posted.status_code == 401
    assert not _rows(live, Event, Event.text == "登出后的批注")
    assert _rows(live, AccessLog, AccessLog.action == "denied", AccessLog.detail == "no live session")


def test_deactivation_and_role_change_end_sessions_at_once(live):
    live.add_user("worker1", "analyst")
    live.add_user("worker2", "analyst")
    first, second = live.signed_in("worker1"), live.signed_in("worker2")
    assert first.get("/clues").status_code == 200 and second.get("/clues").status_code == 200
    assert _cli(live, "users", "deactivate", "worker1").returncode == 0
    assert _cli(live, "users", "set-role", "worker2", "auditor").returncode == 0
    assert first.get("/clues").status_code == 303
    assert second.get("/clues").status_code == 303
    again = live.signed_in("worker2")
    assert again.get("/clues").status_code == 403 and again.get("/audit").status_code == 200


def test_an_admin_lists_and_ends_another_users_sessions(live):
    live.add_user("worker3", "analyst")
    victim = live.signed_in("worker3")
    admin = live.signed_in("admin1")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and 'data-username="worker3"' in page.text
    done = live.post(admin, "/admin/users/worker3/end-sessions", page="/admin/users")
    assert done.status_code == 303
    assert victim.get("/clues").status_code == 303
    assert _rows(live, AccessLog, AccessLog.action == "session_end", AccessLog.target == "user:worker3")


def test_idle_sessions_expire(start_live):
    server = start_live(extra_env={"QINGFENG_SESSION_IDLE_MINUTES": "1"})
    client = server.signed_in("analyst1")
    assert client.get("/clues").status_code == 200
    engine = make_engine(server.url)  # an hour of idleness, without waiting for it
    with engine.begin() as conn:
        conn.execute(text("UPDATE web_session SET last_seen_at = datetime(last_seen_at, '-61 minutes')"))
    engine.dispose()
    assert client.get("/clues").status_code == 303
    assert _rows(server, AccessLog, AccessLog.action == "session_end", AccessLog.detail == "idle")


def test_five_failures_lock_the_account_and_the_right_password_is_then_refused(live):
    live.add_user("target1", "analyst")
    for _ in range(5):
        _client, response = live.login("target1", "wrong-Password-1")
        assert response.status_code == 401
    _client, response = live.login("target1")
    assert response.status_code == 401, "the right password must not open a locked account"
    assert _rows(live, AccessLog, AccessLog.action == "lockout", AccessLog.target == "user:target1")
    assert _cli(live, "users", "unlock", "target1").returncode == 0
    live.signed_in("target1")
    assert _rows(live, AccessLog, AccessLog.action == "unlock", AccessLog.target == "user:target1")


def test_unknown_and_known_user_names_answer_alike(live):
    live.add_user("timing1", "analyst")

    def timed(name: str) -> tuple[float, int, str]:
        client = live.client()
        token = live.csrf(client)
        start = time.perf_counter()
        response = client.post(
            "/login", data={"username": name, "password": "Wrong#pass99", "csrf_token": token}
        )
        return time.perf_counter() - start, response.status_code, response.text

    known, unknown = [], []
    for i in range(4):  # interleaved, so that a change in the machine's load hits both alike; 4 < lockout
        known.append(timed("timing1"))
        unknown.append(timed(f"nobody{i}"))
    assert {k[1] for k in known} == {u[1] for u in unknown} == {401}
    assert "用户名或密码错误" in known[0][2] and "用户名或密码错误" in unknown[0][2]
    ratio = statistics.median(t for t, _s, _x in known) / statistics.median(t for t, _s, _x in unknown)
    assert 0.5 < ratio < 2, f"known/unknown response time ratio {ratio:.2f}: user names can be enumerated"


def test_one_address_is_throttled_after_many_failures(start_live):
    server = start_live(extra_env={"QINGFENG_THROTTLE_FAILURES": "6"})
    statuses = [server.login(f"spray{i}", "Wrong#pass99")[1].status_code for i in range(7)]
    assert statuses[:6] == [401] * 6 and statuses[6] == 429
    _client, blocked = server.login("analyst1")  # even the right password waits out the window
    assert blocked.status_code == 429


@pytest.mark.parametrize("weak", ["12345678", " " * 8, "Password123!", "abcdefghijkl", "Analyst1#ok"])
def test_weak_passwords_are_refused(live, weak):
    client = live.signed_in("analyst1")
    response = live.post(
        client,
        "/account/password",
        {"current_password": live_password(), "new_password": weak, "confirm": weak},
        page="/account/password",
    )
    assert response.status_code == 400 and "口令不符合安全策略" in response.text
    result = _cli(live, "users", "add", "analyst", "--role", "analyst", "--password-stdin", stdin=weak + "\n")
    assert result.returncode != 0 and "口令不符合安全策略" in result.stderr


def live_password() -> str:
    from qingfeng.synth.sample_register import PASSWORD

    return PASSWORD


def test_full_width_look_alike_user_names_are_the_same_name(live):
    result = _cli(live, "users", "add", "ａｎａｌｙｓｔ１", "--role", "analyst", "--generate-password")
    assert result.returncode != 0 and "已存在" in result.stderr
    live.signed_in("ＡＮＡＬＹＳＴ１")  # the same account, however it is typed


def test_first_sign_in_and_a_reset_force_a_password_change(live):
    result = _cli(live, "users", "add", "newcomer", "--role", "analyst", "--generate-password")
    assert result.returncode == 0, result.stderr
    temporary = result.stdout.strip().rsplit(" ", 1)[-1]
    client = live.signed_in("newcomer", temporary)
    refused = client.get("/clues")
    assert refused.status_code == 303 and refused.headers["location"] == "/account/password"
    changed = live.post(
        client,
        "/account/password",
        {"current_password": temporary, "new_password": STRONG, "confirm": STRONG},
        page="/account/password",
    )
    assert changed.status_code == 303
    assert client.get("/clues").status_code == 200
    admin = live.signed_in("admin1")
    reset = live.post(admin, "/admin/users/newcomer/reset-password", page="/admin/users")
    assert reset.status_code == 200 and 'id="temporary-password"' in reset.text
    secret = reset.text.split('id="temporary-password"', 1)[1].split("<code>", 1)[1].split("</code>", 1)[0]
    assert secret not in str(admin.cookies.get("qingfeng_session"))  # shown once, in the answer only
    assert 'id="temporary-password"' not in admin.get("/admin/users").text
    assert client.get("/clues").status_code == 303  # the reset ended the session
    live.signed_in("newcomer", secret)


def test_an_expired_password_must_be_changed(live):
    live.add_user("veteran1", "analyst")
    engine = make_engine(live.url)
    with engine.begin() as conn:  # the password was set 91 days ago (default expiry: 90)
        conn.execute(
            text(
                "UPDATE app_user SET password_changed_at = datetime('now', '-91 days') WHERE username = 'veteran1'"
            )
        )
    engine.dispose()
    client = live.signed_in("veteran1")
    refused = client.get("/clues")
    assert refused.status_code == 303 and refused.headers["location"] == "/account/password"
    assert "口令已到期" in client.get("/account/password").text


def test_user_and_unit_administration_from_the_cli_is_audited(live):
    steps = [
        ("units", "add", "区纪委监委派驻第三纪检监察组", "P03"),
        ("units", "rename", "区纪委监委派驻第三纪检监察组", "区纪委监委派驻第三纪检监察组(综合)"),
        (
            "users",
            "add",
            "liaison3",
            "--role",
            "liaison",
            "--unit",
            "区纪委监委派驻第三纪检监察组(综合)",
            "--generate-password",
        ),
        ("users", "set-unit", "liaison3", "区纪委监委派驻第一纪检监察组"),
        ("users", "reset-password", "liaison3"),
        ("users", "deactivate", "liaison3"),
        ("users", "activate", "liaison3"),
        ("units", "deactivate", "区纪委监委派驻第三纪检监察组(综合)"),
    ]
    for step in steps:
        result = _cli(live, *step)
        assert result.returncode == 0, (step, result.stderr)
    listed = _cli(live, "users", "list")
    assert "liaison3" in listed.stdout and "须改口令" in listed.stdout
    units = _cli(live, "units", "list", "--all").stdout
    assert "(综合)\tP03\t停用" in units
    audited = _rows(live, AccessLog, AccessLog.action.in_(("user_admin", "unit_admin")))
    assert (
        len([r for r in audited if "liaison3" in (r.target or "") or (r.target or "").startswith("unit:")])
        >= 7
    )
    assert all(r.username.startswith("cli:") for r in audited if "liaison3" in (r.target or ""))


def test_an_administrator_cannot_promote_deactivate_or_reset_itself(live):
    live.add_user("admin2", "admin")
    admin = live.signed_in("admin1")
    for action, value in (("set-role", "supervisor"), ("deactivate", ""), ("reset-password", "")):
        done = live.post(admin, f"/admin/users/admin1/{action}", {"value": value}, page="/admin/users")
        assert done.status_code == 303
        assert "不能对自己的账号执行此操作" in admin.get("/admin/users").text, action
    assert admin.get("/clues").status_code == 403  # still an administrator, still no clue
    me = _rows(live, User, User.username == "admin1")[0]
    assert me.role == "admin" and me.active
    assert _cli(live, "users", "deactivate", "admin2").returncode == 0  # another admin may, from the CLI


def test_the_last_admin_cannot_be_removed(live):
    for args in (("deactivate", "admin1"), ("set-role", "admin1", "analyst")):
        result = _cli(live, "users", *args)
        assert result.returncode != 0 and "最后一个系统管理员" in result.stderr
    admin = live.signed_in("admin1")
    live.post(admin, "/admin/users/admin1/deactivate", page="/admin/users")
    assert admin.get("/admin/users").status_code == 200  # still signed in, still an administrator
    assert _rows(live, User, User.username == "admin1")[0].active


@pytest.mark.parametrize("route,allowed", sorted(matrix("routes").items()))
def test_role_matrix_over_http(live, route, allowed):
    """docs/ui.md's route matrix, read from the document, for every role against the running server."""
    from test_web_security import PATH_VALUES, ROLES_USERS

    paths = _route_paths()
    assert route in paths, f"{route} is in docs/ui.md but not served"
    method, path = paths[route]
    for role, username in ROLES_USERS.items():
        client = _role_client(live, username)
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(
                path, data={"csrf_token": live.csrf(client, "/account/password"), **_SAFE_FORM}
            )
        if role in allowed:
            assert response.status_code in (200, 303, 400), (role, route, response.status_code)
            if response.status_code == 303:
                assert not response.headers["location"].startswith("/login"), (role, route)
        else:
            assert response.status_code == 403, (role, route, response.status_code)
    _ = PATH_VALUES


# values that reach a route without changing anything that the other checks rely on
_SAFE_FORM = {"text": "", "value": "", "username": "", "action": "none"}
_CLIENTS: dict[str, object] = {}


def _role_client(live, username: str):
    key = f"{live.base}:{username}"
    if key not in _CLIENTS:
        _CLIENTS[key] = live.signed_in(username)
    return _CLIENTS[key]


def _route_paths() -> dict[str, tuple[str, str]]:
    import re

    from fastapi.routing import APIRoute
    from test_web_security import PATH_VALUES

    from qingfeng.web import create_app
    from qingfeng.web.settings import web_settings

    app = create_app(web_settings(home=Path("/nonexistent-qingfeng-home"), session_secret="x" * 40))
    found = {}
    for route in app.routes:
        if isinstance(route, APIRoute):
            path = route.path_format
            for param in re.findall(r"{(\w+)}", path):
                path = path.replace("{" + param + "}", PATH_VALUES[param])
            values = {"logout": "/account/password"}  # signing out is checked in its own test
            found[route.name] = ("GET" if "GET" in route.methods else "POST", values.get(route.name, path))
    found["logout"] = ("GET", "/account/password")
    return found


def test_refused_attempts_are_audited(live):
    liaison = live.signed_in("liaison2")  # clue 1 is not dispatched to liaison2's unit
    assert liaison.get("/clues/1").status_code in (403, 404)
    assert liaison.get("/audit").status_code == 403
    live.post(
        liaison, "/clues/1/comment", {"text": "越权批注"}
    )  # another unit's clue: refused by the service
    assert not _rows(live, Event, Event.text == "越权批注")
    auditor = live.signed_in("auditor1")
    assert auditor.post("/clues/1/comment", data={"text": "x", "csrf_token": "forged"}).status_code == 403
    denied = _rows(live, AccessLog, AccessLog.action == "denied")
    targets = {(r.username, r.target) for r in denied}
    assert ("liaison2", "GET /clues/1") in targets
    assert ("liaison2", "GET /audit") in targets
    assert ("liaison2", "POST /clues/1/comment") in targets
    assert ("auditor1", "POST /clues/1/comment") in targets
    live.login("liaison2", "Wrong#pass99")
    failed = _rows(live, AccessLog, AccessLog.action == "login_failed", AccessLog.target == "liaison2")
    assert failed, "failed sign-ins are audited"


def test_the_audit_chain_names_the_first_tampered_record(live):
    live.signed_in("auditor1").get("/audit")
    ok = _cli(live, "audit", "verify")
    assert ok.returncode == 0 and "审计链完整" in ok.stdout
    engine = make_engine(live.url)
    with engine.begin() as conn:
        victim = conn.execute(text("SELECT id, seq FROM access_log ORDER BY seq LIMIT 1 OFFSET 3")).one()
        conn.execute(text("UPDATE access_log SET username = 'nobody' WHERE id = :i"), {"i": victim.id})
    try:
        broken = _cli(live, "audit", "verify")
        assert broken.returncode == 1
        assert f"第 {victim.seq} 条" in broken.stderr and "篡改" in broken.stderr
        page = live.signed_in("auditor1").get("/audit?verify=1").text
        assert "审计链断裂" in page
    finally:
        with engine.begin() as conn:  # put it back for the other tests of this module
            conn.execute(
                text("UPDATE access_log SET username = :u WHERE id = :i"),
                {"u": _original(live, victim.id), "i": victim.id},
            )
        engine.dispose()


def _original(live, row_id: int) -> str:
    from qingfeng.register import audit_chain

    rows = _rows(live, AccessLog, AccessLog.id == row_id)
    row = rows[0]
    usernames = {r.username for r in _rows(live, AccessLog, AccessLog.id != row_id)}
    for candidate in sorted(
        usernames | {"anonymous", "analyst1", "admin1", "auditor1", "liaison1", "liaison2", "super1"}
    ):
        fields = {k: getattr(row, k) for k in audit_chain.FIELDS}
        fields["username"] = candidate
        if audit_chain.record_hash(str(row.prev_hash), fields) == row.hash:
            return candidate
    raise AssertionError("could not restore the tampered record")


def test_the_auditor_filters_and_exports_the_trail_and_changes_nothing(live):
    auditor = live.signed_in("auditor1")
    page = auditor.get("/audit?action=login")
    assert page.status_code == 200 and "登录" in page.text
    csv = auditor.get("/audit/export.csv?action=login")
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("序号") and len(lines) > 1 and all(",登录," in line for line in lines[1:])
    assert auditor.get("/audit/export.xlsx").headers["content-type"].startswith("application/vnd.openxml")
    assert live.post(auditor, "/clues/1/comment", {"text": "审计员"}, page="/audit").status_code == 403
    assert live.post(auditor, "/admin/users/analyst1/deactivate", page="/audit").status_code == 403
