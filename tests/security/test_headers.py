"""Security headers (issue #14 point 8), driven over HTTP against ``qingfeng serve``: a Content-Security-
Policy without inline script or style, no framing, nosniff, a referrer policy, ``no-store`` on everything
that may carry personal data, on every answer (pages, exports, redirects, errors, refusals); the pages
themselves comply (no inline script, style or event handler anywhere a role can reach); and ``serve``
behind a TLS reverse proxy: Secure cookie, HSTS, forwarded client address, a URL prefix.

The browser side (no CSP violation in Chromium's console) is ``tests/test_browser_ui.py``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from qingfeng.register.db import make_engine, session_factory
from qingfeng.register.models import AccessLog

ROLES = ("admin1", "super1", "analyst1", "liaison1", "auditor1")
EXPECTED_CSP = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "base-uri": {"'none'"},
    "object-src": {"'none'"},
}
HREF = re.compile(r'href="(/[^"]*)"')
REACHES = {  # pages the crawl must get to (so that it checks something)
    "super1": ("/clues", "/clues/1", "/dashboard", "/reports/monthly"),
    "analyst1": (
        "/clues",
        "/clues/1",
        "/dashboard",
        "/reports/monthly",
        "/reports/monthly.xlsx",
        "/reports/campaign",
        "/reports/campaign/records",
        "/reports/evaluation",
    ),
    "liaison1": ("/clues",),
    "auditor1": ("/audit",),
}


def csp_of(response: httpx.Response) -> dict[str, set[str]]:
    policy = response.headers.get("content-security-policy", "")
    directives = [part.split() for part in policy.split(";") if part.strip()]
    return {d[0]: set(d[1:]) for d in directives}


def assert_secured(response: httpx.Response, *, personal: bool = True) -> None:
    """The headers every answer carries; ``personal``: it may hold personal data, so it is never stored."""
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    h = response.headers
    csp = csp_of(response)
    for directive, values in EXPECTED_CSP.items():
        assert csp.get(directive) == values, (where, directive, csp.get(directive))
    assert not any("unsafe" in v for values in csp.values() for v in values), (where, csp)
    assert h.get("x-frame-options") == "DENY", where
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("referrer-policy") in ("no-referrer", "same-origin"), where
    assert "camera=()" in h.get("permissions-policy", ""), where
    assert h.get("cross-origin-opener-policy") == "same-origin", where
    cache = h.get("cache-control", "")
    if personal:
        assert "no-store" in cache, (where, cache)
    else:
        assert "no-store" not in cache, (where, cache)


class InlineFinder(HTMLParser):
    """Whatever a ``script-src 'self'; style-src 'self'`` policy would block in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> (inline event handler)")
            if name == "style":
                self.found.append(f"<{tag} style=…> (inline style)")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:…>")
        if tag == "style":
            self.found.append("<style> block")
        if tag == "script":
            if not dict(attrs).get("src"):
                self.found.append("<script> without src (inline script)")
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("inline script text")


