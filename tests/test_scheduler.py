"""The pipeline as a service: a real Airflow (api-server, scheduler, dag-processor, triggerer) on
PostgreSQL, fed only by files dropped into the inboxes. Nothing is triggered by hand.

1. A generated district arrives in three batches: the second once the first has landed, while the
   cross-match it queued waits for a quiet lake; the third once a cross-match runs. Every file is
   ingested once, the cross-match runs at most once per batch and only on whole, landed batches,
   and the clues equal those of ``qingfeng run`` on the same files (run meanwhile, in a home of
   its own).
2. Then one feed gets a corrupt file beside a good one, while another feed's file is broken: the
   corrupt file's run fails and alerts the webhook, the good file reaches the register, and every
   other DAG still loads.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflowstack import QINGFENG, AirflowStack, Webhook, stack_env, wait_until
from pg import *  # noqa: F403

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.spark, pytest.mark.postgres]

HOUSEHOLDS, SEED = 60, 7
REGISTRIES = ("户籍人口信息", "婚姻登记信息", "死亡火化信息", "村社干部名册", "企业", "不动产车辆登记")
FIRST_HALF = (*tuple(f"民生补助发放明细_2023{m:02d}" for m in range(1, 7)), "村级工程", "集体资产")


def batches(district: Path) -> list[list[Path]]:
    files = sorted(p for p in district.iterdir() if p.suffix in (".csv", ".xlsx"))
    first = [p for p in files if p.name.startswith(REGISTRIES)]
    second = [p for p in files if p.name.startswith(FIRST_HALF)]
    third = [p for p in files if p not in first and p not in second]
    assert first and second and third and len(first) + len(second) + len(third) == len(files)
    return [first, second, third]


def deliver(home: Path, feeds_dir: Path, files: list[Path]) -> None:
    """As a transfer job does: write under a ``.part`` name, then rename into the feed's inbox."""
    from qingfeng.feeds.model import load_feeds

    feeds = list(load_feeds(feeds_dir))
    for path in files:
        (feed,) = [f.feed for f in feeds if any(s.matches(path.name) for s in f.files)]
        inbox = home / "inbox" / feed
        inbox.mkdir(parents=True, exist_ok=True)
        part = inbox / f"{path.name}.part"
        shutil.copyfile(path, part)
        part.rename(inbox / path.name)


@pytest.fixture(scope="module")
def stack(
    pg_server, spark_connect_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AirflowStack, Webhook]]:
    root = tmp_path_factory.mktemp("scheduler")
    pg_server.create_database("scheduler_airflow")
    register_url = pg_server.create_database("scheduler_register")
    webhook = Webhook()
    # the tasks attach to the session's resident Spark Connect server (conftest.py), as in production
    env = stack_env(
        root,
        pg_host=pg_server.host,
        pg_port=pg_server.port,
        metadata_db="scheduler_airflow",
        register_url=register_url,
        spark_remote=spark_connect_server,
        QINGFENG_INBOX_SETTLE_SECONDS="3",
        QINGFENG_INBOX_POLL_SECONDS="2",
        # deliveries land in well under this, and the batches arrive only when the scheduler
        # has answered the previous one, not after fixed gaps: no longer needed to wait longer
        QINGFENG_CROSS_MATCH_QUIET_SECONDS="10",
        QINGFENG_ALERT_WEBHOOK_URL=webhook.url,
    )
    dsn = {
        "host": pg_server.host,
        "port": pg_server.port,
        "user": "postgres",
        "dbname": "scheduler_airflow",
    }
    airflow = AirflowStack(root, env, dsn)
    try:
        airflow.start()
        yield airflow, webhook
    finally:
        airflow.stop()
        webhook.close()


def no_failed_match(airflow: AirflowStack) -> None:
    """Fail at once, with the task's error, rather than wait out a timeout for a match that failed."""
    airflow.check_alive()
    failed = airflow.query(
        "select run_id from task_instance where dag_id = 'cross_match' and state = 'failed' order by start_date"
    )
    if failed:
        logs = sorted(
            (airflow.home / "airflow" / "logs" / "dag_id=cross_match").glob("*/task_id=cross_match/*.log")
        )
        tail = logs[-1].read_text(errors="replace")[-3000:] if logs else ""
        raise AssertionError(f"cross_match failed in {failed[0][0]}:\n{tail}")


