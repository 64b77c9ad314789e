"""The kinship and ownership graph: curated → curated/relation and curated/kin.

``build_graph`` is the pure part; ``main`` reads and writes the lake. Definitions: rules.md
"Kinship graph"; decisions: docs/resolution.md.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from qingfeng.settings import Settings

INPUTS = (
    "person",
    "marriage_registration",
    "cadre_relative",
    "cadre",
    "company",
    "company_party",
    "shareholder",
)


def build_graph(tables: Mapping[str, DataFrame], *, kinship_steps: int = 2) -> dict[str, DataFrame]:
    from jobs.kinship.edges import RELATION_COLUMNS, company_edges, family_edges
    from jobs.kinship.reach import adjacency, cadre_starts, kin_reach

    if "person" not in tables:
        raise ValueError("the graph needs curated/person; run `qingfeng resolve` first")
    relation = family_edges(
        tables["person"], tables.get("marriage_registration"), tables.get("cadre_relative")
    )
    if "company_party" in tables and "company" in tables:
        relation = relation.unionByName(
            company_edges(tables["company_party"], tables["company"], tables.get("shareholder"))
        )
    relation = relation.select(*RELATION_COLUMNS).localCheckpoint()
    out = {"relation": relation}
    if "cadre" in tables:
        starts = cadre_starts(tables["cadre"], tables["person"])
        out["kin"] = kin_reach(starts, adjacency(relation), steps=kinship_steps)
    return out


def kinship_steps(settings: Settings) -> int:
    from qingfeng.contract import RulesConfig

    return RulesConfig.load(settings.rules_config).kinship_steps


def main(settings: Settings, *, spark: SparkSession) -> dict[str, Any]:
    from qingfeng import lake

    started = time.monotonic()
    tables = {
        t: lake.read_table(spark, settings, "curated", t)
        for t in INPUTS
        if lake.exists(settings, "curated", t)
    }
    steps = kinship_steps(settings)
    counts = {}
    for name, df in build_graph(tables, kinship_steps=steps).items():
        lake.write_table(df, settings, "curated", name)
        counts[name] = lake.read_table(spark, settings, "curated", name).count()
    return {
        "stage": "graph",
        "kinship_steps": steps,
        "tables": counts,
        "seconds": round(time.monotonic() - started, 1),
    }
