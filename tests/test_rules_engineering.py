"""E01–E07 on small hand-made curated tables: a firing case, a look-alike, and the exact threshold."""

from __future__ import annotations

from typing import Any

import pytest
import rulekit
from rulekit import keys_of, make_tables, person, pid, run_rule

pytestmark = pytest.mark.spark

PROV = rulekit.PROVENANCE
# Engineering / asset curated tables (docs/architecture.md); registered here until rulekit has them.
rulekit.SCHEMAS.setdefault(
    "project",
    (
        "engineering",
        "project_no string, project_name string, town string, village string, category string, approval_date date, "
        "tender_method string, award_date date, sign_date date, start_date date, acceptance_date date, "
        "control_price decimal(18,2), contract_amount decimal(18,2), winner_name string, winner_credit_code string, "
        f"winner_credit_code_raw string, winner_credit_code_status string, bidder_count int, {PROV}",
    ),
)
rulekit.SCHEMAS.setdefault(
    "project_payment",
    (
        "engineering",
        f"project_no string, pay_date date, amount decimal(18,2), payee_name string, payee_account string, {PROV}",
    ),
)

C1, C2, C3 = "91330109MA00000011", "91330109MA00000022", "91330109MA00000033"
WINNER = "浙江甲建设有限公司"


def project(no: str, **kw: Any) -> dict[str, Any]:
    row = {
        "project_no": no,
        "project_name": f"{no}工程",
        "town": "城厢街道",
        "village": "园梅村",
        "approval_date": "2023-01-01",
        "tender_method": "公开招标",
        "award_date": "2023-01-10",
        "sign_date": "2023-01-20",
        "start_date": "2023-01-25",
        "acceptance_date": "2023-06-01",
        "contract_amount": 200000,
        "winner_name": WINNER,
        "winner_credit_code": C1,
        "bidder_count": 5,
    }
    row.update(kw)
    return row


def pay(no: str, date: str, amount: float, payee: str = WINNER, **kw: Any) -> dict[str, Any]:
    return {
        "project_no": no,
        "pay_date": date,
        "amount": amount,
        "payee_name": payee,
        "payee_account": kw.get("account", "3301MA00000011"),
    }


def by_project(clues: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["keys"]["project"]: c for c in clues}


# --- E01 ----------------------------------------------------------------------------------------


def small(no: str, sign: str, amount: float, **kw: Any) -> dict[str, Any]:
    return project(no, sign_date=sign, contract_amount=amount, tender_method="直接委托", bidder_count=1, **kw)


def test_e01_split_contracts_fire_once_per_village_and_company(spark) -> None:
    tables = make_tables(
        spark,
        project=[
            small("P1", "2023-03-01", 60000),
            small("P2", "2023-04-15", 50000),  # fires
            small("Q1", "2023-03-01", 60000, winner_credit_code=C2),
            small("Q2", "2023-05-31", 50000, winner_credit_code=C2),  # 91 days
            small("R1", "2023-03-01", 60000, winner_credit_code=C3),
            small("R2", "2023-03-20", 50000, winner_credit_code=C3, village="新家村"),  # other village
        ],
    )
    clues = run_rule("E01", tables)
    assert keys_of(clues) == [{"village": "园梅村", "company": C1}]
    (clue,) = clues
    assert clue["amount"] == 110000.0
    assert (clue["period_start"], clue["period_end"]) == ("2023-03-01", "2023-04-15")
    assert [e["line"] for e in clue["evidence"]] == [2, 3]
    assert {s["id"] for s in clue["subjects"] if s["kind"] == "project"} == {"P1", "P2"}
    assert clue["severity"] == "high"


def test_e01_boundary_exactly_90_days_and_exactly_the_limit_fires(spark) -> None:
    tables = make_tables(
        spark,
        project=[
            small("P1", "2023-03-01", 60000),
            small("P2", "2023-05-30", 40000),  # day 90, sum = limit
            small("Q1", "2023-03-01", 60000, winner_credit_code=C2),
            small("Q2", "2023-03-02", 39999.99, winner_credit_code=C2),  # one cent short
            small("S1", "2023-03-01", 100000, winner_credit_code=C3),  # at the limit: not "below"
            small("S2", "2023-03-02", 10000, winner_credit_code=C3),
        ],
    )
    assert keys_of(run_rule("E01", tables)) == [{"village": "园梅村", "company": C1}]


def test_e01_long_chain_is_one_clue_without_unrelated_contracts(spark) -> None:
    tables = make_tables(
        spark,
        project=[
            small("P1", "2023-01-01", 60000),
            small("P2", "2023-03-02", 50000),
            small("P3", "2023-05-01", 60000),
            small("P4", "2023-12-01", 50000),  # P4 stands alone
        ],
    )
    (clue,) = run_rule("E01", tables)
    assert [e["line"] for e in clue["evidence"]] == [2, 3, 4]
    assert clue["amount"] == 170000.0
    assert clue["period_end"] == "2023-05-01"


