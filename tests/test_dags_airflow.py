"""The DAGs run for real: ``airflow dags test`` with SQLite metadata in a temporary AIRFLOW_HOME."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from qingfeng import airflow_env, lake
from qingfeng.demo import fill_inboxes
from qingfeng.pipeline import dagkit
from qingfeng.settings import Settings, get_settings

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.spark]

SAMPLE = Path(__file__).parent / "fixtures" / "sample"
AS_OF = "2024-01-31"  # the generated district's suggested as-of (district.json)


def _settings(home: Path) -> Settings:
    return get_settings(
        home=home, spark_master="local[2]", spark_shuffle_partitions=4, spark_driver_memory="2g"
    )


def _register(settings: Settings) -> tuple[dict[str, str], list[dict[str, Any]]]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from qingfeng.register.db import make_engine
    from qingfeng.register.models import Clue, PipelineRun

    engine = make_engine(settings.resolved_register_url)
    try:
        with Session(engine) as session:
            clues = {c.fingerprint: c.status for c in session.scalars(select(Clue))}
            runs = [r.counts for r in session.scalars(select(PipelineRun).order_by(PipelineRun.id))]
    finally:
        engine.dispose()
    return clues, runs


def _standardized_rows(settings: Settings) -> dict[str, int]:
    import pyarrow.dataset as ds

    root = settings.zone("standardized")
    return {
        p.name: ds.dataset(str(p), format="parquet", partitioning="hive").count_rows()
        for p in sorted(root.iterdir())
        if not p.name.startswith((".", "_"))
    }


def _totals(counts: dict[str, Any]) -> dict[str, int]:
    """Outcomes summed over rules; the register stores ``counts["publish"]`` per rule."""
    totals: dict[str, int] = {}
    for per_rule in counts["publish"].values():
        for outcome, n in per_rule.items():
            totals[outcome] = totals.get(outcome, 0) + n
    return totals


def _dags_test(settings: Settings, dag_id: str) -> str:
    proc = airflow_env.dags_test(settings, dag_id, AS_OF, conf={"as_of": AS_OF})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def test_pipeline_through_airflow_and_reruns_change_nothing(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    from qingfeng.synth.generate import synthesize

    # a generated district: the shared sample has no planted anomalies, so it yields no clue
    district = tmp_path / "district"
    synthesize(district, 60, 7, progress=lambda _msg: None)
    delivered = fill_inboxes(settings, district)
    plan = [
        {"dag_id": f"ingest_{feed}", "logical_date": AS_OF, "conf": {"as_of": AS_OF}}
        for feed, n in sorted(delivered.items())
        if n
    ]
    assert len(plan) == 11
    results = airflow_env.run_dags(settings, plan, log_path=tmp_path / "ingest.log")
    assert [(r.dag_id, r.state) for r in results] == [(p["dag_id"], "success") for p in plan], results
    landed = _standardized_rows(settings)
    assert landed["subsidy_payment"] > 0 and landed["registry_person"] > 0

    # the acceptance check: `airflow dags test` of the cross-match DAG
    _dags_test(settings, "cross_match")
    clues, runs = _register(settings)
    assert clues, "the cross-match published no clue"
    assert _totals(runs[-1])["new"] == len(clues)

    # re-running the DAG run changes nothing: same clues, none new, none re-opened
    _dags_test(settings, "cross_match")
    again, runs = _register(settings)
    assert again == clues
    totals = _totals(runs[-1])
    assert totals["new"] == 0 and totals["reopened"] == 0 and totals["redetected"] == len(clues)

    # re-running an ingest DAG run changes nothing in the lake
    results = airflow_env.run_dags(
        settings,
        [{"dag_id": "ingest_subsidy", "logical_date": AS_OF, "conf": {"as_of": AS_OF}}],
        log_path=tmp_path / "reingest.log",
    )
    assert results[0].state == "success"
    assert _standardized_rows(settings) == landed


def test_corrupt_input_fails_its_ingest_task_naming_file_and_row(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "home")
    inbox = dagkit.inbox(settings, "subsidy")
    inbox.mkdir(parents=True)
    lines = (SAMPLE / "民生补助发放明细_202301.csv").read_bytes().split(b"\n")
    lines[4] = lines[4][:12] + b"\xff\xff" + lines[4][12:]  # physical line 5: bytes valid in no encoding
    (inbox / "民生补助发放明细_202401.csv").write_bytes(b"\n".join(lines))

    proc = airflow_env.dags_test(settings, "ingest_subsidy", AS_OF, conf={"as_of": AS_OF})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "stage ingest failed" in out
    assert re.search(r"民生补助发放明细_202401\.csv: line 5\b", out), out[-5000:]
    assert not lake.exists(settings, "standardized", "subsidy_payment")

    # the operator replaces the file; the next run lands it
    shutil.copyfile(SAMPLE / "民生补助发放明细_202301.csv", inbox / "民生补助发放明细_202401.csv")
    _dags_test(settings, "ingest_subsidy")
    assert lake.exists(settings, "standardized", "subsidy_payment")
