"""The registry reference and the person master (curated/person)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import Window
from pyspark.sql import functions as F
from qingfeng.jobs.resolve.normalize import normalize_name

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

PERSON_COLUMNS = (
    "person_id",
    "name",
    "sex",
    "birth_date",
    "household_no",
    "relation",
    "town",
    "village",
    "status",
    "status_date",
    "death_date",
    "death_source",
    "name_norm",
    "_feed",
    "_file",
    "_line",
)


def latest_registry(registry: DataFrame) -> DataFrame:
    """One row per person: the row of the latest snapshot file (file names carry the date), then the last line."""
    valid = registry.filter(F.col("id_no").isNotNull())
    order = Window.partitionBy("id_no").orderBy(F.col("_file").desc(), F.col("_line").desc())
    return valid.withColumn("_rank", F.row_number().over(order)).filter("_rank = 1").drop("_rank")


def reference(registry: DataFrame) -> DataFrame:
    """What mentions are matched against: one row per registered person, with the normalised name."""
    return latest_registry(registry).select(
        F.col("id_no").alias("person_id"),
        "name",
        normalize_name(F.col("name")).alias("name_norm"),
        "household_no",
        "village",
        "town",
        "birth_date",
        "sex",
        "relation",
    )


def person_master(registry: DataFrame, deaths: DataFrame | None) -> DataFrame:
    """curated/person. ``deaths``: resolved death records with ``person_id`` and ``death_date``.

    Date of death is the earlier of the death record and a registry 死亡 row's 变动日期 (any snapshot).
    """
    latest = latest_registry(registry)
    reg_death = (
        registry.filter((F.col("status") == "死亡") & F.col("status_date").isNotNull())
        .groupBy(F.col("id_no").alias("person_id"))
        .agg(F.min("status_date").alias("reg_death"))
    )
    people = latest.select(
        F.col("id_no").alias("person_id"),
        "name",
        "sex",
        "birth_date",
        "household_no",
        "relation",
        "town",
        "village",
        "status",
        "status_date",
        normalize_name(F.col("name")).alias("name_norm"),
        "_feed",
        "_file",
        F.col("_line").cast("long").alias("_line"),
    ).join(reg_death, "person_id", "left")
    if deaths is not None:
        rec = (
            deaths.filter(F.col("person_id").isNotNull())
            .groupBy("person_id")
            .agg(F.min("death_date").alias("rec_death"))
        )
        people = people.join(rec, "person_id", "left")
    else:
        people = people.withColumn("rec_death", F.lit(None).cast("date"))
    death = F.least("rec_death", "reg_death")
    source = (
        F.when(F.col("rec_death").isNull() & F.col("reg_death").isNull(), None)
        .when(F.col("reg_death").isNull() | (F.col("rec_death") < F.col("reg_death")), "death_record")
        .when(F.col("rec_death").isNull() | (F.col("reg_death") < F.col("rec_death")), "registry")
        .otherwise("death_record+registry")
    )
    return people.withColumn("death_date", death).withColumn("death_source", source).select(*PERSON_COLUMNS)
