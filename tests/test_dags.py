"""The DAG files parse without errors, fast, without heavy imports, and follow the house style."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qingfeng.feeds.model import load_feeds
from qingfeng.settings import PROJECT_ROOT

DAGS = PROJECT_ROOT / "dags"

# Parses dags/ in a fresh interpreter (Airflow's config is read at import) and reports what it saw:
# once per feeds folder given ("-" for the default), so that Airflow's start-up is paid once.
PARSE = r"""
import json, os, sys, time
from airflow.dag_processing.dagbag import DagBag
out = []
for feeds_dir in sys.argv[2:]:
    if feeds_dir == "-":
        os.environ.pop("QINGFENG_FEEDS_DIR", None)
    else:
        os.environ["QINGFENG_FEEDS_DIR"] = feeds_dir
    t0 = time.perf_counter()
    bag = DagBag(dag_folder=sys.argv[1])
    seconds = time.perf_counter() - t0
    per_file = {}
    for stat in bag.dagbag_stats:
        per_file[stat.file] = stat.duration.total_seconds() if hasattr(stat.duration, "total_seconds") else stat.duration
    dags = {}
    for dag_id, dag in bag.dags.items():
        tasks = {}
        for t in dag.tasks:
            tasks[t.task_id] = {"retries": t.retries, "outlets": sorted(a.uri for a in t.outlets),
                                "pool": t.pool, "alerts": t.on_failure_callback is not None}
        def flat(c):
            return [a for o in c.objects for a in flat(o)] if hasattr(c, "objects") else [c] if c else []
        assets = flat(getattr(dag.timetable, "asset_condition", None))
        dags[dag_id] = {
            "doc_md": dag.doc_md or "",
            "tags": sorted(dag.tags),
            "timetable": type(dag.timetable).__name__,
            "cron": getattr(getattr(dag.timetable, "timetable", None), "expression", None),
            "summary": dag.schedule if isinstance(dag.schedule, str) else None,
            "schedule_assets": sorted(a.uri for a in assets),
            "watchers": sorted(w.name for a in assets for w in getattr(a, "watchers", [])),
            "deadline": bool(getattr(dag, "deadline", None)),
            "tasks": tasks,
        }
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("pyspark", "jobs", "great_expectations") or m.startswith(("qingfeng.ingest", "qingfeng.register")))
    out.append({"errors": {str(k): str(v) for k, v in bag.import_errors.items()}, "seconds": seconds,
                "per_file": per_file, "dags": dags, "heavy": heavy})
