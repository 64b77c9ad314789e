"""A real Airflow for the tests, laid out as in production (docs/operations.md): an api-server,
a scheduler, a dag-processor and a triggerer as separate processes, on PostgreSQL metadata,
with the register on PostgreSQL and the tasks attached to a resident Spark Connect server.

Everything is started through ``qingfeng airflow setup|run``, the commands the systemd units run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

COMPONENTS = ("scheduler", "dag-processor", "triggerer")
QINGFENG = str(Path(sys.executable).with_name("qingfeng"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Webhook:
    """A local HTTP receiver of the failure alerts (JSON bodies, kept in order)."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(json.loads(body or b"{}"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@dataclass
class AirflowStack:
    root: Path
    env: dict[str, str]
    metadata_dsn: dict[str, Any]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return Path(self.env["QINGFENG_HOME"])

    def qingfeng(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [QINGFENG, *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def start(self) -> None:
        setup = self.qingfeng("airflow", "setup")
        assert setup.returncode == 0, setup.stdout + setup.stderr
        # the api-server first: workers report every state change to it
        self._spawn("api-server")
        port = self.env["AIRFLOW__API__PORT"]
        wait_until(lambda: _http_ok(f"http://127.0.0.1:{port}/api/v2/monitor/health"), 180, "the api-server")
        for name in COMPONENTS:
            self._spawn(name)

    def _spawn(self, name: str) -> None:
        log = (self.root / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [QINGFENG, "airflow", "run", name], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}
        if dead:
            tails = {n: _tail(self.root / f"{n}.log") for n in dead}
            raise AssertionError(f"Airflow components exited: {dead}\n{tails}")

    def query(self, sql: str, *params: Any) -> list[tuple]:
        import psycopg

        with psycopg.connect(**self.metadata_dsn) as conn:
            return conn.execute(sql, params).fetchall()


def wait_until(condition: Callable[[], Any], timeout: float, what: str, every: float = 2.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stack_env(
    root: Path,
    *,
    pg_host: str,
    pg_port: int,
    metadata_db: str,
    register_url: str,
    spark_remote: str,
    **extra: str,
) -> dict[str, str]:
    home = root / "home"
    feeds = root / "feeds"
    if not feeds.exists():
        from qingfeng.settings import PROJECT_ROOT

        shutil.copytree(PROJECT_ROOT / "feeds", feeds)  # deployment configuration, outside the code
    meta = f"postgres@{pg_host}:{pg_port}/{metadata_db}"
    api_port = str(free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "QINGFENG_"))}
    env.update(
        {
            "QINGFENG_HOME": str(home),
            "QINGFENG_FEEDS_DIR": str(feeds),
            "QINGFENG_REGISTER_URL": register_url,
            "QINGFENG_SPARK_REMOTE": spark_remote,
            "QINGFENG_SPARK_SHUFFLE_PARTITIONS": "4",
            "QINGFENG_DAG_RETRIES": "0",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg://{meta}",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": f"postgresql+psycopg_async://{meta}",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API__PORT": api_port,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(24).hex(),
            "AIRFLOW__API__SECRET_KEY": os.urandom(24).hex(),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            # Airflow's default: every DAG file is parsed at start; re-parsing the four of them every
            # 5 s took a fifth of a core from the tasks for a change that only one test makes
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            **extra,
        }
    )
    home.mkdir(parents=True, exist_ok=True)
    return env