# --- E02 ----------------------------------------------------------------------------------------


def test_e02_each_process_inversion_fires_and_is_named(spark) -> None:
    tables = make_tables(
        spark,
        project=[
            project("P1", award_date="2023-01-25", sign_date="2023-01-20", start_date="2023-01-26"),
            project("P2", approval_date="2023-01-15"),
            project("P3", start_date="2023-01-19"),
            project("P4"),
            project("P5"),
            project("P6", acceptance_date=None),
            project("OK"),
        ],
        project_payment=[
            pay("P4", "2023-01-19", 1000),
            pay("P5", "2023-03-01", 170001),  # 85% before acceptance
            pay("P6", "2023-03-01", 100000),
            pay("P6", "2023-07-01", 80000),  # 90%, never accepted
            pay("OK", "2023-03-01", 100000),
            pay("OK", "2023-06-01", 100000),  # on acceptance day: after
        ],
    )
    clues = by_project(run_rule("E02", tables))
    assert sorted(clues) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    note = {k: c["evidence"][0]["note"] for k, c in clues.items()}
    assert "签订早于定标" in note["P1"] and "开工" not in note["P1"]
    assert note["P2"].startswith("定标早于立项")
    assert note["P3"].startswith("开工早于签订")
    assert note["P4"].startswith("签订前付款(1 笔")
    assert note["P5"].startswith("验收前付款") and "80%" in note["P5"]
    assert note["P6"].startswith("未验收已付款")
    assert [e["table"] for e in clues["P4"]["evidence"]] == ["project", "project_payment"]
    assert clues["P4"]["period_start"] == "2023-01-01"


def test_e02_boundary_exactly_80_percent_before_acceptance_does_not_fire(spark) -> None:
    tables = make_tables(
        spark,
        project=[project("P1"), project("P2", acceptance_date="2024-03-01"), project("P3")],
        project_payment=[
            pay("P1", "2023-03-01", 160000),  # exactly 80%
            pay("P2", "2023-03-01", 160000),
            pay("P2", "2023-12-01", 0.01),  # accepted after as-of
            pay("P3", "2023-03-01", 160000),
            pay("P3", "2024-01-02", 50000),  # paid after as-of
        ],
    )
    assert keys_of(run_rule("E02", tables)) == [{"project": "P2"}]


# --- E03 ----------------------------------------------------------------------------------------


def test_e03_overpayment_above_110_percent(spark) -> None:
    tables = make_tables(
        spark,
        project=[
            project("P1", contract_amount=100000),
            project("P2", contract_amount=100000),
            project("P3", contract_amount=100000),
        ],
        project_payment=[
            pay("P1", "2023-02-01", 60000),
            pay("P1", "2023-07-01", 50000.01),  # 110.00001%
            pay("P2", "2023-02-01", 60000),
            pay("P2", "2023-07-01", 50000),  # exactly 110%
            pay("P3", "2023-02-01", 100000),
            pay("P3", "2024-02-01", 50000),  # excess after as-of
        ],
    )
    (clue,) = run_rule("E03", tables)
    assert clue["keys"] == {"project": "P1"}
    assert clue["amount"] == 10000.01
    assert (clue["period_start"], clue["period_end"]) == ("2023-02-01", "2023-07-01")
    assert [e["table"] for e in clue["evidence"]] == ["project", "project_payment", "project_payment"]
    assert "累计付款 110,000.01" in clue["evidence"][0]["note"]


# --- E04 ----------------------------------------------------------------------------------------

CADRE, SPOUSE, FAR = pid(1), pid(2), pid(3)


def kin_tables(spark, projects: list[dict[str, Any]], *, cadre_end: str | None = None, parties=None):
    return make_tables(
        spark,
        project=projects,
        person=[person(CADRE, "张三", "H1"), person(SPOUSE, "李四", "H1"), person(FAR, "王五", "H9")],
        cadre=[
            {
                "person_id": CADRE,
                "name": "张三",
                "town": "城厢街道",
                "village": "园梅村",
                "post": "党组织书记",
                "start_date": "2020-01-01",
                "end_date": cadre_end,
            }
        ],
        kin=[
            {"cadre_id": CADRE, "kin_id": SPOUSE, "steps": 1, "path": "张三(党组织书记) —配偶— 李四"},
            {
                "cadre_id": CADRE,
                "kin_id": FAR,
                "steps": 3,
                "path": "张三(党组织书记) —配偶— 李四 —x— y —x— 王五",
            },
        ],
        company=[
            {"credit_code": C1, "company_name": WINNER, "legal_rep_person": None, "reg_status": "存续"},
            {"credit_code": C2, "company_name": "乙公司", "legal_rep_person": CADRE, "reg_status": "存续"},
            {"credit_code": C3, "company_name": "丙公司", "legal_rep_person": FAR, "reg_status": "存续"},
        ],
        company_party=parties
        if parties is not None
        else [{"credit_code": C1, "person_id": SPOUSE, "role": "shareholder"}],
    )


