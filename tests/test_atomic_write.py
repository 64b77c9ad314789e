"""A job killed in the middle of a lake write leaves no partial table visible, and a re-run
completes and cleans up (qingfeng.lake.write_parquet_atomic: temporary folder + rename)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.spark]

WRITER = r"""
import sys
from pathlib import Path
from qingfeng.lake import write_parquet_atomic
from qingfeng.settings import get_settings
from qingfeng.spark import get_spark
from pyspark.sql import functions as F

target, rows, tag = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
spark = get_spark(get_settings(spark_master="local[2]", spark_driver_memory="1g", spark_shuffle_partitions=4))
df = (spark.range(rows, numPartitions=16)
      .withColumn("part", (F.col("id") % 8).cast("int"))
      .withColumn("tag", F.lit(tag))
      .withColumn("payload", F.sha2(F.col("id").cast("string"), 512)))
print("WRITING", flush=True)
write_parquet_atomic(df, target, partition_by=["part"])
print("DONE", flush=True)
"""

SMALL = 20_000
BIG = 40_000_000  # long enough to be killed while Spark writes the task files


def _start(target: Path, rows: int, tag: str, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    # A script file, not ``python -c``: pyspark.sql.connect exits a ``-c`` process silently ("doctests").
    script = log.with_name("writer.py")
    script.write_text(WRITER, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, str(script), str(target), str(rows), tag],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )


def _write(target: Path, rows: int, tag: str, log: Path) -> None:
    proc = _start(target, rows, tag, log)
    assert proc.wait(timeout=600) == 0, log.read_text(errors="replace")[-3000:]
    assert "DONE" in log.read_text(errors="replace")


def _kill_mid_write(target: Path, tag: str, log: Path) -> Path:
    """Start a big write, wait until task files exist in its temporary folder, SIGKILL the job (JVM included)."""
    proc = _start(target, BIG, tag, log)
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            staged = [p for p in target.parent.glob(f".{target.name}.tmp-*") if any(p.rglob("part-*"))]
            if staged:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=60)
                return staged[0]
            assert proc.poll() is None, (
                "the writer finished before it could be killed:\n" + log.read_text(errors="replace")[-3000:]
            )
            time.sleep(0.2)
        pytest.fail("the writer never started writing")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    raise AssertionError("unreachable")


def _read(target: Path) -> tuple[int, set[str], set[int]]:
    import pyarrow.dataset as ds

    table = ds.dataset(str(target), format="parquet", partitioning="hive").to_table(columns=["tag", "part"])
    return table.num_rows, set(table.column("tag").to_pylist()), set(table.column("part").to_pylist())


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith((".", "_")))


def test_killed_write_is_invisible_and_rerun_completes(tmp_path: Path) -> None:
    from qingfeng import lake
    from qingfeng.settings import get_settings

    settings = get_settings(home=tmp_path / "home")
    target = lake.table_path(settings, "standardized", "big_table")
    logs = tmp_path

    # 1. killed during the very first write: readers see no table at all, not half of one
    staged = _kill_mid_write(target, "v1", logs / "kill1.log")
    assert staged.exists() and not target.exists()
    assert not lake.exists(settings, "standardized", "big_table")
    assert _visible(target.parent) == []

    # 2. the re-run completes and removes the killed job's temporary folder
    _write(target, SMALL, "v1", logs / "rerun1.log")
    assert _read(target) == (SMALL, {"v1"}, set(range(8)))
    assert not staged.exists()

    # 3. killed while replacing a table: the previous version stays whole and alone
    staged = _kill_mid_write(target, "v2", logs / "kill2.log")
    assert staged.exists()
    assert _read(target) == (SMALL, {"v1"}, set(range(8)))
    assert _visible(target.parent) == ["big_table"]
    assert sorted(p.name for p in target.iterdir() if p.is_dir()) == [f"part={i}" for i in range(8)]

    # 4. the re-run completes, and nothing of the killed job is left beside the table
    _write(target, SMALL * 2, "v3", logs / "rerun2.log")
    assert _read(target) == (SMALL * 2, {"v3"}, set(range(8)))
    assert [p.name for p in target.parent.iterdir()] == ["big_table"]
