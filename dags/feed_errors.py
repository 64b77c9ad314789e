"""Broken feed files, shown as one Airflow import error of this file. It defines no DAG.

Airflow keeps or drops the DAGs of a file as a whole: a DAG file that raises while it is imported
gets an import error and none of its DAGs (Airflow 3's dag-processor parses each file in its own
process). So ``ingest_feeds.py`` and ``cross_match.py`` load the valid feeds only, and never raise
for a broken one, and this file raises, naming every broken feed file with its field and message:
the operator sees it in the UI's "DAG Import Errors" and in ``airflow dags list-import-errors``,
while every other DAG keeps running. Fixing the feed file clears the error at the next parse.
"""

from __future__ import annotations

from qingfeng.feeds.model import FeedFileError, load_feeds
from qingfeng.pipeline import dagkit

_feeds = load_feeds(dagkit.task_settings().feeds_dir, log_problems=False)
if _feeds.problems:
    raise FeedFileError(_feeds.report(), _feeds.problems)
