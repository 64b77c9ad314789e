"""The security suite's server: ``qingfeng serve`` in its own process on loopback, driven over HTTP as an
attacker outside the process would. One seeded register per test module; tests that lock accounts or
end sessions make their own users (``live.add_user``) so that they do not disturb the others."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from projectkit import add_project
from sqlalchemy import select

from qingfeng.register.db import session_factory
from qingfeng.register.models import User
from qingfeng.register.service import ClueService
from qingfeng.synth.sample_register import PASSWORD, UNITS, seed, write_relations
from qingfeng.web.settings import web_settings

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Live:
    base: str
    home: Path
    url: str  # the register's database URL
    log: Path  # the server's stdout and stderr (uvicorn's access log included)
    process: subprocess.Popen[bytes]
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, **kwargs) -> httpx.Client:
        made = httpx.Client(base_url=self.base, follow_redirects=False, timeout=30, **kwargs)
        self.clients.append(made)
        return made

    def csrf(self, client: httpx.Client, path: str = "/login") -> str:
        page = client.get(path, headers={"accept": "text/html"})
        found = CSRF.search(page.text)
        assert found, f"no CSRF token on {path}: {page.status_code}"
        return found.group(1)

    def login(self, username: str, password: str = PASSWORD, client: httpx.Client | None = None):
        """Sign in through the form; returns (client, response). A 303 means signed in."""
        client = client or self.client()
        token = self.csrf(client)
        response = client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"}
        )
        return client, response

    def signed_in(self, username: str, password: str = PASSWORD) -> httpx.Client:
        client, response = self.login(username, password)
        assert response.status_code == 303, f"{username} could not sign in: {response.status_code}"
        return client

    def post(
        self,
        client: httpx.Client,
        path: str,
        data: dict[str, str] | None = None,
        page: str = "/account/password",
    ):
        """A form POST with the session's CSRF token, read from ``page``."""
        token = self.csrf(client, page)
        return client.post(path, data={**(data or {}), "csrf_token": token})

    def add_user(self, username: str, role: str, unit: str | None = None, password: str = PASSWORD) -> None:
        from qingfeng.register.db import make_engine, session_factory
        from qingfeng.register.users import create_user

        engine = make_engine(self.url)
        try:
            with session_factory(engine)() as session:
                create_user(session, username, role, password=password, unit=unit)
                session.commit()
        finally:
            engine.dispose()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_server(home: Path, extra_env: dict[str, str] | None = None, args: list[str] | None = None) -> Live:
    """``qingfeng serve`` on a free loopback port; ``args``: more options of the command (e.g. --behind-tls)."""
    cfg = web_settings(home=home, register_url=(extra_env or {}).get("QINGFENG_REGISTER_URL"))
    engine = seed(cfg.resolved_register_url, as_of=dt.date(2025, 6, 30))
    with session_factory(engine)() as session:  # clue 1 (S03) in verification, dispatched to liaison1's unit
        analyst = session.scalar(select(User).where(User.username == "analyst1"))
        service = ClueService(session, analyst)
        service.transition(1, "核查", reason="初步核实")
        service.dispatch(1, UNITS[0], dt.date.today() + dt.timedelta(days=10))
        add_project(
            session, code="LYJC", title="路由检查用项目"
        )  # project 1 and task 1 for the route walk (not public)
    engine.dispose()
    write_relations(cfg)
    port = free_port()
    log = home / "server.log"
    env = {
        **os.environ,
        "QINGFENG_HOME": str(home),
        "QINGFENG_SESSION_SECRET": "security-suite-" + "x" * 40,
        **(extra_env or {}),
    }
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "qingfeng"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *(args or []),
        ],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"qingfeng serve exited: {log.read_text(errors='replace')}"
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "qingfeng serve did not start"
        time.sleep(0.2)
    return Live(base=base, home=home, url=cfg.resolved_register_url, log=log, process=process)


# The module's tests all come from 127.0.0.1: the address throttle is tested on a server of its own.
NO_THROTTLE = {"QINGFENG_THROTTLE_FAILURES": "100000"}


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    server = start_server(tmp_path_factory.mktemp("live"), NO_THROTTLE)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def start_live(tmp_path_factory):
    """More servers for a module, with other options of ``serve`` (``start_live("--behind-tls")``), each
    with its own seeded register; all stopped at the end of the module."""
    started: list[Live] = []

    def start(*args: str, extra_env: dict[str, str] | None = None) -> Live:
        server = start_server(tmp_path_factory.mktemp("live"), extra_env, list(args))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
