"""The cross-match DAG: resolve people and companies, build the kinship graph, run every rule,
publish the clues to the register. Scheduled on the standardized-table Assets of the ingest DAGs.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetAny, dag, task

from qingfeng.feeds.model import load_feeds
from qingfeng.pipeline import dagkit

DOC = """### Cross-match

Runs whenever any ingest DAG lands a table (any of the `standardized.*` Assets).

1. `resolve_graph`: entity resolution (`curated/person`, mentions with `person_id`) and the
   kinship/ownership graph (`curated/relation`, `curated/kin`);
2. `rules_publish`: every rule of the catalogue at the run's as-of date, then publish to the register.

As-of date: `conf.as_of` if given, else the latest as-of stamped on the triggering asset events
(an ingest run stamps the last day of its data interval). Re-running a run changes nothing: a clue's
identity is its rule and keys.
"""

TABLES = [t for feed in load_feeds(dagkit.task_settings().feeds_dir) for t in feed.tables]


@dag(
    dag_id="cross_match",
    schedule=AssetAny(*(dagkit.table_asset("standardized", t) for t in TABLES)),
    start_date=pendulum.datetime(2023, 1, 1, tz=dagkit.TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=dagkit.DEFAULT_ARGS,
    tags=[*dagkit.TAGS, "cross-match"],
    doc_md=DOC,
)
def cross_match() -> None:
    @task(task_id="resolve_graph")
    def resolve_graph(**context) -> dict:
        return dagkit.resolve_graph_task(context)

    @task(task_id="rules_publish", outlets=[dagkit.table_asset("register", "clues")])
    def rules_publish(upstream: dict, **context) -> dict:
        return dagkit.rules_publish_task(upstream, context)

    rules_publish(resolve_graph())


cross_match()
