"""The notification DAG: every day, queue the deadline messages (临近, 黄牌, 红牌) and deliver what
is pending (docs/notifications.md)."""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from qingfeng.pipeline import dagkit, tasks

SETTINGS = dagkit.task_settings()

DOC = f"""### Notifications: deadline sweep and delivery

Runs at `{SETTINGS.notify_cron}` (Asia/Shanghai).

1. `sweep`: open dispatches and open campaign task items due within
   {SETTINGS.notify_due_soon_days} day(s), past their deadline (黄牌) or past it by more than
   {SETTINGS.notify_red_after_days} days (红牌) queue one message per recipient and channel. The
   register's dedupe key makes a rerun on the same day queue nothing; yellow turning red is one new
   message. `conf.today` (YYYY-MM-DD) sweeps another day; a manual run sweeps its logical date.
2. `deliver`: sends every pending message that is due (the sweep's, and those the actions queued),
   retrying failures with back-off; a message that fails {SETTINGS.notify_max_attempts} times is
   marked failed. Without a configured channel the messages wait.
"""


@dag(
    dag_id="notify_deadlines",
    schedule=CronTriggerTimetable(SETTINGS.notify_cron, timezone=dagkit.TIMEZONE),
    start_date=pendulum.datetime(2023, 1, 1, tz=dagkit.TIMEZONE),
    catchup=False,
    max_active_runs=1,
    default_args=dagkit.DEFAULT_ARGS,
    tags=[*dagkit.TAGS, "notify"],
    doc_md=DOC,
)
def notify_deadlines() -> None:
    @task(task_id="sweep")
    def sweep(**context) -> dict:
        return tasks.notify_sweep_task(context)

    @task(task_id="deliver")
    def deliver(**context) -> dict:
        return tasks.notify_deliver_task(context)

    sweep() >> deliver()


notify_deadlines()
