"""The bench's peak-memory sampler counts every address space once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

MIB = 2**20

# Holds 256 MiB, then starts short-lived helpers the way the JVM starts Hadoop's `chmod`: each
# child shares this process's memory until it execs (Python's subprocess uses vfork on Linux).
SPAWNER = textwrap.dedent(
    """
    import subprocess
    held = b"x" * (256 * 2**20)
    for _ in range(1500):
        subprocess.run(["true"])
    """
)

# Measured from a fresh process, whose only child is the spawner (pytest's may have a Spark JVM).
MEASURE = textwrap.dedent(
    f"""
    import json, subprocess, sys
    from qingfeng.bench.memory import PeakRss
    with PeakRss(interval=0.001) as peak:
        subprocess.run([sys.executable, "-c", {SPAWNER!r}], check=True)
    print(json.dumps({{"children": peak.peak_children, "anon": peak.peak_anon, "driver": peak.peak_driver}}))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_child_spawning_helpers_is_counted_once() -> None:
    done = subprocess.run([sys.executable, "-c", MEASURE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    peak = json.loads(done.stdout)
    assert peak["children"] >= 256 * MIB  # the spawner is measured (same exe as its parent, other cmdline)
    assert peak["children"] < 400 * MIB  # and not twice, through a helper caught before its exec
    assert peak["anon"] < peak["driver"] + 400 * MIB
