"""S01–S07 on hand-made curated tables: a firing case, a look-alike, and the exact threshold."""

from __future__ import annotations

from typing import Any

import pytest
from rulekit import config, keys_of, make_tables, person, pid, run_rule, with_section

from qingfeng.contract import fingerprint

pytestmark = pytest.mark.spark

DIBAO = "最低生活保障金"
ELDER = "高龄津贴"
REPAIR = "农村危房改造补助"


def pay(
    p: str | None, name: str, hh: str, amount: float, date: str, programme: str = DIBAO, **extra: Any
) -> dict:
    row = {
        "person_id": p,
        "name": name,
        "household_no": hh,
        "programme": programme,
        "amount": amount,
        "pay_date": date,
        "batch": date[:7].replace("-", "") + "-00",
        "town": "城厢街道",
        "village": "园梅村",
        "account": f"6217{(p or name)[-8:]}",
        "account_holder": name,
    }
    row.update(extra)
    return row


A, B, C, D = pid(1), pid(2), pid(3), pid(4)


# --- S01 ---------------------------------------------------------------------------------------


def test_s01_fires_31_days_after_death_not_at_30(spark):
    people = [
        person(A, "甲", "H1", death_date="2023-03-01"),
        person(B, "乙", "H2", death_date="2023-03-01"),
        person(C, "丙", "H3"),
    ]
    payments = [
        pay(A, "甲", "H1", 500, "2023-04-01"),  # 31 days after death: fires
        pay(A, "甲", "H1", 500, "2023-05-10"),
        pay(A, "甲", "H1", 500, "2023-02-10"),  # before death: not evidence
        pay(B, "乙", "H2", 500, "2023-03-31"),  # exactly 30 days: grace
        pay(C, "丙", "H3", 500, "2023-06-01"),  # alive
        pay(None, "甲", "H1", 500, "2023-06-01", id_no_raw="bad"),  # unresolved: no subject
    ]
    clues = run_rule("S01", make_tables(spark, person=people, subsidy_payment=payments))
    assert keys_of(clues) == [{"person": A, "programme": DIBAO}]
    (clue,) = clues
    assert clue["amount"] == 1000.0
    assert (clue["period_start"], clue["period_end"]) == ("2023-04-01", "2023-05-10")
    assert [e["line"] for e in clue["evidence"]] == [2, 3]
    assert all(e["table"] == "subsidy_payment" and e["feed"] == "subsidy" for e in clue["evidence"])
    assert clue["subjects"] == [{"kind": "person", "id": A, "name": "甲"}]
    assert clue["fingerprint"] == fingerprint("S01", {"person": A, "programme": DIBAO})
    assert clue["severity"] == "high" and clue["rule_name"] == "死亡人员仍在领取补助"


def test_s01_grace_days_is_configuration(spark):
    tables = make_tables(
        spark,
        person=[person(A, "甲", "H1", death_date="2023-03-01")],
        subsidy_payment=[pay(A, "甲", "H1", 500, "2023-03-11")],
    )
    assert run_rule("S01", tables) == []
    assert len(run_rule("S01", tables, cfg=with_section("S01", grace_days=9))) == 1


# --- S02 ---------------------------------------------------------------------------------------


