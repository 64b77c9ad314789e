"""Ingest tasks side by side, as Airflow runs them: separate processes on one home (issue #21). Great
Expectations keeps its state in files under the home; without the cross-process lock one process read
``great_expectations.yml`` or a suite while another rewrote it, and crashed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.spark]
FEEDS = ("death", "marriage")
SAMPLE = Path(__file__).parent / "fixtures" / "sample"


def test_ingest_processes_side_by_side_on_one_home_all_land(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QINGFENG_SPARK_MASTER": "local[1]",
        "QINGFENG_SPARK_DRIVER_MEMORY": "1g",
        "QINGFENG_SPARK_SHUFFLE_PARTITIONS": "2",
    }
    command = [str(Path(sys.executable).parent / "qingfeng"), "ingest", "--input", str(SAMPLE), "--json"]
    running = [
        subprocess.Popen(
            [*command, "--feed", feed, "--home", str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for feed in FEEDS
    ]
    outcomes = [process.communicate(timeout=600) for process in running]
    for feed, process, (out, err) in zip(FEEDS, running, outcomes, strict=True):
        assert process.returncode == 0, (feed, err[-2000:])
        report = json.loads(out)
        statuses = [f["status"] for f in report["files"] if f["status"] != "unrecognised"]  # other feeds'
        assert statuses and set(statuses) == {"ingested"}, (feed, statuses)
    assert (tmp_path / "gx.lock").exists()
