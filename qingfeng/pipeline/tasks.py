"""The bodies of the DAGs' tasks; each imports the stages only when it runs.

An ingest DAG run is three tasks:

- ``land`` takes the inbox's new files, finds re-deliveries by sha256 before any Spark starts,
  and lands the others one by one: a bad or held file is reported, never fatal to its siblings;
- ``announce`` emits the feed's table assets for every landed file not announced yet, so that a
  file landed by a run that failed (or a rerun that found everything landed) still reaches the
  cross-match;
- ``verdict`` fails the run (and alerts the operator) when a file failed, was held or was not
  recognised.

A cross-match run waits for a quiet lake (:mod:`qingfeng.pipeline.quiet`), then matches under the
exclusive lake lock, unless the landed data, the as-of date and the rules are those of the last
published run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from typing import Any

from qingfeng.pipeline import dagkit
from qingfeng.pipeline.inbox import delivered, inbox_dir, is_settled, ledger_path, read_ledger, record_seen

BAD = ("failed", "held", "unrecognised")


def _conf(context: Mapping[str, Any]) -> dict[str, Any]:
    dag_run = context.get("dag_run")
    return dict(getattr(dag_run, "conf", None) or {})


def land_task(feed: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Land the inbox's new complete files (a manual run: every file, settled or not)."""
    from qingfeng.ingest.raw import read_manifests, sha256_of
    from qingfeng.pipeline.lock import lake_lock

    settings = dagkit.task_settings().model_copy(update={"data_docs_after_ingest": False})
    folder, ledger_file = inbox_dir(settings, feed), ledger_path(settings, feed)
    present = delivered(folder)
    manual = dagkit.run_type(context) == "manual"
    seen = read_ledger(ledger_file)
    take = [
        d
        for d in present
        if manual or (d.signature not in seen and is_settled(d, settings.inbox_settle_seconds))
    ]
    outcomes: dict[str, dict[str, Any]] = {}
    manifests = [m for m in read_manifests(settings) if m.get("feed") == feed]
    # in the lake already, or an earlier version a landed correction replaced (files stay in the inbox)
    known = {m["sha256"] for m in manifests} | {s for m in manifests for s in m.get("supersedes") or []}
    fresh = []
    for d in take:
        sha = sha256_of(d.path)
        if sha in known:
            outcomes[d.signature] = {"file": d.relpath, "sha256": sha, "status": "duplicate"}
        elif message := _held_message(settings, feed, sha):
            outcomes[d.signature] = {"file": d.relpath, "sha256": sha, "status": "held", "error": message}
        else:
            fresh.append((d, sha))
    if fresh:
        with lake_lock(settings, exclusive=False):
            outcomes.update(_ingest(settings, feed, fresh, context))
    record_seen(ledger_file, outcomes, present)
    files = sorted(outcomes.values(), key=lambda f: f["file"])
    return {"feed": feed, "files": files, "spark": bool(fresh)}


