"""One ingest DAG per feed, generated from ``feeds/*.yml``.

Operators (or the agencies' transfer jobs) drop a feed's files into ``<home>/inbox/<feed>/``.
The inbox is a watched asset: the triggerer sees a new complete file within
``inbox_poll_seconds`` once it has not changed for ``inbox_settle_seconds``, and the feed's DAG
runs (the feed's own schedule runs it too, as a catch-up). The run lands the new files, announces
the landed tables (their assets schedule the cross-match) and fails, alerting the operator, if
a file could not land.

Only the valid feed files make DAGs: a broken one is left out here (its problems are the import
error of ``feed_errors.py``), so that it cannot take the other feeds' DAGs down with this file.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from qingfeng.feeds.model import FeedSpec, load_feeds
from qingfeng.pipeline import dagkit, tasks

SETTINGS = dagkit.task_settings()


def build_ingest_dag(feed: FeedSpec):
    tables = feed.tables
    assets = ", ".join(f"`{dagkit.asset_uri('standardized', t)}`" for t in tables)
    doc = (
        f"### Ingest {feed.title}\n\n"
        f"Agency: {feed.agency or 'n/a'}. Drop files into `<home>/inbox/{feed.feed}/` (write them "
        "under a `.part` name and rename when complete, or let them settle).\n\n"
        f"1. `land`: lands the new files (re-deliveries are found by sha256 before Spark starts);\n"
        f"2. `announce`: emits {assets} "
        "for every landed file not announced yet;\n"
        "3. `verdict`: fails, naming file, row and column, when a file did not land (corrupt, "
        "held as a shrinking re-delivery, or unrecognised).\n\n"
        f"{feed.description or ''}"
    )

    @dag(
        dag_id=f"ingest_{feed.feed}",
        schedule=dagkit.ingest_schedule(SETTINGS, feed.feed, feed.schedule),
        start_date=pendulum.datetime(2023, 1, 1, tz=dagkit.TIMEZONE),
        catchup=False,
        max_active_runs=1,
        default_args=dagkit.DEFAULT_ARGS,
        tags=[*dagkit.TAGS, "ingest", feed.feed],
        doc_md=doc,
    )
    def ingest_dag() -> None:
        @task(task_id="land", pool=dagkit.SPARK_POOL)
        def land(**context) -> dict:
            return tasks.land_task(feed.feed, context)

        @task(task_id="announce", outlets=[dagkit.table_asset("standardized", t) for t in tables])
        def announce(landed: dict, **context) -> dict:
            return tasks.announce_task(feed.feed, tables, context)

        @task(task_id="verdict", retries=0)
        def verdict(landed: dict, **context) -> dict:
            return tasks.verdict_task(landed, context)

        landed = land()
        announce(landed)
        verdict(landed)

    return ingest_dag()


for _feed in load_feeds(SETTINGS.feeds_dir):
    globals()[f"ingest_{_feed.feed}"] = build_ingest_dag(_feed)