def inline_problems(page: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(page)
    return finder.found


def crawl(client: httpx.Client, start: str = "/", limit: int = 80) -> Iterator[httpx.Response]:
    """Every same-site GET page reachable by links from ``start`` (breadth first, at most ``limit``)."""
    seen, queue = {start}, [start]
    while queue and len(seen) <= limit:
        path = queue.pop(0)
        response = client.get(path, follow_redirects=True)
        yield response
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for link in HREF.findall(response.text):
            target = html.unescape(link)
            if target.startswith(("/static/", "//")) or target in seen:
                continue
            seen.add(target)
            queue.append(target)


@pytest.mark.parametrize("username", ROLES)
def test_every_page_a_role_reaches_is_secured_and_has_nothing_inline(live, username):
    """Crawl from the home page as each role: every page, export and error answer carries the headers and
    ``no-store``, and no page has inline script, inline style or an inline event handler (the report's
    print button had ``onclick=``, the rectification form ``style=``)."""
    client = live.signed_in(username)
    pages = 0
    reached = set()
    for response in crawl(client):
        reached.add(response.url.path)
        assert response.status_code < 500, (response.request.url, response.status_code)
        assert_secured(response)
        for hop in response.history:  # the redirects on the way
            assert_secured(hop)
        if "text/html" in response.headers.get("content-type", ""):
            assert inline_problems(response.text) == [], (
                str(response.request.url),
                inline_problems(response.text),
            )
            pages += 1
    assert pages >= 2 and set(REACHES.get(username, ())) <= reached, (username, sorted(reached))


def test_the_clue_page_with_its_svg_and_forms_has_nothing_inline(live):
    analyst = live.signed_in("analyst1")
    for path in ("/clues/1", "/dashboard", "/reports/monthly"):
        response = analyst.get(path)
        assert response.status_code == 200 and "<svg" in response.text, path
        assert inline_problems(response.text) == [], (path, inline_problems(response.text))
        assert_secured(response)


def test_signed_out_pages_redirects_errors_and_refusals_are_secured(live):
    anonymous = live.client()
    assert_secured(anonymous.get("/login"))
    assert inline_problems(anonymous.get("/login").text) == []
    assert_secured(anonymous.get("/clues"))  # 303 to the login form
    assert_secured(anonymous.post("/clues/1/comment", data={"text": "x"}))  # 401/403
    assert_secured(anonymous.get("/no/such/page"))
    analyst = live.signed_in("analyst1")
    assert_secured(analyst.get("/clues/99999999"))  # 404 page
    assert_secured(analyst.get("/audit"))  # 403 page for the analyst
    assert_secured(analyst.get("/clues?page=99999999999999999"))
    assert_secured(analyst.get("/clues?town=%00"))  # the input guard's 400
    assert_secured(live.post(analyst, "/clues/1/comment", {"text": "头部检查"}, page="/clues/1"))  # 303
    assert_secured(analyst.get("/clues/export.csv"))
    assert_secured(analyst.get("/reports/monthly.xlsx"))


def test_static_files_and_the_health_check_may_be_cached(live):
    anonymous = live.client()
    for path in ("/static/style.css", "/static/app.js", "/healthz"):
        response = anonymous.get(path)
        assert response.status_code == 200, path
        assert_secured(response, personal=False)


def test_no_hsts_and_no_forwarded_headers_when_not_behind_a_proxy(live):
    """Plain HTTP on loopback (development): no HSTS (it would pin the host to HTTPS), no Secure cookie,
    and a client cannot claim another address with X-Forwarded-For."""
    client = live.client()
    login_page = client.get("/login")
    assert "strict-transport-security" not in login_page.headers
    assert "secure" not in login_page.headers.get("set-cookie", "").lower()
    _client, response = live.login("analyst1", client=live.client(headers={"x-forwarded-for": "203.0.113.9"}))
    assert response.status_code == 303
    assert "203.0.113.9" not in last_login_ips(live, "analyst1")


def last_login_ips(live: Any, username: str) -> list[str]:
    engine = make_engine(live.url)
    try:
        with session_factory(engine)() as session:
            rows = session.scalars(
                select(AccessLog.ip).where(AccessLog.username == username, AccessLog.action == "login")
            )
            return [ip or "" for ip in rows]
    finally:
        engine.dispose()


# -- behind a TLS reverse proxy ------------------------------------------------------------------------

PREFIX = "/qf"
PROXY = {
    "x-forwarded-proto": "https",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-host": "qingfeng.example",
}


@pytest.fixture(scope="module")
def proxied(start_live) -> Any:
    """``serve --behind-tls --forwarded-allow-ips 127.0.0.1 --root-path /qf``, reached as nginx would
    reach it: on loopback, the prefix stripped, X-Forwarded-* set."""
    return start_live("--behind-tls", "--forwarded-allow-ips", "127.0.0.1", "--root-path", PREFIX)


def cookie_pair(response: httpx.Response) -> str:
    """``name=value`` of the session cookie set by ``response`` (sent back by hand: a Secure cookie is
    never returned over the test's plain-HTTP connection, as it should be)."""
    header = response.headers.get("set-cookie", "")
    assert header, response.headers
    return header.split(";", 1)[0]


def test_behind_tls_the_cookie_is_secure_and_hsts_is_sent(proxied):
    client = proxied.client(headers=PROXY)
    page = client.get("/login")
    assert page.status_code == 200
    assert_secured(page)
    assert page.headers.get("strict-transport-security", "").startswith("max-age=")
    flags = [f.strip().lower() for f in page.headers["set-cookie"].split(";")]
    assert "secure" in flags and "httponly" in flags, flags
    assert any(f.startswith("samesite=") for f in flags), flags
    assert_secured(client.get("/static/style.css"), personal=False)
    assert "strict-transport-security" in client.get("/healthz").headers


def test_behind_tls_links_carry_the_prefix_and_the_client_address_is_the_forwarded_one(proxied):
    client = proxied.client(headers=PROXY)
    page = client.get("/login")
    assert f'action="{PREFIX}/login"' in page.text and f'href="{PREFIX}/static/style.css"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    cookie = cookie_pair(page)
    signed = client.post(
        "/login",
        data={
            "username": "analyst1",
            "password": _password(),
            "csrf_token": token,
            "next": f"{PREFIX}/clues",
        },
        headers={"cookie": cookie},
    )
    assert signed.status_code == 303, signed.text[:300]
    assert signed.headers["location"].startswith(PREFIX + "/"), signed.headers["location"]
    session = cookie_pair(signed) if "set-cookie" in signed.headers else cookie
    queue = client.get("/clues", headers={"cookie": session}, follow_redirects=True)
    assert queue.status_code == 200 and f'href="{PREFIX}/clues/1"' in queue.text
    assert urlsplit(str(queue.url)).path.endswith("/clues")
    assert "203.0.113.7" in last_login_ips(proxied, "analyst1")  # the access log has the real client
    anonymous = proxied.client(headers=PROXY).get("/clues")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith(f"{PREFIX}/login?next=")


def _password() -> str:
    from qingfeng.synth.sample_register import PASSWORD

    return PASSWORD


def test_serve_documents_the_tls_proxy_options():
    from click.testing import CliRunner

    from qingfeng.web.cli import serve

    shown = CliRunner().invoke(serve, ["--help"]).output
    for option in ("--behind-tls", "--root-path", "--forwarded-allow-ips", "docs/operations.md"):
        assert option in shown, option
    refused = CliRunner().invoke(serve, ["--root-path", "qf/"])
    assert refused.exit_code != 0 and "--root-path" in refused.output
