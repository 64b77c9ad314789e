"""Payroll and wage rules P01–P05 (工资), pure Spark transforms of curated tables into clue rows.

Both wage tables are first brought to one line shape (``wage_lines``). Person rules consider only
lines resolved to a person; the project and account rules (P03, P05) count every line, a worker
being identified by resident ID, else by raw ID and name. The as-of date is the data cut-off:
lines of a month after the as-of month, and deaths after the as-of date, are not known. Lines
without a month are not judged.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.resolve.normalize import normalize_name
from jobs.rules.base import Tables, clue_frame, keys_map, month_key, reused, rule, subject
from jobs.rules.evidence import as_text, collect_evidence, evidence_row, join_text, text, with_note
from qingfeng.contract import RulesConfig

PAYROLL = "payroll"
SITE = "site_wage"


def _known(df: DataFrame, month: str, as_of: dt.date) -> DataFrame:
    return df.where(F.col(month) <= F.trunc(F.lit(as_of), "month"))


def payroll_lines(tables: Tables, as_of: dt.date) -> DataFrame:
    """Payroll lines; an employer is its 单位代码, or its normalised 单位名称 when the code is blank."""
    p = _known(tables[PAYROLL], "pay_month", as_of)
    note = join_text(
        F.col("name"),
        F.col("employer_name"),
        F.col("staff_category"),
        month_key(F.col("pay_month")),
        text("实发 ", as_text("net_pay")),
    )
    return p.select(
        "person_id",
        "name",
        F.col("pay_month").alias("month"),
        F.coalesce(
            F.trim(F.col("employer_code")), F.concat(F.lit("name:"), normalize_name(F.col("employer_name")))
        ).alias("payer"),
        "staff_category",
        F.lit(None).cast("string").alias("account"),
        F.col("gross_pay").alias("gross"),
        F.coalesce(F.col("net_pay"), F.col("gross_pay")).alias("paid"),
        F.lit(PAYROLL).alias("source"),
        evidence_row(PAYROLL, note).alias("_ev"),
        F.concat_ws("|", F.col("_feed"), F.col("_file"), F.col("_line").cast("string")).alias("_pk"),
    )


def site_lines(tables: Tables, as_of: dt.date) -> DataFrame:
    s = _known(tables[SITE], "wage_month", as_of)
    note = join_text(
        F.col("name"),
        F.col("project_no"),
        F.col("contractor_name"),
        month_key(F.col("wage_month")),
        text("应发 ", as_text("gross_wage")),
        text("实发 ", as_text("net_wage")),
    )
    worker = F.coalesce(
        F.col("person_id"),
        F.col("id_no"),
        F.concat(F.lit("raw:"), F.coalesce(F.col("id_no_raw"), F.lit("")), F.lit("/"), F.col("name")),
    )
    return s.select(
        "person_id",
        "name",
        F.col("wage_month").alias("month"),
        F.col("project_no").alias("payer"),
        F.lit(None).cast("string").alias("staff_category"),
        "account",
        F.col("gross_wage").alias("gross"),
        F.coalesce(F.col("net_wage"), F.lit(0)).cast("decimal(18,2)").alias("paid"),
        F.lit(SITE).alias("source"),
        evidence_row(SITE, note).alias("_ev"),
        F.concat_ws("|", F.col("_feed"), F.col("_file"), F.col("_line").cast("string")).alias("_pk"),
        worker.alias("worker"),
    )


def line_clues(
    hits: DataFrame,
    *,
    group: list[str],
    keys: Column,
    subjects: Column,
    amount: Column | None = None,
    support: DataFrame | None = None,
    town: Column | None = None,
) -> tuple[DataFrame, dict[str, Column]]:
    """One clue per ``group`` from qualifying lines (``month``, ``paid``, ``_ev``, ``_pk``).

    ``subjects`` and ``town`` may use ``_name`` (first name) and the group columns.
    """
    hits = reused(hits.dropDuplicates([*group, "_pk"]))
    summary = hits.groupBy(*group).agg(
        F.sum(amount if amount is not None else F.col("paid")).alias("_amount"),
        F.min("month").alias("_start"),
        F.last_day(F.max("month")).alias("_end"),
        F.min("name").alias("_name"),
    )
    ev = hits.select(*group, "_ev", F.col("month").alias("_o"))
    if support is not None:
        ev = ev.unionByName(support.select(*group, "_ev", "_o"))
    joined = summary.join(collect_evidence(ev, group, F.col("_ev"), F.col("_o")), group)
    return joined, dict(
        keys=keys,
        subjects=subjects,
        amount=F.col("_amount"),
        period_start=F.col("_start"),
        period_end=F.col("_end"),
        town=town if town is not None else F.lit(None),
    )


def _person_clues(
    hits: DataFrame, code: str, config: RulesConfig, tables: Tables, support: DataFrame | None = None
) -> DataFrame:
    joined, cols = line_clues(
        hits,
        group=["person_id"],
        keys=keys_map(person=F.col("person_id")),
        subjects=F.lit(None),
        support=support,
    )
    person = tables["person"].select(
        F.col("person_id"), F.col("name").alias("_reg_name"), F.col("town").alias("_reg_town")
    )
    joined = joined.join(person, "person_id", "left")
    cols.update(
        subjects=F.array(
            subject("person", F.col("person_id"), F.coalesce(F.col("_reg_name"), F.col("_name")))
        ),
        town=F.col("_reg_town"),
    )
    return clue_frame(joined, code, config, **cols)


@rule("P01", needs=(PAYROLL, SITE, "person"))
def p01(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """A payroll or site wage line (any 人员类别, 离退休 included: a pension paid after death is the
    same loss) for a month after the month of death. The dead who left the registry count: a
    person known only from a death record is in curated/person, reached through the record's ID,
    or through name and the birth date inside an ID that fails its check (docs/resolution.md)."""
    dead = (
        tables["person"]
        .where(F.col("death_date") <= F.lit(as_of))
        .select(F.col("person_id").alias("_pid"), F.col("death_date"))
    )
    lines = (
        payroll_lines(tables, as_of)
        .unionByName(site_lines(tables, as_of).drop("worker"))
        .where(F.col("person_id").isNotNull())
    )
    hits = lines.join(dead, lines["person_id"] == dead["_pid"]).where(
        F.col("month") > F.trunc("death_date", "month")
    )
    hits = hits.withColumn("_ev", with_note("_ev", text("死亡日期 ", as_text("death_date"))))
    return _person_clues(hits, "P01", config, tables)


def in_service(tables: Tables, config: RulesConfig, as_of: dt.date) -> DataFrame:
    return payroll_lines(tables, as_of).where(
        F.col("person_id").isNotNull() & F.col("staff_category").isin(config.in_service_categories)
    )


@rule("P02", needs=(PAYROLL, "person"))
def p02(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """One person on in-service payroll of ``min_employers`` or more employers in one month
    (employers told apart by 单位代码, else by normalised 单位名称)."""
    min_employers = int(config.section("P02").get("min_employers", 2))
    lines = in_service(tables, config, as_of)
    months = (
        lines.groupBy("person_id", "month")
        .agg(F.countDistinct("payer").alias("_n"))
        .where(F.col("_n") >= min_employers)
    )
    hits = lines.join(months.select("person_id", "month"), ["person_id", "month"])
    return _person_clues(hits, "P02", config, tables)


@rule("P03", needs=(SITE,))
def p03(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """A project with ``min_workers`` or more workers paid below ``paid_ratio`` of gross in each of
    ``consecutive_months`` consecutive months (the workers may differ from month to month).

    A worker's lines of one project and month are summed first (实发 blank counts as 0); months are
    consecutive across a year boundary (2022-12 then 2023-01). Exactly 90% does not fire."""
    cfg = config.section("P03")
    min_workers = int(cfg.get("min_workers", 3))
    ratio = float(cfg.get("paid_ratio", 0.9))
    run_length = int(cfg.get("consecutive_months", 2))
    lines = site_lines(tables, as_of).withColumnRenamed("payer", "project_no")
    per_worker = lines.groupBy("project_no", "month", "worker").agg(
        F.sum("gross").alias("_gross"), F.sum("paid").alias("_paid")
    )
    short = per_worker.where(
        F.col("_gross").isNotNull()
        & (F.col("_paid") < F.col("_gross") * F.lit(str(ratio)).cast("decimal(9,6)"))
    )
    months = (
        short.groupBy("project_no", "month")
        .agg(F.countDistinct("worker").alias("_n"))
        .where(F.col("_n") >= min_workers)
    )
    # gaps-and-islands: consecutive months share (month index - row number)
    index = F.year("month") * 12 + F.month("month")
    months = months.withColumn(
        "_island", index - F.row_number().over(Window.partitionBy("project_no").orderBy("month"))
    )
    runs = months.withColumn("_run", F.count("*").over(Window.partitionBy("project_no", "_island")))
    flagged = runs.where(F.col("_run") >= run_length).select("project_no", "month")
    hits = lines.join(short.select("project_no", "month", "worker"), ["project_no", "month", "worker"]).join(
        flagged, ["project_no", "month"]
    )
    joined, cols = line_clues(
        hits,
        group=["project_no"],
        keys=keys_map(project=F.col("project_no")),
        subjects=F.array(subject("project", F.col("project_no"))),
        amount=F.col("gross") - F.col("paid"),
    )
    return clue_frame(joined, "P03", config, **cols)


@rule("P04", needs=(PAYROLL, SITE, "person"))
def p04(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """A site worker who, in the same month, is on in-service payroll or on another project's wage list."""
    site = site_lines(tables, as_of).where(F.col("person_id").isNotNull()).drop("worker")
    roll = in_service(tables, config, as_of)
    on_payroll = site.join(roll.select("person_id", "month").distinct(), ["person_id", "month"])
    projects = (
        site.groupBy("person_id", "month").agg(F.countDistinct("payer").alias("_n")).where(F.col("_n") >= 2)
    )
    on_two_sites = site.join(projects.select("person_id", "month"), ["person_id", "month"])
    hits = on_payroll.unionByName(on_two_sites)
    support = roll.join(on_payroll.select("person_id", "month").distinct(), ["person_id", "month"]).select(
        "person_id", "_ev", F.col("month").alias("_o")
    )
    return _person_clues(hits, "P04", config, tables, support=support)


@rule("P05", needs=(SITE,))
def p05(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """One account receiving the wages of ``min_workers`` or more workers in one month."""
    min_workers = int(config.section("P05").get("min_workers", 5))
    lines = site_lines(tables, as_of).where(F.col("account").isNotNull())
    months = (
        lines.groupBy("account", "month")
        .agg(F.countDistinct("worker").alias("_n"))
        .where(F.col("_n") >= min_workers)
    )
    hits = lines.join(months.select("account", "month"), ["account", "month"])
    workers = collect_evidence(
        hits.where(F.col("person_id").isNotNull()),
        ["account"],
        subject("person", F.col("person_id"), F.col("name")),
        F.col("person_id"),
    )
    joined, cols = line_clues(
        hits, group=["account"], keys=keys_map(account=F.col("account")), subjects=F.lit(None)
    )
    joined = joined.join(workers.withColumnRenamed("evidence", "_workers"), "account", "left")
    account = F.array(subject("account", F.col("account")))
    cols["subjects"] = F.when(F.col("_workers").isNull(), account).otherwise(
        F.concat(account, F.col("_workers"))
    )
    return clue_frame(joined, "P05", config, **cols)
