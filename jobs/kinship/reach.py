"""Kin within k steps of every cadre: a breadth-first search done with Spark joins.

The frontier holds one shortest path per (cadre, person) found at the last step; each step joins it
to the (undirected) family adjacency, drops people already reached, and keeps one path per pair
(the lexicographically smallest, so runs are reproducible). The graph is never collected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import Window
from pyspark.sql import functions as F

from jobs.kinship.vocabulary import BACKWARD, DECLARED_INVERSE, FORWARD

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

KIN_COLUMNS = ("cadre_id", "kin_id", "steps", "path", "path_ids", "path_relationships")


def _mapped(col: Column, mapping: dict[str, str], default: Column) -> Column:
    expr = None
    for key, value in mapping.items():
        expr = F.when(col == key, value) if expr is None else expr.when(col == key, value)
    return expr.otherwise(default) if expr is not None else default


def adjacency(relations: DataFrame) -> DataFrame:
    """Family edges in both directions: (src, dst, dst_name, label)."""
    fam = relations.filter(F.col("schema") == "Family")
    declared = F.regexp_replace("relationship", "^declared:", "")
    is_declared = F.col("relationship").startswith("declared:")
    fwd = fam.select(
        F.col("source").alias("src"),
        F.col("target").alias("dst"),
        F.col("target_name").alias("dst_name"),
        F.when(is_declared, declared)
        .otherwise(_mapped(F.col("relationship"), FORWARD, F.col("relationship")))
        .alias("label"),
    )
    bwd = fam.select(
        F.col("target").alias("src"),
        F.col("source").alias("dst"),
        F.col("source_name").alias("dst_name"),
        F.when(is_declared, _mapped(declared, DECLARED_INVERSE, F.concat(declared, F.lit("(反向)"))))
        .otherwise(_mapped(F.col("relationship"), BACKWARD, F.col("relationship")))
        .alias("label"),
    )
    return fwd.unionByName(bwd).dropDuplicates(["src", "dst", "label"])


def cadre_starts(cadre: DataFrame, person: DataFrame | None = None) -> DataFrame:
    """One start per resolved cadre, labelled ``name(post)`` with the post of the latest term."""
    order = Window.partitionBy("person_id").orderBy(F.col("start_date").desc_nulls_last(), F.col("post"))
    latest = (
        cadre.filter(F.col("person_id").isNotNull())
        .withColumn("_r", F.row_number().over(order))
        .filter("_r = 1")
    )
    if person is not None:
        latest = latest.join(
            person.select("person_id", F.col("name").alias("_reg_name")), "person_id", "left"
        )
        name = F.coalesce("_reg_name", "name")
    else:
        name = F.col("name")
    label = F.when(
        F.col("post").isNotNull(), F.concat(name, F.lit("("), F.col("post"), F.lit(")"))
    ).otherwise(name)
    return latest.select(F.col("person_id").alias("cadre_id"), label.alias("label"))


def kin_reach(starts: DataFrame, adj: DataFrame, *, steps: int) -> DataFrame:
    frontier = starts.select(
        "cadre_id",
        F.col("cadre_id").alias("kin_id"),
        F.lit(0).alias("steps"),
        F.col("label").alias("path"),
        F.array("cadre_id").alias("path_ids"),
        F.array().cast("array<string>").alias("path_relationships"),
    ).localCheckpoint()
    found = [frontier]
    visited = frontier.select("cadre_id", "kin_id")
    for step in range(1, steps + 1):
        nxt = (
            frontier.join(adj, frontier["kin_id"] == adj["src"])
            .select(
                "cadre_id",
                F.col("dst").alias("kin_id"),
                F.lit(step).alias("steps"),
                F.concat("path", F.lit(" —"), "label", F.lit("— "), F.coalesce("dst_name", "dst")).alias(
                    "path"
                ),
                F.concat("path_ids", F.array("dst")).alias("path_ids"),
                F.concat("path_relationships", F.array("label")).alias("path_relationships"),
            )
            .join(visited, ["cadre_id", "kin_id"], "left_anti")
        )
        shortest = Window.partitionBy("cadre_id", "kin_id").orderBy("path", F.array_join("path_ids", ","))
        frontier = (
            nxt.withColumn("_r", F.row_number().over(shortest)).filter("_r = 1").drop("_r").localCheckpoint()
        )
        found.append(frontier)
        visited = visited.unionByName(frontier.select("cadre_id", "kin_id")).localCheckpoint()
    out = found[0]
    for df in found[1:]:
        out = out.unionByName(df)
    return out.select(*KIN_COLUMNS)
