"""Subsidy rules S01–S07 (民生资金), pure Spark transforms of curated tables into clue rows.

Person rules only consider payment rows resolved to a person (``person_id`` not NULL); the
account rule S06 uses every row. The household rules (S02, S05, S07) use the recipient's
household on the payment date and never guess one (``recipient_households``). The as-of date is the data cut-off: a payment dated after it,
or a death dated after it, is not known to the run. Decisions on catalogue ambiguities are in
the rule docstrings (docs/rules.md).
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.resolve.normalize import normalize_name
from jobs.rules.base import Tables, clue_frame, keys_map, month_key, reused, rule, subject
from jobs.rules.evidence import as_text, collect_evidence, evidence_row, join_text, text, with_note
from qingfeng.contract import RulesConfig

PAYMENT = "subsidy_payment"
PERSON_GROUP = ["person_id", "programme"]


# --- shared pieces -------------------------------------------------------------------------------


def payments(
    tables: Tables, programmes: list[str] | None = None, *, as_of: dt.date, resolved: bool = True
) -> DataFrame:
    """Payment rows dated on or before ``as_of`` with their evidence struct ``_ev`` (and
    ``_pay_month``), optionally of one programme set."""
    pay = tables[PAYMENT].where(F.col("pay_date") <= F.lit(as_of))
    if resolved:
        pay = pay.where(F.col("person_id").isNotNull())
    if programmes is not None:
        pay = pay.where(F.col("programme").isin(programmes))
    note = join_text(
        F.col("programme"), as_text("amount"), "元", as_text("pay_date"), text("批次 ", F.col("batch"))
    )
    return (
        pay.withColumn("_ev", evidence_row(PAYMENT, note))
        .withColumn("_pk", F.concat_ws("|", F.col("_feed"), F.col("_file"), F.col("_line").cast("string")))
        .withColumn("_pay_month", F.trunc("pay_date", "month"))
    )


HOUSEHOLD_UNKNOWN = "户号未识别: 仅核查领取人本人"


def _left(status: Column, status_date: Column, on: Column) -> Column:
    """Moved out (迁出/注销) by ``on``; a move without a date counts as before."""
    return F.coalesce(status.isin("迁出", "注销") & F.coalesce(status_date <= on, F.lit(True)), F.lit(False))


def recipient_households(pay: DataFrame, person: DataFrame) -> DataFrame:
    """(``_pk``, ``person_id``, ``pay_date``, ``_name``, ``_hh``): each payment's recipient's 户号 on
    the payment date, NULL when unknown. It is unknown when the person master does not list the
    recipient, lists no 户号, or the recipient had moved out (迁出/注销) of it by the payment date:
    the registry does not say where they lived then, and a rule never guesses a household."""
    recipients = person.select(
        F.col("person_id").alias("_rid"),
        F.col("name").alias("_reg_name"),
        F.col("household_no").alias("_reg_hh"),
        F.col("status").alias("_r_status"),
        F.col("status_date").alias("_r_status_date"),
    )
    slim = pay.select("_pk", "person_id", "pay_date", F.col("name").alias("_pay_name"))
    linked = slim.join(recipients, slim["person_id"] == recipients["_rid"], "left")
    gone = _left(F.col("_r_status"), F.col("_r_status_date"), F.col("pay_date"))
    return linked.select(
        "_pk",
        "person_id",
        "pay_date",
        F.coalesce(F.col("_reg_name"), F.col("_pay_name")).alias("_name"),
        F.when(~gone, F.col("_reg_hh")).alias("_hh"),
    )


def household_members(pay: DataFrame, person: DataFrame, *, include_self: bool = True) -> DataFrame:
    """(``_pk``, ``pay_date``, ``member_id``, ``member_name``, ``_hh_known``): the members of each
    payment's recipient's household on the payment date (``recipient_households``).

    A member counts when born by, not dead before, and not moved out (迁出/注销) before the payment
    date. With ``include_self`` the recipient is always a member (a dead recipient is S01's case),
    and the only one when the household is unknown (``_hh_known`` false). Only the payment key
    travels through the household fan-out; callers join the payment rows they need back on
    ``_pk`` once they have filtered.
    """
    households = recipient_households(pay, person)
    members = person.where(F.col("household_no").isNotNull()).select(
        F.col("person_id").alias("member_id"),
        F.col("name").alias("member_name"),
        F.col("household_no").alias("_hh"),
        F.col("birth_date").alias("_m_birth"),
        F.col("death_date").alias("_m_death"),
        F.col("status").alias("_m_status"),
        F.col("status_date").alias("_m_status_date"),
    )
    linked = households.where(F.col("_hh").isNotNull()).join(members, "_hh")
    d = F.col("pay_date")
    present = (
        (F.col("_m_birth").isNull() | (F.col("_m_birth") <= d))
        & (F.col("_m_death").isNull() | (F.col("_m_death") >= d))
        & ~_left(F.col("_m_status"), F.col("_m_status_date"), d)
    )
    if include_self:
        present = present | (F.col("member_id") == F.col("person_id"))
    out = linked.where(present).select(
        "_pk", "pay_date", "member_id", "member_name", F.lit(True).alias("_hh_known")
    )
    if include_self:
        alone = households.where(F.col("_hh").isNull()).select(
            "_pk",
            "pay_date",
            F.col("person_id").alias("member_id"),
            F.col("_name").alias("member_name"),
            F.lit(False).alias("_hh_known"),
        )
        out = out.unionByName(alone)
    return reused(out)


def household_note(ev: str, known: Column) -> Column:
    """The payment's evidence ``ev``, saying so when only the recipient could be checked."""
    return F.when(known, F.col(ev)).otherwise(with_note(ev, HOUSEHOLD_UNKNOWN))


def person_clues(
    hits: DataFrame,
    code: str,
    config: RulesConfig,
    *,
    group: list[str],
    keys: Column,
    support: DataFrame | None = None,
    path: Column | None = None,
    extra_subjects: Column | None = None,
) -> DataFrame:
    """Aggregate qualifying payment rows (one row each, ``_ev``) to one clue per ``group``.

    ``support`` holds further evidence (``group`` columns, ``_ev``, ``_o``): payroll lines,
    holdings, cadre rows. The amount is the sum of the qualifying payments.
    """
    hits = reused(hits.dropDuplicates([*group, "_pk"]))
    summary = hits.groupBy(*group).agg(
        F.sum("amount").alias("_amount"),
        F.min("pay_date").alias("_start"),
        F.max("pay_date").alias("_end"),
        F.min("town").alias("_town"),
        F.min("name").alias("_name"),
        *([F.min(path).alias("_path")] if path is not None else []),
        *([F.first(extra_subjects, ignorenulls=True).alias("_extra")] if extra_subjects is not None else []),
    )
    ev = hits.select(*group, "_ev", F.col("pay_date").alias("_o"))
    if support is not None:
        ev = ev.unionByName(support.select(*group, "_ev", "_o"))
    evidence = collect_evidence(ev, group, F.col("_ev"), F.col("_o"))
    subjects = F.array(subject("person", F.col("person_id"), F.col("_name")))
    if extra_subjects is not None:
        subjects = F.filter(F.array_union(subjects, F.array(F.col("_extra"))), lambda x: x.isNotNull())
    return clue_frame(
        summary.join(evidence, group),
        code,
        config,
        keys=keys,
        subjects=subjects,
        amount=F.col("_amount"),
        period_start=F.col("_start"),
        period_end=F.col("_end"),
        town=F.col("_town"),
        path=F.col("_path") if path is not None else None,
    )


def person_programme_keys() -> Column:
    return keys_map(person=F.col("person_id"), programme=F.col("programme"))


# --- rules ---------------------------------------------------------------------------------------


@rule("S01", needs=(PAYMENT, "person"))
def s01(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """A payment dated more than ``grace_days`` after the recipient's death (the earlier of death
    record and registry 死亡). Payments and deaths dated after the as-of date are not known. The
    dead who left the registry count: a person known only from a death record is in
    curated/person, and their payments reach them through the record's ID, or through name and
    the birth date inside an ID that fails its check (docs/resolution.md)."""
    grace = int(config.section("S01").get("grace_days", 30))
    dead = (
        tables["person"]
        .where(F.col("death_date") <= F.lit(as_of))
        .select(F.col("person_id").alias("_pid"), F.col("death_date"))
    )
    pay = payments(tables, as_of=as_of)
    hits = pay.join(dead, pay["person_id"] == dead["_pid"]).where(
        F.datediff("pay_date", "death_date") > grace
    )
    hits = hits.withColumn("_ev", with_note("_ev", text("死亡日期 ", as_text("death_date"))))
    return person_clues(hits, "S01", config, group=PERSON_GROUP, keys=person_programme_keys())


@rule("S02", needs=(PAYMENT, "person", "payroll"))
def s02(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """A means-tested payment while the recipient or a household member is on in-service payroll that month.

    The household is the recipient's 户号 on the payment date, with the members present then (born,
    not dead, not 迁出/注销). When it is unknown (the recipient is not in curated/person, has no
    户号, or had moved out of it by then) only the recipient is checked, and the payment's
    evidence says ``户号未识别: 仅核查领取人本人``."""
    pay = payments(tables, config.programmes.means_tested, as_of=as_of)
    roll = tables["payroll"].where(
        F.col("person_id").isNotNull() & F.col("staff_category").isin(config.in_service_categories)
    )
    roll = roll.select(
        F.col("person_id").alias("_roll_pid"),
        F.col("pay_month").alias("_roll_month"),
        evidence_row(
            "payroll",
            join_text(
                F.col("name"), F.col("employer_name"), F.col("staff_category"), month_key(F.col("pay_month"))
            ),
        ).alias("_roll_ev"),
    )
    on_roll = household_members(pay, tables["person"]).join(
        roll,
        (F.col("member_id") == F.col("_roll_pid")) & (F.trunc("pay_date", "month") == F.col("_roll_month")),
    )
    linked = pay.join(on_roll.select("_pk", "_roll_ev", "_roll_month", "_hh_known"), "_pk")
    linked = linked.withColumn("_ev", household_note("_ev", F.col("_hh_known")))
    support = linked.select(*PERSON_GROUP, F.col("_roll_ev").alias("_ev"), F.col("_roll_month").alias("_o"))
    return person_clues(
        linked, "S02", config, group=PERSON_GROUP, keys=person_programme_keys(), support=support
    )


@rule("S03", needs=(PAYMENT, "cadre", "kin"))
def s03(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """A discretionary payment to a cadre in office, or a cadre's kin, of the payment's 镇街 on its date."""
    cadre = tables["cadre"].where(F.col("person_id").isNotNull())
    kin = (
        tables["kin"]
        .where(F.col("steps") <= config.kinship_steps)
        .select("cadre_id", "kin_id", "steps", "path")
    )
    selves = cadre.select(
        F.col("person_id").alias("cadre_id"),
        F.col("person_id").alias("kin_id"),
        F.lit(0).alias("steps"),
        F.concat(F.col("name"), F.lit("("), F.coalesce(F.col("post"), F.lit("干部")), F.lit(")")).alias(
            "path"
        ),
    )
    # shortest path per pair; the cadre themself (steps 0) whether or not the kin table lists it
    pairs = (
        kin.unionByName(selves)
        .groupBy("cadre_id", "kin_id")
        .agg(F.min_by("path", F.struct("steps", "path")).alias("path"))
    )
    pay = payments(tables, config.programmes.discretionary, as_of=as_of)
    term = join_text(as_text("start_date"), F.coalesce(as_text("end_date"), F.lit("")), sep="~")
    terms = cadre.select(
        F.col("person_id").alias("cadre_id"),
        F.col("name").alias("_cadre_name"),
        F.col("town").alias("_cadre_town"),
        F.col("start_date"),
        F.col("end_date"),
        evidence_row(
            "cadre", join_text(F.col("name"), F.col("town"), F.col("village"), F.col("post"), term)
        ).alias("_cadre_ev"),
    )
    hits = (
        pay.join(pairs, pay["person_id"] == pairs["kin_id"])
        .join(terms, "cadre_id")
        .where(
            (F.col("_cadre_town") == F.col("town"))
            & (F.col("start_date") <= F.col("pay_date"))
            & (F.col("end_date").isNull() | (F.col("end_date") >= F.col("pay_date")))
        )
    )
    group = ["person_id", "cadre_id", "programme"]
    support = hits.select(*group, F.col("_cadre_ev").alias("_ev"), F.col("start_date").alias("_o"))
    return person_clues(
        hits,
        "S03",
        config,
        group=group,
        keys=keys_map(person=F.col("person_id"), cadre=F.col("cadre_id"), programme=F.col("programme")),
        support=support,
        path=F.col("path"),
        extra_subjects=F.when(
            F.col("cadre_id") != F.col("person_id"),
            subject("person", F.col("cadre_id"), F.col("_cadre_name")),
        ),
    )


@rule("S04", needs=(PAYMENT,))
def s04(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """One person, programme and calendar month (of the 发放日期) paid in ``min_batches`` or more
    different batches. Batch names are compared normalised (full-width → half-width, whitespace
    removed), so ``202305`` and ``202305　`` are one batch while ``202305-补`` / ``202305－补`` is
    another. The same row delivered twice is one payment, never a second batch."""
    min_batches = int(config.section("S04").get("min_batches", 2))
    pay = payments(tables, as_of=as_of).withColumn("month", month_key(F.col("pay_date")))
    pay = reused(pay.withColumn("_batch", normalize_name(F.col("batch"))))
    group = [*PERSON_GROUP, "month"]
    repeated = (
        pay.groupBy(*group)
        .agg(F.countDistinct("_batch").alias("_batches"))
        .where(F.col("_batches") >= min_batches)
    )
    hits = pay.join(repeated.select(*group), group)
    return person_clues(
        hits,
        "S04",
        config,
        group=group,
        keys=keys_map(person=F.col("person_id"), programme=F.col("programme"), month=F.col("month")),
    )


def _assets_owned(members: DataFrame, holdings: DataFrame) -> DataFrame:
    """The assets each household member (``household_members``) holds on the payment date, with
    their evidence ``_why``: from the 登记日期 until (excluding) the 注销日期."""
    note = join_text(F.col("owner_name"), F.col("asset_type"), text("登记 ", as_text("reg_date")))
    assets = holdings.where(F.col("owner_id_person").isNotNull()).select(
        F.col("owner_id_person").alias("member_id"),
        F.col("asset_type"),
        F.col("reg_date"),
        F.col("dereg_date"),
        evidence_row("asset_holding", note).alias("_why"),
    )
    return reused(
        members.join(assets, "member_id").where(
            (F.col("reg_date") <= F.col("pay_date"))
            & (F.col("dereg_date").isNull() | (F.col("dereg_date") > F.col("pay_date")))
        )
    )


def _active_company_roles(members: DataFrame, tables: Tables, active_status: list[str]) -> DataFrame:
    """The roles (legal representative, shareholder) household members hold on the payment date in
    companies whose 登记状态 is active and that exist by then, with their evidence ``_why``."""
    founded = (
        tables["company_registration"].groupBy("credit_code").agg(F.min("established_date").alias("_founded"))
    )
    companies = (
        tables["company"]
        .where(F.col("reg_status").isin(active_status))
        .select("credit_code", "company_name", "reg_status")
        .join(founded, "credit_code", "left")
    )
    parties = (
        tables["company_party"]
        .where(F.col("person_id").isNotNull())
        .select(
            F.col("person_id").alias("member_id"),
            "credit_code",
            "role",
            evidence_row("company_party", join_text(F.col("role"), F.col("credit_code"))).alias("_party_ev"),
        )
    )
    note = join_text(F.col("member_name"), F.col("role"), F.col("company_name"), F.col("reg_status"))
    return (
        members.join(parties, "member_id")
        .join(companies, "credit_code")
        .where(F.col("_founded").isNull() | (F.col("_founded") <= F.col("pay_date")))
        .withColumn("_why", F.col("_party_ev").withField("note", note))
    )


@rule("S05", needs=(PAYMENT, "person", "asset_holding", "company", "company_party", "company_registration"))
def s05(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """A means-tested payment while the recipient or a household member owns a vehicle, business
    premises or more than ``max_dwellings`` 住宅 (per member, or per household with
    ``dwelling_scope: household``), or is legal representative/shareholder of a company whose
    current 登记状态 is active (存续/在业). Everything is judged on the payment date: an asset counts
    from its 登记日期 until (excluding) its 注销日期, a household member while present (born, not
    dead, not 迁出/注销), and a company role only once the company exists (成立日期 on or before the
    payment date, or unknown). The household is the recipient's 户号 on the payment date; when it
    is unknown (as in S02) only the recipient's own holdings count, and the payment's evidence
    says ``户号未识别: 仅核查领取人本人``."""
    cfg = config.section("S05")
    vehicles = list(cfg.get("vehicle_types", ["车辆"]))
    business = list(cfg.get("business_asset_types", ["商铺", "写字楼", "厂房"]))
    max_dwellings = int(cfg.get("max_dwellings", 1))
    dwelling = str(cfg.get("dwelling_type", "住宅"))
    per_person = cfg.get("dwelling_scope", "person") == "person"

    pay = payments(tables, config.programmes.means_tested, as_of=as_of)
    linked = household_members(pay, tables["person"])
    owned = _assets_owned(linked, tables["asset_holding"])
    flagged_kind = owned.where(F.col("asset_type").isin(vehicles + business))
    dwell_group = ["_pk", "member_id"] if per_person else ["_pk"]
    dwellings = owned.where(F.col("asset_type") == dwelling)
    dwell_counts = dwellings.groupBy(*dwell_group).agg(F.count("*").alias("_n"))
    too_many = dwellings.join(
        dwell_counts.where(F.col("_n") > max_dwellings).select(*dwell_group), dwell_group
    )
    roles = _active_company_roles(linked, tables, config.active_company_status)

    why = [frame.select("_pk", "_why", "_hh_known") for frame in (flagged_kind, too_many, roles)]
    reasons = pay.join(why[0].unionByName(why[1]).unionByName(why[2]), "_pk")
    reasons = reused(reasons.withColumn("_ev", household_note("_ev", F.col("_hh_known"))))
    support = reasons.select(*PERSON_GROUP, F.col("_why").alias("_ev"), F.col("pay_date").alias("_o"))
    return person_clues(
        reasons.select(*pay.columns),
        "S05",
        config,
        group=PERSON_GROUP,
        keys=person_programme_keys(),
        support=support,
    )


@rule("S06", needs=(PAYMENT, "person"))
def s06(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """An account receiving, with a holder other than the recipient, payments for recipients of
    ``min_households`` or more households (counted among those proxy rows only). Holder and
    recipient names are compared normalised (traditional → simplified, full-width → half-width,
    whitespace removed), against both the name on the payment row and the registry name of the
    resolved recipient, so ``陳明`` or ``陈 明`` holding 陈明's own card is not a proxy. A household
    is the registry 户号 of the resolved recipient, else the row's 户号, else the recipient's name.
    The account is the 银行账号 as delivered (trimmed)."""
    min_households = int(config.section("S06").get("min_households", 3))
    person = tables["person"].select(
        F.col("person_id").alias("_pid"),
        F.col("name").alias("_reg_name"),
        F.col("household_no").alias("_reg_hh"),
    )
    pay = payments(tables, resolved=False, as_of=as_of).where(
        F.col("account").isNotNull() & F.col("account_holder").isNotNull()
    )
    pay = pay.join(person, pay["person_id"] == person["_pid"], "left")
    holder = F.trim(F.col("account_holder"))
    holder_key = normalize_name(F.col("account_holder"))
    same_as_row = F.coalesce(holder_key == normalize_name(F.col("name")), F.lit(False))
    same_as_registry = F.coalesce(holder_key == normalize_name(F.col("_reg_name")), F.lit(False))
    proxy = pay.where(holder_key.isNotNull() & ~same_as_row & ~same_as_registry)
    proxy = reused(
        proxy.withColumn(
            "_household",
            F.coalesce(F.col("_reg_hh"), F.col("household_no"), F.concat(F.lit("name:"), F.col("name"))),
        )
    )
    group = ["account"]
    summary = (
        proxy.groupBy(*group)
        .agg(
            F.countDistinct("_household").alias("_households"),
            F.sum("amount").alias("_amount"),
            F.min("pay_date").alias("_start"),
            F.max("pay_date").alias("_end"),
            F.min("town").alias("_town"),
            F.min(holder).alias("_holder"),
        )
        .where(F.col("_households") >= min_households)
    )
    hits = proxy.join(summary.select(*group), group)
    evidence = collect_evidence(hits, group, F.col("_ev"), F.col("pay_date"))
    recipients = collect_evidence(
        hits.where(F.col("person_id").isNotNull()),
        group,
        subject("person", F.col("person_id"), F.col("name")),
        F.col("person_id"),
    )
    account = F.array(subject("account", F.col("account"), F.col("_holder")))
    subjects = F.when(F.col("_recipients").isNull(), account).otherwise(
        F.concat(account, F.col("_recipients"))
    )
    joined = summary.join(evidence, group).join(
        recipients.withColumnRenamed("evidence", "_recipients"), group, "left"
    )
    return clue_frame(
        joined,
        "S06",
        config,
        keys=keys_map(account=F.col("account")),
        subjects=subjects,
        amount=F.col("_amount"),
        period_start=F.col("_start"),
        period_end=F.col("_end"),
        town=F.col("_town"),
    )


@rule("S07", needs=(PAYMENT, "person"))
def s07(tables: Tables, *, config: RulesConfig, as_of: dt.date) -> DataFrame:
    """A payment above its programme's cap (fixed, or per living household member on the payment
    date). Each payment is judged on its own; the keys name its month. Living members are the
    registry members of the recipient's 户号 on the payment date (born, not dead, not 迁出/注销 by
    then), the recipient included when alive. A recipient without a known household on the payment
    date (not in curated/person, no 户号, or moved out of it by then) gives no per-member clue: the
    household's size is unknown, and counting the recipient alone would accuse a family of four of
    a cap for one. Fixed caps hold for a household of one and are judged as usual. Exactly the
    cap does not fire."""
    cfg = config.section("S07")
    fixed: dict[str, float] = dict(cfg.get("caps") or {})
    per_member: dict[str, float] = dict(cfg.get("per_living_member") or {})
    pay = reused(payments(tables, sorted(set(fixed) | set(per_member)), as_of=as_of))
    known = recipient_households(pay, tables["person"]).select(
        "_pk", F.col("_hh").isNotNull().alias("_hh_known")
    )
    living = (
        household_members(pay, tables["person"], include_self=False)
        .groupBy("_pk")
        .agg(F.countDistinct("member_id").alias("_living"))
    )
    pay = (
        pay.join(known, "_pk", "left")
        .join(living, "_pk", "left")
        .withColumn("_living", F.coalesce(F.col("_living"), F.lit(0)))
    )
    cap: Column = F.lit(None).cast("decimal(18,2)")
    for programme, value in fixed.items():
        cap = F.when(F.col("programme") == programme, F.lit(value).cast("decimal(18,2)")).otherwise(cap)
    for programme, value in per_member.items():  # no cap, so no clue, for an unknown household
        per_household = F.when(F.col("_hh_known"), (F.lit(value) * F.col("_living")).cast("decimal(18,2)"))
        cap = F.when(F.col("programme") == programme, per_household).otherwise(cap)
    pay = pay.withColumn("_cap", cap).withColumn("month", month_key(F.col("pay_date")))
    hits = pay.where(F.col("_cap").isNotNull() & (F.col("amount") > F.col("_cap")))
    members = F.when(F.col("programme").isin(list(per_member)), text("在世户成员 ", as_text("_living")))
    hits = hits.withColumn("_ev", with_note("_ev", text("上限 ", as_text("_cap")), members))
    return person_clues(
        hits,
        "S07",
        config,
        group=[*PERSON_GROUP, "month"],
        keys=keys_map(person=F.col("person_id"), programme=F.col("programme"), month=F.col("month")),
    )
