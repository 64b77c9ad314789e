"""Catalogue readings that a district made by someone else could expose (hand-made curated tables).

Each test pins one decision written in the rule's docstring (docs/rules.md): rows after the as-of
date, names and batches written differently, duplicate or instalment rows, blank codes, year
boundaries, and recipients the registry does not know.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rulekit import keys_of, make_tables, person, pid, run_rule

pytestmark = pytest.mark.spark

DIBAO = "最低生活保障金"
A, B, C, D, E, F = (pid(n) for n in range(101, 107))


def pay(p: str | None, name: str, hh: str, amount: float, date: str, **extra: Any) -> dict[str, Any]:
    row = {
        "person_id": p,
        "name": name,
        "household_no": hh,
        "programme": DIBAO,
        "amount": amount,
        "pay_date": date,
        "batch": date[:7].replace("-", ""),
        "town": "城厢街道",
        "village": "园梅村",
        "account": f"6217{(p or name)[-8:]}",
        "account_holder": name,
    }
    row.update(extra)
    return row


# --- subsidies -----------------------------------------------------------------------------------


def test_s01_ignores_payments_dated_after_the_as_of_date(spark) -> None:
    people = [person(A, "甲", "H1", death_date="2023-03-01"), person(B, "乙", "H2", death_date="2023-03-01")]
    payments = [pay(A, "甲", "H1", 500, "2023-09-15"), pay(B, "乙", "H2", 500, "2023-05-15")]
    clues = run_rule(
        "S01", make_tables(spark, person=people, subsidy_payment=payments), as_of=dt.date(2023, 6, 30)
    )
    assert keys_of(clues) == [{"person": B, "programme": DIBAO}]


def test_s04_batch_written_with_a_full_width_space_is_one_batch(spark) -> None:
    people = [person(A, "甲", "H1"), person(B, "乙", "H2")]
    payments = [
        pay(A, "甲", "H1", 500, "2023-05-10", batch="202305"),
        pay(A, "甲", "H1", 500, "2023-05-20", batch="202305\u3000"),  # same batch, odd export
        pay(B, "乙", "H2", 500, "2023-05-10", batch="202305"),
        pay(B, "乙", "H2", 500, "2023-05-20", batch="202305－补"),  # full-width hyphen, still a 补 batch
    ]
    clues = run_rule("S04", make_tables(spark, person=people, subsidy_payment=payments))
    assert keys_of(clues) == [{"person": B, "programme": DIBAO, "month": "2023-05"}]


def test_s05_company_founded_after_the_payment_is_not_held_on_that_date(spark) -> None:
    late, early = "91330109MA0000001X", "91330109MA0000002X"
    people = [person(A, "甲", "H1"), person(B, "乙", "H2")]
    payments = [pay(A, "甲", "H1", 500, "2023-03-10"), pay(B, "乙", "H2", 500, "2023-03-10")]
    company = [
        {"credit_code": c, "company_name": f"{n}公司", "reg_status": "存续"}
        for c, n in ((late, "晚"), (early, "早"))
    ]
    registration = [
        {
            "credit_code": late,
            "company_name": "晚公司",
            "established_date": "2023-08-01",
            "reg_status": "存续",
        },
        {
            "credit_code": early,
            "company_name": "早公司",
            "established_date": "2020-08-01",
            "reg_status": "存续",
        },
    ]
    party = [
        {"credit_code": late, "person_id": A, "role": "legal_representative"},
        {"credit_code": early, "person_id": B, "role": "shareholder"},
    ]
    tables = make_tables(
        spark,
        person=people,
        subsidy_payment=payments,
        company=company,
        company_registration=registration,
        company_party=party,
    )
    assert keys_of(run_rule("S05", tables)) == [{"person": B, "programme": DIBAO}]


def test_s06_holder_written_in_traditional_or_spaced_form_is_the_recipient(spark) -> None:
    people = [
        person(A, "陈明", "H1"),
        person(B, "林华", "H2"),
        person(C, "张伟", "H3"),
        person(D, "李强", "H4"),
    ]
    own = [
        pay(A, "陈明", "H1", 500, "2023-03-10", account="6217X", account_holder="陳明"),
        pay(B, "林华", "H2", 500, "2023-03-10", account="6217X", account_holder="林 华"),
        pay(C, "张伟", "H3", 500, "2023-03-10", account="6217X", account_holder="張偉"),
    ]
    proxy = [
        pay(A, "陈明", "H1", 500, "2023-04-10", account="6217Y", account_holder="王五"),
        pay(B, "林华", "H2", 500, "2023-04-10", account="6217Y", account_holder="王五"),
        pay(D, "李强", "H4", 500, "2023-04-10", account="6217Y", account_holder="王五 "),
    ]
    clues = run_rule("S06", make_tables(spark, person=people, subsidy_payment=own + proxy))
    assert keys_of(clues) == [{"account": "6217Y"}]


def test_s07_recipient_unknown_to_the_registry_gives_no_per_member_clue_but_fixed_caps_hold(spark) -> None:
    """Counting an unknown household as one would accuse a family of four of a cap for one
    (issue #20.2); a fixed cap is the same for any household, so it is still judged."""
    people = [person(B, "乙", "H2")]
    payments = [
        pay(A, "甲", "H9", 1200, "2023-03-10"),
        pay(A, "甲", "H9", 1300, "2023-04-10"),
        pay(A, "甲", "H9", 2100, "2023-05-10", programme="特困人员救助供养金"),
    ]
    clues = run_rule("S07", make_tables(spark, person=people, subsidy_payment=payments))
    assert keys_of(clues) == [{"person": A, "programme": "特困人员救助供养金", "month": "2023-05"}]


# --- payroll -------------------------------------------------------------------------------------


def roll(p: str, month: str, code: str | None, name: str, category: str = "在编") -> dict[str, Any]:
    return {
        "person_id": p,
        "name": "某",
        "pay_month": month,
        "employer_code": code,
        "employer_name": name,
        "staff_category": category,
        "gross_pay": 5000,
        "net_pay": 4000,
    }


def test_p02_employers_without_a_code_are_told_apart_by_name(spark) -> None:
    payroll = [
        roll(A, "2023-03-01", None, "城厢街道办事处"),
        roll(A, "2023-03-01", None, "区农业农村局"),
        roll(B, "2023-03-01", None, "区农业农村局"),
        roll(B, "2023-03-01", None, "区农业农村局 "),
    ]
    clues = run_rule("P02", make_tables(spark, person=[person(A, "甲", "H1")], payroll=payroll))
    assert keys_of(clues) == [{"person": A}]


def test_p01_ignores_months_after_the_as_of_date(spark) -> None:
    people = [person(A, "甲", "H1", death_date="2023-03-10"), person(B, "乙", "H2", death_date="2023-03-10")]
    payroll = [roll(A, "2023-09-01", "U1", "甲单位"), roll(B, "2023-05-01", "U1", "甲单位")]
    clues = run_rule("P01", make_tables(spark, person=people, payroll=payroll), as_of=dt.date(2023, 6, 30))
    assert keys_of(clues) == [{"person": B}]


def wage(project: str, month: str, n: int, ratio: float) -> dict[str, Any]:
    return {
        "project_no": project,
        "wage_month": month,
        "person_id": pid(900 + n),
        "name": f"工{n}",
        "gross_wage": 1000,
        "net_wage": 1000 * ratio,
        "account": f"62{n:06d}",
    }


def test_p03_consecutive_months_run_across_the_year_boundary(spark) -> None:
    rows = [wage("XS1", m, n, 0.5) for m in ("2022-12-01", "2023-01-01") for n in range(3)]
    rows += [
        wage("XS2", m, n, 0.5) for m in ("2022-11-01", "2023-01-01") for n in range(3)
    ]  # not consecutive
    rows += [wage("XS3", None, n, 0.5) for n in range(3)] + [
        wage("XS3", "2023-01-01", n, 0.5) for n in range(3)
    ]
    assert keys_of(run_rule("P03", make_tables(spark, site_wage=rows))) == [{"project": "XS1"}]


# --- engineering and assets ----------------------------------------------------------------------

CO = "91330109MA00000011"


def project(no: str, amount: float) -> dict[str, Any]:
    return {
        "project_no": no,
        "project_name": no,
        "town": "城厢街道",
        "village": "园梅村",
        "approval_date": "2023-01-01",
        "tender_method": "公开招标",
        "award_date": "2023-01-10",
        "sign_date": "2023-01-20",
        "start_date": "2023-01-25",
        "acceptance_date": "2023-03-01",
        "contract_amount": amount,
        "winner_name": "甲建设有限公司",
        "winner_credit_code": CO,
        "bidder_count": 5,
    }


def ppay(
    no: str, date: str, amount: float, file: str, line: int, payee: str = "甲建设有限公司"
) -> dict[str, Any]:
    return {
        "project_no": no,
        "pay_date": date,
        "amount": amount,
        "payee_name": payee,
        "payee_account": "3301",
        "_file": file,
        "_line": line,
    }


def test_e03_a_payment_file_delivered_twice_under_two_names_counts_once(spark) -> None:
    first = [
        ppay("XS1", "2023-02-01", 60000, "村级工程付款_上半年.csv", 2),
        ppay("XS1", "2023-04-01", 40000, "村级工程付款_上半年.csv", 3),
    ]
    again = [dict(r, _file="村级工程付款_全年.csv", _line=r["_line"] + 10) for r in first]
    extra = [
        ppay("XS2", "2023-04-01", 60000, "村级工程付款_全年.csv", 20),
        ppay("XS2", "2023-04-01", 60000, "村级工程付款_全年.csv", 21),
    ]  # two real payments, one file
    tables = make_tables(
        spark,
        project=[project("XS1", 100000), project("XS2", 100000)],
        project_payment=first + again + extra,
        company=[{"credit_code": CO, "company_name": "甲建设有限公司"}],
    )
    assert keys_of(run_rule("E03", tables)) == [{"project": "XS2"}]


def test_e07_payee_differing_only_by_legal_form_or_width_is_the_winner(spark) -> None:
    pays = [
        ppay("XS1", "2023-04-01", 1000, "p.csv", 2, payee="甲建设有限责任公司"),
        ppay("XS1", "2023-04-02", 1000, "p.csv", 3, payee="甲建设（有限公司）"),
        ppay("XS2", "2023-04-01", 1000, "p.csv", 4, payee="乙建设有限公司"),
    ]
    tables = make_tables(
        spark,
        project=[project("XS1", 100000), project("XS2", 100000)],
        project_payment=pays,
        company=[{"credit_code": CO, "company_name": "甲建设有限公司"}],
    )
    assert keys_of(run_rule("E07", tables)) == [{"project": "XS2"}]


def lease(no: str) -> dict[str, Any]:
    return {
        "contract_no": no,
        "town": "城厢街道",
        "village": "园梅村",
        "asset_name": no,
        "asset_type": "耕地",
        "area": 10.0,
        "area_unit": "亩",
        "lessee_name": "赵六",
        "trade_method": "公开竞价",
        "platform_no": "P1",
        "start_date": "2022-01-01",
        "end_date": "2026-12-31",
        "annual_rent": 10000,
    }


def test_a02_a_receivable_paid_in_instalments_is_settled(spark) -> None:
    recv = [
        {
            "contract_no": "ZC1",
            "due_date": "2023-06-30",
            "due_amount": 10000,
            "paid_date": "2023-07-05",
            "paid_amount": 6000,
            "_file": "租金.csv",
            "_line": 2,
        },
        {
            "contract_no": "ZC1",
            "due_date": "2023-06-30",
            "due_amount": 10000,
            "paid_date": "2023-07-20",
            "paid_amount": 4000,
            "_file": "租金.csv",
            "_line": 3,
        },
        {
            "contract_no": "ZC2",
            "due_date": "2023-06-30",
            "due_amount": 10000,
            "paid_date": "2023-07-05",
            "paid_amount": 6000,
            "_file": "租金.csv",
            "_line": 4,
        },
        # ZC3: an earlier export said unpaid; the later export shows it paid in full
        {
            "contract_no": "ZC3",
            "due_date": "2023-06-30",
            "due_amount": 10000,
            "_file": "租金_1.csv",
            "_line": 2,
        },
        {
            "contract_no": "ZC3",
            "due_date": "2023-06-30",
            "due_amount": 10000,
            "paid_date": "2023-07-01",
            "paid_amount": 10000,
            "_file": "租金_2.csv",
            "_line": 2,
        },
    ]
    tables = make_tables(
        spark, lease_contract=[lease("ZC1"), lease("ZC2"), lease("ZC3")], rent_receivable=recv
    )
    clues = run_rule("A02", tables)
    assert keys_of(clues) == [{"contract": "ZC2"}]
    assert float(clues[0]["amount"]) == 4000.0
