"""Failure and deadline notices that reach the operator: e-mail (SMTP) and a webhook (JSON POST).

- :func:`on_task_failure` is an Airflow task ``on_failure_callback``: it tells the operator which
  DAG, task, run and try failed, the delivery file(s) concerned, the error, the last lines of the
  task's log and a link to the task in the UI;
- :func:`deadline_alert` returns a ``DeadlineAlert`` for a DAG's ``deadline=``: when a run is still
  going N minutes after it was queued, :func:`on_deadline_missed` sends the same kind of notice;
- ``qingfeng alerts test`` sends a test notice through every configured channel.

The channels are settings (``QINGFENG_ALERT_*``, docs/alerts.md); none configured = the notice
is only logged. A callback never raises: a broken SMTP server or webhook is a warning in the
task's log, never a second failure that hides the first.

Light at import (no Airflow, no pyspark): DAG files import it at parse time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import socket
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from qingfeng.clikit import fail, with_settings
from qingfeng.mailer import SmtpServer, send_mail
from qingfeng.settings import Settings, get_settings

log = logging.getLogger("qingfeng.alerts")

TIMEOUT_SECONDS = 10
LOG_TAIL_LINES = 30
_TAIL_BYTES = 256 * 1024  # enough for 30 lines of any log; a log of gigabytes is not read whole

# Data files named in an error message ("民生补助发放明细_202401.csv: line 5, column …").
_FILE_RE = re.compile(
    r"[^\s:;,，；'\"()（）<>\[\]{}]+\.(?:csv|tsv|txt|dat|xlsx|xlsm|xls|dbf|json|jsonl|xml|zip|gz|7z|rar)\b",
    re.IGNORECASE,
)


# The outcomes of qingfeng.pipeline.tasks.land_task that fail an ingest run (tasks.BAD).
_BAD_STATUSES = ("failed", "held", "unrecognised")


@dataclass
class Notice:
    """One message to the operator: :meth:`text` is the e-mail body, :meth:`payload` the webhook JSON."""

    event: str  # task_failed | deadline_missed | test
    subject: str
    summary: str
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    try_number: int | None = None
    map_index: int | None = None
    error: str | None = None
    files: dict[str, str | None] = field(default_factory=dict)  # file → status (None: not known)
    log_file: str | None = None
    log_tail: list[str] = field(default_factory=list)
    log_note: str | None = None  # why there is no log tail
    traceback: list[str] = field(default_factory=list)  # the error's, when there is no log tail
    url: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    host: str = field(default_factory=socket.gethostname)
    time: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def text(self) -> str:
        rows = [
            ("DAG", self.dag_id),
            ("Task", self.task_id),
            ("Run", self.run_id),
            ("Try", self.try_number),
            ("Map index", self.map_index if self.map_index is not None and self.map_index >= 0 else None),
            *((k, v) for k, v in self.details.items()),
            ("Host", self.host),
            ("Time", self.time),
            ("Link", self.url),
        ]
        lines = [self.summary, ""]
        lines += [f"{name + ':':<11}{value}" for name, value in rows if value not in (None, "")]
        if self.files:
            lines += ["", "Delivery files:"]
            lines += [
                f"  - {name}" + (f" ({status})" if status else "") for name, status in self.files.items()
            ]
        if self.error:
            lines += ["", "Error:", *(f"  {line}" for line in self.error.splitlines())]
        if self.log_tail:
            lines += ["", f"Log (last {len(self.log_tail)} lines of {self.log_file}):"]
            lines += [f"  {line}" for line in self.log_tail]
        elif self.log_note:
            lines += ["", f"Log: {self.log_note}."]
        if self.traceback:
            lines += ["", "Traceback:", *(f"  {line}" for line in self.traceback)]
        lines += ["", "-- qingfeng alerts (docs/alerts.md)"]
        return "\n".join(lines) + "\n"

    def payload(self) -> dict[str, Any]:
        return {
            "source": "qingfeng",
            "event": self.event,
            "subject": self.subject,
            "summary": self.summary,
            "dag_id": self.dag_id,
            "task_id": self.task_id,
            "run_id": self.run_id,
            "try_number": self.try_number,
            "map_index": self.map_index,
            "error": self.error,
            "files": list(self.files),
            "file_status": {name: status for name, status in self.files.items() if status},
            "log_file": self.log_file,
            "log_tail": self.log_tail,
            "log_note": self.log_note,
            "traceback": self.traceback,
            "url": self.url,
            "details": {k: str(v) for k, v in self.details.items()},
            "host": self.host,
            "time": self.time,
            "text": self.text(),
        }


# ---- the callbacks ----


def on_task_failure(context: Mapping[str, Any]) -> None:
    """Airflow ``on_failure_callback``: notify every configured channel. Never raises."""
    try:
        notice = failure_notice(context)
    except Exception as exc:  # a notice with less in it is better than none
        log.warning("alerts: could not build the whole failure notice: %r", exc)
        notice = _bare_failure_notice(context)
    deliver(notice)


def on_deadline_missed(
    context: Mapping[str, Any] | None = None, minutes: float | None = None, **_: Any
) -> None:
    """Deadline callback (run by the executor, see :func:`deadline_alert`). Never raises.

    ``context`` is Airflow's deadline context: ``{"dag_run": {...}, "deadline": {...}}``.
    """
    try:
        notice = deadline_notice(context or {}, minutes)
    except Exception as exc:
        log.warning("alerts: could not build the deadline notice: %r", exc)
        notice = Notice("deadline_missed", "[qingfeng] deadline missed", "A DAG run missed its deadline.")
    deliver(notice)


async def on_deadline_missed_async(
    context: Mapping[str, Any] | None = None, minutes: float | None = None, **kwargs: Any
) -> None:
    """The same, awaitable, for ``deadline_alert(..., asynchronous=True)`` (runs in the triggerer)."""
    import asyncio

    await asyncio.to_thread(on_deadline_missed, context, minutes, **kwargs)


def deadline_alert(minutes: float, *, asynchronous: bool = False) -> Any:
    """A ``DeadlineAlert`` for ``@dag(deadline=…)``: notify when a run is still going ``minutes``
    after it was queued (``DeadlineReference.DAGRUN_QUEUED_AT``). None when the installed Airflow
    has no deadline alerts (before 3.1).

    By default the callback is a ``SyncCallback`` run by the executor (LocalExecutor and the
    executors that support callbacks); ``asynchronous=True`` makes it an ``AsyncCallback`` run by
    the triggerer instead.
    """
    try:
        from airflow.sdk.definitions.callback import AsyncCallback, SyncCallback
        from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference
    except ImportError:
        return None
    kwargs = {"minutes": minutes}
    callback = (
        AsyncCallback(on_deadline_missed_async, kwargs=kwargs)
        if asynchronous
        else SyncCallback(on_deadline_missed, kwargs=kwargs)
    )
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=dt.timedelta(minutes=minutes),
        callback=callback,
    )


# ---- building the notices ----


def failure_notice(context: Mapping[str, Any]) -> Notice:
    ti = context.get("ti") or context.get("task_instance")
    dag_id = _attr(ti, "dag_id") or _attr(context.get("dag"), "dag_id")
    task_id = _attr(ti, "task_id")
    run_id = context.get("run_id") or _attr(ti, "run_id")
    try_number = _attr(ti, "try_number")
    map_index = _attr(ti, "map_index")
    exc = context.get("exception")
    error = _error_text(exc)
    files = delivery_files(context, error)

    path = task_log_path(ti, context)
    tail = log_tail(path) if path else []
    note: str | None = None
    trace: list[str] = []
    if not tail:
        if path is None:
            note = "the task log could not be located"
        elif path.exists():
            note = f"the task log {path} is empty"
        else:
            note = f"no task log at {path} (an in-process run, like `airflow dags test`, writes none)"
        trace = _traceback_lines(exc)

    message = str(exc).strip() if exc is not None else ""
    headline = message.splitlines()[0].rstrip(" :") if message else "no error message"
    unnamed = [name for name in files if name not in headline]
    if unnamed:  # "1 file(s) of feed subsidy did not land: 民生补助发放明细_202401.csv"
        headline += f": {unnamed[0]}" + (f" +{len(unnamed) - 1}" if len(unnamed) > 1 else "")
    mapped = isinstance(map_index, int) and map_index >= 0
    where = f"{dag_id}.{task_id}" + (f"[{map_index}]" if mapped else "")
    return Notice(
        event="task_failed",
        subject=_clip(f"[qingfeng] FAILED {where}: {headline}", 160),
        summary=f"清风 qingfeng: task {task_id} of DAG {dag_id} failed (try {try_number}).",
        dag_id=dag_id,
        task_id=task_id,
        run_id=run_id,
        try_number=try_number,
        map_index=map_index,
        error=error,
        files=files,
        log_file=str(path) if path else None,
        log_tail=tail,
        log_note=note,
        traceback=trace,
        url=task_url(dag_id, run_id, task_id, map_index, try_number),
    )


def _bare_failure_notice(context: Mapping[str, Any]) -> Notice:
    ti = context.get("ti") or context.get("task_instance")
    dag_id, task_id = _attr(ti, "dag_id"), _attr(ti, "task_id")
    error = None
    with contextlib.suppress(Exception):
        error = _error_text(context.get("exception"))
    return Notice(
        event="task_failed",
        subject=f"[qingfeng] FAILED {dag_id}.{task_id}",
        summary=f"清风 qingfeng: task {task_id} of DAG {dag_id} failed.",
        dag_id=dag_id,
        task_id=task_id,
        run_id=_attr(ti, "run_id"),
        try_number=_attr(ti, "try_number"),
        error=error,
    )


def deadline_notice(context: Mapping[str, Any], minutes: float | None) -> Notice:
    run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    get = run.get if isinstance(run, Mapping) else lambda key, default=None: getattr(run, key, default)
    dag_id, run_id = get("dag_id"), get("dag_run_id") or get("run_id")
    limit = f"{minutes:g} minutes" if minutes is not None else "its deadline"
    details = {
        "State": get("state"),
        "Queued at": get("queued_at"),
        "Started": get("start_date"),
        "Deadline": deadline.get("deadline_time") if isinstance(deadline, Mapping) else None,
    }
    return Notice(
        event="deadline_missed",
        subject=f"[qingfeng] DEADLINE MISSED {dag_id}: run exceeded {limit}",
        summary=f"清风 qingfeng: run {run_id} of DAG {dag_id} exceeded {limit} and is not finished.",
        dag_id=dag_id,
        run_id=run_id,
        details={k: v for k, v in details.items() if v not in (None, "")},
        url=task_url(dag_id, run_id, None, None, None),
    )


def trial_notice(settings: Settings) -> Notice:
    return Notice(
        event="test",
        subject=f"[qingfeng] test notice from {socket.gethostname()}",
        summary=(
            "清风 qingfeng: this is a test notice (`qingfeng alerts test`). If you read it, failure and "
            "deadline notices reach you through this channel."
        ),
        details={"Home": settings.home.resolve()},
        url=task_url(None, None, None, None, None),
    )


def _attr(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _error_text(exc: Any) -> str | None:
    if exc is None:
        return None
    if isinstance(exc, BaseException):
        message = str(exc)
        return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return str(exc)


def _traceback_lines(exc: Any) -> list[str]:
    import traceback

    if not isinstance(exc, BaseException) or exc.__traceback__ is None:
        return []
    text = "".join(traceback.format_exception(exc)).rstrip()
    return text.splitlines()[-LOG_TAIL_LINES:]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def delivery_files(context: Mapping[str, Any], error: str | None) -> dict[str, str | None]:
    """The delivery files concerned: named in the error, in the run's conf or the task's params
    (``files`` / ``file``), or in the upstream tasks' XCom (``{"files": [{"file", "status"}…]}``,
    as the ingest DAGs' ``land`` task returns)."""
    found: dict[str, str | None] = {}

    def add(name: Any, status: Any = None) -> None:
        name = str(name).strip()
        if name and (status or name not in found):
            found[name] = str(status) if status else found.get(name)

    def add_all(value: Any, *, bad_only: bool = False) -> None:
        if isinstance(value, str | Path):
            add(value)
        elif isinstance(value, Mapping):
            if "file" in value:
                status = value.get("status")
                if not bad_only or status in _BAD_STATUSES:
                    add(value["file"], status)
            elif "files" in value:
                add_all(value["files"], bad_only=bad_only)
        elif isinstance(value, Iterable):
            for item in value:
                add_all(item, bad_only=bad_only)

    named = "\n".join(line for line in (error or "").splitlines() if not line.startswith("(details: "))
    for name in _FILE_RE.findall(named):  # not StageError's "(details: <its log>)"
        add(name)
    dag_run = context.get("dag_run")
    for source in (getattr(dag_run, "conf", None) or {}, context.get("params") or {}):
        for key in ("files", "file"):
            try:
                if source.get(key):
                    add_all(source.get(key))
            except Exception:
                pass
    ti, task = context.get("ti"), context.get("task")
    upstream = sorted(getattr(task, "upstream_task_ids", None) or ())
    if ti is not None and upstream:
        try:
            values = ti.xcom_pull(task_ids=upstream)
        except Exception as exc:
            log.debug("alerts: no upstream XCom: %r", exc)
            values = None
        if isinstance(values, Mapping):
            values = [values]
        for value in values or []:
            if isinstance(value, Mapping) and isinstance(value.get("files"), list):
                add_all(value["files"], bad_only=True)
    return found


