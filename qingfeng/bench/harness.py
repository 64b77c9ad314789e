"""``qingfeng bench``: generate (once) a district of N households, run the pipeline end to end,
and report wall time, rows per second and peak memory per stage, with the DuckDB floor."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from qingfeng.bench.memory import PeakRss, tree_cpu_seconds
from qingfeng.settings import Settings

STAGES = ("ingest", "resolve", "graph", "rules", "publish")
BASELINE_RULES = ("S01", "S03", "E01")


def district_dir(settings: Settings, households: int, seed: int) -> Path:
    return settings.home.resolve() / "bench" / "districts" / f"h{households}-s{seed}"


def ensure_district(settings: Settings, households: int, seed: int, say=print) -> tuple[Path, dict[str, Any]]:
    """The generated district, cached by size and seed (generated into a temp folder, then renamed)."""
    from qingfeng.synth.generate import synthesize

    target = district_dir(settings, households, seed)
    meta = target / "district.json"
    if not meta.exists():
        staged = target.with_name(f".{target.name}.tmp")
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        started = time.perf_counter()
        synthesize(staged, households, seed, progress=lambda msg: None)
        say(f"generated district h={households} seed={seed} in {time.perf_counter() - started:.1f}s")
        shutil.rmtree(target, ignore_errors=True)
        staged.rename(target)
    return target, json.loads(meta.read_text(encoding="utf-8"))


def _machine() -> dict[str, Any]:
    import psutil

    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _spark_baseline_rules(settings: Settings, spark: Any, as_of: dt.date) -> tuple[float, dict[str, set]]:
    """Spark time for the DuckDB-comparable work: the three rules on the curated tables."""
    from jobs.rules.base import REGISTRY
    from jobs.rules.runner import load_tables, run_rules
    from qingfeng.contract import RulesConfig

    config = RulesConfig.load(settings.rules_config)
    needs = sorted({t for code in BASELINE_RULES for t in REGISTRY[code].needs})
    started = time.perf_counter()
    clues = run_rules(
        load_tables(spark, settings, needs), config=config, as_of=as_of, codes=list(BASELINE_RULES)
    )
    rows = clues.select("rule", "keys").collect()
    seconds = time.perf_counter() - started
    keys: dict[str, set] = {code: set() for code in BASELINE_RULES}
    for row in rows:
        keys[row["rule"]].add(tuple(sorted((k, str(v)) for k, v in row["keys"].items())))
    return seconds, keys


def _rehomed(settings: Settings, home: Path, **update: Any) -> Settings:
    """The settings with another home (the cached ``lake`` path is dropped with the old one)."""
    moved = settings.model_copy(update={"home": home, **update})
    moved.__dict__.pop("lake", None)
    return moved


def _timed_pipeline(
    settings: Settings, inputs: Path, as_of: dt.date, say
) -> tuple[dict[str, float], dict[str, float], float, Any]:
    """Run the pipeline once: wall and CPU seconds per stage, wall seconds in all, and the outcome."""
    from qingfeng.pipeline.run import run_pipeline

    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    marks: dict[str, tuple[float, float]] = {}

    def hook(stage: str, event: str, result: Any) -> None:
        if event == "start":
            marks[stage] = (time.perf_counter(), tree_cpu_seconds())
            say(f"  {stage} …")
        else:
            timings[stage] = time.perf_counter() - marks[stage][0]
            cpu[stage] = round(tree_cpu_seconds() - marks[stage][1], 1)
            say(f"  {stage} {timings[stage]:.1f}s ({cpu[stage]:.0f} CPU s)")

    started = time.perf_counter()
    outcome = run_pipeline(settings, inputs, as_of, hook=hook, trigger="qingfeng bench")
    total = round(time.perf_counter() - started, 2)
    return timings, cpu, total, outcome


def run_bench(
    settings: Settings, households: int, seed: int, say=print, spark_server: bool = False
) -> dict[str, Any]:
    """Time the pipeline on the district; with ``spark_server``, through a fresh Spark Connect server,
    on the server's second run (its first is the warm-up a resident server has long paid)."""
    from qingfeng.bench.duckdb_baseline import run_baseline
    from qingfeng.contract import RulesConfig
    from qingfeng.spark import get_spark, stop_spark
    from qingfeng.spark_server import running_server

    inputs, district = ensure_district(settings, households, seed, say)
    as_of = dt.date.fromisoformat(district["as_of"])
    run_home = settings.home.resolve() / "bench" / "runs" / f"h{households}-s{seed}"
    shutil.rmtree(run_home, ignore_errors=True)
    run_settings = _rehomed(settings, run_home, register_url=None)

    with ExitStack() as stack:
        first_run: float | None = None
        if spark_server:
            url = stack.enter_context(running_server(settings, run_home / "spark-server.log"))
            say(f"Spark Connect server at {url}; first run (warm-up):")
            warm_up = _rehomed(run_settings, run_home / "first", spark_remote=url)
            _, _, first_run, _ = _timed_pipeline(warm_up, inputs, as_of, say)
            stop_spark()
            run_settings = run_settings.model_copy(update={"spark_remote": url})
            say("second run (measured):")
        with PeakRss() as peak:
            timings, cpu, total, outcome = _timed_pipeline(run_settings, inputs, as_of, say)
            spark = get_spark(run_settings)
            spark_rules_s, spark_keys = _spark_baseline_rules(run_settings, spark, as_of)
        stop_spark()  # frees the JVM's memory before DuckDB runs in this process
    graph_s = timings.get("graph", 0.0)
    duck = run_baseline(run_settings.zone("curated"), RulesConfig.load(settings.rules_config))
    ingest, rules = outcome.result("ingest"), outcome.result("rules")
    rows_read = sum(int(f.get("rows_read") or 0) for f in (ingest.summary.get("files", []) if ingest else []))
    agree = {code: spark_keys[code] == duck["keys"][code] for code in BASELINE_RULES}
    spark_side = spark_rules_s + graph_s  # Spark's S03 reads the kin table the graph stage built
    result = {
        "households": households,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "source_rows": rows_read,
        "spark_master": settings.spark_master,
        "spark_server": spark_server,
        "spark_remote": None if spark_server else settings.spark_remote,
        "first_run_seconds": first_run,
        "shuffle_partitions": settings.spark_shuffle_partitions,
        "stages": {
            s: {
                "seconds": round(timings.get(s, 0.0), 2),
                "cpu_seconds": cpu.get(s, 0.0),
                "rows_per_second": round(rows_read / timings[s]) if timings.get(s) else None,
            }
            for s in STAGES
        },
        "end_to_end_seconds": total,
        "seconds_per_rule": (rules.summary.get("seconds_per_rule") if rules else None) or {},
        "peak_rss_gib": {
            "driver": round(peak.peak_driver / 2**30, 2),
            "jvm_and_children": round(peak.peak_children / 2**30, 2),
            "total": round(peak.peak_total / 2**30, 2),
            "anonymous": round(peak.peak_anon / 2**30, 2),
        },
        "baseline": {
            "rules": list(BASELINE_RULES),
            "spark_seconds": round(spark_side, 2),
            "spark_rules_only_seconds": round(spark_rules_s, 2),
            "duckdb_seconds": round(duck["total_seconds"], 2),
            "ratio_spark_to_duckdb": round(spark_side / duck["total_seconds"], 2)
            if duck["total_seconds"]
            else None,
            "same_keys": agree,
            "clues": {code: len(spark_keys[code]) for code in BASELINE_RULES},
        },
        "machine": _machine(),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"### {result['households']:,} households (seed {result['seed']}, {result['source_rows']:,} source rows)",
        "",
        _mode(result),
        "",
        "| stage | seconds | CPU seconds (driver + JVM) | source rows / s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for stage, row in result["stages"].items():
        rps = f"{row['rows_per_second']:,}" if row["rows_per_second"] else "–"
        lines.append(f"| {stage} | {row['seconds']:.1f} | {row.get('cpu_seconds', 0):.0f} | {rps} |")
    b = result["baseline"]
    peak = result["peak_rss_gib"]
    lines += [
        f"| **end to end** | **{result['end_to_end_seconds']:.1f}** | | |",
        "",
        f"Peak RSS: {peak['total']} GiB (driver {peak['driver']}, JVM {peak['jvm_and_children']}; "
        f"anonymous {peak.get('anonymous')}). "
        f"Rules S01+S03+E01: Spark {b['spark_seconds']}s (graph stage + rules), DuckDB {b['duckdb_seconds']}s, "
        f"ratio {b['ratio_spark_to_duckdb']}; same keys: {b['same_keys']}.",
    ]
    return "\n".join(lines) + "\n"


def _mode(result: dict[str, Any]) -> str:
    if result.get("spark_remote"):
        return (
            f"Spark: the running Spark Connect server at {result['spark_remote']} (QINGFENG_SPARK_REMOTE); "
            "whether it was warm is not known."
        )
    if not result.get("spark_server"):
        return "Spark: a new JVM in this process (a cold start, as `qingfeng run` does)."
    return (
        "Spark: a fresh Spark Connect server, measured on its second run; its first run "
        f"(the warm-up a resident server pays once) took {result['first_run_seconds']:.1f}s."
    )


def write_results(settings: Settings, result: dict[str, Any]) -> tuple[Path, Path]:
    out = settings.home.resolve() / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stem = f"bench-h{result['households']}-s{result['seed']}{'-server' if result.get('spark_server') else ''}"
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path.write_text(markdown(result), encoding="utf-8")
    return json_path, md_path
