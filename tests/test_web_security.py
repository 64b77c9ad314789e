"""Security of the web UI (FastAPI TestClient against a real SQLite register seeded by publish()).

Routes are enumerated from ``app.routes`` so that a new route is covered without editing this file.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from projectkit import add_project
from rolematrix import matrix
from sqlalchemy import func, inspect, select

from qingfeng.register.db import session_factory
from qingfeng.register.models import AccessLog, Clue, Event, User
from qingfeng.register.service import ClueService
from qingfeng.synth.sample_register import KIN_CADRE, KIN_RECIPIENT, PASSWORD, UNITS, seed
from qingfeng.web import create_app, permissions
from qingfeng.web.settings import web_settings

ROLES_USERS = {
    "admin": "admin1",
    "supervisor": "super1",
    "analyst": "analyst1",
    "liaison": "liaison1",
    "auditor": "auditor1",
}
PATH_VALUES = {
    "clue_id": "1",
    "fmt": "csv",
    "kind": "person",
    "subject_id": KIN_RECIPIENT,
    "path": "style.css",
    "username": "analyst1",
    "action": "unlock",
    "session_id": "0" * 64,
    "project_id": "1",
    "task_id": "1",
}

# The expected access table is the one in docs/ui.md (read, not copied), independent of qingfeng.web.permissions.
EXPECTED: dict[str, set[str]] = matrix("routes")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    """One seeded register per module (argon2 hashing is slow by design); each test gets a copy."""
    path = tmp_path_factory.mktemp("register") / "register.db"
    engine = seed(f"sqlite:///{path}", as_of=dt.date(2025, 6, 30))
    with session_factory(engine)() as session:  # clue 1 (S03) dispatched to the first unit
        analyst = session.scalar(select(User).where(User.username == "analyst1"))
        svc = ClueService(session, analyst)
        svc.transition(1, "核查", reason="初步核实")
        svc.dispatch(1, UNITS[0], dt.date.today() + dt.timedelta(days=10))
        add_project(session)  # project 1 with task 1
    engine.dispose()
    return path


def make_app(home: Path, template_db: Path, **overrides: Any):
    shutil.copy(template_db, home / "register.db")
    cfg = web_settings(home=home, **{"session_secret": "test-secret-" + "x" * 40, **overrides})
    return create_app(cfg)


@pytest.fixture
def app(home, template_db):
    application = make_app(home, template_db)
    yield application
    application.state.engine.dispose()


def csrf_of(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(app, username: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_of(client)}
    )
    assert response.status_code == 303, response.text[:500]
    return client


def api_routes(app) -> list[tuple[str, str, str]]:
    """(name, method, concrete path) for every endpoint of the app."""
    out = []
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        path = route.path_format
        for param in re.findall(r"{(\w+)}", path):
            path = path.replace("{" + param + "}", PATH_VALUES[param])
        for method in sorted(route.methods):
            out.append((route.name, method, path))
    return out


def db_count(app, model: Any, *where: Any) -> int:
    with app.state.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_every_route_is_in_the_permission_table(app):
    names = {name for name, _m, _p in api_routes(app)}
    assert names - permissions.PUBLIC_ROUTES <= set(permissions.ROUTE_ACTIONS), "route without a role rule"
    assert set(EXPECTED) - permissions.PUBLIC_ROUTES == names - permissions.PUBLIC_ROUTES, (
        "update EXPECTED (and docs/ui.md) for new routes"
    )
    for name in set(EXPECTED) & permissions.PUBLIC_ROUTES:  # a public page listed there is everyone's
        assert name in names and EXPECTED[name] == set(ROLES_USERS), name


def test_every_route_refuses_without_a_session(app):
    client = TestClient(app, follow_redirects=False)
    checked = 0
    for name, method, path in api_routes(app):
        if name in permissions.PUBLIC_ROUTES:
            continue
        response = client.request(method, path, data={"csrf_token": "x"})
        if method == "GET":
            assert response.status_code == 303, (name, path)
            assert response.headers["location"].startswith("/login?next="), (name, path)
        else:
            assert response.status_code in (401, 403), (name, path, response.status_code)
        checked += 1
    assert checked >= len(EXPECTED)


@pytest.mark.parametrize("role", list(ROLES_USERS))
def test_role_checks_hold_on_every_route(app, role):
    client = login(app, ROLES_USERS[role])
    token = csrf_of(client, "/login")
    for name, method, path in api_routes(app):
        if name in permissions.PUBLIC_ROUTES or name == "logout":
            continue
        response = client.request(method, path, data={"csrf_token": token} if method == "POST" else None)
        if role in EXPECTED[name]:
            assert response.status_code in (200, 303, 400), (
                role,
                name,
                response.status_code,
                response.text[:300],
            )
            if response.status_code == 303:
                assert not response.headers["location"].startswith("/login"), (role, name)
        else:
            assert response.status_code == 403, (role, name, response.status_code)
            assert "无权" in response.text


def test_form_post_without_csrf_token_is_refused(app):
    client = login(app, "analyst1")
    before = db_count(app, Event, Event.kind == "comment")
    assert client.post("/clues/1/comment", data={"text": "无令牌"}).status_code == 403
    assert client.post("/clues/1/comment", data={"text": "错令牌", "csrf_token": "forged"}).status_code == 403
    assert db_count(app, Event, Event.kind == "comment") == before
    ok = client.post("/clues/1/comment", data={"text": "有令牌", "csrf_token": csrf_of(client, "/clues/1")})
    assert ok.status_code == 303
    assert db_count(app, Event, Event.kind == "comment") == before + 1
    anonymous = TestClient(app, follow_redirects=False)
    refused = anonymous.post("/login", data={"username": "analyst1", "password": PASSWORD})
    assert refused.status_code == 403


INJECTIONS = [
    "' OR 1=1 --",
    "1; DROP TABLE clue",
    '" OR ""="',
    "%' OR '%'='",
    "S03' UNION SELECT * FROM app_user --",
    "1); DELETE FROM access_log; --",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_sql_injection_in_filters_and_search_returns_nothing(app, payload):
    client = login(app, "analyst1")
    clues_before = db_count(app, Clue)
    for field in (
        "rule",
        "domain",
        "town",
        "village",
        "status",
        "severity",
        "colour",
        "as_of",
        "q",
        "sort",
        "page",
    ):
        response = client.get("/clues", params={field: payload}, follow_redirects=True)  # q: sealed
        assert response.status_code == 200, (field, response.status_code)
        if field not in ("sort", "page"):  # an unknown sort or page falls back to the default listing
            assert "没有符合条件的线索" in response.text, field
            assert 'href="/clues/1"' not in response.text, field
        export = client.get("/clues/export.csv", params={field: payload}, follow_redirects=True)
        assert export.status_code == 200
        if field not in ("sort", "page"):
            assert len(export.content.decode("utf-8-sig").strip().splitlines()) == 1, field  # the header only
    assert (
        client.get("/subjects/person/" + payload.replace("/", ""), follow_redirects=True).status_code == 200
    )
    auditor = login(app, "auditor1")
    assert auditor.get("/audit", params={"username": payload, "action": payload}).status_code == 200
    assert auditor.get("/audit", params={"since": payload}).status_code == 400  # not a date: refused
    tables = set(inspect(app.state.engine).get_table_names())
    assert {"clue", "app_user", "access_log", "event", "dispatch"} <= tables
    assert db_count(app, Clue) == clues_before


def test_liaison_sees_only_their_units_clues_with_masked_ids(app):
    mine = login(app, "liaison1")
    page = mine.get("/clues").text
    assert 'href="/clues/1"' in page and 'href="/clues/2"' not in page
    detail = mine.get("/clues/1").text
    assert KIN_RECIPIENT not in detail and KIN_CADRE not in detail
    assert KIN_RECIPIENT[:6] + "********" + KIN_RECIPIENT[-4:] in detail
    assert mine.get("/clues/2").status_code == 403
    other = login(app, "liaison2")
    assert 'href="/clues/1"' not in other.get("/clues").text
    assert other.get("/clues/1").status_code == 403
    analyst_detail = login(app, "analyst1").get("/clues/1").text
    assert KIN_RECIPIENT in analyst_detail


def test_search_is_ignored_for_roles_without_search(app):
    mine = login(app, "liaison1")
    response = mine.get("/clues", params={"q": "不存在的人"})
    assert 'href="/clues/1"' in response.text  # q dropped: still their one clue, no search performed
    assert db_count(app, AccessLog, AccessLog.action == "search") == 0
    analyst = login(app, "analyst1")
    hit = analyst.get("/clues", params={"q": KIN_RECIPIENT}, follow_redirects=True).text  # to ?qt=
    assert 'href="/clues/1"' in hit and 'href="/clues/2"' not in hit
    assert 'href="/clues/2"' in analyst.get("/clues", params={"q": "陈老"}, follow_redirects=True).text
    assert db_count(app, AccessLog, AccessLog.action == "search") == 2


def test_logins_views_exports_and_logout_are_audited(app):
    client = TestClient(app, follow_redirects=False)
    bad = client.post(
        "/login", data={"username": "analyst1", "password": "wrong", "csrf_token": csrf_of(client)}
    )
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    assert db_count(app, AccessLog, AccessLog.action == "login_failed", AccessLog.username == "analyst1") == 1
    client = login(app, "analyst1")
    assert db_count(app, AccessLog, AccessLog.action == "login", AccessLog.username == "analyst1") == 1
    client.get("/clues/1")
    client.get("/clues/export.xlsx")
    assert db_count(app, AccessLog, AccessLog.action == "view", AccessLog.target == "clue:1") == 1
    assert db_count(app, AccessLog, AccessLog.action == "export", AccessLog.target == "queue.xlsx") == 1
    client.post("/logout", data={"csrf_token": csrf_of(client, "/clues")})
    assert db_count(app, AccessLog, AccessLog.action == "logout", AccessLog.username == "analyst1") == 1
    assert client.get("/clues").status_code == 303  # the session is gone


def version_of(client: TestClient, clue_id: int) -> str:
    """The version the detail page's forms carry (required on every change)."""
    return re.search(r'name="version" value="(\d+)"', client.get(f"/clues/{clue_id}").text).group(1)