# ---- the task log ----


def task_log_path(ti: Any, context: Mapping[str, Any] | None = None) -> Path | None:
    """Where the task runner writes this try's log: ``[logging] base_log_folder`` /
    ``[logging] log_filename_template`` (by default
    ``dag_id=<d>/run_id=<r>/task_id=<t>/[map_index=<m>/]attempt=<n>.log``)."""
    if ti is None:
        return None
    try:
        conf = _airflow_conf()
        base = conf.get("logging", "base_log_folder")
        template = conf.get("logging", "log_filename_template")
    except Exception as exc:
        log.debug("alerts: no Airflow logging config: %r", exc)
        return None
    try_number = _attr(ti, "try_number")
    try:
        if "{{" in template or "{%" in template:
            import jinja2

            relative = jinja2.Template(template).render(
                ti=ti, try_number=try_number, ts=(context or {}).get("ts")
            )
        else:  # the old str.format() style
            relative = template.format(
                dag_id=ti.dag_id,
                task_id=ti.task_id,
                run_id=ti.run_id,
                try_number=try_number,
                logical_date=str((context or {}).get("logical_date") or ""),
            )
    except Exception as exc:
        log.debug("alerts: could not render the log file name: %r", exc)
        relative = (
            f"dag_id={ti.dag_id}/run_id={ti.run_id}/task_id={ti.task_id}/"
            + (f"map_index={ti.map_index}/" if isinstance(ti.map_index, int) and ti.map_index >= 0 else "")
            + f"attempt={try_number}.log"
        )
    return Path(base) / relative


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last ``lines`` readable lines of a task log (JSON lines are rendered); [] if unreadable."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - _TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    raw = data.decode("utf-8", errors="replace").splitlines()
    if len(data) == _TAIL_BYTES and size > _TAIL_BYTES:
        raw = raw[1:]  # the first line is cut
    rendered = [r for r in (_render_log_line(line) for line in raw) if r]
    return rendered[-lines:]


