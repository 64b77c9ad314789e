"""The registry reference and the person master (curated/person).

Persons are the registry's, plus the dead who left it: a checksum-valid ID on a death record that
neither is in the registry nor resolves to anyone in it is a person known only from that record
(``death_only_reference``). A death record is issued against the ID card, and S01/P01 must still
reach such a person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import Window
from pyspark.sql import functions as F

from jobs.resolve.normalize import birth_date_from_id, normalize_name

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

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
        F.lit("registry").alias("known_from"),
    )


def _sex_from_id(person_id: Column) -> Column:
    digit = F.substring(person_id, 17, 1)  # the sequence's last digit: odd for men
    return F.when(digit.rlike("^[13579]$"), "男").when(digit.rlike("^[02468]$"), "女")


def death_only_reference(lone: DataFrame) -> DataFrame:
    """Reference rows for persons known only from a death record.

    ``lone``: death-record mentions (``id``, ``name``) whose well-formed ID the registry does not
    know and that matched nobody in it. No household, village or town: they are unknown, not
    different (docs/resolution.md).
    """
    return (
        lone.groupBy(F.col("id").alias("person_id"))
        .agg(F.min("name").alias("name"))
        .select(
            "person_id",
            "name",
            normalize_name(F.col("name")).alias("name_norm"),
            F.lit(None).cast("string").alias("household_no"),
            F.lit(None).cast("string").alias("village"),
            F.lit(None).cast("string").alias("town"),
            birth_date_from_id(F.col("person_id")).alias("birth_date"),
            _sex_from_id(F.col("person_id")).alias("sex"),
            F.lit(None).cast("string").alias("relation"),
            F.lit("death_record").alias("known_from"),
        )
    )


def person_master(registry: DataFrame, deaths: DataFrame | None) -> DataFrame:
    """curated/person. ``deaths``: resolved death records with ``person_id`` and ``death_date``.

    Date of death is the earlier of the death record and a registry 死亡 row's 变动日期 (any snapshot).
    A person known only from a death record (``resolve_method`` ``id_death_record``) is a row too:
    name and provenance of the earliest record, birth date and sex from the ID, no household.
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
    people = people.withColumn("death_date", death).withColumn("death_source", source).select(*PERSON_COLUMNS)
    if deaths is None or "resolve_method" not in deaths.columns:
        return people
    return people.unionByName(_death_only_persons(deaths))


def _death_only_persons(deaths: DataFrame) -> DataFrame:
    first = F.struct("death_date", "_file", F.col("_line").cast("long").alias("_line"), "name", "_feed")
    rows = (
        deaths.filter((F.col("resolve_method") == "id_death_record") & F.col("death_date").isNotNull())
        .groupBy("person_id")
        .agg(F.min(first).alias("r"))
    )
    none = F.lit(None).cast("string")
    return rows.select(
        "person_id",
        F.col("r.name").alias("name"),
        _sex_from_id(F.col("person_id")).alias("sex"),
        birth_date_from_id(F.col("person_id")).alias("birth_date"),
        none.alias("household_no"),
        none.alias("relation"),
        none.alias("town"),
        none.alias("village"),
        none.alias("status"),
        F.lit(None).cast("date").alias("status_date"),
        F.col("r.death_date").alias("death_date"),
        F.lit("death_record").alias("death_source"),
        normalize_name(F.col("r.name")).alias("name_norm"),
        F.col("r._feed").alias("_feed"),
        F.col("r._file").alias("_file"),
        F.col("r._line").alias("_line"),
    )