def test_e04_cadre_kin_shareholder_wins_in_own_town(spark) -> None:
    tables = kin_tables(
        spark,
        [
            project("P1", sign_date="2023-03-01"),
            project("P2", sign_date="2023-03-01", town="新塘街道"),  # cadre serves elsewhere
            project("P3", sign_date="2023-03-01", winner_credit_code=C3),  # kin beyond 2 steps
            project(
                "P4", sign_date="2023-03-01", winner_credit_code=C2, winner_name="乙公司"
            ),  # the cadre himself
        ],
    )
    clues = by_project(run_rule("E04", tables))
    assert sorted(clues) == ["P1", "P4"]
    p1 = clues["P1"]
    assert p1["keys"] == {"project": "P1", "company": C1}
    assert p1["path"] == f"张三(党组织书记) —配偶— 李四 —股东— {WINNER} —中标— P1"
    assert {(s["kind"], s["id"]) for s in p1["subjects"]} >= {
        ("person", CADRE),
        ("person", SPOUSE),
        ("company", C1),
    }
    assert [e["table"] for e in p1["evidence"]] == ["project", "company_party", "cadre"]
    assert clues["P4"]["path"] == "张三(党组织书记) —法定代表人— 乙公司 —中标— P4"


def test_e04_boundary_term_ending_on_the_signing_date_is_in_office(spark) -> None:
    tables = kin_tables(
        spark,
        [project("P1", sign_date="2023-03-01"), project("P2", sign_date="2023-03-02")],
        cadre_end="2023-03-01",
    )
    assert keys_of(run_rule("E04", tables)) == [{"project": "P1", "company": C1}]


# --- E05 / E06 ----------------------------------------------------------------------------------


def test_e05_competitive_procedure_with_too_few_bidders(spark) -> None:
    tables = make_tables(
        spark,
        project=[
            project("P1", tender_method="邀请招标", bidder_count=2),
            project("P2", tender_method="公开招标", bidder_count=3),  # exactly the minimum
            project("P3", tender_method="村级自行发包", bidder_count=1),  # not competitive
            project("P4", tender_method="竞争性比选", bidder_count=None),
        ],
    )
    (clue,) = run_rule("E05", tables)
    assert clue["keys"] == {"project": "P1"}
    assert clue["evidence"][0]["note"] == "邀请招标 投标单位数 2，少于 3 家"
    assert clue["amount"] == 200000.0 and clue["severity"] == "high"  # medium raised by amount


def test_e06_direct_award_at_or_above_limit(spark) -> None:
    tables = make_tables(
        spark,
        project=[
            project("P1", tender_method="直接委托", contract_amount=100000),  # exactly the limit
            project("P2", tender_method="直接委托", contract_amount=99999.99),
            project("P3", tender_method="公开招标", contract_amount=300000),
            project("P4", tender_method="村级自行发包", contract_amount=150000),
        ],
    )
    clues = run_rule("E06", tables)
    assert keys_of(clues) == [{"project": "P1"}, {"project": "P4"}]
    assert {s["kind"] for s in clues[0]["subjects"]} == {"project", "village", "company"}


# --- E07 ----------------------------------------------------------------------------------------


def test_e07_payee_not_the_winner_but_name_variants_are(spark) -> None:
    tables = make_tables(
        spark,
        project=[
            project("P1"),
            project("P2", winner_name="杭州丁（萧山）建设有限公司", winner_credit_code=C2),
            project("P3", winner_name="甲建设"),
        ],
        project_payment=[
            pay("P1", "2023-02-01", 50000),
            pay("P1", "2023-03-01", 30000, "浙江乙贸易有限公司"),
            pay("P1", "2023-04-01", 20000, "浙江甲建设有限责任公司"),  # legal-form variant
            pay("P1", "2023-04-02", 20000, " 浙江甲建设　有限公司"),  # spaces, full-width space
            pay("P1", "2023-04-03", 20000, None),  # blank payee: not judged
            pay("P2", "2023-02-01", 50000, "杭州丁(萧山)建设有限责任公司"),  # bracket + legal form
            pay("P3", "2023-02-01", 50000, WINNER),  # registry name of the winner
        ],
        company=[
            {"credit_code": C1, "company_name": WINNER, "reg_status": "存续"},
            {"credit_code": C3, "company_name": "浙江乙贸易有限公司", "reg_status": "存续"},
        ],
    )
    (clue,) = run_rule("E07", tables)
    assert clue["keys"] == {"project": "P1"}
    assert clue["amount"] == 30000.0
    assert len(clue["evidence"]) == 1 and "浙江乙贸易有限公司" in clue["evidence"][0]["note"]
    assert ("company", C3) in {(s["kind"], s["id"]) for s in clue["subjects"]}