def test_s02_household_member_on_in_service_payroll_that_month(spark):
    people = [person(A, "甲", "H1"), person(B, "乙", "H1"), person(C, "丙", "H2"), person(D, "丁", "H3")]
    payments = [
        pay(A, "甲", "H1", 800, "2023-03-10"),  # household member B 在编 in March: fires
        pay(A, "甲", "H1", 800, "2023-04-10"),  # B not on payroll in April
        pay(C, "丙", "H2", 800, "2023-03-10"),  # C's own payroll is 离退休: not in service
        pay(D, "丁", "H3", 300, "2023-03-10", programme=ELDER),  # universal programme
    ]
    payroll = [
        {
            "person_id": B,
            "name": "乙",
            "pay_month": "2023-03-01",
            "employer_code": "E1",
            "employer_name": "党湾镇人民政府",
            "staff_category": "在编",
            "gross_pay": 8000,
            "net_pay": 7000,
        },
        {
            "person_id": C,
            "name": "丙",
            "pay_month": "2023-03-01",
            "employer_code": "E1",
            "staff_category": "离退休",
            "gross_pay": 5000,
            "net_pay": 5000,
        },
        {
            "person_id": D,
            "name": "丁",
            "pay_month": "2023-03-01",
            "employer_code": "E1",
            "staff_category": "编外",
            "gross_pay": 5000,
            "net_pay": 5000,
        },
    ]
    clues = run_rule("S02", make_tables(spark, person=people, subsidy_payment=payments, payroll=payroll))
    assert keys_of(clues) == [{"person": A, "programme": DIBAO}]
    (clue,) = clues
    assert clue["amount"] == 800.0
    assert {e["table"] for e in clue["evidence"]} == {"subsidy_payment", "payroll"}


def test_s02_recipient_themself_编外_counts_and_month_boundary(spark):
    people = [person(A, "甲", "H1")]
    payments = [pay(A, "甲", "H1", 800, "2023-03-31"), pay(A, "甲", "H1", 800, "2023-04-01")]
    payroll = [
        {
            "person_id": A,
            "name": "甲",
            "pay_month": "2023-03-01",
            "employer_code": "E1",
            "staff_category": "编外",
            "gross_pay": 3000,
            "net_pay": 3000,
        }
    ]
    (clue,) = run_rule("S02", make_tables(spark, person=people, subsidy_payment=payments, payroll=payroll))
    assert clue["amount"] == 800.0 and clue["period_end"] == "2023-03-31"


# --- S03 ---------------------------------------------------------------------------------------


def _cadre(p: str, name: str, start: str, end: str | None = None, town: str = "城厢街道") -> dict:
    return {
        "person_id": p,
        "name": name,
        "town": town,
        "village": "园梅村",
        "post": "党组织书记",
        "start_date": start,
        "end_date": end,
    }


def test_s03_kin_of_cadre_in_office_same_town(spark):
    cadre = [_cadre(A, "张三", "2021-01-01", "2023-06-30")]
    kin = [
        {"cadre_id": A, "kin_id": B, "steps": 2, "path": "张三(党组织书记) —配偶— 李四 —兄弟姐妹— 李五"},
        {"cadre_id": A, "kin_id": C, "steps": 3, "path": "three steps away"},
    ]
    payments = [
        pay(B, "李五", "H2", 3000, "2023-06-30", programme=REPAIR),  # last day in office: fires
        pay(B, "李五", "H2", 3000, "2023-07-01", programme=REPAIR),  # the day after: cadre out of office
        pay(B, "李五", "H2", 300, "2023-05-01", programme=ELDER),  # not discretionary
        pay(B, "李五", "H2", 800, "2023-05-01", town="瓜沥镇"),  # another 镇街
        pay(C, "王六", "H3", 800, "2023-05-01"),  # beyond kinship_steps
    ]
    clues = run_rule("S03", make_tables(spark, subsidy_payment=payments, cadre=cadre, kin=kin))
    assert keys_of(clues) == [{"person": B, "cadre": A, "programme": REPAIR}]
    (clue,) = clues
    assert clue["path"] == "张三(党组织书记) —配偶— 李四 —兄弟姐妹— 李五"
    assert clue["amount"] == 3000.0
    assert {s["id"] for s in clue["subjects"]} == {A, B}
    assert {e["table"] for e in clue["evidence"]} == {"subsidy_payment", "cadre"}
    assert clue["fingerprint"] == fingerprint("S03", {"person": B, "cadre": A, "programme": REPAIR})


