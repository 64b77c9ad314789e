"""Failure and deadline alerts reach the operator: a real SMTP receiver and a real webhook receiver
on 127.0.0.1, and a real Airflow DAG run (LocalExecutor, task supervisor, execution API server)
whose task fails and calls ``on_task_failure``."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import email
import email.policy
import ipaddress
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from qingfeng import airflow_env
from qingfeng.cli import main
from qingfeng.pipeline import alerts
from qingfeng.settings import get_settings

pytestmark = [pytest.mark.airflow]

BAD_FILE = "民生补助发放明细_202401.csv"
BAD_ERROR = f"{BAD_FILE}: line 5, column 发放金额: '12,3x' is not a number"
UI = "http://airflow.example:8080"


# ---- a real SMTP receiver (asyncio; STARTTLS and AUTH PLAIN when asked) ----


@dataclass
class Mail:
    mail_from: str
    rcpt_to: list[str]
    tls: bool
    login: tuple[str, str] | None
    message: email.message.EmailMessage

    @property
    def body(self) -> str:
        return self.message.get_content().replace("\r\n", "\n")


class SmtpReceiver:
    def __init__(self, tls: Any = None) -> None:
        self.tls = tls
        self.mails: list[Mail] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> SmtpReceiver:
        self.thread.start()
        start = asyncio.start_server(self._session, "127.0.0.1", 0)
        self.server = asyncio.run_coroutine_threadsafe(start, self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *_: Any) -> None:
        async def close() -> None:
            self.server.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(*lines: str) -> None:
            writer.write("".join(f"{line}\r\n" for line in lines).encode())
            await writer.drain()

        tls, login, mail_from, rcpt_to = False, None, "", []
        try:
            await reply("220 127.0.0.1 qingfeng test SMTP")
            while line := await reader.readline():
                command = line.decode("utf-8", "replace").rstrip("\r\n")
                verb, _, arg = command.partition(" ")
                verb = verb.upper()
                if verb == "EHLO":
                    extra = ["250-STARTTLS"] if self.tls and not tls else []
                    await reply("250-127.0.0.1", "250-8BITMIME", *extra, "250-AUTH PLAIN", "250 SMTPUTF8")
                elif verb == "HELO":
                    await reply("250 127.0.0.1")
                elif verb == "STARTTLS" and self.tls:
                    await reply("220 go ahead")
                    await writer.start_tls(self.tls)
                    tls = True
                elif verb == "AUTH" and arg.upper().startswith("PLAIN "):
                    _, user, password = base64.b64decode(arg.split(" ", 1)[1]).decode().split("\0")
                    login = (user, password)
                    await reply("235 2.7.0 authenticated")
                elif verb == "MAIL":
                    mail_from, rcpt_to = arg.split(":", 1)[1].split()[0].strip("<>"), []
                    await reply("250 ok")
                elif verb == "RCPT":
                    rcpt_to.append(arg.split(":", 1)[1].strip().strip("<>"))
                    await reply("250 ok")
                elif verb == "DATA":
                    await reply("354 end with <CRLF>.<CRLF>")
                    data = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    message = email.message_from_bytes(bytes(data), policy=email.policy.default)
                    self.mails.append(Mail(mail_from, rcpt_to, tls, login, message))  # type: ignore[arg-type]
                    await reply("250 ok: queued")
                elif verb in ("RSET", "NOOP"):
                    await reply("250 ok")
                elif verb == "QUIT":
                    await reply("221 bye")
                    break
                else:
                    await reply("502 not implemented")
        finally:
            writer.close()


# ---- a real webhook receiver ----


@dataclass
class Hook:
    path: str
    headers: dict[str, str]
    json: dict[str, Any]


@dataclass
class WebhookReceiver:
    status: int = 200
    hooks: list[Hook] = field(default_factory=list)

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.hooks.append(Hook(self.path, dict(self.headers), json.loads(body.decode("utf-8"))))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/qingfeng?access_token=s3cret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _channel_env(smtp_port: int, webhook_url: str, **extra: str) -> dict[str, str]:
    return {
        "QINGFENG_ALERT_SMTP_HOST": "127.0.0.1",
        "QINGFENG_ALERT_SMTP_PORT": str(smtp_port),
        "QINGFENG_ALERT_EMAIL_FROM": "qingfeng@district.example",
        "QINGFENG_ALERT_EMAIL_TO": "ops@district.example, duty@district.example",
        "QINGFENG_ALERT_WEBHOOK_URL": webhook_url,
        "QINGFENG_ALERT_WEBHOOK_TOKEN": "hook-token",
        **extra,
    }


class Warnings(logging.Handler):
    """The alert module's warnings (Airflow's logging set-up takes the root logger from caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def text(self) -> str:
        return "\n".join(r.getMessage() for r in self.records)


