"""The whole pipeline through a resident Spark Connect server (``qingfeng spark-server``, started
by the project's own code, ``spark_connect_server`` in conftest.py, which the scheduler's tasks
use too) leaves exactly the clues of a run in local mode (the session's shared local run of a
generated district, ``local_reference`` in conftest.py, which test_cluster compares with too)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sparkrun import ALL_STAGES, LocalRun, clue_rows, plan_depths, run_stages

from qingfeng.settings import get_settings

pytestmark = [pytest.mark.slow, pytest.mark.spark]


def test_pipeline_through_spark_connect_equals_local(
    local_reference: LocalRun, spark_connect_server: str, tmp_path: Path
) -> None:
    server = spark_connect_server
    district, as_of = local_reference.district, local_reference.as_of
    local, remote = local_reference.home, tmp_path / "remote"

    local_out = local_reference.stdout
    remote_out = run_stages(remote, district, as_of, ALL_STAGES, QINGFENG_SPARK_REMOTE=server)
    assert "SESSION pyspark.sql.connect.session" in remote_out
    assert "SESSION pyspark.sql.session" in local_out
    # the same rows accepted and quarantined, file by file (GX validated Connect DataFrames too)
    landed = _landed(remote_out)
    assert landed == _landed(local_out)
    assert sum(accepted for _status, _read, accepted, _quarantined in landed.values()) > 0

    local_clues, remote_clues = clue_rows(local), clue_rows(remote)
    assert local_clues, "the local run found no clue at all: nothing to compare"
    assert remote_clues == local_clues

    # every rule's and resolve output's plan leaves room under the client's 100 levels (checkpoint and write wrap it)
    depths = plan_depths(remote, as_of, QINGFENG_SPARK_REMOTE=server)
    assert len([d for d in depths if not d.startswith("resolve:")]) == 24, depths
    assert max(depths.values()) <= 90, depths


def test_the_server_is_given_the_pipeline_settings(tmp_path: Path) -> None:
    from qingfeng.spark_server import server_command

    settings = get_settings(home=tmp_path).model_copy(update={"spark_shuffle_partitions": 3})
    command = server_command(settings, 15009)
    confs = dict(arg.split("=", 1) for arg in command[command.index("--class") + 2 : -1] if "=" in arg)
    assert command[-1] == "spark-internal"
    assert confs["spark.connect.grpc.binding.port"] == "15009"
    assert confs["spark.sql.shuffle.partitions"] == "3"
    assert confs["spark.sql.session.timeZone"] == "Asia/Shanghai"


def _landed(out: str) -> dict[str, tuple]:
    results = {r["stage"]: r for r in json.loads(out.split("RESULT", 1)[1].splitlines()[0])}
    assert list(results) == list(ALL_STAGES)
    return {
        f["file"]: (f["status"], f["rows_read"], f["rows_accepted"], f["rows_quarantined"])
        for f in results["ingest"]["summary"]["files"]
    }
