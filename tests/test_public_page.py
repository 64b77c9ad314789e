"""向社会公开, the page: ``GET /public`` through the app in process (no session, strict headers, its
own rate limit) and ``qingfeng campaigns export-public`` (the same page as files). The data behind it:
tests/test_public_disclosure.py; the page against a running server: tests/security/test_public.py;
no personal data in a browser: tests/test_public_privacy.py."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from campaignkit import PROJECTS, add_public_projects
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from qingfeng.campaigns.disclosure import public_disclosure
from qingfeng.cli import main
from qingfeng.register.db import session_factory
from qingfeng.register.models import AccessLog, WebSession
from qingfeng.synth.sample_register import PASSWORD, seed
from qingfeng.web import create_app
from qingfeng.web.public_page import STYLESHEET, render_disclosure
from qingfeng.web.settings import web_settings

PUBLIC_CSP = {
    "default-src": {"'none'"},
    "style-src": {"'self'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'none'"},
    "base-uri": {"'none'"},
}


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("register") / "register.db"
    engine = seed(f"sqlite:///{path}", as_of=dt.date(2025, 6, 30))
    with session_factory(engine)() as session:
        add_public_projects(session)
    engine.dispose()
    return path


@pytest.fixture
def make_app(home, template_db):
    made = []

    def make(**overrides):
        shutil.copy(template_db, home / "register.db")
        app = create_app(web_settings(home=home, session_secret="public-test-" + "x" * 40, **overrides))
        made.append(app)
        return app

    yield make
    for app in made:
        app.state.engine.dispose()


def csp_of(response) -> dict[str, set[str]]:
    parts = [p.split() for p in response.headers.get("content-security-policy", "").split(";") if p.strip()]
    return {p[0]: set(p[1:]) for p in parts}


def audit_rows(app, *where) -> list[AccessLog]:
    with app.state.sessions() as session:
        return list(session.scalars(select(AccessLog).where(*where).order_by(AccessLog.id)))


def sign_in(app, username: str = "super1") -> TestClient:
    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    done = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert done.status_code == 303
    return client


def test_the_page_answers_without_a_session_and_sets_no_cookie(make_app):
    app = make_app()
    client = TestClient(app, follow_redirects=False)
    response = client.get("/public")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert not client.cookies
    for code in ("MSZJ", "NMGGZ"):
        assert PROJECTS[code][0] in response.text
    for code in ("CJGC", "MSGC"):  # 筹备; not public
        assert PROJECTS[code][0] not in response.text
    assert "退出登录" not in response.text and "csrf_token" not in response.text
    assert not [r for r in audit_rows(app) if "/public" in (r.target or "")]  # no record per view


def test_the_page_is_the_disclosure_rendered(make_app):
    """The figures are ``public_disclosure``'s (tests/test_public_disclosure.py ties those to
    ``project_figures`` and to the hand-made counts), in the one template; small ones withheld."""
    app = make_app()
    page = TestClient(app).get("/public").text
    with app.state.sessions() as session:
        expected = render_disclosure(public_disclosure(session, min_count=3), stylesheet="/public/style.css")
    assert page == expected
    for text in ("少于3", "不单独公布", "2.3万元", "不少于5", "不少于2.3万元", "0571-82712388", "区民政局"):
        assert text in page, text


def test_min_count_comes_from_the_configuration(make_app, tmp_path):
    config = tmp_path / "campaigns.yml"
    config.write_text("disclosure:\n  min_count: 5\n", encoding="utf-8")
    page = TestClient(make_app(campaigns_config=config)).get("/public").text
    assert "少于5" in page and "少于3" not in page  # MSZJ's 4 rectified and 3 institutions too now
    assert page.count("<dd>不单独公布</dd>") == 3  # neither project has 5 problems rectified, nor the total


def test_headers_are_strict(make_app):
    client = TestClient(make_app())
    for path, kind in (("/public", "text/html"), ("/public/style.css", "text/css")):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
        h = response.headers
        assert csp_of(response) == PUBLIC_CSP, path
        assert h["cache-control"] == "public, max-age=300", path
        assert "pragma" not in h
        assert h["referrer-policy"] == "no-referrer"
        assert h["x-frame-options"] == "DENY"
        assert h["x-content-type-options"] == "nosniff"
        assert h["cross-origin-opener-policy"] == "same-origin"
        assert "camera=()" in h["permissions-policy"]
        assert "set-cookie" not in h
    assert client.get("/public/style.css").content == STYLESHEET.read_bytes()
    page = client.get("/public").text
    assert not re.search(r"<script|<style|\sstyle=|\son\w+=|<form|<iframe|<img", page, re.IGNORECASE)
    assert re.findall(r'(?:href|src)="([^"]*)"', page) == ["/public/style.css"]  # no link anywhere else
    missing = client.get("/public/nothing-here")
    assert missing.status_code == 404 and "set-cookie" not in missing.headers
    assert csp_of(missing) == PUBLIC_CSP and missing.headers["cache-control"] == "no-store"
    assert client.post("/public").status_code == 405  # no form, no CSRF token, nothing to post


def test_a_signed_in_cookie_is_neither_used_nor_refreshed(make_app):
    app = make_app()
    client = sign_in(app, "super1")
    with app.state.sessions() as session:  # 10 minutes idle: resuming the session would touch it
        (web_session,) = session.scalars(select(WebSession).where(WebSession.ended_at.is_(None))).all()
        web_session.last_seen_at -= dt.timedelta(minutes=10)
        session.commit()
        seen = web_session.last_seen_at
    before = len(audit_rows(app))
    response = client.get("/public")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert "赵主任" not in response.text and "退出登录" not in response.text  # no signed-in top bar
    with app.state.sessions() as session:
        assert session.get(WebSession, web_session.id).last_seen_at == seen
    assert len(audit_rows(app)) == before
    assert client.get("/clues").status_code == 200  # the same cookie does resume the session elsewhere
    with app.state.sessions() as session:
        assert session.get(WebSession, web_session.id).last_seen_at > seen


def test_next_and_other_parameters_change_nothing(make_app):
    client = TestClient(make_app(), follow_redirects=False)
    plain = client.get("/public")
    for query in ("next=/clues", "next=https://example.com/", "as_of=2020-01-01", "project=MSGC"):
        response = client.get(f"/public?{query}")
        assert response.status_code == 200 and "location" not in response.headers, query
        assert response.text == plain.text, query


def test_the_rate_limit_answers_429_with_retry_after_and_recovers(make_app):
    app = make_app(public_burst=3, public_per_minute=30)  # one more every 2 seconds
    now = [1000.0]
    app.state.public_limiter.clock = lambda: now[0]
    client = TestClient(app)
    assert [client.get("/public").status_code for _ in range(3)] == [200, 200, 200]
    refused = [client.get("/public") for _ in range(3)]
    for response in refused:
        assert response.status_code == 429
        assert response.headers["retry-after"] == "2"
        assert "访问过于频繁" in response.text and "2 秒后" in response.text
        assert csp_of(response) == PUBLIC_CSP and response.headers["cache-control"] == "no-store"
        assert "set-cookie" not in response.headers
    assert client.get("/public/style.css").status_code == 429  # the whole zone shares the bucket
    assert client.get("/login").status_code == 200  # the rest of the site is not limited by it
    denied = audit_rows(app, AccessLog.action == "denied")
    assert len(denied) == 1  # one record for the episode, not one per request
    assert denied[0].target == "GET /public" and "rate limit" in denied[0].detail
    assert denied[0].ip == "testclient"
    now[0] += 2
    assert client.get("/public").status_code == 200
    assert client.get("/public").status_code == 429
    now[0] += 60  # refilled: the episode is over; the next refusal starts a new one
    assert [client.get("/public").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert len(audit_rows(app, AccessLog.action == "denied")) == 2


def test_each_address_has_its_own_bucket(make_app):
    app = make_app(public_burst=2, public_per_minute=1)
    first = TestClient(app, client=("203.0.113.5", 50000))
    second = TestClient(app, client=("203.0.113.6", 50000))
    assert [first.get("/public").status_code for _ in range(3)] == [200, 200, 429]
    assert second.get("/public").status_code == 200
    assert int(first.get("/public").headers["retry-after"]) == 60


def test_the_static_export_is_the_same_page(make_app, home, tmp_path):
    app = make_app()
    page = TestClient(app).get("/public").text
    out = tmp_path / "site"
    result = CliRunner().invoke(main, ["campaigns", "export-public", "--home", str(home), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "public.css"]
    exported = (out / "index.html").read_text(encoding="utf-8")
    assert exported == page.replace('href="/public/style.css"', 'href="public.css"')
    assert (out / "public.css").read_bytes() == STYLESHEET.read_bytes()
    with app.state.sessions() as session:
        (row,) = session.scalars(select(AccessLog).where(AccessLog.target == "public"))
        assert row.action == "export" and row.username.startswith("cli:") and "2 projects" in row.detail
        assert (
            session.scalar(select(func.count()).select_from(AccessLog).where(AccessLog.action == "view")) == 0
        )


def test_the_limiter_remembers_a_bounded_number_of_addresses():
    from qingfeng.web.ratelimit import RateLimiter

    now = [0.0]
    limiter = RateLimiter(1, 1, max_clients=3, clock=lambda: now[0])
    assert limiter.hit("a").allowed and not limiter.hit("a").allowed
    for address in ("b", "c", "d"):  # "a" is now the least recently seen: forgotten
        assert limiter.hit(address).allowed
    assert len(limiter) == 3
    assert limiter.hit("a").allowed  # a fresh bucket (the price of a bounded table); "b" forgotten
    verdict = limiter.hit("d")
    assert not verdict.allowed and verdict.retry_after == 60 and verdict.episode_started
    assert not limiter.hit("d").episode_started  # the same episode
    now[0] += 60
    assert limiter.hit("d").episode_ended == (2, 0.0)  # refilled: over, with its count
