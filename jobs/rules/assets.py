"""Collective asset rules A01–A05 (村集体资产).

A contract is known when it starts on or before the as-of date. Every clue names the contract,
its 村社 and its lessee (a person by resolved ID, or a company by credit code).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.rules.base import Tables, clue_frame, keys_map, rule, subject
from jobs.rules.evidence import as_text, collect_evidence, evidence_item, evidence_of, money, text
from jobs.rules.linkage import (
    cadre_evidence,
    cadre_kin,
    company_key,
    company_people,
    kin_paths,
    kin_people,
    latest_rows,
    match_cadre_kin,
    non_null,
    party_evidence,
    path_text,
    unique_company_names,
    village_subject,
    with_provenance,
)
from qingfeng.contract import RulesConfig

SQM_PER_MU = 2000 / 3  # 1 亩 = 666.67 平方米 (statutory conversion, not a threshold)


def contracts(tables: Tables, as_of: dt.date) -> DataFrame:
    """Known contracts with ``lessee_company`` (credit code: the 承租方证件号码 when it is one, else
    the unique registry company of that name) and ``lc_`` provenance."""
    lease = latest_rows(tables["lease_contract"], ["contract_no"]).where(F.col("start_date") <= F.lit(as_of))
    names = unique_company_names(tables).withColumnRenamed("credit_code", "_by_name")
    keyed = lease.withColumn("_name_key", company_key(F.col("lessee_name")))
    joined = keyed.join(names, keyed["_name_key"] == names["name_key"], "left")
    by_id = F.when(F.col("lessee_id_status") == "credit_code", F.col("lessee_id"))
    person = F.col("lessee_id_person") if "lessee_id_person" in lease.columns else F.lit(None).cast("string")
    out = joined.withColumn("lessee_company", F.coalesce(by_id, F.when(person.isNull(), F.col("_by_name"))))
    out = out.withColumn("lessee_person", F.when(F.col("lessee_company").isNull(), person))
    return with_provenance(out.drop("_name_key", "name_key", "_by_name"), "lc")


def contract_subjects(extra: Column | None = None) -> Column:
    """The contract, its village, and its lessee."""
    base = F.array(
        subject("contract", F.col("contract_no"), F.col("asset_name")),
        village_subject(F.col("town"), F.col("village")),
        F.when(
            F.col("lessee_company").isNotNull(),
            subject("company", F.col("lessee_company"), F.col("lessee_name")),
        ).when(
            F.col("lessee_person").isNotNull(),
            subject("person", F.col("lessee_person"), F.col("lessee_name")),
        ),
    )
    return non_null(F.concat(base, extra) if extra is not None else base)


def _single_contract_clue(
    hits: DataFrame, code: str, config: RulesConfig, note: Column, amount: Column
) -> DataFrame:
    rows = hits.withColumn("evidence", F.array(evidence_of("lc", "lease_contract", note)))
    return clue_frame(
        rows,
        code,
        config,
        keys=keys_map(contract=F.col("contract_no")),
        subjects=contract_subjects(),
        amount=amount,
        period_start=F.col("start_date"),
        period_end=F.col("end_date"),
        town=F.col("town"),
    )


@rule("A01", needs=("lease_contract", "company"))
def a01(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """Annual rent per unit area below `ratio_of_median` × the median of the same 资产类型 among the
    other contracts starting within `peer_window_years` years (before or after) of it. Areas in 亩
    are converted to 平方米 (1 亩 = 2000/3 平方米) so every contract compares in one unit. The
    peer group is the same 镇街 when it has at least `min_town_peers` such contracts, otherwise
    the whole district. The median is exact (Spark ``percentile``, the mean of the two middle
    values for an even count); a rent exactly at the ratio does not fire (compared with a 1e-9
    relative tolerance for floating point). Contracts without a positive area or a unit are not
    judged. Amount: the yearly shortfall against the peer median, (median − own) × area.
    """
    cfg = config.section("A01")
    ratio = float(cfg.get("ratio_of_median", 0.5))
    months = round(float(cfg.get("peer_window_years", 5)) * 12)
    min_town = int(cfg.get("min_town_peers", 5))

    sqm = F.when(F.col("area_unit") == "亩", F.col("area") * F.lit(SQM_PER_MU)).when(
        F.col("area_unit") == "平方米", F.col("area")
    )
    base = (
        contracts(tables, as_of)
        .withColumn("_sqm", sqm)
        .where((F.col("_sqm") > 0) & F.col("asset_type").isNotNull())
        .withColumn("_unit", F.col("annual_rent").cast("double") / F.col("_sqm"))
    )
    peers = base.select(
        F.col("contract_no").alias("p_no"),
        F.col("asset_type").alias("p_type"),
        F.col("town").alias("p_town"),
        F.col("start_date").alias("p_start"),
        F.col("_unit").alias("p_unit"),
    )
    cond = (
        (base["asset_type"] == peers["p_type"])
        & (base["contract_no"] != peers["p_no"])
        & (peers["p_start"] >= F.add_months(base["start_date"], -months))
        & (peers["p_start"] <= F.add_months(base["start_date"], months))
    )
    same_town = F.col("p_town") == F.col("town")
    stats = (
        base.join(peers, cond)
        .groupBy("contract_no")
        .agg(
            F.count(F.when(same_town, 1)).alias("_town_n"),
            F.percentile(F.when(same_town, F.col("p_unit")), 0.5).alias("_town_median"),
            F.count("*").alias("_all_n"),
            F.percentile(F.col("p_unit"), 0.5).alias("_all_median"),
        )
    )
    town_scope = F.col("_town_n") >= min_town
    judged = base.join(stats, "contract_no").select(
        "*",
        F.when(town_scope, F.col("_town_median")).otherwise(F.col("_all_median")).alias("_median"),
        F.when(town_scope, F.col("_town_n")).otherwise(F.col("_all_n")).alias("_peers"),
        F.when(town_scope, F.concat(F.col("town"), F.lit("同类")))
        .otherwise(F.lit("全区同类"))
        .alias("_scope"),
    )
    hits = judged.where(F.col("_unit") < F.col("_median") * F.lit(ratio * (1 - 1e-9)))
    note = text(
        F.col("asset_type"),
        " 年租金 ",
        money("annual_rent"),
        "，面积 ",
        as_text("area"),
        F.col("area_unit"),
        "，单位面积年租金 ",
        money("_unit", 4),
        " 元/平方米，",
        F.col("_scope"),
        " ",
        as_text("_peers"),
        " 份合同中位数 ",
        money("_median", 4),
        f"，低于其 {ratio * 100:g}%",
    )
    shortfall = ((F.col("_median") - F.col("_unit")) * F.col("_sqm")).cast("decimal(18,2)")
    return _single_contract_clue(hits, "A01", config, note, shortfall)


@rule("A02", needs=("lease_contract", "rent_receivable", "company"))
def a02(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """A receivable more than `overdue_days` days past its due date on the as-of date (as-of − due
    > `overdue_days`) that is unpaid or short-paid as of that date: a payment counts only when its
    实收日期 is on or before the as-of date, and short-paid means 实收金额 < 应收金额. A receivable
    paid late but in full before the as-of date is settled and does not fire. One clue per
    contract: amount is the total outstanding; period is the first to the last overdue due date.

    A receivable is one (合同编号, 应收日期). Its rows are taken from the latest-named file that
    lists it (a re-delivered or updated export supersedes the earlier one), and within that file
    several rows are instalments: their 实收金额 (paid by the as-of date) add up against the
    应收金额.
    """
    days = int(config.section("A02").get("overdue_days", 60))
    key = ["contract_no", "due_date"]
    rows = with_provenance(tables["rent_receivable"].where(F.col("contract_no").isNotNull()), "rr")
    rows = rows.withColumn("_newest", F.max("rr_file").over(Window.partitionBy(*key)))
    rows = rows.where(F.col("rr_file").eqNullSafe(F.col("_newest")))
    paid = F.when(
        F.col("paid_date").isNotNull() & (F.col("paid_date") <= F.lit(as_of)),
        F.coalesce(F.col("paid_amount"), F.lit(Decimal(0))),
    ).otherwise(F.lit(Decimal(0)))
    receivable = Window.partitionBy(*key)
    overdue = (
        rows.withColumn("_paid", F.sum(paid).over(receivable).cast("decimal(18,2)"))
        .withColumn("due_amount", F.max("due_amount").over(receivable))
        .withColumn("_owed", (F.col("due_amount") - F.col("_paid")).cast("decimal(18,2)"))
        .where((F.datediff(F.lit(as_of), F.col("due_date")) > days) & (F.col("_owed") > 0))
    )
    paid_text = F.when(F.col("_paid") > 0, text("，实收 ", money("_paid"))).otherwise(F.lit("，未收"))
    late = as_text(F.datediff(F.lit(as_of), F.col("due_date")))
    note = text(
        "应收 ",
        as_text("due_date"),
        " ",
        money("due_amount"),
        paid_text,
        "，截至 ",
        as_of.isoformat(),
        " 逾期 ",
        late,
        " 天",
    )
    evidence = collect_evidence(
        overdue, ["contract_no"], evidence_of("rr", "rent_receivable", note), F.col("due_date")
    )
    totals = (
        overdue.dropDuplicates(key)
        .groupBy("contract_no")
        .agg(
            F.sum("_owed").alias("_owed"), F.min("due_date").alias("_first"), F.max("due_date").alias("_last")
        )
    )
    lease = contracts(tables, dt.date.max).drop("lc_feed", "lc_file", "lc_line")
    out = totals.join(evidence, "contract_no").join(lease, "contract_no", "left")
    return clue_frame(
        out,
        "A02",
        config,
        keys=keys_map(contract=F.col("contract_no")),
        subjects=contract_subjects(),
        amount=F.col("_owed"),
        period_start=F.col("_first"),
        period_end=F.col("_last"),
        town=F.col("town"),
    )


@rule("A03", needs=("lease_contract", "company"))
def a03(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """Term longer than `max_years_land` years for land (`land_types`: 耕地, 林地, 鱼塘) or
    `max_years_building` years for any other asset type. The end date is inclusive: a lease of
    2020-01-01 to 2039-12-31 is exactly 20 years. The term is longer than N years when the lease
    ends after the Nth anniversary of its start (end > start + N years); a lease ending on the
    anniversary itself is tolerated, because contracts write the end date both ways.
    Amount: the annual rent.
    """
    cfg = config.section("A03")
    land = list(cfg.get("land_types", ["耕地", "林地", "鱼塘"]))
    max_land = int(cfg.get("max_years_land", 20))
    max_building = int(cfg.get("max_years_building", 10))
    is_land = F.col("asset_type").isin(land)
    max_years = F.when(is_land, F.lit(max_land)).otherwise(F.lit(max_building))
    hits = contracts(tables, as_of).where(
        F.col("asset_type").isNotNull()
        & (F.col("end_date") > F.add_months(F.col("start_date"), max_years * 12))
    )
    years = F.round(F.months_between(F.date_add(F.col("end_date"), 1), F.col("start_date")) / 12, 1)
    note = text(
        F.col("asset_type"),
        " 期限 ",
        as_text("start_date"),
        " 至 ",
        as_text("end_date"),
        "，约 ",
        as_text(years),
        " 年，超过 ",
        as_text(max_years),
        " 年",
    )
    return _single_contract_clue(hits, "A03", config, note, F.col("annual_rent"))


@rule("A04", needs=("lease_contract", "company"))
def a04(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """交易方式 in `methods` (协议续租, 直接发包), annual rent at or above `min_annual_rent`, and no
    交易平台编号: empty, blank, or a placeholder without any letter or digit (无, -, /). Amount: the
    annual rent.
    """
    cfg = config.section("A04")
    methods = list(cfg.get("methods", ["协议续租", "直接发包"]))
    minimum = Decimal(str(cfg.get("min_annual_rent", 50000)))
    no_listing = ~F.coalesce(F.col("platform_no").rlike("[0-9A-Za-z]"), F.lit(False))
    hits = contracts(tables, as_of).where(
        F.col("trade_method").isin(methods) & (F.col("annual_rent") >= F.lit(minimum)) & no_listing
    )
    renewal = F.when(F.col("prev_contract_no").isNotNull(), text("，原合同 ", F.col("prev_contract_no")))
    note = text(
        F.col("trade_method"),
        " 年租金 ",
        money("annual_rent"),
        "，无交易平台编号",
        renewal.otherwise(F.lit("")),
    )
    return _single_contract_clue(hits, "A04", config, note, F.col("annual_rent"))


LEASE_FIELDS = (
    "asset_name",
    "town",
    "village",
    "lessee_company",
    "lessee_person",
    "lessee_name",
    "annual_rent",
    "start_date",
    "end_date",
)


def _lessee_people(lease: DataFrame, tables: Tables) -> DataFrame:
    """Each lease with ``_target``: the lessee person, or each legal representative and shareholder
    of the lessee company (with its ``role_label`` and ``cp_`` provenance)."""
    direct = lease.where(F.col("lessee_person").isNotNull()).select(
        "*",
        F.col("lessee_person").alias("_target"),
        F.lit(None).cast("string").alias("role_label"),
        F.lit(None).cast("string").alias("cp_feed"),
        F.lit(None).cast("string").alias("cp_file"),
        F.lit(None).cast("int").alias("cp_line"),
    )
    people = company_people(tables).select(
        F.col("credit_code").alias("lessee_company"),
        F.col("person_id").alias("_target"),
        "role_label",
        "cp_feed",
        "cp_file",
        "cp_line",
    )
    via_company = lease.join(people, "lessee_company")
    return direct.unionByName(via_company.select(direct.columns))


@rule("A05", needs=("lease_contract", "company", "company_party", "cadre", "kin", "person"))
def a05(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """The lessee (a person, by resolved ID), or the legal representative or a shareholder of a
    lessee company, is a cadre in office on the contract's start date, or that cadre's kin within
    `kinship_steps`, where the cadre serves in the asset's 镇街. The path runs from the cadre to the
    contract, e.g. ``张三(村委会主任) —子女— 张小三 —承租— ZC-…``; several are joined with "；",
    shortest first. Amount: the annual rent.
    """
    targets = _lessee_people(contracts(tables, as_of), tables)
    matched = match_cadre_kin(
        targets, cadre_kin(tables, config), person="_target", on_date="start_date", town="town"
    )
    link = F.when(F.col("role_label").isNull(), F.lit("")).otherwise(
        text(" —", F.col("role_label"), "— ", F.col("lessee_name"))
    )
    matched = matched.withColumn("_path", text(F.col("k_path"), link, " —承租— ", F.col("contract_no")))

    lessee_note = text(
        "承租方 ", F.col("lessee_name"), "，起始 ", as_text("start_date"), "，年租金 ", money("annual_rent")
    )
    items = [
        evidence_item(evidence_of("lc", "lease_contract", lessee_note), 0),
        evidence_item(cadre_evidence(), 2),
    ]
    party = F.when(F.col("role_label").isNotNull(), evidence_item(party_evidence("_target"), 1))
    ev_rows = matched.select("contract_no", F.explode(non_null(F.array(*items, party))).alias("_x"))
    evidence = collect_evidence(ev_rows, ["contract_no"], F.col("_x.e"), F.col("_x.o"))
    summary = matched.groupBy("contract_no").agg(
        *[F.first(c).alias(c) for c in LEASE_FIELDS], kin_paths(), kin_people()
    )
    out = summary.join(evidence, "contract_no")
    return clue_frame(
        out,
        "A05",
        config,
        keys=keys_map(contract=F.col("contract_no")),
        subjects=F.array_distinct(contract_subjects(F.col("_people"))),
        amount=F.col("annual_rent"),
        period_start=F.col("start_date"),
        period_end=F.col("end_date"),
        town=F.col("town"),
        path=path_text(),
    )