@pytest.fixture
def warnings_() -> Iterator[Warnings]:
    handler = Warnings()
    logger = logging.getLogger("qingfeng.alerts")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith("QINGFENG_ALERT_"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    return monkeypatch


# ---- the callback in-process: a dead SMTP server is a warning, never an exception ----


def _context(log_folder: Path) -> dict[str, Any]:
    ti = SimpleNamespace(
        dag_id="ingest_subsidy",
        task_id="verdict",
        run_id="manual__2024-01-31T00:00:00+00:00",
        try_number=2,
        map_index=-1,
    )

    def xcom_pull(task_ids: Any = None, **_: Any) -> Any:
        assert task_ids == ["land"]
        return [
            {
                "feed": "subsidy",
                "files": [{"file": BAD_FILE, "status": "failed"}, {"file": "ok.csv", "status": "ingested"}],
            }
        ]

    ti.xcom_pull = xcom_pull
    log = log_folder / f"dag_id={ti.dag_id}" / f"run_id={ti.run_id}" / "task_id=verdict" / "attempt=2.log"
    log.parent.mkdir(parents=True)
    records = [
        {
            "timestamp": "2024-01-31T01:00:00.1Z",
            "level": "info",
            "event": "::group::Pre Execute",
            "logger": "task",
        },
        *(
            {"timestamp": "2024-01-31T01:00:01Z", "level": "info", "event": f"step {i}", "logger": "qingfeng"}
            for i in range(40)
        ),
        {
            "timestamp": "2024-01-31T01:00:02Z",
            "level": "error",
            "event": "Task failed with exception",
            "logger": "task",
            "error_detail": [
                {
                    "exc_type": "AirflowFailException",
                    "exc_value": BAD_ERROR,
                    "frames": [{"filename": "tasks.py", "lineno": 170, "name": "verdict_task"}],
                }
            ],
        },
    ]
    log.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    try:
        raise RuntimeError(f"1 file(s) of feed subsidy did not land:\n  {BAD_ERROR}")
    except RuntimeError as exc:
        error = exc
    return {
        "ti": ti,
        "task": SimpleNamespace(upstream_task_ids={"land"}),
        "run_id": ti.run_id,
        "exception": error,
        "params": {},
    }


def test_dead_smtp_server_does_not_raise_and_the_webhook_still_gets_the_notice(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, warnings_: Warnings
) -> None:
    dead = _free_port()  # nothing listens there: connection refused
    with WebhookReceiver() as hook:
        for key, value in _channel_env(dead, hook.url).items():
            clean_env.setenv(key, value)
        clean_env.setenv("AIRFLOW__LOGGING__BASE_LOG_FOLDER", str(tmp_path / "logs"))
        clean_env.setenv("AIRFLOW__API__BASE_URL", UI + "/")
        context = _context(tmp_path / "logs")
        alerts.on_task_failure(context)  # must not raise
    assert any("e-mail" in r.getMessage() and "failed" in r.getMessage() for r in warnings_.records), (
        warnings_.text
    )
    [sent] = hook.hooks
    assert sent.headers["Authorization"] == "Bearer hook-token"
    assert sent.headers["Content-Type"].startswith("application/json")
    notice = sent.json
    assert (notice["event"], notice["dag_id"], notice["task_id"], notice["try_number"]) == (
        "task_failed",
        "ingest_subsidy",
        "verdict",
        2,
    )
    assert notice["files"] == [BAD_FILE] and notice["file_status"] == {BAD_FILE: "failed"}
    assert (
        notice["subject"]
        == f"[qingfeng] FAILED ingest_subsidy.verdict: 1 file(s) of feed subsidy did not land: {BAD_FILE}"
    )
    assert BAD_ERROR in notice["error"]
    assert (
        notice["url"]
        == f"{UI}/dags/ingest_subsidy/runs/manual__2024-01-31T00%3A00%3A00%2B00%3A00/tasks/verdict?try_number=2"
    )
    assert notice["log_file"] == str(
        tmp_path
        / "logs"
        / "dag_id=ingest_subsidy"
        / f"run_id={context['run_id']}"
        / "task_id=verdict"
        / "attempt=2.log"
    )
    tail = notice["log_tail"]
    assert len(tail) == alerts.LOG_TAIL_LINES and "step 39" in tail[-2]
    assert (
        tail[-1].startswith("2024-01-31 01:00:02 ERROR")
        and "AirflowFailException" in tail[-1]
        and "tasks.py:170" in tail[-1]
    )
    assert not any("::group::" in line for line in tail)
    assert "s3cret" not in warnings_.text and "hook-token" not in warnings_.text

    # a broken webhook too: still nothing raised, both failures are warnings
    with WebhookReceiver(status=500) as broken:
        clean_env.setenv("QINGFENG_ALERT_WEBHOOK_URL", broken.url)
        warnings_.records.clear()
        alerts.on_task_failure(context)
        alerts.on_task_failure({})  # not even a task instance
    assert sum("failed" in r.getMessage() for r in warnings_.records) == 4, warnings_.text
    # invalid settings are a warning as well
    clean_env.setenv("QINGFENG_ALERT_SMTP_PORT", "not-a-port")
    alerts.on_task_failure(context)
    assert "invalid" in warnings_.text

    # no log file (an in-process run): the notice carries the error's traceback instead
    context["ti"].try_number = 3
    bare = alerts.failure_notice(context)
    assert bare.log_note and bare.log_note.startswith("no task log at ") and "attempt=3.log" in bare.log_note
    assert bare.log_tail == [] and bare.traceback[-1] == f"  {BAD_ERROR}"
    assert "Traceback:" in bare.text() and f"Log: {bare.log_note}." in bare.text()


def test_no_channel_only_logs(clean_env: pytest.MonkeyPatch, warnings_: Warnings) -> None:
    assert alerts.deliver(alerts.Notice("test", "[qingfeng] subject", "summary")) == {}
    assert "no alert channel configured" in warnings_.text
    result = CliRunner().invoke(main, ["alerts", "test"])
    assert result.exit_code == 1 and "no alert channel configured" in result.output


# ---- qingfeng alerts test: STARTTLS + login, and the webhook ----


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_cli_alerts_test_delivers_to_both_receivers(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import ssl

    cert, key = _self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    clean_env.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test server's certificate
    with SmtpReceiver(tls=server_tls) as smtp, WebhookReceiver() as hook:
        env = _channel_env(
            smtp.port,
            hook.url,
            QINGFENG_ALERT_SMTP_STARTTLS="true",
            QINGFENG_ALERT_SMTP_USER="robot",
            QINGFENG_ALERT_SMTP_PASSWORD="pa55",
        )
        for k, v in env.items():
            clean_env.setenv(k, v)
        result = CliRunner().invoke(main, ["alerts", "test"])
        assert result.exit_code == 0, result.output
        assert "e-mail (ops@district.example, duty@district.example via 127.0.0.1:" in result.output
        assert (
            f"webhook (http://127.0.0.1:{hook.server.server_address[1]}/hooks/qingfeng): sent"
            in result.output
        )
        assert "s3cret" not in result.output and "pa55" not in result.output

        [mail] = smtp.mails
        assert mail.tls and mail.login == ("robot", "pa55")
        assert mail.rcpt_to == ["ops@district.example", "duty@district.example"]
        assert mail.message["From"] == "qingfeng@district.example"
        assert mail.message["Subject"].startswith("[qingfeng] test notice")
        assert "this is a test notice" in mail.body
        [sent] = hook.hooks
        assert sent.json["event"] == "test" and sent.headers["Authorization"] == "Bearer hook-token"
        assert sent.path == "/hooks/qingfeng?access_token=s3cret"

        # a channel that fails makes the command fail, naming it
        with WebhookReceiver(status=503) as down:
            clean_env.setenv("QINGFENG_ALERT_WEBHOOK_URL", down.url)
            result = CliRunner().invoke(main, ["alerts", "test"])
        assert result.exit_code == 1
        assert (
            "e-mail (" in result.output and "webhook (" in result.output and "HTTP Error 503" in result.output
        )
        assert "1 of 2 channel(s) failed: webhook" in result.output


# ---- deadline alerts ----


def test_deadline_alert_is_a_real_airflow_deadline_and_its_callback_sends(
    clean_env: pytest.MonkeyPatch,
) -> None:
    import pendulum
    import structlog
    from airflow.sdk import DAG, AsyncCallback, DeadlineAlert, DeadlineReference, SyncCallback
    from airflow.sdk.execution_time.callback_supervisor import execute_callback
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.triggers.callback import CallbackTrigger

    alert = alerts.deadline_alert(45)
    assert isinstance(alert, DeadlineAlert) and isinstance(alert.callback, SyncCallback)
    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert alert.interval == dt.timedelta(minutes=45)
    assert alert.callback.path == "qingfeng.pipeline.alerts.on_deadline_missed"
    assert alert.callback.kwargs == {"minutes": 45}
    slow = alerts.deadline_alert(45, asynchronous=True)
    assert isinstance(slow.callback, AsyncCallback)

    dag = DAG("alerts_deadline", schedule=None, start_date=pendulum.datetime(2024, 1, 1), deadline=alert)
    data = DagSerialization.to_dict(dag)
    [encoded] = data["dag"]["deadline"]
    assert "qingfeng.pipeline.alerts.on_deadline_missed" in json.dumps(encoded)
    DagSerialization.from_dict(data)

    # what the scheduler hands the callback (Deadline.handle_miss), run as the executor runs it
    context = {
        "dag_run": {
            "dag_id": "cross_match",
            "dag_run_id": "scheduled__2024-02-01T02:00:00+00:00",
            "state": "running",
            "queued_at": "2024-02-01T02:00:03Z",
            "start_date": "2024-02-01T02:00:05Z",
        },
        "deadline": {"id": "0192", "deadline_time": "2024-02-01T02:45:03Z"},
    }
    with SmtpReceiver() as smtp, WebhookReceiver() as hook:
        for k, v in _channel_env(smtp.port, hook.url).items():
            clean_env.setenv(k, v)
        clean_env.setenv("AIRFLOW__API__BASE_URL", UI)
        ok, error = execute_callback(
            alert.callback.path,
            {**alert.callback.kwargs, "context": context},
            "",
            None,
            structlog.get_logger(),
        )
        assert (ok, error) == (True, None)

        async def trigger() -> list[Any]:  # the AsyncCallback, as the triggerer runs it
            run = CallbackTrigger(slow.callback.path, {**slow.callback.kwargs, "context": context}).run()
            return [event.payload async for event in run]

        events = asyncio.run(trigger())
        assert events[-1]["state"] == "success", events

    assert len(smtp.mails) == 2 and len(hook.hooks) == 2
    mail = smtp.mails[0]
    assert mail.message["Subject"] == "[qingfeng] DEADLINE MISSED cross_match: run exceeded 45 minutes"
    assert "scheduled__2024-02-01T02:00:00+00:00" in mail.body and "2024-02-01T02:45:03Z" in mail.body
    assert f"{UI}/dags/cross_match/runs/scheduled__2024-02-01T02%3A00%3A00%2B00%3A00" in mail.body
    assert hook.hooks[0].json["event"] == "deadline_missed" and hook.hooks[0].json["dag_id"] == "cross_match"


# ---- a real DAG run whose task fails ----

FAILING_DAG = f'''
import logging

import pendulum
from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowFailException

from qingfeng.pipeline.alerts import deadline_alert, on_task_failure


@dag(
    dag_id="alerts_failing",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    default_args={{"on_failure_callback": on_task_failure, "retries": 0}},
    deadline=deadline_alert(60),
)
def alerts_failing():
    @task
    def land():
        return {{
            "feed": "subsidy",
            "files": [
                {{"file": "{BAD_FILE}", "status": "failed", "error": "{BAD_ERROR}"}},
                {{"file": "民生补助发放明细_202312.csv", "status": "ingested"}},
            ],
        }}

    @task
    def verdict(landed):
        log = logging.getLogger("qingfeng.verdict")
        for f in landed["files"]:
            log.info("delivery %s: %s", f["file"], f["status"])
        bad = [f for f in landed["files"] if f["status"] == "failed"]
        raise AirflowFailException(f"{{len(bad)}} file(s) of feed subsidy did not land:\\n  " + bad[0]["error"])

    verdict(land())


alerts_failing()
'''

RUN_DAG = """
import sys

import pendulum
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
run = bag.get_dag("alerts_failing").test(logical_date=pendulum.datetime(2024, 1, 31, tz="UTC"), use_executor=True)
print("STATE", getattr(run.state, "value", run.state))
"""


@dataclass
class ExecutionApi:
    env: dict[str, str]
    dags: Path
    url: str
    proc: subprocess.Popen
    log: Path

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(self.url + "health", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(
            "the execution API server did not start:\n" + self.log.read_text(errors="replace")[-3000:]
        )


@pytest.fixture(scope="module", autouse=True)
def execution_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ExecutionApi | None]:
    """An Airflow home with a migrated database and an execution API server, started with the
    module so that it boots while the fast tests run (only when the DAG test is selected)."""
    if not any(item.name == "test_failed_task_alerts_the_operator" for item in request.session.items):
        yield None
        return
    root = tmp_path_factory.mktemp("alerts_airflow")
    settings = get_settings(home=root / "home")
    dags = root / "dags"
    dags.mkdir()
    (dags / "alerts_failing.py").write_text(FAILING_DAG, encoding="utf-8")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/execution/"
    env = {k: v for k, v in airflow_env.environ(settings).items() if not k.startswith("QINGFENG_ALERT_")}
    env.update(
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=url,
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(64),
        AIRFLOW__CORE__PARALLELISM="2",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(root / "logs"),
        AIRFLOW__API__BASE_URL=UI,
    )
    airflow_env.ensure_db(settings, env)
    log = root / "api-server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                airflow_env.airflow_bin(),
                "api-server",
                "--apps",
                "execution",
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
                "-w",
                "1",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield ExecutionApi(env, dags, url, proc, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its worker: our own process group
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@pytest.mark.slow
def test_failed_task_alerts_the_operator(execution_api: ExecutionApi | None) -> None:
    assert execution_api is not None
    with SmtpReceiver() as smtp, WebhookReceiver() as hook:
        env = {**execution_api.env, **_channel_env(smtp.port, hook.url)}
        execution_api.wait_ready()
        proc = subprocess.run(
            [sys.executable, "-c", RUN_DAG, str(execution_api.dags)],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0 and "STATE failed" in proc.stdout, out[-5000:]
        deadline = time.monotonic() + 10
        while (not smtp.mails or not hook.hooks) and time.monotonic() < deadline:
            time.sleep(0.1)

    # one notice per channel: only `verdict` failed (`land` succeeded)
    [mail], [sent] = smtp.mails, hook.hooks
    notice = sent.json
    run_id = notice["run_id"]
    assert run_id.startswith("manual__")
    assert mail.rcpt_to == ["ops@district.example", "duty@district.example"]
    assert mail.message["Subject"] == (
        f"[qingfeng] FAILED alerts_failing.verdict: 1 file(s) of feed subsidy did not land: {BAD_FILE}"
    )
    body = mail.body
    for expected in (
        "DAG:       alerts_failing",
        "Task:      verdict",
        f"Run:       {run_id}",
        "Try:       1",
        f"  - {BAD_FILE} (failed)",
        BAD_ERROR,
    ):
        assert expected in body, body
    assert "民生补助发放明细_202312.csv" not in body.split("Error:")[0]  # landed fine: not a file to look at

    assert (notice["event"], notice["dag_id"], notice["task_id"], notice["try_number"]) == (
        "task_failed",
        "alerts_failing",
        "verdict",
        1,
    )
    assert notice["files"] == [BAD_FILE] and BAD_ERROR in notice["error"]
    assert notice["url"].startswith(f"{UI}/dags/alerts_failing/runs/manual__") and notice["url"].endswith(
        "/tasks/verdict?try_number=1"
    )
    assert notice["url"] in body

    # the task runner's own log file, found from [logging] base_log_folder and log_filename_template
    log_file = Path(notice["log_file"])
    assert (
        log_file
        == Path(env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"])
        / "dag_id=alerts_failing"
        / f"run_id={run_id}"
        / "task_id=verdict"
        / "attempt=1.log"
    )
    assert log_file.exists()
    tail = notice["log_tail"]
    assert 0 < len(tail) <= alerts.LOG_TAIL_LINES
    assert any(f"qingfeng.verdict: delivery {BAD_FILE}: failed" in line for line in tail), tail
    assert f"Log (last {len(tail)} lines of {log_file}):" in body
    assert tail[-1] in body
