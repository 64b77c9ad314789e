"""`make bench` at scale S as a smoke test: the harness runs end to end, in a new JVM and through
a fresh Spark Connect server, and Spark and the DuckDB baseline agree on the keys of S01, S03 and E01.

The two variants' `make bench` run at the same time, each in a home of its own: one alone kept
about 0.7 of the 2 cores busy (small Spark jobs one after another, a JVM's start, the server's
warm-up run), and together they took 617 s where one after the other took 864 s. Their timings
are not asserted, only that they were measured.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class BenchRun:
    home: Path
    process: subprocess.Popen[bytes]

    def wait(self, timeout: float) -> tuple[int, str, str]:
        code = self.process.wait(timeout=timeout)
        return code, *((self.home / f"make.{n}").read_text(errors="replace") for n in ("out", "err"))


def start_bench(home: Path, server: bool) -> BenchRun:
    env = {
        **os.environ,
        "QINGFENG_HOME": str(home),
        "HOUSEHOLDS": "2000",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("SPARK_SERVER", None)
    if server:
        env["SPARK_SERVER"] = "1"
    with (home / "make.out").open("wb") as out, (home / "make.err").open("wb") as err:
        process = subprocess.Popen(
            ["make", "-s", "bench"], cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True
        )
    return BenchRun(home, process)


@pytest.fixture(scope="module")
def bench_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The selected variants' `make bench`, all started at once; killed (JVMs too) if still running at the end."""
    selected = sorted(
        {
            i.callspec.params["server"]
            for i in request.session.items
            if i.originalname == "test_make_bench_at_scale_s"
        }
    )
    runs = {
        server: start_bench(tmp_path_factory.mktemp(f"bench-server-{server}"), server) for server in selected
    }
    yield runs
    for run in runs.values():
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait()


@pytest.mark.slow
@pytest.mark.spark
@pytest.mark.parametrize("server", [False, True], ids=["new-jvm", "spark-server"])
def test_make_bench_at_scale_s(bench_runs: dict[bool, BenchRun], server: bool) -> None:
    tmp_path = bench_runs[server].home
    stem = "bench-h2000-s1-server" if server else "bench-h2000-s1"
    returncode, stdout, stderr = bench_runs[server].wait(timeout=3000)
    assert returncode == 0, stderr[-3000:]
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
    assert "| **end to end** |" in stdout


def test_readme_reports_m_and_l_measured() -> None:
    """The benchmark issue's acceptance: the README's results table has M and L measured, each with
    its end-to-end time, every stage's time and the peak memory."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in readme.split("## Benchmarks", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 11 and cells[0] in {"S", "M", "L"}:
            rows[cells[0]] = cells
    assert set(rows) == {"S", "M", "L"}, rows
    assert rows["M"][1] == "100,000" and rows["L"][1] == "1,000,000"
    for scale in ("M", "L"):
        end_to_end, *stages, peak, _ratio = rows[scale][3:]
        assert re.match(r"\d+ s\b", end_to_end), rows[scale]
        assert all(re.fullmatch(r"[\d.]+ s", s) for s in stages), rows[scale]
        assert re.fullmatch(r"[\d.]+ GiB", peak), rows[scale]
