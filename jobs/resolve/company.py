"""The company master (curated/company, curated/company_party) and name → credit code matching."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import Window
from pyspark.sql import functions as F

from jobs.resolve.normalize import company_name_key

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def company_master(company: DataFrame) -> DataFrame:
    """One row per valid credit code (latest delivered file wins); ``company`` is the curated company table."""
    valid = company.filter(F.col("credit_code").isNotNull() & (F.col("credit_code_status") == "valid"))
    order = Window.partitionBy("credit_code").orderBy(F.col("_file").desc(), F.col("_line").desc())
    return (
        valid.withColumn("_rank", F.row_number().over(order))
        .filter("_rank = 1")
        .select(
            "credit_code",
            "company_name",
            company_name_key(F.col("company_name")).alias("name_norm"),
            F.col("legal_rep_id_person").alias("legal_rep_person"),
            "legal_rep_name",
            "reg_status",
            "_feed",
            "_file",
            F.col("_line").cast("long").alias("_line"),
        )
    )


def company_parties(company: DataFrame, shareholder: DataFrame | None) -> DataFrame:
    """Persons in a role at a company, with the source row. Only resolved persons are parties."""
    reps = company.filter(F.col("legal_rep_id_person").isNotNull()).select(
        "credit_code",
        F.col("legal_rep_id_person").alias("person_id"),
        F.col("legal_rep_name").alias("party_name"),
        F.lit("legal_representative").alias("role"),
        F.lit(None).cast("double").alias("share_pct"),
        "_feed",
        "_file",
        F.col("_line").cast("long").alias("_line"),
    )
    if shareholder is None:
        return reps.dropDuplicates(["credit_code", "person_id", "role"])
    holders = shareholder.filter(
        F.col("shareholder_id_person").isNotNull() & F.col("credit_code").isNotNull()
    ).select(
        "credit_code",
        F.col("shareholder_id_person").alias("person_id"),
        F.col("shareholder_name").alias("party_name"),
        F.lit("shareholder").alias("role"),
        F.col("share_pct").cast("double").alias("share_pct"),
        "_feed",
        "_file",
        F.col("_line").cast("long").alias("_line"),
    )
    return reps.unionByName(holders).dropDuplicates(["credit_code", "person_id", "role"])


def name_to_credit_code(companies: DataFrame) -> DataFrame:
    """(name_norm, credit_code) for names that identify exactly one company; used by rules E07 and A05."""
    unique = (
        companies.groupBy("name_norm")
        .agg(F.collect_set("credit_code").alias("codes"))
        .filter(F.size("codes") == 1)
    )
    return unique.select("name_norm", F.col("codes")[0].alias("credit_code"))


def match_company_name(df: DataFrame, name_col: str, companies: DataFrame, *, out_col: str) -> DataFrame:
    """Add ``out_col``: the credit code whose normalised name equals ``name_col``'s, or NULL (none or ambiguous)."""
    lookup = F.broadcast(
        name_to_credit_code(companies)
        .withColumnRenamed("credit_code", out_col)
        .withColumnRenamed("name_norm", "_name_key")
    )
    return (
        df.withColumn("_name_key", company_name_key(F.col(name_col)))
        .join(lookup, "_name_key", "left")
        .drop("_name_key")
    )
