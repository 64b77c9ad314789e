"""Entity resolution: standardized tables → person master, resolved mention tables, company master.

``resolve_tables`` is the pure DataFrame → DataFrame part; ``main`` reads and writes the lake.
The method of every step is explained in docs/resolution.md.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from jobs.resolve.divisions import Divisions
    from jobs.resolve.matching import MatchConfig
    from jobs.resolve.specs import MentionSpec
    from qingfeng.settings import Settings


def resolve_tables(
    tables: Mapping[str, DataFrame],
    *,
    config: MatchConfig,
    mentions: Sequence[MentionSpec],
    divisions: Divisions | None = None,
) -> dict[str, DataFrame]:
    """All curated outputs of the resolve stage, keyed by curated table name. ``mentions``: the
    person mentions the feed files declare (``jobs.resolve.specs.mention_specs``)."""
    from pyspark.sql import functions as F

    from jobs.resolve import company as co
    from jobs.resolve import mentions as mt
    from jobs.resolve.matching import resolve_signatures
    from jobs.resolve.person import person_master, reference

    if "registry_person" not in tables:
        raise ValueError(
            "resolve needs the standardized table registry_person (户籍人口信息); it has not been ingested"
        )
    # towns and villages through the gazetteer first: mentions match on them (docs/resolution.md, "Divisions")
    from jobs.resolve.divisions import normalise_divisions

    tables, division_quarantine = normalise_divisions(tables, divisions=divisions)
    ref = reference(tables["registry_person"]).localCheckpoint()
    specs = [s for s in mentions if s.table in tables and s.hinted_by is None]
    all_mentions = _union_all([mt.mention_rows(tables[s.table], s) for s in specs]).localCheckpoint()
    mention_frames = {
        (s.table, s.column): all_mentions.filter((F.col("table") == s.table) & (F.col("column") == s.column))
        for s in specs
    }
    if ("death_record", "id_no") in mention_frames:  # the dead who left the registry join the reference
        lone = _death_only(mention_frames[("death_record", "id_no")], ref, config, resolve_signatures)
        ref = ref.unionByName(lone).localCheckpoint()
    resolved, held = _resolve([all_mentions], ref, config, resolve_signatures)

    out: dict[str, DataFrame] = {}
    quarantine = [division_quarantine]
    for spec in specs:
        rows = mention_frames[(spec.table, spec.column)]
        out[spec.table] = mt.attach(out.get(spec.table, tables[spec.table]), spec, rows, resolved)
        quarantine.append(mt.quarantine_rows(rows, held))

    for spec in (s for s in mentions if s.table in out and s.hinted_by is not None):
        # second pass (declared relatives): hinted by the household of the person the row's other mention resolved to
        anchor = next(s for s in specs if s.table == spec.table and s.column == spec.hinted_by)
        home = ref.select(
            F.col("person_id").alias(anchor.outputs[0]),
            F.col("household_no").alias("_hh"),
            F.col("village").alias("_village"),
            F.col("town").alias("_town"),
        )
        hinted = out[spec.table].join(home, anchor.outputs[0], "left")
        spec = replace(spec, household_col="_hh", village_col="_village", town_col="_town")
        rows = mt.mention_rows(hinted, spec, hint=True).localCheckpoint()
        hint_resolved, hint_held = _resolve([rows], ref, config, resolve_signatures)
        out[spec.table] = mt.attach(out[spec.table], spec, rows, hint_resolved)
        quarantine.append(mt.quarantine_rows(rows, hint_held))

    out["resolution_quarantine"] = _union_all(quarantine)
    out["person"] = person_master(tables["registry_person"], out.get("death_record"))
    if "company" in out:
        companies = co.company_master(out["company"])
        out["company_party"] = co.company_parties(out["company"], out.get("shareholder"))
        if "project_payment" in tables:
            out["project_payment"] = co.match_company_name(
                tables["project_payment"], "payee_name", companies, out_col="payee_credit_code"
            )
        if "lease_contract" in out:
            out["lease_contract"] = co.match_company_name(
                out["lease_contract"], "lessee_name", companies, out_col="lessee_credit_code"
            )
        out["company_master"] = companies
    for name, df in tables.items():  # tables without person mentions pass through unchanged
        out.setdefault(name, df)
    out.pop("registry_person", None)
    return out


def _resolve(
    frames: list[DataFrame], ref: DataFrame, config: MatchConfig, resolve_signatures
) -> tuple[DataFrame, DataFrame]:
    from jobs.resolve.mentions import signatures

    sigs = signatures(_union_all(frames))
    resolved, held = resolve_signatures(sigs, ref, config=config)
    return resolved.localCheckpoint(), held.localCheckpoint()


def _death_only(deaths: DataFrame, ref: DataFrame, config: MatchConfig, resolve_signatures) -> DataFrame:
    """Reference rows of persons known only from a death record: its well-formed ID is not in the
    registry, and resolving the record against the registry left it without a plausible candidate:
    one scoring ``review_threshold`` or more whose name is the record's, or one edit from it. A record
    with a plausible candidate stays in quarantine with it, for a person to decide.

    The name matters here because the birth date and the ID body are one piece of evidence twice over:
    two people born on one day in one area have IDs two or three digits apart, so a neighbour of
    another name could otherwise score 0.5 and hide the dead (docs/resolution.md)."""
    from pyspark.sql import functions as F

    from jobs.resolve.matching import ID_STATUSES
    from jobs.resolve.normalize import normalize_name
    from jobs.resolve.person import death_only_reference

    _, held = _resolve([deaths], ref, config, resolve_signatures)
    names = deaths.select("sig_id", F.col("name_norm").alias("_record_name")).distinct()

    def plausible(c):
        same_name = F.levenshtein(normalize_name(c["name"]), F.col("_record_name")) <= 1
        return (c["score"] >= F.lit(config.review_threshold)) & same_name

    nobody = (
        held.filter(F.col("reason") == "unresolved")
        .join(names, "sig_id")
        .filter(~F.exists("candidates", plausible))
    )
    lone = (
        deaths.filter(F.col("id_status").isin(*ID_STATUSES) & F.col("id").isNotNull())
        .join(nobody.select("sig_id"), "sig_id", "left_semi")
        .select("id", "name")
    )
    return death_only_reference(lone)


def _union_all(frames: list[DataFrame]) -> DataFrame:
    out = frames[0]
    for df in frames[1:]:
        out = out.unionByName(df)
    return out


def load_match_config(settings: Settings) -> MatchConfig:
    """The optional ``resolution:`` section of config/rules.yml; defaults otherwise."""
    import yaml

    from jobs.resolve.matching import MatchConfig

    data = (
        yaml.safe_load(settings.rules_config.read_text(encoding="utf-8"))
        if settings.rules_config.exists()
        else {}
    )
    return MatchConfig.from_mapping((data or {}).get("resolution"))


CURATED_NAMES = {"company_master": "company"}  # internal name → curated table name


def load_mentions(settings: Settings) -> tuple[tuple[str, ...], tuple[MentionSpec, ...], list[str]]:
    """The standardized tables the feed files land, the person mentions they declare, and the problems
    of the feed files that did not load (their tables are left out of this run: docs/resolution.md)."""
    from jobs.resolve.specs import feed_tables, mention_specs
    from qingfeng.feeds.model import load_feeds

    feeds = load_feeds(settings.feeds_dir)
    return feed_tables(feeds), mention_specs(feeds), [str(p) for p in feeds.problems]


def curated_outputs(settings: Settings, *, spark: SparkSession) -> dict[str, DataFrame]:
    """The curated tables resolve writes, from the lake's standardized tables and the feed files."""
    from jobs.resolve.divisions import Divisions
    from qingfeng import lake

    names, mentions, _ = load_mentions(settings)
    tables = {
        t: lake.read_table(spark, settings, "standardized", t)
        for t in names
        if lake.exists(settings, "standardized", t)
    }
    divisions = Divisions.load(settings.divisions_config)
    outputs = resolve_tables(
        tables, config=load_match_config(settings), mentions=mentions, divisions=divisions
    )
    # curated/company is the company master; the resolved company rows are kept as company_registration.
    if "company_master" in outputs:
        outputs["company_registration"] = outputs.pop("company")
        outputs["company"] = outputs.pop("company_master")
    return outputs


