"""The cross-match on a real Spark standalone cluster (a master and two workers on 127.0.0.1,
started with the ``spark-class`` script of the pyspark package) gives exactly the clues of local mode.

The jobs run in subprocesses: this pytest process may already own a local SparkSession. The local
run compared with is the session's shared reference (``local_reference`` in conftest.py), which
test_spark_connect compares with too.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sparkrun import LocalRun, clue_rows, run_stages

from qingfeng.spark_server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.spark]

CROSS_MATCH = ("resolve", "graph", "rules")


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A standalone master and two 1-core, 1 GiB workers; always torn down."""
    root = tmp_path_factory.mktemp("spark_cluster")
    conf_dir = root / "conf"
    conf_dir.mkdir()
    # Cluster settings are configuration, not code: spark-defaults.conf in SPARK_CONF_DIR (docs/operations.md).
    (conf_dir / "spark-defaults.conf").write_text(
        "spark.driver.host 127.0.0.1\n"
        "spark.driver.bindAddress 127.0.0.1\n"
        "spark.executor.memory 512m\n"
        "spark.executor.cores 1\n"
        "spark.cores.max 2\n"
        "spark.master.rest.enabled false\n"
    )
    env = dict(
        os.environ,
        SPARK_HOME=str(_spark_home()),
        SPARK_CONF_DIR=str(conf_dir),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_DAEMON_MEMORY="256m",
        SPARK_LOG_DIR=str(root),
        SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false",
    )
    spark_class = str(_spark_home() / "bin" / "spark-class")
    port = free_port()
    master_url = f"spark://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []

    def start(name: str, args: list[str]) -> None:
        log = root / f"{name}.log"
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [spark_class, *args],
                env=env,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def kill_all() -> None:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)

    # A pytest killed by SIGTERM never reaches the finally below: stop the daemons first.
    previous = signal.getsignal(signal.SIGTERM) or signal.SIG_DFL

    def on_sigterm(signum: int, frame: object) -> None:
        kill_all()
        signal.signal(signal.SIGTERM, previous if callable(previous) else signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
    atexit.register(kill_all)
    try:
        start(
            "master",
            ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
             "--webui-port", str(free_port())],
        )  # fmt: skip
        for i in (1, 2):
            start(
                f"worker{i}",
                ["org.apache.spark.deploy.worker.Worker", master_url, "--host", "127.0.0.1", "--cores", "1",
                 "--memory", "1g", "--webui-port", str(free_port()), "--work-dir", str(root / f"work{i}")],
            )  # fmt: skip
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            registered = [
                log
                for log in logs[1:]
                if "Successfully registered with master" in log.read_text(errors="replace")
            ]
            if len(registered) == 2:
                break
            for proc, log in zip(procs, logs, strict=True):
                assert proc.poll() is None, f"{log.name} exited:\n{log.read_text(errors='replace')[-3000:]}"
            time.sleep(1)
        else:
            pytest.fail("the two workers did not register with the master within 300 s")
        yield {"master": master_url, "conf_dir": str(conf_dir)}
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        signal.signal(signal.SIGTERM, previous)
        atexit.unregister(kill_all)


def test_cross_match_on_standalone_cluster_equals_local(
    local_reference: LocalRun, cluster: dict[str, str], tmp_path: Path
) -> None:
    # the local run's landed tables (the cross-match writes only curated/ and clues/), in a home of its own
    local, remote = local_reference.home, tmp_path / "cluster"
    shutil.copytree(local / "lake" / "standardized", remote / "lake" / "standardized")

    out = run_stages(
        remote,
        local_reference.district,
        local_reference.as_of,
        CROSS_MATCH,
        QINGFENG_SPARK_MASTER=cluster["master"],
        SPARK_CONF_DIR=cluster["conf_dir"],
    )
    assert f"MASTER {cluster['master']}" in out

    local_clues, remote_clues = clue_rows(local), clue_rows(remote)
    assert local_clues, "the local cross-match found no clue at all: nothing to compare"
    assert remote_clues == local_clues
    fingerprints = {json.loads(c)["fingerprint"] for c in local_clues}
    assert len(fingerprints) == len(local_clues)