def _render_log_line(line: str) -> str | None:
    line = line.rstrip()
    if not line.startswith("{"):
        return line or None
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict):
        return line
    event = _one_line(record.get("event", ""))
    if event.startswith(("::group::", "::endgroup::")):
        return None  # the UI's folding marks
    stamp = str(record.get("timestamp", ""))
    text = f"{stamp[:19].replace('T', ' ')} {str(record.get('level', '')).upper():<7} {record.get('logger', '')}: {event}"
    for detail in record.get("error_detail") or []:
        if isinstance(detail, dict):
            text += f" | {detail.get('exc_type')}: {_one_line(detail.get('exc_value'))}"
            frames = detail.get("frames") or []
            if frames and isinstance(frames[-1], dict):
                last = frames[-1]
                text += f" (at {last.get('filename')}:{last.get('lineno')} in {last.get('name')})"
    return text


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


def _airflow_conf() -> Any:
    try:
        from airflow.sdk.configuration import conf
    except ImportError:
        from airflow.configuration import conf
    return conf


def task_url(
    dag_id: str | None, run_id: str | None, task_id: str | None, map_index: Any, try_number: Any
) -> str | None:
    """A link into the Airflow UI, when ``[api] base_url`` is configured."""
    try:
        base = _airflow_conf().get("api", "base_url", fallback=None)
    except Exception:
        return None
    if not base:
        return None
    base = str(base).rstrip("/")
    if not dag_id:
        return base
    url = f"{base}/dags/{urllib.parse.quote(dag_id, safe='')}"
    if run_id:
        url += f"/runs/{urllib.parse.quote(run_id, safe='')}"
        if task_id:
            url += f"/tasks/{urllib.parse.quote(task_id, safe='')}"
            if isinstance(map_index, int) and map_index >= 0:
                url += f"/mapped/{map_index}"
            if isinstance(try_number, int) and try_number > 0:
                url += f"?try_number={try_number}"
    return url


