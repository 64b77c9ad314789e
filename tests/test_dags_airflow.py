"""A DAG run by hand (``airflow dags test``, SQLite metadata in a temporary AIRFLOW_HOME), as an
operator retries a feed after replacing its file. The scheduled path, from inbox to register, is
tests/test_scheduler.py; the demo runs every DAG through ``DAG.test()`` (tests/test_pipeline_demo.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qingfeng import airflow_env, lake
from qingfeng.pipeline import dagkit
from qingfeng.settings import Settings, get_settings

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.spark]

SAMPLE = Path(__file__).parent / "fixtures" / "sample"
AS_OF = "2024-01-31"  # the generated district's suggested as-of (district.json)


def _settings(home: Path) -> Settings:
    return get_settings(
        home=home, spark_master="local[2]", spark_shuffle_partitions=4, spark_driver_memory="2g"
    )


def _dags_test(settings: Settings, dag_id: str) -> str:
    proc = airflow_env.dags_test(settings, dag_id, AS_OF, conf={"as_of": AS_OF})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


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
    assert "did not land" in out
    assert re.search(r"民生补助发放明细_202401\.csv: line 5\b", out), out[-5000:]
    assert not lake.exists(settings, "standardized", "subsidy_payment")

    # the operator replaces the file; the next run lands it
    shutil.copyfile(SAMPLE / "民生补助发放明细_202301.csv", inbox / "民生补助发放明细_202401.csv")
    _dags_test(settings, "ingest_subsidy")
    assert lake.exists(settings, "standardized", "subsidy_payment")