def runs_settled(airflow: AirflowStack) -> bool:
    no_failed_match(airflow)
    (busy,) = airflow.query("select count(*) from dag_run where state in ('queued', 'running')")[0]
    return busy == 0


def land_results(airflow: AirflowStack) -> list[dict[str, Any]]:
    rows = airflow.query("select value from xcom where task_id = 'land' and key = 'return_value'")
    return [v if isinstance(v, dict) else json.loads(v) for (v,) in rows]


def matches(airflow: AirflowStack) -> list[tuple[Any, Any, str]]:
    """The cross-match runs that matched (not skipped as unchanged): start, end, run id."""
    return airflow.query(
        "select start_date, end_date, run_id from task_instance"
        " where dag_id = 'cross_match' and task_id = 'cross_match' and state = 'success' order by start_date"
    )


def land_ends(airflow: AirflowStack) -> dict[str, Any]:
    """When the land task that ingested each file ended."""
    ends = {}
    rows = airflow.query(
        "select t.end_date, x.value from task_instance t join xcom x on x.dag_id = t.dag_id"
        " and x.run_id = t.run_id and x.task_id = t.task_id and x.key = 'return_value' where t.task_id = 'land'"
    )
    for end, value in rows:
        value = value if isinstance(value, dict) else json.loads(value)
        for f in value["files"]:
            if f["status"] == "ingested":
                ends[f["file"]] = end
    return ends


def register_state(url: str) -> tuple[set[str], list[Any]]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from qingfeng.register.db import make_engine
    from qingfeng.register.models import Clue, PipelineRun

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            active = {c.fingerprint for c in session.scalars(select(Clue)) if c.detection_state == "active"}
            runs = list(session.scalars(select(PipelineRun).order_by(PipelineRun.id)))
            session.expunge_all()
    finally:
        engine.dispose()
    return active, runs


def taken(airflow: AirflowStack) -> set[str]:
    """The files a land run has finished with, whatever their outcome."""
    airflow.check_alive()
    return {f["file"] for r in land_results(airflow) for f in r["files"]}


def matching_started(airflow: AirflowStack) -> bool:
    """A cross-match that landed files queued is past its quiet wait: its match task has started."""
    no_failed_match(airflow)
    return bool(
        airflow.query(
            "select 1 from task_instance t join dag_run r on r.dag_id = t.dag_id and r.run_id = t.run_id"
            " where t.dag_id = 'cross_match' and t.task_id = 'cross_match' and t.start_date is not null"
            " and r.run_type = 'asset_triggered'"
        )
    )


