"""Run the rule catalogue: curated tables in, one ``lake/clues`` table out."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.rules.base import REGISTRY, RuleSpec, Tables, finalize
from qingfeng.concurrent import run_all
from qingfeng.contract import RulesConfig

if TYPE_CHECKING:
    from qingfeng.settings import Settings

log = logging.getLogger(__name__)


def load_rule_modules() -> None:
    """Import the rule modules: each registers its rules with ``@rule`` as it loads."""
    from jobs.rules import assets, engineering, payroll, subsidy  # noqa: F401


def select_specs(codes: Iterable[str] | None = None) -> list[RuleSpec]:
    load_rule_modules()
    if codes is None:
        return [REGISTRY[c] for c in sorted(REGISTRY)]
    wanted = [c.upper() for c in codes]
    unknown = [c for c in wanted if c not in REGISTRY]
    if unknown:
        raise KeyError(f"unknown rule code(s) {unknown}; known: {sorted(REGISTRY)}")
    return [REGISTRY[c] for c in wanted]


def run_rule(spec: RuleSpec, tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    missing = [t for t in spec.needs if t not in tables]
    if missing:
        raise KeyError(f"rule {spec.code} needs curated table(s) {missing}")
    return finalize(spec.func(tables, config=config, as_of=as_of), spec, as_of)


def run_rules(
    tables: Tables, *, config: RulesConfig, as_of: dt.date, codes: Iterable[str] | None = None
) -> DataFrame:
    """The union of every selected rule's finalized clues."""
    frames = [run_rule(spec, tables, config=config, as_of=as_of) for spec in select_specs(codes)]
    if not frames:
        raise ValueError("no rules selected")
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out


def load_tables(spark: SparkSession, settings: Settings, needs: Iterable[str]) -> dict[str, DataFrame]:
    """The curated tables named in ``needs`` that exist in the lake (missing ones are left out)."""
    from qingfeng import lake

    tables: dict[str, DataFrame] = {}
    for name in sorted(set(needs)):
        if lake.exists(settings, "curated", name):
            tables[name] = lake.read_table(spark, settings, "curated", name)
    return tables


def main(
    settings: Settings, *, spark: SparkSession, as_of: dt.date, codes: Iterable[str] | None = None
) -> dict[str, Any]:
    """Run the rules on the lake's curated tables and write ``lake/clues``.

    A rule whose curated inputs are missing is skipped and reported (never silently).
    """
    from qingfeng import lake

    config = RulesConfig.load(settings.rules_config)
    specs = select_specs(codes)
    needs = [t for s in specs for t in s.needs]
    tables = load_tables(spark, settings, needs)
    # A curated table read by several rules is scanned once and kept in memory for the run.
    shared = {name: df.persist() for name, df in tables.items() if needs.count(name) > 1}
    # filled up front: concurrent rules would otherwise each scan a table that is not cached yet
    run_all([df.count for df in shared.values()], workers=settings.spark_concurrent_jobs)
    tables = {**tables, **shared}
    seconds: dict[str, float] = {}
    skipped: dict[str, list[str]] = {}
    runnable = []
    for spec in specs:
        missing = [t for t in spec.needs if t not in tables]
        if missing:
            skipped[spec.code] = missing
            log.warning("rule %s skipped: curated table(s) %s missing", spec.code, missing)
        else:
            runnable.append(spec)

    def checkpointed(spec: RuleSpec) -> Callable[[], DataFrame]:
        def run() -> DataFrame:
            start = time.perf_counter()
            clues = run_rule(spec, tables, config=config, as_of=as_of).localCheckpoint(eager=True)
            seconds[spec.code] = round(time.perf_counter() - start, 3)
            return clues

        return run

    try:
        frames = run_all([checkpointed(s) for s in runnable], workers=settings.spark_concurrent_jobs)
        if frames:
            out = frames[0]
            for frame in frames[1:]:
                out = out.unionByName(frame)
        else:
            out = spark.createDataFrame([], empty_clue_schema())
        # one job counts every rule's checkpointed clues (instead of one count job per rule)
        counts = out.groupBy("rule").agg(F.count(F.lit(1)).alias("n")).collect()
        per_rule = {s.code: next((r["n"] for r in counts if r["rule"] == s.code), 0) for s in runnable}
        lake.write_table(out.coalesce(1), settings, "clues", "")
    finally:
        for df in shared.values():
            df.unpersist()
    return {
        "as_of": as_of.isoformat(),
        "clues": sum(per_rule.values()),
        "per_rule": per_rule,
        "seconds_per_rule": dict(sorted(seconds.items())),
        "skipped": skipped,
    }


def empty_clue_schema() -> str:
    evidence = "array<struct<feed:string,table:string,file:string,line:bigint,note:string>>"
    return (
        "rule string, rule_name string, keys map<string,string>, "
        "subjects array<struct<kind:string,id:string,name:string>>, amount decimal(18,2), "
        f"period_start date, period_end date, evidence {evidence}, path string, severity string, "
        "town string, fingerprint string, as_of date"
    )
