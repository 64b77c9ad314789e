"""Person mentions: the rows a mention spec (``jobs.resolve.specs``, declared in the feed files) picks out of
a table, their signatures, and how the results go back to the rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from jobs.resolve.normalize import looks_like_company, normalize_name
from jobs.resolve.specs import MentionSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


SIG_COLUMNS = (
    "id",
    "id_raw",
    "id_status",
    "name_norm",
    "household_no",
    "village",
    "town",
    "household_is_hint",
)


def column_or_null(df: DataFrame, name: str | None):
    """``df[name]``, or a NULL string where the table has no such column."""
    return F.col(name) if name and name in df.columns else F.lit(None).cast("string")


def is_person_mention(df: DataFrame, spec: MentionSpec):
    status = F.col(f"{spec.column}_status")
    has_something = F.col(spec.column).isNotNull() | normalize_name(F.col(spec.name_col)).isNotNull()
    if spec.party:
        org = (status == "credit_code") | (
            F.col(spec.column).isNull() & looks_like_company(F.col(spec.name_col))
        )
        return has_something & ~F.coalesce(org, F.lit(False))
    return has_something


def mention_rows(df: DataFrame, spec: MentionSpec, *, hint: bool = False) -> DataFrame:
    """One row per person mention: its location, the signature columns and ``sig_id``."""
    rows = df.filter(is_person_mention(df, spec)).select(
        F.lit(spec.table).alias("table"),
        F.lit(spec.column).alias("column"),
        F.col("_file"),
        F.col("_line").cast("long").alias("_line"),
        F.col("_file_sha"),
        F.col(spec.column).alias("id"),
        F.col(f"{spec.column}_raw").alias("id_raw"),
        F.col(f"{spec.column}_status").alias("id_status"),
        F.col(spec.name_col).alias("name"),
        normalize_name(F.col(spec.name_col)).alias("name_norm"),
        column_or_null(df, spec.household_col).alias("household_no"),
        column_or_null(df, spec.village_col).alias("village"),
        column_or_null(df, spec.town_col).alias("town"),
        F.lit(hint).alias("household_is_hint"),
    )
    return with_sig_id(rows)


def with_sig_id(rows: DataFrame) -> DataFrame:
    parts = [F.coalesce(F.col(c).cast("string"), F.lit("\u2400")) for c in SIG_COLUMNS]
    return rows.withColumn("sig_id", F.sha2(F.concat_ws("\u0001", *parts), 256))


def signatures(mentions: DataFrame) -> DataFrame:
    return mentions.select("sig_id", *SIG_COLUMNS).dropDuplicates(["sig_id"])


def attach(df: DataFrame, spec: MentionSpec, mentions: DataFrame, resolved: DataFrame) -> DataFrame:
    """Add the spec's (person, method, score) columns to the table; rows that are no person mention get NULLs."""
    person, method, score = spec.outputs
    located = mentions.join(resolved, "sig_id", "left").select(
        "_file_sha",
        "_line",
        F.col("person_id").alias(person),
        F.coalesce(F.col("method"), F.lit("unresolved")).alias(method),
        F.coalesce(F.col("score"), F.lit(0.0)).alias(score),
    )
    keyed = df.withColumn("_line_key", F.col("_line").cast("long"))
    return keyed.join(
        located.withColumnRenamed("_line", "_line_key"), ["_file_sha", "_line_key"], "left"
    ).drop("_line_key")


def quarantine_rows(spec_mentions: DataFrame, held: DataFrame) -> DataFrame:
    return spec_mentions.join(held, "sig_id").select(
        "table",
        "_file",
        "_line",
        "column",
        F.col("id_raw").alias("raw_id"),
        "name",
        "household_no",
        "reason",
        "candidates",
    )