print(json.dumps(out))
"""

BROKEN_FEED = "subsidy"  # its feed file gets a typo'd key in the broken parse


@pytest.fixture(scope="module")
def parses(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("airflow_parse")
    broken = home / "feeds"
    broken.mkdir()
    for path in (PROJECT_ROOT / "feeds").glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        if path.stem == BROKEN_FEED:
            text = text.replace("    columns:", "    colums:", 1)
        (broken / path.name).write_text(text, encoding="utf-8")
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        QINGFENG_HOME=str(home),
    )
    env.pop("QINGFENG_DAG_RETRIES", None)
    proc = subprocess.run(
        [sys.executable, "-c", PARSE, str(DAGS), "-", str(broken)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    real, with_broken = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"real": real, "broken": with_broken, "broken_dir": broken}


@pytest.fixture(scope="module")
def parsed(parses: dict) -> dict:
    return parses["real"]


def test_dagbag_has_no_import_errors_and_parses_fast(parsed: dict) -> None:
    assert parsed["errors"] == {}
    print(
        f"\nDagBag parse: {parsed['seconds']:.2f}s total; per file: "
        + ", ".join(f"{Path(f).name} {s:.3f}s" for f, s in parsed["per_file"].items())
    )
    # Each file is parsed on every scheduler loop; Airflow's default dagbag_import_timeout is 30 s.
    assert max(parsed["per_file"].values()) < 5.0


def test_dag_files_import_no_spark_or_stage_code(parsed: dict) -> None:
    assert parsed["heavy"] == []


def test_one_ingest_dag_per_feed_on_its_watched_inbox_and_schedule(parsed: dict) -> None:
    from airflow.sdk import CronTriggerTimetable

    feeds = load_feeds(PROJECT_ROOT / "feeds")
    dags = parsed["dags"]
    for feed in feeds:
        dag = dags[f"ingest_{feed.feed}"]
        # a delivered file (the watched inbox asset) or the feed's own schedule runs it
        assert dag["timetable"] == "AssetOrTimeSchedule"
        assert dag["cron"] == CronTriggerTimetable(feed.schedule, timezone="Asia/Shanghai").expression
        assert dag["schedule_assets"] == [f"qingfeng://inbox/{feed.feed}"]
        assert dag["watchers"] == [f"inbox_{feed.feed}"]
        assert set(dag["tasks"]) == {"land", "announce", "verdict"}
        assert dag["tasks"]["land"]["pool"] == "qingfeng_spark"
        outlets = dag["tasks"]["announce"]["outlets"]
        assert outlets == sorted(f"qingfeng://lake/standardized/{t}" for t in feed.tables)
        assert dag["tasks"]["land"]["outlets"] == []
        assert f"inbox/{feed.feed}/" in dag["doc_md"]
    assert {d for d in dags if d.startswith("ingest_")} == {f"ingest_{f.feed}" for f in feeds}


def test_cross_match_is_queued_by_landed_tables_and_nightly(parsed: dict) -> None:
    tables = [t for f in load_feeds(PROJECT_ROOT / "feeds") for t in f.tables]
    dag = parsed["dags"]["cross_match"]
    assert dag["timetable"] == "AssetOrTimeSchedule" and dag["cron"] == "0 2 * * *"
    assert dag["schedule_assets"] == sorted(f"qingfeng://lake/standardized/{t}" for t in tables)
    assert set(dag["tasks"]) == {"wait_for_quiet", "cross_match"}  # few, coarse tasks
    assert dag["tasks"]["cross_match"]["pool"] == "qingfeng_spark"
    assert dag["deadline"]  # a run stuck past cross_match_deadline_minutes alerts the operator


def test_a_broken_feed_file_is_one_import_error_and_every_other_dag_still_loads(parses: dict) -> None:
    bag, real = parses["broken"], parses["real"]
    # one import error, of the file that reports broken feeds, naming the feed file and the field
    assert len(bag["errors"]) == 1, bag["errors"]
    ((path, error),) = bag["errors"].items()
    assert Path(path).name == "feed_errors.py"
    bad_file = parses["broken_dir"] / f"{BROKEN_FEED}.yml"
    assert f"{bad_file}: files.0.colums: unknown key 'colums' (did you mean 'columns'?)" in error
    # the other feeds' ingest DAGs, the cross-match and the report still load, as they were
    good = [f for f in load_feeds(PROJECT_ROOT / "feeds") if f.feed != BROKEN_FEED]
    assert {d for d in bag["dags"] if d.startswith("ingest_")} == {f"ingest_{f.feed}" for f in good}
    assert set(bag["dags"]) == set(real["dags"]) - {f"ingest_{BROKEN_FEED}"}
    for dag_id, dag in bag["dags"].items():
        if dag_id != "cross_match":
            assert dag == real["dags"][dag_id], dag_id
    # the cross-match is scheduled on the good feeds' tables
    lost = {
        f"qingfeng://lake/standardized/{t}"
        for f in load_feeds(PROJECT_ROOT / "feeds")
        if f.feed == BROKEN_FEED
        for t in f.tables
    }
    cross = bag["dags"]["cross_match"]
    assert cross["schedule_assets"] == [
        a for a in real["dags"]["cross_match"]["schedule_assets"] if a not in lost
    ]
    assert cross["tasks"] == real["dags"]["cross_match"]["tasks"]
    assert bag["heavy"] == []


def test_every_dag_has_doc_tags_and_retries(parsed: dict) -> None:
    assert "monthly_report" in parsed["dags"]
    for dag_id, dag in parsed["dags"].items():
        assert len(dag["doc_md"]) > 80, dag_id
        assert "qingfeng" in dag["tags"], dag_id
        # a verdict on bad files does not heal by retrying; everything else retries and alerts
        assert all(t["retries"] >= 1 for n, t in dag["tasks"].items() if n != "verdict"), dag_id
        assert all(t["alerts"] for t in dag["tasks"].values()), dag_id


def test_as_of_rule() -> None:
    import datetime as dt
    from types import SimpleNamespace

    from qingfeng.pipeline.dagkit import as_of_for

    utc = dt.UTC
    # conf wins
    run = SimpleNamespace(conf={"as_of": "2023-12-31"}, run_type="manual", run_after=None)
    assert as_of_for({"dag_run": run, "logical_date": dt.datetime(2024, 5, 1, tzinfo=utc)}) == dt.date(
        2023, 12, 31
    )
    # asset-triggered: the latest as-of stamped by the ingest runs
    events = {
        "a": [SimpleNamespace(extra={"as_of": "2024-02-29"})],
        "b": [SimpleNamespace(extra={"as_of": "2024-03-31"})],
    }
    run = SimpleNamespace(conf={}, run_type="asset_triggered", run_after=dt.datetime(2024, 4, 2, tzinfo=utc))
    assert as_of_for({"dag_run": run, "triggering_asset_events": events, "logical_date": None}) == dt.date(
        2024, 3, 31
    )
    # a scheduled @monthly run at 00:00 Asia/Shanghai on 1 April covers March
    from airflow.sdk.api.datamodels._generated import DagRunType

    start = dt.datetime(2024, 3, 31, 16, 0, tzinfo=utc)  # 2024-04-01 00:00 in Asia/Shanghai
    run = SimpleNamespace(conf={}, run_type=DagRunType.SCHEDULED, run_after=start)
    ctx = {"dag_run": run, "logical_date": start, "data_interval_start": start, "data_interval_end": start}
    assert as_of_for(ctx) == dt.date(2024, 3, 31)
    # a data interval (CronDataIntervalTimetable) ends the day after the as-of
    ctx = {
        "dag_run": run,
        "logical_date": start,
        "data_interval_start": start - dt.timedelta(days=31),
        "data_interval_end": start,
    }
    assert as_of_for(ctx) == dt.date(2024, 3, 31)
    # a manual run's logical date is the as-of
    run = SimpleNamespace(conf={}, run_type=DagRunType.MANUAL, run_after=None)
    day = dt.datetime(2023, 12, 31, tzinfo=utc)
    assert as_of_for(
        {"dag_run": run, "logical_date": day, "data_interval_start": day, "data_interval_end": day}
    ) == dt.date(2023, 12, 31)