def test_forbidden_transitions_show_the_service_message(app):
    analyst = login(app, "analyst1")
    token, version = csrf_of(analyst, "/clues/2"), version_of(analyst, 2)
    data = {"to_status": "整改", "reason": "跳步", "csrf_token": token, "version": version}
    analyst.post("/clues/2/status", data=data)
    assert "不允许的状态变更：发现 → 整改" in analyst.get("/clues/2").text
    supervisor = login(app, "super1")
    token, version = csrf_of(supervisor, "/clues/1"), version_of(supervisor, 1)
    supervisor.post("/clues/1/close", data={"reason": "办结", "csrf_token": token, "version": version})
    page = supervisor.get("/clues/1").text
    assert "不允许的状态变更：处置 → 销号" in page
    with app.state.sessions() as session:
        assert session.get(Clue, 1).status == "处置"


def test_stale_version_is_a_clear_conflict(app):
    analyst = login(app, "analyst1")
    page = analyst.get("/clues/2").text
    token = csrf_of(analyst, "/clues/2")
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    first = {"to_status": "核查", "reason": "甲", "csrf_token": token, "version": version}
    assert analyst.post("/clues/2/status", data=first).status_code == 303
    second = {"to_status": "不予立案", "reason": "乙", "csrf_token": token, "version": version}
    analyst.post("/clues/2/status", data=second)
    assert "已被他人修改" in analyst.get("/clues/2").text
    with app.state.sessions() as session:
        assert session.get(Clue, 2).status == "核查"