# ---- the channels ----


@dataclass
class Channel:
    name: str
    target: str  # what the operator sees: no password, no token, no query string
    send: Callable[[Notice, Settings], None]


def recipients(settings: Settings) -> list[str]:
    value = settings.alert_email_to
    items = value.split(",") if isinstance(value, str) else value
    return [a.strip() for a in items if a and a.strip()]


def channels(settings: Settings) -> list[Channel]:
    found: list[Channel] = []
    if settings.alert_smtp_host:
        to = recipients(settings)
        if to:
            found.append(
                Channel(
                    "e-mail",
                    f"{', '.join(to)} via {settings.alert_smtp_host}:{settings.alert_smtp_port}",
                    send_email,
                )
            )
        else:
            log.warning(
                "alerts: QINGFENG_ALERT_SMTP_HOST is set but QINGFENG_ALERT_EMAIL_TO is empty: no e-mail"
            )
    if settings.alert_webhook_url:
        found.append(Channel("webhook", _public_url(settings.alert_webhook_url), send_webhook))
    return found


def _public_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    raw = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return raw or None


def alert_smtp_server(settings: Settings) -> SmtpServer:
    port = settings.alert_smtp_port
    return SmtpServer(
        host=settings.alert_smtp_host or "",
        port=port,
        starttls=settings.alert_smtp_starttls,
        tls=port == 465,  # SMTPS: TLS from the first byte
        user=settings.alert_smtp_user,
        password=_secret(settings.alert_smtp_password),
        timeout=TIMEOUT_SECONDS,
    )


