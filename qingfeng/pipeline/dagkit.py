"""What the DAG files in ``dags/`` share: assets, the Spark pool, default arguments, the as-of rule.

Imported at DAG parse time, so only light modules here (no pyspark, no stage code); the task
bodies are in :mod:`qingfeng.pipeline.tasks`, which imports the stages when a task runs.
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


def _alert(context: Mapping[str, Any]) -> None:
    """Tell the operator (qingfeng.pipeline.alerts: e-mail, webhook); imported only when a task fails."""
    from qingfeng.pipeline.alerts import on_task_failure

    on_task_failure(context)


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "qingfeng",
    "retries": RETRIES,
    "retry_delay": dt.timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "on_failure_callback": _alert,
}
# Every task that starts or attaches to Spark runs in this pool (`qingfeng airflow setup` sizes it).
SPARK_POOL = "qingfeng_spark"

# Messages of failed stages in this process, for the embedded runner (qingfeng.airflow_env) that
# runs DAGs in-process and shows the operator the message rather than the task log.
FAILURES: list[dict[str, str]] = []


def task_settings() -> Settings:
    """The settings of a task: from the worker's environment (QINGFENG_HOME, QINGFENG_SPARK_MASTER, …)."""
    return get_settings()


def inbox(settings: Settings, feed: str) -> Path:
    """Where operators drop a feed's files: ``<home>/inbox/<feed>/``."""
    return settings.home.resolve() / "inbox" / feed


def spark_pool_slots(settings: Settings) -> int:
    """Spark tasks at once: the setting, else as many drivers as fit in memory beside 2 GiB for the
    rest, and no more than two per core (beyond that they only take turns on the cores)."""
    if settings.spark_pool_slots:
        return settings.spark_pool_slots
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    by_memory = (total - 2 * 2**30) // _bytes(settings.spark_driver_memory)
    return max(1, min(by_memory, 2 * (os.cpu_count() or 1)))


def _bytes(size: str) -> int:
    units = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
    size = size.strip().lower().removesuffix("b")
    return int(float(size[:-1]) * units[size[-1]]) if size[-1] in units else int(size)


def inbox_asset(settings: Settings, feed: str) -> Any:
    """The feed's inbox as an asset, watched in the triggerer: a new complete file is an event."""
    from airflow.sdk import Asset, AssetWatcher

    from qingfeng.pipeline.inbox import ledger_path
    from qingfeng.pipeline.watch import InboxTrigger

    trigger = InboxTrigger(
        feed=feed,
        folder=str(inbox(settings, feed)),
        ledger=str(ledger_path(settings, feed)),
        settle_seconds=settings.inbox_settle_seconds,
        poke_interval=settings.inbox_poll_seconds,
    )
    return Asset(
        name=f"inbox.{feed}",
        uri=f"qingfeng://inbox/{feed}",
        group="qingfeng",
        watchers=[AssetWatcher(name=f"inbox_{feed}", trigger=trigger)],
    )


def ingest_schedule(settings: Settings, feed: str, cron: str | None) -> Any:
    """A delivered file runs the feed's DAG; its cron schedule (if any) runs it too, as a catch-up."""
    if not cron:
        return [inbox_asset(settings, feed)]
    from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable

    return AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(cron, timezone=TIMEZONE), assets=inbox_asset(settings, feed)
    )


def asset_uri(zone: str, table: str) -> str:
    return f"qingfeng://lake/{zone}/{table}"


def table_asset(zone: str, table: str) -> Any:
    from airflow.sdk import Asset

    return Asset(name=f"{zone}.{table}", uri=asset_uri(zone, table), group="qingfeng")


def run_type(context: Mapping[str, Any]) -> str:
    """``manual``, ``scheduled``, ``asset_triggered``… of the task's DAG run ("" when unknown)."""
    value = getattr(context.get("dag_run"), "run_type", "")
    return str(getattr(value, "value", value) or "")


def as_of_for(context: Mapping[str, Any]) -> dt.date:
    """The period a monthly-report run reports on (documented in docs/operations.md).

    1. ``as_of`` in the run's conf (manual and demo runs);
    2. the latest ``as_of`` carried by the asset events that triggered the run;
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
        return local_date(end) - dt.timedelta(days=1)
    logical = context.get("logical_date")
    if logical is not None:
        # A cron trigger at 00:00 on day D covers the data up to D-1; a manual run's date is the as-of.
        scheduled = run_type(context) == "scheduled"
        return local_date(logical) - dt.timedelta(days=1 if scheduled else 0)
    run_after = getattr(dag_run, "run_after", None)
    if run_after is not None:
        return local_date(run_after)
    raise ValueError("cannot derive the as-of date of this run; trigger it with conf {'as_of': 'YYYY-MM-DD'}")


def local_date(value: dt.datetime) -> dt.date:
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
