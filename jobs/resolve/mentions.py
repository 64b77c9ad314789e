"""Person mentions: which columns of which tables name a person, and how results go back to rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from jobs.resolve.normalize import looks_like_company, normalize_name

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


@dataclass(frozen=True)
class MentionSpec:
    table: str
    column: str
    name_col: str
    household_col: str | None = None
    village_col: str | None = None
    town_col: str | None = None
    party: bool = False  # a party_id column: a credit code or an organisation name is not a person

    @property
    def outputs(self) -> tuple[str, str, str]:
        if self.column == "id_no":
            return "person_id", "resolve_method", "resolve_score"
        return f"{self.column}_person", f"{self.column}_method", f"{self.column}_score"


MENTIONS: tuple[MentionSpec, ...] = (
    MentionSpec("subsidy_payment", "id_no", "name", "household_no", "village", "town"),
    MentionSpec("payroll", "id_no", "name"),
    MentionSpec("site_wage", "id_no", "name"),
    MentionSpec("death_record", "id_no", "name"),
    MentionSpec("cadre", "id_no", "name", None, "village", "town"),
    MentionSpec("cadre_relative", "cadre_id", "cadre_name"),
    MentionSpec("marriage_registration", "husband_id", "husband_name"),
    MentionSpec("marriage_registration", "wife_id", "wife_name"),
    MentionSpec("company", "legal_rep_id", "legal_rep_name"),
    MentionSpec("shareholder", "shareholder_id", "shareholder_name", party=True),
    MentionSpec("asset_holding", "owner_id", "owner_name"),
    MentionSpec("lease_contract", "lessee_id", "lessee_name", None, "village", "town", party=True),
)
# Resolved in a second pass, with the resolved cadre's household and village as a hint.
RELATIVE = MentionSpec("cadre_relative", "relative_id", "relative_name")

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
