"""Run pipeline stages in a fresh subprocess and compare the clues two runs left in their lakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

RUN = r"""
import datetime as dt, json, sys
from pathlib import Path
from qingfeng.pipeline.run import run_pipeline
from qingfeng.settings import get_settings
from qingfeng.spark import get_spark, stop_spark

settings = get_settings()
outcome = run_pipeline(settings, Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2]), only=sys.argv[3].split(","))
spark = get_spark(settings)
print("SESSION", type(spark).__module__)
print("MASTER", settings.spark_remote or spark.sparkContext.master)
print("RESULT", json.dumps([r.as_dict() for r in outcome.results], default=str))
stop_spark()
"""


def run_stages(home: Path, input_dir: Path, as_of: str, stages: tuple[str, ...], **env_extra: str) -> str:
    """The stages in a new process (this pytest process may already own a local SparkSession)."""
    env = dict(
        os.environ,
        QINGFENG_HOME=str(home),
        QINGFENG_SPARK_DRIVER_MEMORY="1g",
        QINGFENG_SPARK_SHUFFLE_PARTITIONS="4",
        PYSPARK_PYTHON=sys.executable,
        **env_extra,
    )
    env.setdefault("QINGFENG_SPARK_MASTER", "local[2]")
    # A script file, not ``python -c``: pyspark.sql.connect exits a ``-c`` process silently ("doctests").
    script = home.parent / f"run_stages_{home.name}.py"
    script.write_text(RUN, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), str(input_dir), as_of, ",".join(stages)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0 and "RESULT" in proc.stdout, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout


def clue_rows(home: Path) -> list[str]:
    """Every clue row as canonical JSON, sorted: identical lists mean identical clues."""
    import pyarrow.dataset as ds

    rows = (
        ds.dataset(str(home / "lake" / "clues"), format="parquet", partitioning="hive").to_table().to_pylist()
    )
    canon = []
    for row in rows:
        if isinstance(row.get("keys"), list):
            row["keys"] = dict(row["keys"])
        for key in ("subjects", "evidence"):
            if isinstance(row.get(key), list):
                row[key] = sorted(row[key], key=lambda x: json.dumps(x, sort_keys=True, default=str))
        canon.append(json.dumps(row, sort_keys=True, default=str, ensure_ascii=False))
    return sorted(canon)
