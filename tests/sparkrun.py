"""Run pipeline stages in a fresh subprocess and compare the clues two runs left in their lakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
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


DEPTHS = r"""
import datetime as dt, json, sys
from qingfeng.contract import RulesConfig
from jobs.rules.runner import load_tables, run_rule, select_specs
from qingfeng.settings import get_settings
from qingfeng.spark import get_spark


def depth(message):
    deepest = 0
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE and not field.message_type.GetOptions().map_entry:
            for item in value if isinstance(value, (list, tuple)) or hasattr(value, "add") else [value]:
                deepest = max(deepest, 1 + depth(item))
    return deepest


settings = get_settings()
spark = get_spark(settings)
specs = select_specs(None)
tables = load_tables(spark, settings, [t for s in specs for t in s.needs])
config = RulesConfig.load(settings.rules_config)
as_of = dt.date.fromisoformat(sys.argv[1])
depths = {
    s.code: depth(run_rule(s, tables, config=config, as_of=as_of)._plan.plan(spark.client))
    for s in specs
    if all(t in tables for t in s.needs)
}

from jobs.resolve import curated_outputs

resolved = curated_outputs(settings, spark=spark)
depths.update({f"resolve:{name}": depth(df._plan.plan(spark.client)) for name, df in resolved.items()})
print("DEPTHS", json.dumps(depths))
"""


def _script(home: Path, name: str, text: str) -> Path:
    # A script file, not ``python -c``: pyspark.sql.connect exits a ``-c`` process silently ("doctests").
    script = home.parent / f"{name}_{home.name}.py"
    script.write_text(text, encoding="utf-8")
    return script


def _env(home: Path, env_extra: dict[str, str]) -> dict[str, str]:
    env = dict(
        os.environ,
        QINGFENG_HOME=str(home),
        QINGFENG_SPARK_DRIVER_MEMORY="1g",
        QINGFENG_SPARK_SHUFFLE_PARTITIONS="4",
        PYSPARK_PYTHON=sys.executable,
        **env_extra,
    )
    env.setdefault("QINGFENG_SPARK_MASTER", "local[2]")
    return env


def plan_depths(home: Path, as_of: str, **env_extra: str) -> dict[str, int]:
    """How deep each rule's plan, and each curated output of resolve, nests as a Spark Connect
    protobuf message, on ``home``'s lake.

    A Connect client refuses to copy a message nested more than 100 levels (upb's limit), at
    random: only when the copy crosses memory arenas. So the depth is checked, not the luck.
    """
    proc = subprocess.run(
        [sys.executable, str(_script(home, "depths", DEPTHS)), as_of],
        env=_env(home, env_extra),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0 and "DEPTHS" in proc.stdout, (proc.stdout + proc.stderr)[-4000:]
    return json.loads(proc.stdout.split("DEPTHS", 1)[1].splitlines()[0])


def run_stages(home: Path, input_dir: Path, as_of: str, stages: tuple[str, ...], **env_extra: str) -> str:
    """The stages in a new process (this pytest process may already own a local SparkSession)."""
    proc = subprocess.run(
        [sys.executable, str(_script(home, "run_stages", RUN)), str(input_dir), as_of, ",".join(stages)],
        env=_env(home, env_extra),
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


REFERENCE_HOUSEHOLDS, REFERENCE_SEED = 80, 11
ALL_STAGES = ("ingest", "resolve", "graph", "rules")


@dataclass(frozen=True)
class LocalRun:
    """A generated district and every stage of a local-mode run on it (read only: copy what you write)."""

    district: Path
    as_of: str
    home: Path
    stdout: str


def reference_run(root: Path) -> LocalRun:
    """Generate the reference district under ``root`` and run all stages on it in local mode."""
    from qingfeng.synth.generate import synthesize

    district = root / "district"
    as_of = synthesize(district, REFERENCE_HOUSEHOLDS, REFERENCE_SEED, progress=lambda _msg: None)["as_of"]
    home = root / "local"
    return LocalRun(district, as_of, home, run_stages(home, district, as_of, ALL_STAGES))
