"""The monthly report DAG: the register's monthly clue report for the month that just ended."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from qingfeng.pipeline import dagkit, tasks


@dag(
    dag_id="monthly_report",
    schedule="@monthly",
    start_date=pendulum.datetime(2023, 1, 1, tz=dagkit.TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=dagkit.DEFAULT_ARGS,
    tags=[*dagkit.TAGS, "report"],
    doc_md=(
        "### Monthly report\n\nWrites the register's monthly clue report (`qingfeng report monthly`) "
        "for the month of the run's as-of date (the last day of the data interval: the run for "
        "March is scheduled on 1 April) under `<home>/reports/`."
    ),
)
def monthly_report() -> None:
    @task(task_id="report")
    def report(**context) -> dict:
        return tasks.monthly_report_task(context)

    report()


monthly_report()
