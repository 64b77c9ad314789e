"""Village engineering rules E01–E07 (村级工程).

Shared conventions (docs/rules.md):
- Rows dated after the as-of date are not yet known: payments with 支付日期 > as-of and projects
  whose earliest date (立项/定标/签订) is after the as-of date are ignored.
- The winning company is ``winner_credit_code``; when that is missing or invalid, the registry
  company whose normalised name is the 中标单位 (and only that one) stands in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.rules.base import Tables, clue_frame, keys_map, rule, subject
from jobs.rules.evidence import (
    as_text,
    collect_evidence,
    evidence_item,
    evidence_of,
    evidence_row,
    join_text,
    money,
    text,
)
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


def _money(value: float) -> Column:
    return F.lit(Decimal(str(value))).cast("decimal(18,2)")


def projects(tables: Tables, as_of: dt.date) -> DataFrame:
    """Known projects with ``company_id`` (the winner's credit code, or its unique registry match)."""
    names = unique_company_names(tables).withColumnRenamed("credit_code", "_by_name")
    project = latest_rows(tables["project"], ["project_no"])
    earliest = F.least("approval_date", "award_date", "sign_date")
    known = project.where(earliest.isNull() | (earliest <= F.lit(as_of)))
    keyed = known.withColumn("_name_key", company_key(F.col("winner_name")))
    joined = keyed.join(names, keyed["_name_key"] == names["name_key"], "left")
    return joined.withColumn("company_id", F.coalesce(F.col("winner_credit_code"), F.col("_by_name"))).drop(
        "_name_key", "name_key", "_by_name"
    )


PAYMENT_FIELDS = ("project_no", "pay_date", "amount", "payee_name", "payee_account")


def payments(tables: Tables, as_of: dt.date) -> DataFrame:
    """Payments dated on or before the as-of date, each counted once across deliveries.

    Payment exports overlap (a half-year file and then the full year): the same payment (project,
    date, amount, payee, account) found in two files is one payment. Within one file identical
    lines are separate payments, so a payment occurs as often as in the file holding it most often.
    """
    paid = with_provenance(tables["project_payment"].where(F.col("pay_date") <= F.lit(as_of)), "pay")
    nth = Window.partitionBy(*PAYMENT_FIELDS, "pay_file").orderBy("pay_line")
    paid = paid.withColumn("_nth", F.row_number().over(nth))
    latest = Window.partitionBy(*PAYMENT_FIELDS, "_nth").orderBy(F.col("pay_file").desc_nulls_last())
    paid = paid.withColumn("_copy", F.row_number().over(latest)).where(F.col("_copy") == 1)
    return paid.select(
        "project_no", "pay_date", "amount", "payee_name", "payee_account", "pay_feed", "pay_file", "pay_line"
    )


def _registry_names(tables: Tables) -> DataFrame:
    """``company_id`` → ``_reg_name``, one row per credit code."""
    company = tables["company"].where(F.col("credit_code").isNotNull())
    return company.groupBy(F.col("credit_code").alias("company_id")).agg(
        F.min("company_name").alias("_reg_name")
    )


def project_subjects(extra: Column | None = None) -> Column:
    """Project, its village, and the winning company (when known)."""
    base = F.array(
        subject("project", F.col("project_no"), F.col("project_name")),
        village_subject(F.col("town"), F.col("village")),
        F.when(
            F.col("company_id").isNotNull(), subject("company", F.col("company_id"), F.col("winner_name"))
        ),
    )
    return non_null(F.concat(base, extra) if extra is not None else base)


def _project_rows(df: DataFrame) -> DataFrame:
    return with_provenance(df, "prj")


def _project_clue(
    df: DataFrame,
    code: str,
    config: RulesConfig,
    *,
    amount: Column,
    period_start: Column,
    period_end: Column,
    subjects: Column | None = None,
) -> DataFrame:
    """The clue of one project (key ``project``, its town; subjects by default ``project_subjects()``)."""
    return clue_frame(
        df,
        code,
        config,
        keys=keys_map(project=F.col("project_no")),
        subjects=subjects if subjects is not None else project_subjects(),
        amount=amount,
        period_start=period_start,
        period_end=period_end,
        town=F.col("town"),
    )


@rule("E01", needs=("project", "company"))
def e01(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """Two or more contracts of one contractor (credit code) in one 村社, each below the direct-award
    limit, signed within `window_days` of the first, together at or above the limit.

    "The first" is every contract in turn: a contract anchors the window [its signing date,
    signing date + `window_days`]; a window with at least `min_contracts` below-limit contracts
    whose amounts reach the limit fires. One clue per 村社 and contractor gathers every contract
    of every firing window, so a long chain of small contracts is one case, and a contract
    outside any firing window (e.g. a year earlier) is left out. Amount: the sum of those
    contracts; period: first to last signing date.
    """
    cfg = config.section("E01")
    days = int(cfg.get("window_days", 90))
    min_contracts = int(cfg.get("min_contracts", 2))
    limit = _money(config.direct_award_limit)
    group = ["town", "village", "company_id"]

    small = (
        projects(tables, as_of)
        .where(
            F.col("company_id").isNotNull()
            & F.col("village").isNotNull()
            & F.col("sign_date").isNotNull()
            & (F.col("sign_date") <= F.lit(as_of))
            & (F.col("contract_amount") < limit)
        )
        .withColumn("_day", F.unix_date("sign_date"))
    )
    ahead = Window.partitionBy(*group).orderBy("_day").rangeBetween(0, days)
    anchors = (
        small.withColumn("_n", F.count("*").over(ahead))
        .withColumn("_sum", F.sum("contract_amount").over(ahead))
        .where((F.col("_n") >= min_contracts) & (F.col("_sum") >= limit))
        .select(*[F.col(c).alias(f"a_{c}") for c in group], F.col("_day").alias("a_day"))
        .distinct()
    )
    same_group = [small[c] == anchors[f"a_{c}"] for c in group]
    in_window = (small["_day"] >= anchors["a_day"]) & (small["_day"] <= anchors["a_day"] + days)
    members = (
        small.join(anchors, [*same_group, in_window]).select(small.columns).dropDuplicates(["project_no"])
    )
    members = _project_rows(members)

    note = join_text(
        "签订 ",
        as_text("sign_date"),
        "，合同金额 ",
        money("contract_amount"),
        "，",
        F.col("tender_method"),
        sep="",
    )
    evidence = collect_evidence(members, group, evidence_of("prj", "project", note), F.col("sign_date"))
    summary = members.groupBy(*group).agg(
        F.sum("contract_amount").alias("total"),
        F.min("sign_date").alias("first"),
        F.max("sign_date").alias("last"),
        F.first("winner_name", ignorenulls=True).alias("winner_name"),
        F.array_sort(F.collect_set(subject("project", F.col("project_no"), F.col("project_name")))).alias(
            "_projects"
        ),
    )
    out = summary.join(evidence, group)
    subjects = F.concat(
        non_null(
            F.array(
                village_subject(F.col("town"), F.col("village")),
                subject("company", F.col("company_id"), F.col("winner_name")),
            )
        ),
        F.col("_projects"),
    )
    return clue_frame(
        out,
        "E01",
        config,
        keys=keys_map(village=F.col("village"), company=F.col("company_id")),
        subjects=subjects,
        amount=F.col("total"),
        period_start=F.col("first"),
        period_end=F.col("last"),
        town=F.col("town"),
    )


def _out_of_order(early: str, early_label: str, late: str, late_label: str) -> tuple[Column, Column]:
    """E02 sub-condition: ``early`` dated before ``late``, with its note, e.g. 签订早于定标(签订 …，定标 …)."""
    note = text(
        f"{early_label}早于{late_label}({early_label} ",
        as_text(early),
        f"，{late_label} ",
        as_text(late),
        ")",
    )
    return F.col(early) < F.col(late), note


def _early_payments(pay: DataFrame, prj: DataFrame, accepted: Column) -> tuple[DataFrame, DataFrame]:
    """E02's payments flagged ``_before_sign`` and ``_before_accept``, and per project: how many
    were before signing and the first of them, the sum before acceptance, and the last payment date."""
    flagged = (
        pay.join(prj.select("project_no", "sign_date", "acceptance_date"), "project_no")
        .withColumn("_before_sign", F.col("sign_date").isNotNull() & (F.col("pay_date") < F.col("sign_date")))
        .withColumn("_before_accept", ~accepted | (F.col("pay_date") < F.col("acceptance_date")))
    )
    per_project = flagged.groupBy("project_no").agg(
        F.count(F.when(F.col("_before_sign"), 1)).alias("_n_before_sign"),
        F.min(F.when(F.col("_before_sign"), F.col("pay_date"))).alias("_first_early_pay"),
        F.coalesce(F.sum(F.when(F.col("_before_accept"), F.col("amount"))), _money(0)).alias("_pre_accept"),
        F.max("pay_date").alias("_last_pay"),
    )
    return flagged, per_project


def _project_evidence(hits: DataFrame, note: Column, pays: DataFrame, pay_note: Column) -> DataFrame:
    """``evidence`` per project: its row in ``hits`` with ``note`` first, then its ``pays`` by date."""
    project_ev = _project_rows(hits).select(
        "project_no", evidence_of("prj", "project", note).alias("_e"), F.lit(dt.date(1900, 1, 1)).alias("_o")
    )
    pay_ev = pays.select(
        "project_no",
        evidence_of("pay", "project_payment", pay_note).alias("_e"),
        F.col("pay_date").alias("_o"),
    )
    return collect_evidence(project_ev.unionByName(pay_ev), ["project_no"], F.col("_e"), F.col("_o"))


@rule("E02", needs=("project", "project_payment", "company"))
def e02(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """Any of: signed before the award (签订 < 定标); awarded before approval (定标 < 立项); works
    started before signing (开工 < 签订); a payment before signing; payments made before acceptance
    (strictly before 竣工验收日期, or all payments up to the as-of date when the project has no
    acceptance on or before it) above `payment_before_acceptance_ratio` of the contract amount
    (exactly the ratio does not fire). The evidence note of the project row names every
    sub-condition that holds; the payments concerned are evidence too. Amount: the contract
    amount; period: the earliest to the latest date involved.
    """
    ratio = Decimal(str(config.section("E02").get("payment_before_acceptance_ratio", 0.8)))
    prj = projects(tables, as_of)
    accepted = F.col("acceptance_date").isNotNull() & (F.col("acceptance_date") <= F.lit(as_of))
    flagged_pay, per_project = _early_payments(payments(tables, as_of), prj, accepted)
    pre_accept = F.coalesce(F.col("_pre_accept"), _money(0))
    early_pay = F.coalesce(F.col("_n_before_sign"), F.lit(0)) > 0
    over_pre_accept = pre_accept > F.col("contract_amount") * F.lit(ratio)
    early_note = text(
        "签订前付款(", as_text("_n_before_sign"), " 笔，最早 ", as_text("_first_early_pay"), ")"
    )
    paid = F.when(accepted, F.lit("验收前付款")).otherwise(F.lit("未验收已付款"))
    share = f" 的 {float(ratio) * 100:g}%"
    over_note = text(paid, " ", money(pre_accept), " 超过合同金额 ", money("contract_amount"), share)
    conditions = [
        _out_of_order("sign_date", "签订", "award_date", "定标"),
        _out_of_order("award_date", "定标", "approval_date", "立项"),
        _out_of_order("start_date", "开工", "sign_date", "签订"),
        (early_pay, early_note),
        (over_pre_accept, over_note),
    ]
    reasons = non_null(F.array(*[F.when(F.coalesce(cond, F.lit(False)), note) for cond, note in conditions]))
    hits = (
        prj.join(per_project, "project_no", "left")
        .withColumn("_reasons", reasons)
        .where(F.size("_reasons") > 0)
    )
    hits = hits.withColumn("_early_pay", early_pay)
    hits = hits.withColumn("_over_pre_accept", F.coalesce(over_pre_accept, F.lit(False)))

    pays = flagged_pay.join(hits.select("project_no", "_early_pay", "_over_pre_accept"), "project_no").where(
        (F.col("_early_pay") & F.col("_before_sign")) | (F.col("_over_pre_accept") & F.col("_before_accept"))
    )
    pay_kind = F.when(F.col("_before_sign"), F.lit("签订前付款 ")).otherwise(F.lit("验收前付款 "))
    pay_note = text(pay_kind, as_text("pay_date"), " ", money("amount"))
    evidence = _project_evidence(hits, F.array_join("_reasons", "；"), pays, pay_note)
    dates = ["approval_date", "award_date", "sign_date", "start_date", "_first_early_pay"]
    return _project_clue(
        hits.join(evidence, "project_no"),
        "E02",
        config,
        amount=F.col("contract_amount"),
        period_start=F.least(*dates),
        period_end=F.greatest(*dates, "acceptance_date", "_last_pay"),
    )


@rule("E03", needs=("project", "project_payment", "company"))
def e03(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """Total payments up to the as-of date above `overpayment_ratio` × the contract amount (exactly
    110% does not fire). Amount: the overpayment (total paid − contract amount); period: first to
    last payment; evidence: the project and its payments.
    """
    ratio = Decimal(str(config.section("E03").get("overpayment_ratio", 1.10)))
    prj = projects(tables, as_of)
    pay = payments(tables, as_of)
    totals = pay.groupBy("project_no").agg(
        F.sum("amount").alias("_paid"),
        F.min("pay_date").alias("_first"),
        F.max("pay_date").alias("_last"),
    )
    hits = prj.join(totals, "project_no").where(F.col("_paid") > F.col("contract_amount") * F.lit(ratio))
    cap = f"，上限 {float(ratio) * 100:g}%"
    note = text("累计付款 ", money("_paid"), "，合同金额 ", money("contract_amount"), cap)
    pays = pay.join(hits.select("project_no"), "project_no")
    pay_note = text(as_text("pay_date"), " ", money("amount"))
    evidence = _project_evidence(hits, note, pays, pay_note)
    return _project_clue(
        hits.join(evidence, "project_no"),
        "E03",
        config,
        amount=F.col("_paid") - F.col("contract_amount"),
        period_start=F.col("_first"),
        period_end=F.col("_last"),
    )


@rule("E04", needs=("project", "company", "company_party", "cadre", "kin", "person"))
def e04(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """The winner's legal representative or any shareholder is a cadre in office on the signing
    date (the award date when no signing date is recorded), or that cadre's kin within
    `kinship_steps`, where the cadre serves in the project's 镇街. The path runs from the cadre to
    the company and the project, e.g. ``张三(党组织书记) —配偶— 李四 —股东— 某某公司 —中标— XS…``;
    several links are joined with "；", shortest first. Amount: the contract amount.
    """
    prj = projects(tables, as_of).withColumn("_on", F.coalesce("sign_date", "award_date"))
    prj = prj.where(F.col("company_id").isNotNull() & F.col("_on").isNotNull())
    registry = _registry_names(tables)
    prj = prj.join(registry, "company_id", "left").withColumn(
        "_company_name", F.coalesce("_reg_name", "winner_name", "company_id")
    )
    people = company_people(tables).withColumnRenamed("credit_code", "company_id")
    linked = prj.join(people, "company_id")
    matched = match_cadre_kin(
        linked, cadre_kin(tables, config), person="person_id", on_date="_on", town="town"
    )
    company = F.col("_company_name")
    path = text(F.col("k_path"), " —", F.col("role_label"), "— ", company, " —中标— ", F.col("project_no"))
    matched = _project_rows(matched).withColumn("_path", path)
    keys = ["project_no", "company_id"]
    project_note = text("中标单位 ", company, "，签订 ", as_text("_on"))
    items = [
        evidence_item(evidence_of("prj", "project", project_note), 0),
        evidence_item(party_evidence("person_id"), 1),
        evidence_item(cadre_evidence(), 2),
    ]
    ev_rows = matched.select(*keys, F.explode(F.array(*items)).alias("_x"))
    evidence = collect_evidence(ev_rows, keys, F.col("_x.e"), F.col("_x.o"))
    firsts = ("project_name", "town", "village", "winner_name", "contract_amount", "_on")
    summary = matched.groupBy(*keys).agg(*[F.first(c).alias(c) for c in firsts], kin_paths(), kin_people())
    out = summary.join(evidence, keys)
    return clue_frame(
        out,
        "E04",
        config,
        keys=keys_map(project=F.col("project_no"), company=F.col("company_id")),
        subjects=project_subjects(F.col("_people")),
        amount=F.col("contract_amount"),
        period_start=F.col("_on"),
        period_end=F.col("_on"),
        town=F.col("town"),
        path=path_text(),
    )


def _single_project_clue(hits: DataFrame, code: str, config: RulesConfig, note: Column) -> DataFrame:
    return _project_clue(
        hits.withColumn("evidence", F.array(evidence_row("project", note))),
        code,
        config,
        amount=F.col("contract_amount"),
        period_start=F.coalesce("award_date", "sign_date", "approval_date"),
        period_end=F.coalesce("sign_date", "award_date", "approval_date"),
    )


@rule("E05", needs=("project", "company"))
def e05(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """招标方式 in `competitive_methods` with fewer than `min_bidders` bidders (投标单位数). A project
    with no bidder count recorded does not fire (unknown is not fewer). Amount: the contract amount.
    """
    cfg = config.section("E05")
    methods = list(cfg.get("competitive_methods", ["公开招标", "邀请招标", "竞争性比选"]))
    minimum = int(cfg.get("min_bidders", 3))
    hits = projects(tables, as_of).where(
        F.col("tender_method").isin(methods) & (F.col("bidder_count") < minimum)
    )
    note = text(F.col("tender_method"), " 投标单位数 ", as_text("bidder_count"), f"，少于 {minimum} 家")
    return _single_project_clue(hits, "E05", config, note)


@rule("E06", needs=("project", "company"))
def e06(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """招标方式 in `direct_methods` (村级自行发包, 直接委托) with a contract amount at or above the
    direct-award limit. Amount: the contract amount.
    """
    methods = list(config.section("E06").get("direct_methods", ["村级自行发包", "直接委托"]))
    limit = _money(config.direct_award_limit)
    hits = projects(tables, as_of).where(
        F.col("tender_method").isin(methods) & (F.col("contract_amount") >= limit)
    )
    limit_text = f"，达到直接发包限额 {config.direct_award_limit:,.0f}"
    note = text(F.col("tender_method"), " 合同金额 ", money("contract_amount"), limit_text)
    return _single_project_clue(hits, "E06", config, note)


@rule("E07", needs=("project", "project_payment", "company"))
def e07(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """A payment whose 收款单位 is not the winning company. Names are compared by their matching key
    (full-width/half-width, traditional/simplified, spaces and brackets unified, legal form such as
    有限公司/有限责任公司/股份有限公司 removed); the payee is the winner when its key equals the key of
    the 中标单位 or of the registry name of the winner's credit code. A payment with a blank
    收款单位, or a project with no winner recorded, is not judged. The 收款账号 is shown as
    evidence only (account formats are bank-specific). Amount: the sum of such payments; period:
    first to last; subjects include the payee company when the registry knows its name.
    """
    prj = projects(tables, as_of)
    registry = _registry_names(tables)
    prj = prj.join(registry, "company_id", "left")
    prj = prj.select(
        "project_no",
        "project_name",
        "town",
        "village",
        "company_id",
        "winner_name",
        "contract_amount",
        company_key(F.col("winner_name")).alias("_k1"),
        company_key(F.col("_reg_name")).alias("_k2"),
    ).where(F.col("_k1").isNotNull() | F.col("_k2").isNotNull())
    pay = payments(tables, as_of).withColumn("_payee_key", company_key(F.col("payee_name")))
    paid = pay.join(prj, "project_no")
    is_winner = F.coalesce(F.col("_payee_key") == F.col("_k1"), F.lit(False)) | F.coalesce(
        F.col("_payee_key") == F.col("_k2"), F.lit(False)
    )
    odd = paid.where(F.col("_payee_key").isNotNull() & ~is_winner)
    names = unique_company_names(tables).withColumnRenamed("credit_code", "_payee_code")
    odd = odd.join(names, odd["_payee_key"] == names["name_key"], "left")

    note = text(
        "收款单位 ",
        F.col("payee_name"),
        " 非中标单位 ",
        F.col("winner_name"),
        "，账号 ",
        F.coalesce(F.col("payee_account"), F.lit("—")),
        "，金额 ",
        money("amount"),
        "，",
        as_text("pay_date"),
    )
    evidence = collect_evidence(
        odd, ["project_no"], evidence_of("pay", "project_payment", note), F.col("pay_date")
    )
    payee_subject = F.when(
        F.col("_payee_code").isNotNull(), subject("company", F.col("_payee_code"), F.col("payee_name"))
    )
    summary = odd.groupBy("project_no").agg(
        *[F.first(c).alias(c) for c in ("project_name", "town", "village", "company_id", "winner_name")],
        F.sum("amount").alias("_odd"),
        F.min("pay_date").alias("_first"),
        F.max("pay_date").alias("_last"),
        F.array_sort(F.collect_set(payee_subject)).alias("_payees"),
    )
    return _project_clue(
        summary.join(evidence, "project_no"),
        "E07",
        config,
        amount=F.col("_odd"),
        period_start=F.col("_first"),
        period_end=F.col("_last"),
        subjects=project_subjects(F.col("_payees")),
    )
