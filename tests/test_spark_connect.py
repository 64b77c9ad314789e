"""The whole pipeline through a resident Spark Connect server (``qingfeng spark-server``, started
by the project's own code) leaves exactly the clues of a run in local mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sparkrun import clue_rows, plan_depths, run_stages

from qingfeng.settings import get_settings
from qingfeng.spark_server import running_server

pytestmark = [pytest.mark.slow, pytest.mark.spark]

HOUSEHOLDS, SEED = 60, 13
ALL_STAGES = ("ingest", "resolve", "graph", "rules")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("spark_server")
    settings = get_settings(home=root).model_copy(
        update={"spark_master": "local[2]", "spark_driver_memory": "1g", "spark_shuffle_partitions": 4}
    )
    with running_server(settings, root / "server.log") as url:
        yield url


def test_pipeline_through_spark_connect_equals_local(server: str, tmp_path: Path) -> None:
    from qingfeng.synth.generate import synthesize

    district = tmp_path / "district"
    as_of = synthesize(district, HOUSEHOLDS, SEED, progress=lambda _msg: None)["as_of"]
    local, remote = tmp_path / "local", tmp_path / "remote"

    local_out = run_stages(local, district, as_of, ALL_STAGES)
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