def test_s03_cadre_themself_and_kinship_steps_config(spark):
    cadre = [_cadre(A, "张三", "2023-01-01")]
    kin = [{"cadre_id": A, "kin_id": C, "steps": 3, "path": "张三(党组织书记) —父母— x —父母— y —子女— 王六"}]
    payments = [
        pay(A, "张三", "H1", 800, "2023-05-01"),
        pay(C, "王六", "H3", 800, "2023-05-01"),
        pay(A, "张三", "H1", 800, "2022-12-31"),
    ]  # before taking office: not evidence
    tables = make_tables(spark, subsidy_payment=payments, cadre=cadre, kin=kin)
    clues = run_rule("S03", tables)
    assert keys_of(clues) == [{"person": A, "cadre": A, "programme": DIBAO}]
    assert clues[0]["path"] == "张三(党组织书记)" and clues[0]["amount"] == 800.0
    assert [s["id"] for s in clues[0]["subjects"]] == [A]
    wider = run_rule("S03", tables, cfg=config().model_copy(update={"kinship_steps": 3}))
    assert {c["keys"]["person"] for c in wider} == {A, C}


# --- S04 ---------------------------------------------------------------------------------------


def test_s04_two_batches_in_one_month(spark):
    payments = [
        pay(A, "甲", "H1", 800, "2023-03-10", batch="202303-00"),
        pay(A, "甲", "H1", 800, "2023-03-25", batch="202303-00-补"),  # second batch, same month: fires
        pay(B, "乙", "H2", 800, "2023-03-10", batch="202303-00"),
        pay(B, "乙", "H2", 800, "2023-04-10", batch="202304-00"),  # two batches but two months
        pay(C, "丙", "H3", 800, "2023-03-10", batch="202303-00"),
        pay(C, "丙", "H3", 300, "2023-03-10", batch="202303-01", programme=ELDER),  # two programmes
    ]
    clues = run_rule("S04", make_tables(spark, subsidy_payment=payments))
    assert keys_of(clues) == [{"person": A, "programme": DIBAO, "month": "2023-03"}]
    assert clues[0]["amount"] == 1600.0
    assert clues[0]["fingerprint"] == fingerprint(
        "S04", {"person": A, "programme": DIBAO, "month": "2023-03"}
    )


def test_s04_exactly_min_batches(spark):
    payments = [pay(A, "甲", "H1", 800, "2023-03-10", batch=f"202303-0{i}") for i in range(3)]
    tables = make_tables(spark, subsidy_payment=payments)
    (at_threshold,) = run_rule("S04", tables, cfg=with_section("S04", min_batches=3))
    assert run_rule("S04", tables, cfg=with_section("S04", min_batches=4)) == []
    # identity is rule + keys: more evidence changes the amount, never the fingerprint
    more = make_tables(
        spark, subsidy_payment=[*payments, pay(A, "甲", "H1", 800, "2023-03-28", batch="202303-09")]
    )
    (grown,) = run_rule("S04", more, cfg=with_section("S04", min_batches=3))
    assert grown["amount"] == at_threshold["amount"] + 800
    assert (
        grown["fingerprint"]
        == at_threshold["fingerprint"]
        == fingerprint("S04", {"month": "2023-03", "person": A, "programme": DIBAO})
    )


# --- S05 ---------------------------------------------------------------------------------------


def _asset(owner: str, kind: str, reg: str, dereg: str | None = None) -> dict:
    return {
        "owner_id_person": owner,
        "owner_name": "x",
        "asset_type": kind,
        "reg_date": reg,
        "dereg_date": dereg,
    }