def test_session_cookie_flags_and_safe_redirects(home, template_db):
    application = make_app(home, template_db, cookie_secure=True, session_secret=None)
    client = TestClient(application, base_url="https://testserver", follow_redirects=False)
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={"username": "super1", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"},
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    assert response.headers["location"] == "/"
    assert (home / "web_secret").stat().st_mode & 0o077 == 0  # generated secret is private
    application.state.engine.dispose()


def test_auditor_sees_masked_ids_in_the_log(app):
    login(app, "analyst1").get(f"/subjects/person/{KIN_RECIPIENT}", follow_redirects=True)  # to its token
    page = login(app, "auditor1").get("/audit").text
    assert f"subject:person:{KIN_RECIPIENT[:6]}********{KIN_RECIPIENT[-4:]}" in page
    assert KIN_RECIPIENT not in page


def test_exports_and_report_downloads(app):
    from io import BytesIO

    from openpyxl import load_workbook

    client = login(app, "analyst1")
    csv_text = client.get("/clues/export.csv", params={"rule": "S03"}).content.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert len(lines) == 2 and "李秀兰" in lines[1] and "S03" in lines[1]
    book = load_workbook(BytesIO(client.get("/clues/export.xlsx").content))
    assert book.active.max_row == 1 + 4
    report = client.get("/reports/monthly.xlsx", params={"month": dt.date.today().strftime("%Y-%m")})
    sheet = load_workbook(BytesIO(report.content)).worksheets[0]
    assert sheet.cell(1, 3).value == "发现线索"
    assert client.get("/reports/monthly", params={"month": "2025-13"}).status_code == 400


def test_kinship_svg_from_the_relation_table_or_the_stored_path(app):
    from qingfeng.synth.sample_register import write_relations

    client = login(app, "analyst1")
    without = client.get("/clues/1").text
    assert 'data-source="path"' in without and "<svg" in without and "李秀英" in without
    write_relations(app.state.settings)
    page = client.get("/clues/1").text
    assert 'data-source="relation"' in page and 'id="path-steps"' in page
    assert "户籍人口信息_20231231.csv" in page and "2207" in page and "王小军" in page
    masked_page = login(app, "liaison1").get("/clues/1").text
    assert 'data-source="relation"' in masked_page and KIN_CADRE not in masked_page
    assert 'id="path-steps"' not in client.get("/clues/2").text  # S01: no path, no graph


def test_admin_manages_accounts_and_reads_no_clue(app):
    """三员分立 (docs/ui.md): the administrator manages accounts; clues, exports and reports are refused."""
    admin = login(app, "admin1")
    for path in ("/clues/1", "/clues", "/clues/export.csv", "/dashboard", "/audit"):
        response = admin.get(path)
        assert response.status_code == 403, path
        assert KIN_RECIPIENT not in response.text and "李秀兰" not in response.text
    assert admin.get("/admin/users").status_code == 200
    assert KIN_RECIPIENT in login(app, "super1").get("/clues/1").text


def test_subject_page_shows_the_stored_risk_score_and_explanation(app):
    from qingfeng.register.models import SubjectRisk

    with app.state.sessions() as session:
        stored = session.scalar(
            select(SubjectRisk).where(SubjectRisk.kind == "person", SubjectRisk.subject_id == KIN_RECIPIENT)
        )
        best = session.scalar(select(func.max(Clue.risk_score)))
    assert stored is not None and 0 < stored.score < 100
    page = login(app, "analyst1").get(f"/subjects/person/{KIN_RECIPIENT}", follow_redirects=True).text
    assert f'<dd id="combined-risk">{stored.score:.1f}</dd>' in page
    assert "综合风险分" in page and stored.rules[0] in page
    queue = login(app, "analyst1").get("/clues", params={"sort": "risk"}).text
    assert f"{best:.1f}" in queue[: queue.index('href="/clues/', queue.index("<tbody")) + 400]
