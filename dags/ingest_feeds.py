"""One ingest DAG per feed, generated from ``feeds/*.yml``.

Operators drop a feed's files into ``<home>/inbox/<feed>/``. Each run lands them (idempotently:
a file already in the lake is not landed twice) and emits one Asset per landed table, which
schedules the cross-match DAG.

Only the valid feed files make DAGs: a broken one is left out here (its problems are the import
error of ``feed_errors.py``), so that it cannot take the other feeds' DAGs down with this file.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from qingfeng.feeds.model import FeedSpec, load_feeds
from qingfeng.pipeline import dagkit


def build_ingest_dag(feed: FeedSpec):
    tables = feed.tables
    doc = (
        f"### Ingest {feed.title}\n\n"
        f"Agency: {feed.agency or 'n/a'}. Drop files into `<home>/inbox/{feed.feed}/`.\n\n"
        f"Lands tables: {', '.join(f'`{t}`' for t in tables)}; emits the Asset "
        f"`{dagkit.asset_uri('standardized', '<table>')}` for each. A corrupt file fails the task "
        "with a message naming the file and row. Re-running a run changes nothing.\n\n"
        f"{feed.description or ''}"
    )

    @dag(
        dag_id=f"ingest_{feed.feed}",
        schedule=feed.schedule,
        start_date=pendulum.datetime(2023, 1, 1, tz=dagkit.TIMEZONE),
        catchup=False,
        max_active_runs=1,
        default_args=dagkit.DEFAULT_ARGS,
        tags=[*dagkit.TAGS, "ingest", feed.feed],
        doc_md=doc,
    )
    def ingest_dag() -> None:
        @task(task_id="ingest", outlets=[dagkit.table_asset("standardized", t) for t in tables])
        def ingest(**context) -> dict:
            return dagkit.ingest_task(feed.feed, tables, context)

        ingest()

    return ingest_dag()


for _feed in load_feeds(dagkit.task_settings().feeds_dir):
    globals()[f"ingest_{_feed.feed}"] = build_ingest_dag(_feed)
