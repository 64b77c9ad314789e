"""A real PostgreSQL server for the tests, and the register-backend fixtures.

``pg_server`` (session scope) runs ``initdb`` + ``pg_ctl`` from PATH (or /usr/lib/postgresql/*/bin)
in a fresh temporary folder, listening on 127.0.0.1 at a free port, with trust authentication.
PostgreSQL refuses to run as root, so as root the binaries run as ``nobody`` via ``runuser``.
Deselect with ``-m "not postgres"`` on a machine without PostgreSQL.

Import the fixtures into a test module with ``from pg import *``.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["PgServer", "backend", "empty_register_url", "pg_server", "register_templates", "register_url"]

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
_counter = itertools.count()


@dataclass
class PgServer:
    host: str
    port: int
    user: str = "postgres"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as c:
            c.execute(sql)  # test-only DDL with names made by this module, never user input

    def create_database(self, name: str, template: str | None = None) -> str:
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)


def _binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        pytest.fail(
            f"PostgreSQL binary {name!r} not found on PATH or in /usr/lib/postgresql/*/bin; "
            'install postgresql or deselect with -m "not postgres"'
        )
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_db_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", "nobody", "--", *cmd]
    return ["su", "-s", "/bin/sh", "nobody", "-c", " ".join(cmd)]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    root = Path(tempfile.mkdtemp(prefix="qingfeng-pg-"))  # not under pytest's 0700 tmp: nobody must enter it
    if os.geteuid() == 0:
        shutil.chown(root, user="nobody")
    data, log, port = root / "data", root / "server.log", _free_port()
    run = {"check": True, "capture_output": True, "text": True}
    try:
        subprocess.run(
            _as_db_owner(
                [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]
            ),
            **run,
        )
        opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(
            _as_db_owner([pg_ctl, "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60", "start"]),
            **run,
        )
    except subprocess.CalledProcessError as exc:
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr}\n{detail}")
    try:
        yield PgServer("127.0.0.1", port)
    finally:
        subprocess.run(
            _as_db_owner([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def register_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Migrated template databases, made once per session per backend (lazily)."""
    return {"dir": tmp_path_factory.mktemp("register-templates")}


def _sqlite_template(templates: dict[str, object]) -> Path:
    if "sqlite" not in templates:
        from qingfeng.register.db import upgrade

        path = Path(str(templates["dir"])) / "template.db"
        upgrade(f"sqlite:///{path}")
        templates["sqlite"] = path
    return Path(str(templates["sqlite"]))


def _pg_template(templates: dict[str, object], server: PgServer) -> str:
    if "postgresql" not in templates:
        from qingfeng.register.db import upgrade

        server.create_database("qf_template")
        upgrade(server.url("qf_template"))
        templates["postgresql"] = "qf_template"
    return str(templates["postgresql"])


@pytest.fixture
def empty_register_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database (no tables) on the test's backend."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database(f"qf_empty_{os.getpid()}_{next(_counter)}")


@pytest.fixture
def register_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, register_templates: dict[str, object]
) -> str:
    """A URL of a fresh, fully migrated register on the test's backend."""
    if backend == "sqlite":
        target = tmp_path / "register.db"
        shutil.copyfile(_sqlite_template(register_templates), target)
        return f"sqlite:///{target}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database(
        f"qf_test_{os.getpid()}_{next(_counter)}", template=_pg_template(register_templates, server)
    )
