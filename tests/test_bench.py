"""`make bench` at scale S as a smoke test: the harness runs end to end, in a new JVM and through
a fresh Spark Connect server, and Spark and the DuckDB baseline agree on the keys of S01, S03 and E01."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.spark]

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("server", [False, True], ids=["new-jvm", "spark-server"])
def test_make_bench_at_scale_s(tmp_path: Path, server: bool) -> None:
    env = {
        **os.environ,
        "QINGFENG_HOME": str(tmp_path),
        "HOUSEHOLDS": "2000",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("SPARK_SERVER", None)
    if server:
        env["SPARK_SERVER"] = "1"
    stem = "bench-h2000-s1-server" if server else "bench-h2000-s1"
    done = subprocess.run(
        ["make", "-s", "bench"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=3000
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "bench" / "results" / f"{stem}.json").read_text(encoding="utf-8"))
    assert set(result["stages"]) == {"ingest", "resolve", "graph", "rules", "publish"}
    assert all(stage["seconds"] > 0 for stage in result["stages"].values())
    assert all(stage["cpu_seconds"] > 0 for stage in result["stages"].values())
    assert len(result["seconds_per_rule"]) == 24, result["seconds_per_rule"]
    assert result["source_rows"] > 5000
    peak = result["peak_rss_gib"]
    assert peak["jvm_and_children"] > 0.5  # the JVM (or the server's) is sampled, not only the driver
    assert result["spark_server"] is server
    if server:  # the server's first run is the warm-up, timed but not the measured run
        assert result["first_run_seconds"] > 0
    else:
        assert result["first_run_seconds"] is None
    assert 0 < peak["anonymous"] <= peak["total"]
    baseline = result["baseline"]
    assert baseline["same_keys"] == {"S01": True, "S03": True, "E01": True}, baseline
    assert all(n > 0 for n in baseline["clues"].values()), baseline["clues"]
    assert (tmp_path / "bench" / "results" / f"{stem}.md").read_text(encoding="utf-8").startswith("### 2,000")
    assert "| **end to end** |" in done.stdout
