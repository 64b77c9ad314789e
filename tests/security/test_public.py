"""The public page (向社会公开) against ``qingfeng serve`` on loopback, as an attacker outside the process:
hammer it and get 429s while the rest of the site answers; try to reach the register through
``/public`` paths, raw (no client-side normalisation of ``..``), with and without a session cookie;
behind a proxy, each forwarded address has its own bucket."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest
from campaignkit import PROJECTS, add_public_projects
from sqlalchemy import select

from qingfeng.register.db import make_engine, session_factory
from qingfeng.register.models import AccessLog, Clue

BURST = 40
PER_MINUTE = 30  # one more request every 2 seconds
LIMITS = {"QINGFENG_PUBLIC_BURST": str(BURST), "QINGFENG_PUBLIC_PER_MINUTE": str(PER_MINUTE)}


@pytest.fixture(scope="module")
def server(start_live):
    live = start_live(extra_env=LIMITS)
    engine = make_engine(live.url)
    with session_factory(engine)() as session:
        add_public_projects(session)
    engine.dispose()
    return live


def rows(live, model, *where):
    engine = make_engine(live.url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(model).where(*where)))
    finally:
        engine.dispose()


def client_at(live, address: str) -> httpx.Client:
    """A client from a loopback address of its own (127.0.0.x): its own bucket of the rate limit."""
    made = httpx.Client(base_url=live.base, transport=httpx.HTTPTransport(local_address=address), timeout=30)
    live.clients.append(made)
    return made


def raw_get(live, target: str, cookie: str | None = None, address: str = "127.0.0.1") -> tuple[int, str, str]:
    """One HTTP/1.1 request with ``target`` sent exactly as written: (status, head, body)."""
    host, port = urlsplit(live.base).hostname, urlsplit(live.base).port
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}", "Connection: close", "Accept: text/html"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    with socket.create_connection((host, port), timeout=30, source_address=(address, 0)) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body.decode("utf-8", errors="replace")


def session_cookie(client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


TRAVERSALS = (
    "/public/../clues",
    "/public/../clues/1",
    "/public/%2e%2e/clues",
    "/public/..%2fclues",
    "/public/%2e%2e%2fclues%2f1",
    "/public//clues",
    "/public/style.css/../../clues/1",
    "/public/../audit",
    "/public/../admin/users",
    "/public/..;/clues",
    "/public\\..\\clues",
)


def test_public_paths_lead_nowhere_else(server):
    """No path under /public reaches a page of the register, with or without a signed-in cookie:
    the zone has no session, and no route of the register lives under it."""
    super1 = server.signed_in("super1")
    assert super1.get("/clues/1").status_code == 200  # the cookie works where it belongs
    cookie = session_cookie(super1)
    kin = rows(server, Clue, Clue.id == 1)[0].subjects[0]["name"]
    for target in TRAVERSALS:
        for sent in (None, cookie):
            status, head, body = raw_get(server, target, sent, address="127.0.0.3")
            assert status in (400, 404), (target, status)
            if target.startswith("/public/"):  # in the zone (/public\\… is an unknown page of the site)
                assert "set-cookie" not in head.lower(), target
            assert kin not in body and "线索台账" not in body and "退出登录" not in body, target


def test_next_and_redirect_parameters_are_ignored(server):
    anonymous = client_at(server, "127.0.0.4")
    plain = anonymous.get("/public")
    assert plain.status_code == 200 and PROJECTS["MSZJ"][0] in plain.text
    for query in ("next=/clues", "next=//evil.example/", "next=https://evil.example/", "redirect=/audit"):
        response = anonymous.get(f"/public?{query}")
        assert response.status_code == 200 and "location" not in response.headers, query
        assert response.text == plain.text
        cookie = session_cookie(server.signed_in("analyst1"))
        status, head, body = raw_get(server, f"/public?{query}", cookie, address="127.0.0.4")
        assert status == 200 and "set-cookie" not in head.lower() and "退出登录" not in body


def test_hammering_the_page_gets_429_and_the_rest_of_the_site_still_answers(server):
    attacker_address = "127.0.0.2"  # a loopback address of its own: a bucket no other test has used
    attacker = client_at(server, attacker_address)
    analyst = server.signed_in("analyst1")
    started = time.monotonic()
    answers = [attacker.get("/public") for _ in range(BURST * 4)]
    elapsed = time.monotonic() - started
    statuses = [r.status_code for r in answers]
    allowed = BURST + int(elapsed * PER_MINUTE / 60) + 1
    assert statuses[:BURST] == [200] * BURST
    assert statuses.count(200) <= allowed and statuses.count(429) >= len(statuses) - allowed, statuses
    refused = [r for r in answers if r.status_code == 429]
    for response in refused:
        assert 1 <= int(response.headers["retry-after"]) <= 60 / PER_MINUTE
        assert "访问过于频繁" in response.text
        assert response.headers["cache-control"] == "no-store" and "set-cookie" not in response.headers
    assert attacker.get("/login").status_code == 200  # the rest of the site is not limited by it
    assert attacker.get("/healthz").status_code == 200
    assert analyst.get("/clues").status_code == 200
    assert server.client().get("/public").status_code == 200  # another address: its own bucket
    denied = rows(server, AccessLog, AccessLog.action == "denied", AccessLog.target == "GET /public")
    assert [r.ip for r in denied] == [attacker_address]  # one record for the whole episode
    assert f"public page: {attacker_address} refused" in server.log_text()
    time.sleep(int(refused[-1].headers["retry-after"]))
    assert attacker.get("/public").status_code == 200  # recovered: one more request per 2 seconds


@pytest.fixture(scope="module")
def proxied(start_live):
    live = start_live(
        "--behind-tls",
        "--forwarded-allow-ips",
        "127.0.0.1",
        "--root-path",
        "/qf",
        extra_env={"QINGFENG_PUBLIC_BURST": "3", "QINGFENG_PUBLIC_PER_MINUTE": "1"},
    )
    return live


def test_behind_a_proxy_each_forwarded_address_has_its_own_bucket(proxied):
    proxy = {"x-forwarded-proto": "https", "x-forwarded-host": "qingfeng.example"}
    first = proxied.client(headers={**proxy, "x-forwarded-for": "203.0.113.7"})
    second = proxied.client(headers={**proxy, "x-forwarded-for": "198.51.100.9"})
    answers = [first.get("/public") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert 'href="/qf/public/style.css"' in answers[0].text  # behind the prefix
    assert second.get("/public").status_code == 200
    denied = rows(proxied, AccessLog, AccessLog.action == "denied", AccessLog.target == "GET /public")
    assert [r.ip for r in denied] == ["203.0.113.7"]