def _ingest(settings: Any, feed: str, fresh: list, context: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    from qingfeng.pipeline import stages
    from qingfeng.spark import get_spark

    # The engine ingests a folder: give it one of links to exactly the files this run takes.
    batch = settings.home.resolve() / ".land" / f"{feed}-{uuid.uuid4().hex[:8]}"
    batch.mkdir(parents=True)
    by_name = {}
    try:
        for d, sha in fresh:
            name = d.path.name if d.path.name not in by_name else f"{sha[:8]}-{d.path.name}"
            os.symlink(d.path, batch / name)
            by_name[name] = (d, sha)
        try:
            with stages.stage_errors(settings, "spark"):
                spark = get_spark(settings)
            result = stages.ingest(settings, batch, spark=spark, feeds=[feed], per_file=True)
        except stages.StageError as exc:
            # Not about one file (Spark did not start, the disk is full): retried by Airflow.
            dagkit.raise_for_task(exc, context)
            raise
    finally:
        shutil.rmtree(batch, ignore_errors=True)
    outcomes: dict[str, dict[str, Any]] = {}
    for item in result.summary.get("files", []):
        if item["file"] not in by_name or item["status"] == "superseded":  # an earlier delivery
            continue
        d, sha = by_name[item["file"]]
        previous = outcomes.get(d.signature)
        status = item["status"]
        if previous and previous["status"] in BAD:  # a file of two tables: the worse outcome
            continue
        outcomes[d.signature] = {
            "file": d.relpath,
            "sha256": sha,
            "status": status,
            "table": item.get("table"),
            "rows_accepted": item.get("rows_accepted"),
            "rows_quarantined": item.get("rows_quarantined"),
            **({"error": item["error"]} if item.get("error") else {}),
        }
    return outcomes


def _held_message(settings: Any, feed: str, sha: str) -> str | None:
    """The hold's message when this content is held (not rejected), else None: known without Spark."""
    from qingfeng.ingest.deliveries import find_record

    record = find_record(settings, feed, sha)
    if not record or record.get("rejected"):
        return None
    messages = [e.get("message") for e in record.get("tables", [record]) if e.get("message")]
    return "; ".join(messages) or f"{record.get('file')}: held; qingfeng deliveries accept or reject it"


def announce_task(feed: str, tables: list[str], context: Mapping[str, Any]) -> dict[str, Any]:
    """Emit the feed's table assets for landed files no run has announced yet."""
    from airflow.sdk.exceptions import AirflowSkipException

    from qingfeng.ingest.raw import read_manifests

    settings = dagkit.task_settings()
    path = settings.home.resolve() / "state" / "announced" / f"{feed}.json"
    announced = set(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else set()
    current = {f"{m['table']}|{m['sha256']}": m for m in read_manifests(settings) if m.get("table") in tables}
    new = {k: m for k, m in current.items() if k not in announced}
    if not new:
        raise AirflowSkipException(
            f"every landed file of feed {feed} is announced; nothing new for the cross-match"
        )
    outlet_events = context.get("outlet_events")
    if outlet_events is not None:
        for table in tables:
            names = sorted(m["file"] for m in new.values() if m["table"] == table)
            outlet_events[dagkit.table_asset("standardized", table)].extra = {"feed": feed, "files": names}
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.tmp")
    staged.write_text(json.dumps(sorted(current), ensure_ascii=False), encoding="utf-8")
    os.replace(staged, path)
    return {"feed": feed, "announced": sorted(m["file"] for m in new.values())}


def verdict_task(landed: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """Fail (without retrying: a bad file does not heal) when a file failed, was held or is unknown."""
    from airflow.sdk.exceptions import AirflowFailException

    bad = [f for f in landed.get("files", []) if f["status"] in BAD]
    if bad:
        lines = [f.get("error") or f"{f['file']}: {f['status']}" for f in bad]
        message = f"{len(bad)} file(s) of feed {landed['feed']} did not land:\n  " + "\n  ".join(lines)
        dagkit.FAILURES.append(
            {"dag_id": f"ingest_{landed['feed']}", "task_id": "verdict", "message": message}
        )
        raise AirflowFailException(message)
    counts: dict[str, int] = {}
    for f in landed.get("files", []):
        counts[f["status"]] = counts.get(f["status"], 0) + 1
    return {"feed": landed["feed"], "counts": counts}


def cross_match_task(context: Mapping[str, Any]) -> dict[str, Any]:
    """Resolve, graph, rules and publish on the lake as it is, under the exclusive lake lock."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from qingfeng.pipeline import inputs, stages
    from qingfeng.pipeline.lock import lake_lock
    from qingfeng.pipeline.run import CROSS_MATCH, run_pipeline

    settings = dagkit.task_settings()
    conf = _conf(context)
    dag_run = context.get("dag_run")
    with lake_lock(settings, exclusive=True):
        files = inputs.lake_files(settings)
        if not files:
            raise AirflowSkipException("the lake holds no landed file yet")
        found, source = inputs.as_of_from_data(files, inputs.unbounding_tables(settings))
        if conf.get("as_of"):
            found, source = dt.date.fromisoformat(str(conf["as_of"])), "conf as_of"
        if found is None:
            raise AirflowFailException(
                f"no as-of date: {source}; trigger with conf {{'as_of': 'YYYY-MM-DD'}}"
            )
        as_of = found
        forced = bool(conf.get("as_of") or conf.get("force"))
        if not forced and inputs.fingerprint(files, as_of, settings) == inputs.last_fingerprint(settings):
            raise AirflowSkipException(
                f"nothing changed since the last published run ({len(files)} files, as-of {as_of})"
            )
        trigger = f"airflow {getattr(dag_run, 'dag_id', '?')} {getattr(dag_run, 'run_id', '?')}"
        try:
            outcome = run_pipeline(
                settings, None, as_of, as_of_source=source, trigger=trigger, only=CROSS_MATCH
            )
        except stages.StageError as exc:
            dagkit.raise_for_task(exc, context)
            raise
        _refresh_data_docs(settings)
    publish = outcome.result("publish")
    return {
        "as_of": as_of.isoformat(),
        "as_of_source": source,
        "files": len(files),
        "run_id": publish.summary.get("run_id") if publish else None,
        "stages": {r.stage: round(r.seconds, 1) for r in outcome.results},
    }


def _refresh_data_docs(settings: Any) -> None:
    """The GX Data Docs of the validations the land runs stored; a failure here is only a warning."""
    import logging

    from qingfeng.ingest.expectations import build_docs

    try:
        build_docs(settings, now=True)
    except Exception as exc:  # GX raises many kinds; the clues are already published
        logging.getLogger(__name__).warning("Data Docs not rebuilt: %s", exc)


def monthly_report_task(context: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``qingfeng report monthly`` for the month of the run's as-of date."""
    from qingfeng.pipeline import stages

    settings = dagkit.task_settings()
    as_of = dagkit.as_of_for(context)
    month = f"{as_of:%Y-%m}"
    out_dir = settings.home.resolve() / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"monthly-{month}.json"
    try:
        with stages.stage_errors(settings, "report"):
            from qingfeng.cli import main

            args = ["report", "monthly", "--month", month, "--format", "json", "--out", str(out)]
            args += ["--home", str(settings.home)]
            main.main(args=args, standalone_mode=False)
    except stages.StageError as exc:
        dagkit.raise_for_task(exc, context)
        raise
    return {"month": month, "out": str(out), "notified": _report_ready(settings, month)}


def _report_ready(settings: Any, month: str) -> int:
    """Tell the supervisors and analysts (once per month), and try to send at once. A notification
    problem is logged, never a failed report."""
    import logging

    from qingfeng.notify.jobs import register, run_delivery
    from qingfeng.notify.queue import Policy, safely
    from qingfeng.notify.triggers import monthly_report_ready

    policy = Policy.from_settings(settings)
    try:
        with register(settings) as session:
            queued = safely(
                session, f"report {month}", lambda: monthly_report_ready(session, month, policy=policy)
            )
            session.commit()
            run_delivery(session, settings)
        return queued
    except Exception as exc:
        logging.getLogger("qingfeng.notify").warning("notify: report %s: %r", month, exc)
        return 0


def notify_day(context: Mapping[str, Any]) -> dt.date:
    """The day a notification sweep runs for: ``today`` in the run's conf, else the run's logical date
    in Beijing (a scheduled run's is the day it runs; ``airflow dags test notify_deadlines 2026-04-20``
    sweeps 20 April)."""
    conf = _conf(context)
    if conf.get("today"):
        return dt.date.fromisoformat(str(conf["today"]))
    logical = context.get("logical_date")
    if logical is not None:
        return dagkit.local_date(logical)
    from qingfeng.campaigns.periods import beijing_today

    return beijing_today()


def notify_sweep_task(context: Mapping[str, Any]) -> dict[str, Any]:
    """Queue the deadline messages due on the run's day (once: by their dedupe keys)."""
    from qingfeng.notify.jobs import register, run_sweep

    settings = dagkit.task_settings()
    day = notify_day(context)
    with register(settings) as session:
        counts = run_sweep(session, settings, day)
    return {"today": day.isoformat(), **counts}


def notify_deliver_task(context: Mapping[str, Any]) -> dict[str, Any]:
    """Send the pending messages that are due (the sweep's and the actions' since the last run)."""
    from qingfeng.notify.jobs import register, run_delivery

    settings = dagkit.task_settings()
    with register(settings) as session:
        return dict(run_delivery(session, settings))
