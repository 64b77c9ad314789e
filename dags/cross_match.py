"""The cross-match DAG: resolve people and companies, build the kinship graph, run every rule,
publish the clues to the register; once per delivery cycle, on complete inputs.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetAny, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from qingfeng.feeds.model import load_feeds
from qingfeng.pipeline import dagkit, tasks
from qingfeng.pipeline.alerts import deadline_alert
from qingfeng.pipeline.quiet import WaitForQuietLake

SETTINGS = dagkit.task_settings()
FEEDS = list(load_feeds(SETTINGS.feeds_dir))
TABLES = [t for feed in FEEDS for t in feed.tables]

DOC = f"""### Cross-match

Queued when an ingest DAG announces a landed table (the `standardized.*` assets), and every night
at `{SETTINGS.cross_match_cron}` (Asia/Shanghai) as a catch-up.

1. `wait_for_quiet` (deferred in the triggerer, no worker slot held): until no inbox holds a
   file not yet taken, no ingest is running, and none finished in the last
   {SETTINGS.cross_match_quiet_seconds:g} s, so that the files of one delivery are matched together;
2. `cross_match`: under the exclusive lake lock (ingests wait for it), entity resolution, the
   kinship/ownership graph, every rule of the catalogue, publish to the register. Skipped when the
   landed files, the as-of date and the rules configuration are those of the last published run.

As-of date: `conf.as_of` if given; else the earliest of the tables' latest delivered periods (the
data's, never the clock's; recorded with the run). `conf.force` re-runs on unchanged data.
Re-running changes nothing: a clue's identity is its rule and keys. A run not done
{SETTINGS.cross_match_deadline_minutes:g} minutes after it was queued alerts the operator.
"""


@dag(
    dag_id="cross_match",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(SETTINGS.cross_match_cron, timezone=dagkit.TIMEZONE),
        assets=AssetAny(*(dagkit.table_asset("standardized", t) for t in TABLES)),
    ),
    start_date=pendulum.datetime(2023, 1, 1, tz=dagkit.TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=dagkit.DEFAULT_ARGS,
    deadline=deadline_alert(SETTINGS.cross_match_deadline_minutes)
    if SETTINGS.cross_match_deadline_minutes
    else None,
    tags=[*dagkit.TAGS, "cross-match"],
    doc_md=DOC,
)
def cross_match() -> None:
    wait = WaitForQuietLake(
        task_id="wait_for_quiet",
        home=str(SETTINGS.home.resolve()),
        feeds=[f.feed for f in FEEDS],
        quiet_seconds=SETTINGS.cross_match_quiet_seconds,
    )

    @task(task_id="cross_match", pool=dagkit.SPARK_POOL, outlets=[dagkit.table_asset("register", "clues")])
    def match(**context) -> dict:
        return tasks.cross_match_task(context)

    wait >> match()


cross_match()