def test_s05_vehicle_business_dwellings_and_company(spark):
    E, F_, G, H = pid(5), pid(6), pid(7), pid(8)
    people = [
        person(A, "甲", "H1"),
        person(B, "乙", "H1"),
        person(C, "丙", "H3"),
        person(D, "丁", "H4"),
        person(E, "戊", "H5"),
        person(F_, "己", "H5"),
        person(G, "庚", "H7"),
        person(H, "辛", "H8"),
    ]
    payments = [
        pay(p, n, h, 800, "2023-05-10")
        for p, n, h in [
            (A, "甲", "H1"),
            (C, "丙", "H3"),
            (D, "丁", "H4"),
            (E, "戊", "H5"),
            (G, "庚", "H7"),
            (H, "辛", "H8"),
        ]
    ]
    assets = [
        _asset(B, "车辆", "2020-01-01"),  # household member's car: A fires
        _asset(C, "住宅", "2010-01-01"),  # one dwelling: C does not fire
        _asset(D, "车辆", "2020-01-01", dereg="2023-05-10"),  # car sold on the payment date: D does not fire
        _asset(D, "商铺", "2023-05-11"),  # shop bought the day after
        _asset(E, "住宅", "2010-01-01"),
        _asset(F_, "住宅", "2015-01-01"),  # one dwelling each: E does not fire
        _asset(E, "住宅", "2020-01-01", dereg="2021-01-01"),  # sold before the payment
        _asset(F_, "住宅", "2023-05-10"),
        _asset(F_, "住宅", "2001-01-01"),  # F: three on the date, E fires
    ]
    company = [
        {"credit_code": "91330109MA00000001", "company_name": "某某公司", "reg_status": "存续"},
        {"credit_code": "91330109MA00000002", "company_name": "旧公司", "reg_status": "注销"},
    ]
    party = [
        {"credit_code": "91330109MA00000001", "person_id": G, "role": "shareholder"},  # G fires
        {"credit_code": "91330109MA00000002", "person_id": H, "role": "legal_representative"},
    ]  # 注销: no
    tables = make_tables(
        spark,
        person=people,
        subsidy_payment=payments,
        asset_holding=assets,
        company=company,
        company_party=party,
    )
    clues = run_rule("S05", tables)
    assert keys_of(clues) == [{"person": p, "programme": DIBAO} for p in sorted([A, E, G])]
    by_person = {c["keys"]["person"]: c for c in clues}
    assert {e["table"] for e in by_person[G]["evidence"]} == {"subsidy_payment", "company_party"}
    assert sum(e["table"] == "asset_holding" for e in by_person[E]["evidence"]) == 3


def test_s05_dwellings_counted_per_member_unless_configured_per_household(spark):
    people = [person(A, "甲", "H1"), person(B, "乙", "H1")]
    payments = [pay(A, "甲", "H1", 800, "2023-05-10")]
    assets = [_asset(A, "住宅", "2010-01-01"), _asset(B, "住宅", "2011-01-01")]
    tables = make_tables(spark, person=people, subsidy_payment=payments, asset_holding=assets)
    assert run_rule("S05", tables) == []
    assert keys_of(run_rule("S05", tables, cfg=with_section("S05", dwelling_scope="household"))) == [
        {"person": A, "programme": DIBAO}
    ]


def test_s05_dwelling_threshold_is_configuration_and_universal_programmes_ignored(spark):
    people = [person(A, "甲", "H1"), person(B, "乙", "H2")]
    payments = [pay(A, "甲", "H1", 800, "2023-05-10"), pay(B, "乙", "H2", 300, "2023-05-10", programme=ELDER)]
    assets = [
        _asset(A, "住宅", "2010-01-01"),
        _asset(A, "住宅", "2011-01-01"),
        _asset(B, "车辆", "2011-01-01"),
    ]
    tables = make_tables(spark, person=people, subsidy_payment=payments, asset_holding=assets)
    assert keys_of(run_rule("S05", tables)) == [{"person": A, "programme": DIBAO}]
    assert run_rule("S05", tables, cfg=with_section("S05", max_dwellings=2)) == []


# --- S06 ---------------------------------------------------------------------------------------