def send_email(notice: Notice, settings: Settings) -> None:
    server = alert_smtp_server(settings)
    send_mail(
        server,
        sender=server.sender(settings.alert_email_from),
        to=recipients(settings),
        subject=notice.subject,
        body=notice.text(),
        headers={"X-Qingfeng-Event": notice.event},
    )


def send_webhook(notice: Notice, settings: Settings) -> None:
    body = json.dumps(notice.payload(), ensure_ascii=False, default=str).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "qingfeng-alerts/1"}
    token = _secret(settings.alert_webhook_token)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        settings.alert_webhook_url or "", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        response.read(65536)


def deliver(notice: Notice, settings: Settings | None = None) -> dict[str, str]:
    """Send ``notice`` through every configured channel. Never raises; returns
    ``{"e-mail": "sent" | "failed: …", "webhook": …}`` ({} when no channel is configured)."""
    try:
        settings = settings or get_settings()
        configured = channels(settings)
    except Exception as exc:
        log.warning("alerts: the alert settings are invalid (%r); %s", exc, notice.subject)
        return {}
    if not configured:
        log.warning("alerts: no alert channel configured (docs/alerts.md); %s", notice.subject)
        return {}
    outcome: dict[str, str] = {}
    for channel in configured:
        try:
            channel.send(notice, settings)
        except Exception as exc:
            outcome[channel.name] = f"failed: {type(exc).__name__}: {exc}"
            log.warning(
                "alerts: %s to %s failed: %s: %s", channel.name, channel.target, type(exc).__name__, exc
            )
        else:
            outcome[channel.name] = "sent"
            log.info("alerts: %s sent to %s: %s", channel.name, channel.target, notice.subject)
    return outcome


# ---- qingfeng alerts ----


@click.group("alerts")
def alerts() -> None:
    """Failure and deadline notices to the operator (docs/alerts.md)."""


@alerts.command("test")
@with_settings
def alerts_test(settings: Settings) -> None:
    """Send a test notice through every configured channel (QINGFENG_ALERT_*)."""
    configured = channels(settings)
    if not configured:
        fail(
            "no alert channel configured: set QINGFENG_ALERT_SMTP_HOST and QINGFENG_ALERT_EMAIL_TO, "
            "and/or QINGFENG_ALERT_WEBHOOK_URL (docs/alerts.md)"
        )
    outcome = deliver(trial_notice(settings), settings)
    for channel in configured:
        click.echo(f"{channel.name} ({channel.target}): {outcome.get(channel.name, 'not tried')}")
    failed = [name for name, result in outcome.items() if result != "sent"]
    if failed:
        fail(f"{len(failed)} of {len(configured)} channel(s) failed: {', '.join(failed)}")


commands = [alerts]
