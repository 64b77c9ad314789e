"""What the DAG files in ``dags/`` share: assets, default arguments, the as-of rule, task bodies.

Imported at DAG parse time, so only light modules here (no pyspark, no stage code): the task
bodies import the stages when they run.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from qingfeng.settings import Settings, get_settings

TIMEZONE = "Asia/Shanghai"
TAGS = ["qingfeng"]
# Set QINGFENG_DAG_RETRIES=0 for `airflow dags test` runs (the demo and the tests do), where a
# retry would wait out the retry delay.
RETRIES = int(os.environ.get("QINGFENG_DAG_RETRIES", "2"))
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "qingfeng",
    "retries": RETRIES,
    "retry_delay": dt.timedelta(minutes=5),
}

# Messages of failed stages in this process, for the embedded runner (qingfeng.airflow_env) that
# runs DAGs in-process and shows the operator the message rather than the task log.
FAILURES: list[dict[str, str]] = []


def task_settings() -> Settings:
    """The settings of a task: from the worker's environment (QINGFENG_HOME, QINGFENG_SPARK_MASTER, …)."""
    return get_settings()


def inbox(settings: Settings, feed: str) -> Path:
    """Where operators drop a feed's files: ``<home>/inbox/<feed>/``."""
    return settings.home.resolve() / "inbox" / feed


def asset_uri(zone: str, table: str) -> str:
    return f"qingfeng://lake/{zone}/{table}"


def table_asset(zone: str, table: str) -> Any:
    from airflow.sdk import Asset

    return Asset(name=f"{zone}.{table}", uri=asset_uri(zone, table), group="qingfeng")


def as_of_for(context: Mapping[str, Any]) -> dt.date:
    """The data cut-off date of a DAG run (documented in docs/operations.md).

    1. ``as_of`` in the run's conf (manual and demo runs);
    2. the latest ``as_of`` carried by the asset events that triggered the run (cross-match);
    3. the last day of the run's data interval, when it has one;
    4. for a scheduled (cron) run, the day before its logical date: the ``@monthly`` run of
       1 April (Asia/Shanghai) has the as-of 31 March;
    5. for a manual run, its logical date (``airflow dags test cross_match 2023-12-31``);
    6. the date the run was queued after.
    """
    dag_run = context.get("dag_run")
    conf = (getattr(dag_run, "conf", None) or {}) if dag_run is not None else {}
    if conf.get("as_of"):
        return dt.date.fromisoformat(str(conf["as_of"]))
    stamped = [
        dt.date.fromisoformat(str(event.extra["as_of"]))
        for events in (context.get("triggering_asset_events") or {}).values()
        for event in events
        if (event.extra or {}).get("as_of")
    ]
    if stamped:
        return max(stamped)
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None and end is not None and end > start:
        return _local_date(end) - dt.timedelta(days=1)
    logical = context.get("logical_date")
    if logical is not None:
        # A cron trigger at 00:00 on day D covers the data up to D-1; a manual run's date is the as-of.
        scheduled = str(getattr(getattr(dag_run, "run_type", None), "value", "")) == "scheduled"
        return _local_date(logical) - dt.timedelta(days=1 if scheduled else 0)
    run_after = getattr(dag_run, "run_after", None)
    if run_after is not None:
        return _local_date(run_after)
    raise ValueError("cannot derive the as-of date of this run; trigger it with conf {'as_of': 'YYYY-MM-DD'}")