def test_s06_three_households_with_other_holder_fires_two_does_not(spark):
    people = [person(pid(10 + i), f"人{i}", f"H{i}") for i in range(5)]
    payments = [
        # account X: holder 赵会计 for recipients of 3 households (exactly the threshold) + holder's own payment
        *[
            pay(pid(10 + i), f"人{i}", f"H{i}", 500, "2023-03-10", account="X", account_holder="赵会计")
            for i in range(3)
        ],
        pay(pid(14), "人4", "H4", 500, "2023-03-10", account="X", account_holder="人4"),
        # account Y: other holder for 2 households only; a third household pays to its own holder
        pay(pid(10), "人0", "H0", 500, "2023-03-10", account="Y", account_holder="钱某"),
        pay(pid(11), "人1", "H1", 500, "2023-04-10", account="Y", account_holder="钱某"),
        pay(pid(12), "人2", "H2", 500, "2023-04-10", account="Y", account_holder="人2"),
        pay(pid(13), "人3", "H3", 500, "2023-04-10", account="Y", account_holder=" 人3 "),
    ]
    clues = run_rule("S06", make_tables(spark, person=people, subsidy_payment=payments))
    assert keys_of(clues) == [{"account": "X"}]
    (clue,) = clues
    assert clue["amount"] == 1500.0  # the proxy payments only
    assert clue["subjects"][0] == {"kind": "account", "id": "X", "name": "赵会计"}
    assert {s["id"] for s in clue["subjects"][1:]} == {pid(10), pid(11), pid(12)}
    assert clue["fingerprint"] == fingerprint("S06", {"account": "X"})


def test_s06_one_household_many_members_is_not_three_households(spark):
    people = [person(pid(10 + i), f"人{i}", "H0") for i in range(4)]
    payments = [
        pay(pid(10 + i), f"人{i}", "H0", 500, "2023-03-10", account="X", account_holder="户主")
        for i in range(4)
    ]
    assert run_rule("S06", make_tables(spark, person=people, subsidy_payment=payments)) == []


# --- S07 ---------------------------------------------------------------------------------------


def test_s07_dibao_cap_per_living_member_and_fixed_caps(spark):
    people = [
        person(A, "甲", "H1"),
        person(B, "乙", "H1", death_date="2023-02-01"),
        person(C, "丙", "H1"),
        person(D, "丁", "H4"),
    ]
    payments = [
        pay(A, "甲", "H1", 2500, "2023-03-10"),  # 2 living members: cap 2500 exactly, no clue
        pay(A, "甲", "H1", 2600, "2023-04-10"),  # above 2500: fires
        pay(A, "甲", "H1", 3750, "2023-01-10"),  # B alive in January: cap 3750, no clue
        pay(D, "丁", "H4", 501, "2023-03-10", programme=ELDER),  # fixed cap 500: fires
        pay(D, "丁", "H4", 500, "2023-04-10", programme=ELDER),  # exactly the cap
        pay(D, "丁", "H4", 99999, "2023-04-10", programme="耕地地力保护补贴"),  # no cap
    ]
    clues = run_rule("S07", make_tables(spark, person=people, subsidy_payment=payments))
    assert keys_of(clues) == [
        {"person": A, "programme": DIBAO, "month": "2023-04"},
        {"person": D, "programme": ELDER, "month": "2023-03"},
    ]
    assert clues[0]["amount"] == 2600.0
    assert "上限 2500" in clues[0]["evidence"][0]["note"]


def test_s07_moved_out_member_not_counted(spark):
    people = [person(A, "甲", "H1"), person(B, "乙", "H1", status="迁出", status_date="2023-01-15")]
    payments = [pay(A, "甲", "H1", 2000, "2023-01-10"), pay(A, "甲", "H1", 2000, "2023-02-10")]
    clues = run_rule("S07", make_tables(spark, person=people, subsidy_payment=payments))
    assert keys_of(clues) == [{"person": A, "programme": DIBAO, "month": "2023-02"}]


# --- unknown households (issue #20, item 2) -----------------------------------------------------

HOUSEHOLD_UNKNOWN = "户号未识别: 仅核查领取人本人"