def main(settings: Settings, *, spark: SparkSession) -> dict[str, Any]:
    from qingfeng import lake
    from qingfeng.concurrent import run_all

    started = time.monotonic()
    _, mentions, feed_problems = load_mentions(settings)
    outputs = curated_outputs(settings, spark=spark)

    def land(name: str, df: DataFrame) -> int:
        lake.write_table(df, settings, "curated", name)
        return lake.read_table(spark, settings, "curated", name).count()

    landed = run_all(
        [partial(land, name, df) for name, df in outputs.items()], workers=settings.spark_concurrent_jobs
    )
    counts = dict(zip(outputs, landed, strict=True))
    methods = _method_counts(spark, settings, lake, mentions)
    summary = {
        "stage": "resolve",
        "tables": counts,
        "methods": methods,
        "quarantined": counts.get("resolution_quarantine", 0),
        "seconds": round(time.monotonic() - started, 1),
    }
    if feed_problems:  # a broken feed file: its table is not resolved in this run
        summary["feed_problems"] = feed_problems
    return summary


def _method_counts(
    spark: SparkSession, settings: Settings, lake: Any, mentions: Sequence[MentionSpec]
) -> dict[str, int]:
    from qingfeng.concurrent import run_all

    frames = []
    for spec in mentions:
        table = "company_registration" if spec.table == "company" else spec.table
        if lake.exists(settings, "curated", table):
            frames.append(lake.read_table(spark, settings, "curated", table).groupBy(spec.outputs[1]).count())
    totals: dict[str, int] = {}
    for rows in run_all([df.collect for df in frames], workers=settings.spark_concurrent_jobs):
        for row in rows:
            if row[0] is not None:
                totals[row[0]] = totals.get(row[0], 0) + row[1]
    return totals