def test_deliveries_in_three_batches_are_ingested_once_and_matched_once_per_batch(
    stack: tuple[AirflowStack, Webhook], tmp_path: Path
) -> None:
    from qingfeng.synth.generate import synthesize

    airflow, _ = stack
    district = tmp_path / "district"
    synthesize(district, HOUSEHOLDS, SEED, progress=lambda _msg: None)
    parts = batches(district)
    # `qingfeng run` on the same files, for the comparison at the end: it reads only the district and
    # writes only its own home, so it runs while the scheduler works rather than after it
    env = {**airflow.env, "QINGFENG_HOME": str(tmp_path / "cli")}
    env.pop("QINGFENG_REGISTER_URL")
    cli_log = tmp_path / "cli.log"
    with cli_log.open("wb") as out:
        cli = subprocess.Popen(
            [QINGFENG, "run", "--input", str(district)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        # the catch-up runs Airflow makes when the DAGs first appear find empty inboxes
        wait_until(
            lambda: airflow.query("select count(*) from dag where not is_paused")[0][0] >= 13, 300, "the DAGs"
        )
        wait_until(lambda: runs_settled(airflow), 600, "the first catch-up runs")

        feeds_dir = Path(airflow.env["QINGFENG_FEEDS_DIR"])
        names = {p.name for part in parts for p in part}
        first, second, third = parts
        deliver(airflow.home, feeds_dir, first)
        wait_until(lambda: {p.name for p in first} <= taken(airflow), 600, "the first batch to land")
        # the second batch arrives while the cross-match the first one queued waits for a quiet lake
        deliver(airflow.home, feeds_dir, second)
        wait_until(lambda: matching_started(airflow), 600, "a cross-match to start")
        # the third arrives while a cross-match runs: its ingests wait for the lake lock
        deliver(airflow.home, feeds_dir, third)

        def all_matched() -> bool:
            landed = land_ends(airflow)
            done = matches(airflow)
            return (
                set(landed) == names and done and done[-1][0] > max(landed.values()) and runs_settled(airflow)
            )

        wait_until(all_matched, 1200, "every file landed and a cross-match after the last one")
        cli.wait(timeout=900)
    except BaseException:
        cli.kill()
        cli.wait()
        raise

    # every file was ingested by exactly one land run
    ingested = [f["file"] for r in land_results(airflow) for f in r["files"] if f["status"] == "ingested"]
    assert sorted(ingested) == sorted(names)

    # at most one match per batch, each on whole batches that had all landed before it started
    _, runs = register_state(airflow.env["QINGFENG_REGISTER_URL"])
    done, ends = matches(airflow), land_ends(airflow)
    assert 1 <= len(done) <= len(parts) and len(runs) == len(done)
    for (start, _end, run_id), run in zip(done, runs, strict=True):
        matched = {f["file"] for f in run.input_files}
        assert all(ends[name] < start for name in matched), run_id
        for part in parts:
            batch = {p.name for p in part}
            assert batch <= matched or not batch & matched, f"{run_id} matched part of a batch"
        assert run.counts["as_of_source"].startswith("data:"), run.counts["as_of_source"]
    assert {f["file"] for f in runs[-1].input_files} == names

    # the clues are those of `qingfeng run` on the same files, as-of from the same data
    scheduled, _ = register_state(airflow.env["QINGFENG_REGISTER_URL"])
    assert cli.returncode == 0, cli_log.read_text(errors="replace")[-6000:]
    by_cli, cli_runs = register_state(f"sqlite:///{tmp_path / 'cli' / 'register.db'}")
    assert scheduled and scheduled == by_cli
    assert cli_runs[-1].as_of == runs[-1].as_of


def test_a_corrupt_file_fails_and_alerts_while_its_good_sibling_and_other_feeds_land(
    stack: tuple[AirflowStack, Webhook], tmp_path: Path
) -> None:
    airflow, webhook = stack
    feeds_dir = Path(airflow.env["QINGFENG_FEEDS_DIR"])
    inbox = airflow.home / "inbox" / "subsidy"
    december = (inbox / "民生补助发放明细_202312.csv").read_bytes()
    # another feed's file gets a typo'd key: its DAG goes, with one import error naming it
    marriage = feeds_dir / "marriage.yml"
    marriage.write_text(
        marriage.read_text(encoding="utf-8").replace("columns:", "colums:", 1), encoding="utf-8"
    )
    runs_before = len(register_state(airflow.env["QINGFENG_REGISTER_URL"])[1])

    good = december.decode("gbk").replace("2023-12", "2024-02").replace("202312", "202402").encode("gbk")
    assert good != december
    lines = december.replace(b"2023-12", b"2024-01").split(b"\n")
    lines[4] = lines[4][:12] + b"\xff\xff" + lines[4][12:]  # physical line 5: bytes valid in no encoding
    (tmp_path / "民生补助发放明细_202401.csv").write_bytes(b"\n".join(lines))
    (tmp_path / "民生补助发放明细_202402.csv").write_bytes(good)
    deliver(airflow.home, feeds_dir, sorted(tmp_path.glob("*.csv")))

    def verdict_failed() -> bool:
        rows = airflow.query(
            "select state from task_instance where dag_id = 'ingest_subsidy' and task_id = 'verdict'"
            " and state = 'failed'"
        )
        return bool(rows)

    wait_until(verdict_failed, 600, "the subsidy run's verdict to fail")
    alert = wait_until(
        lambda: [a for a in webhook.received if "ingest_subsidy" in json.dumps(a, ensure_ascii=False)],
        120,
        "the alert at the webhook",
    )[0]
    text = json.dumps(alert, ensure_ascii=False)
    assert "verdict" in text and "民生补助发放明细_202401.csv" in text and "line 5" in text, text

    # the good file reaches the register without any manual step: the cross-match ran on it
    def published() -> list[Any]:
        no_failed_match(airflow)
        runs = register_state(airflow.env["QINGFENG_REGISTER_URL"])[1]
        return [
            r
            for r in runs[runs_before:]
            if "民生补助发放明细_202402.csv" in {f["file"] for f in r.input_files}
        ]

    wait_until(published, 600, "a cross-match including the good file", every=5)
    assert "民生补助发放明细_202401.csv" not in {f["file"] for f in published()[0].input_files}

    # the broken feed file is one import error; every other DAG is still there
    errors = airflow.query("select filename, stacktrace from import_error")
    assert len(errors) == 1 and "feed_errors.py" in errors[0][0], errors
    assert "colums" in errors[0][1] and "marriage.yml" in errors[0][1]
    live = {d for (d,) in airflow.query("select dag_id from dag where not is_stale")}
    assert "ingest_marriage" not in live and {"ingest_subsidy", "cross_match", "monthly_report"} <= live
    others = {f"ingest_{p.stem}" for p in feeds_dir.glob("*.yml")} - {"ingest_marriage"}
    assert {d for d in live if d.startswith("ingest_")} == others


def test_a_registry_cut_to_half_is_held_until_an_operator_accepts_it(
    stack: tuple[AirflowStack, Webhook], tmp_path: Path
) -> None:

    airflow, webhook = stack
    url = airflow.env["QINGFENG_REGISTER_URL"]
    feeds_dir = Path(airflow.env["QINGFENG_FEEDS_DIR"])
    clues_before, runs_before = register_state(url)
    registry = next((airflow.home / "inbox" / "household_registry").glob("户籍人口信息_*.csv"))
    rows_before = _rows(airflow.home, "registry_person")
    lines = registry.read_bytes().splitlines(keepends=True)
    half = tmp_path / registry.name
    half.write_bytes(b"".join(lines[: len(lines) // 2]))  # the same name, half the rows
    alerts_before = len(webhook.received)
    deliver(airflow.home, feeds_dir, [half])

    def verdict_failed() -> list:
        return airflow.query(
            "select run_id from task_instance where dag_id = 'ingest_household_registry'"
            " and task_id = 'verdict' and state = 'failed'"
        )

    (held_run,) = wait_until(verdict_failed, 600, "the registry run's verdict to fail")[0]
    alert = wait_until(lambda: webhook.received[alerts_before:], 120, "the hold's alert")[0]
    text = json.dumps(alert, ensure_ascii=False)
    assert "held" in text and registry.name in text and "deliveries accept" in text, text
    # the lake and the register keep their data; no cross-match ran on the cut file: the held run
    # announced no table, so it queued none (checked at the source, not by waiting a quiet period out)
    wait_until(lambda: runs_settled(airflow), 300, "the runs to settle")
    events = airflow.query(
        "select id from asset_event where source_dag_id = 'ingest_household_registry' and source_run_id = %s",
        held_run,
    )
    assert events == [], events
    assert _rows(airflow.home, "registry_person") == rows_before
    clues_after, runs_after = register_state(url)
    assert clues_after == clues_before and len(runs_after) == len(runs_before)

    # the operator confirms it: it lands, and the watch hands it to the cross-match
    accepted = airflow.qingfeng("deliveries", "accept", registry.name)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert _rows(airflow.home, "registry_person") < rows_before
    sha = hashlib.sha256(half.read_bytes()).hexdigest()

    def matched_on_it() -> list[Any]:
        no_failed_match(airflow)
        runs = register_state(url)[1][len(runs_before) :]
        return [r for r in runs if sha in {f["sha256"] for f in r.input_files}]

    wait_until(matched_on_it, 600, "a cross-match on the accepted registry", every=5)


def _rows(home: Path, table: str) -> int:
    import pyarrow.dataset as ds

    return ds.dataset(
        str(home / "lake" / "standardized" / table), format="parquet", partitioning="hive"
    ).count_rows()