def test_s07_counts_no_unknown_household_unless_the_cap_holds_for_one(spark):
    E, F_ = pid(5), pid(6)
    people = [
        person(A, "甲", None),  # registered without 户号
        person(C, "丙", "H3", status="迁出", status_date="2023-01-15"),  # left H3 before the payment
        person(D, "丁", "H3"),
        person(E, "戊", "H5"),  # a household of one, known
    ]
    payments = [
        pay(A, "甲", "H1", 2000, "2023-02-10"),  # household unknown: no per-member cap, no clue
        pay(B, "乙", "H2", 2000, "2023-02-10"),  # not in the person master: unknown household, no clue
        pay(C, "丙", "H3", 2000, "2023-02-10"),  # 迁出 on 15 January: household on 10 February unknown
        pay(B, "乙", "H2", 2500, "2023-02-10", programme="特困人员救助供养金"),  # fixed cap holds for one
        pay(E, "戊", "H5", 1300, "2023-02-10"),  # known household of one: cap 1250, fires
        pay(F_, "己", "H6", 600, "2023-02-10", programme=ELDER),  # fixed cap 500, household unknown
    ]
    clues = run_rule("S07", make_tables(spark, person=people, subsidy_payment=payments))
    assert keys_of(clues) == [
        {"person": B, "programme": "特困人员救助供养金", "month": "2023-02"},
        {"person": E, "programme": DIBAO, "month": "2023-02"},
        {"person": F_, "programme": ELDER, "month": "2023-02"},
    ]
    assert "在世户成员 1" in clues[1]["evidence"][0]["note"]


def _in_service(p: str, month: str = "2023-03-01") -> dict:
    return {
        "person_id": p,
        "name": "x",
        "pay_month": month,
        "employer_code": "E1",
        "staff_category": "在编",
        "gross_pay": 8000,
        "net_pay": 7000,
    }


def test_s02_household_on_the_payment_date_and_recipient_alone_when_unknown(spark):
    people = [
        person(A, "甲", "H1", status="迁出", status_date="2023-02-01"),  # left H1 before March
        person(B, "乙", "H1"),  # on payroll: no longer A's household member in March
    ]
    payments = [
        pay(A, "甲", "H1", 800, "2023-01-10"),  # A still in H1 in January, B on payroll: fires
        pay(A, "甲", "H1", 800, "2023-03-10"),  # household unknown in March: B does not count
        pay(C, "丙", "H3", 800, "2023-03-10"),  # not in the person master, but 在编 themself: fires
    ]
    payroll = [_in_service(B, "2023-01-01"), _in_service(B), _in_service(C)]
    tables = make_tables(spark, person=people, subsidy_payment=payments, payroll=payroll)
    clues = run_rule("S02", tables)
    assert keys_of(clues) == [{"person": A, "programme": DIBAO}, {"person": C, "programme": DIBAO}]
    by_person = {c["keys"]["person"]: c for c in clues}
    assert by_person[A]["period_end"] == "2023-01-10"
    notes = [e["note"] for e in by_person[C]["evidence"] if e["table"] == "subsidy_payment"]
    assert notes and all(HOUSEHOLD_UNKNOWN in n for n in notes)
    assert not any(HOUSEHOLD_UNKNOWN in (e["note"] or "") for e in by_person[A]["evidence"])


def test_s05_household_on_the_payment_date_and_recipient_alone_when_unknown(spark):
    people = [
        person(A, "甲", "H1", status="注销", status_date="2023-02-01"),
        person(B, "乙", "H1"),
    ]
    payments = [
        pay(A, "甲", "H1", 800, "2023-03-10"),  # A no longer in H1: B's car does not count
        pay(C, "丙", "H3", 800, "2023-03-10"),  # unknown household, owns a car themself: fires
    ]
    assets = [_asset(B, "车辆", "2020-01-01"), _asset(C, "车辆", "2020-01-01")]
    tables = make_tables(spark, person=people, subsidy_payment=payments, asset_holding=assets)
    clues = run_rule("S05", tables)
    assert keys_of(clues) == [{"person": C, "programme": DIBAO}]
    notes = [e["note"] for e in clues[0]["evidence"] if e["table"] == "subsidy_payment"]
    assert notes and all(HOUSEHOLD_UNKNOWN in n for n in notes)