def _local_date(value: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    if value.tzinfo is None:
        return value.date()
    return value.astimezone(ZoneInfo(TIMEZONE)).date()


def raise_for_task(exc: Exception, context: Mapping[str, Any], *, bad_input: bool = False) -> None:
    """Record a stage failure for the embedded runner, then fail the task with the stage's message.

    Bad input does not heal by retrying, so an ingest failure fails at once; other failures
    (a lost executor, a full disk) go through the DAG's retries.
    """
    from airflow.sdk.exceptions import AirflowFailException

    ti = context.get("ti")
    FAILURES.append(
        {"dag_id": getattr(ti, "dag_id", "?"), "task_id": getattr(ti, "task_id", "?"), "message": str(exc)}
    )
    if bad_input:
        raise AirflowFailException(str(exc)) from None
    raise RuntimeError(str(exc)) from None


def files_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


# ---- task bodies: called from the @task functions, they import the stages only when they run ----


def ingest_task(feed: str, tables: list[str], context: Mapping[str, Any]) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowSkipException

    from qingfeng.pipeline import stages
    from qingfeng.spark import get_spark

    settings = task_settings()
    folder = inbox(settings, feed)
    files = files_in(folder)
    if not files:
        # No delivery: skipping emits no asset event, so the cross-match is not triggered for nothing.
        raise AirflowSkipException(f"no files in {folder}")
    try:
        result = stages.ingest(settings, folder, spark=get_spark(settings), feeds=[feed])
    except stages.StageError as exc:
        raise_for_task(exc, context, bad_input=True)
        raise
    landed = [
        f["file"] for f in result.summary.get("files", []) if f.get("status") in ("ingested", "superseded")
    ]
    if not landed:
        # Every file is already in the lake: nothing changed, so no asset event and no cross-match.
        raise AirflowSkipException(f"all {len(files)} file(s) in {folder} are already in the lake")
    stamp = {"as_of": as_of_for(context).isoformat(), "feed": feed, "files": sorted(set(landed))}
    outlet_events = context.get("outlet_events")
    if outlet_events is not None:
        for table in tables:
            outlet_events[table_asset("standardized", table)].extra = stamp
    return result.as_dict()


def resolve_graph_task(context: Mapping[str, Any]) -> dict[str, Any]:
    from qingfeng.pipeline import stages
    from qingfeng.spark import get_spark

    settings = task_settings()
    spark = get_spark(settings)
    try:
        results = [stages.resolve(settings, spark=spark), stages.graph(settings, spark=spark)]
    except stages.StageError as exc:
        raise_for_task(exc, context)
        raise
    return {r.stage: r.as_dict() for r in results}


def rules_publish_task(upstream: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    from qingfeng.pipeline import stages
    from qingfeng.spark import get_spark

    settings = task_settings()
    spark = get_spark(settings)
    as_of = as_of_for(context)
    dag_run = context.get("dag_run")
    from qingfeng.ingest.raw import read_manifests

    # The cross-match reads everything in the lake, so the run records every landed file.
    files = [
        {k: m.get(k) for k in ("file", "sha256", "feed", "table", "ingested_at")}
        for m in sorted(read_manifests(settings), key=lambda m: (m.get("table") or "", m.get("file") or ""))
    ]
    try:
        rules = stages.rules(settings, spark=spark, as_of=as_of)
        run_info = {
            "as_of": as_of,
            "input_files": files,
            "started_at": dt.datetime.now(dt.UTC),
            "counts": {
                "trigger": f"airflow {getattr(dag_run, 'dag_id', '?')} {getattr(dag_run, 'run_id', '?')}",
                "stages": {**upstream, "rules": rules.as_dict()},
            },
        }
        publish = stages.publish(settings, spark=spark, run_info=run_info)
    except stages.StageError as exc:
        raise_for_task(exc, context)
        raise
    return {"as_of": as_of.isoformat(), "rules": rules.as_dict(), "publish": publish.as_dict()}


def monthly_report_task(context: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``qingfeng report monthly`` for the month of the run's as-of date."""
    from qingfeng.pipeline import stages

    settings = task_settings()
    as_of = as_of_for(context)
    month = f"{as_of:%Y-%m}"
    out_dir = settings.home.resolve() / "reports"
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with stages.stage_errors(settings, "report"):
            from qingfeng.cli import main

            out = out_dir / f"monthly-{month}.json"
            args = ["report", "monthly", "--month", month, "--format", "json", "--out", str(out)]
            args += ["--home", str(settings.home)]
            main.main(args=args, standalone_mode=False)
    except stages.StageError as exc:
        raise_for_task(exc, context)
        raise
    return {"month": month, "out": str(out)}
