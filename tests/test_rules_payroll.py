"""P01–P05 on hand-made curated tables: a firing case, a look-alike, and the exact threshold."""

from __future__ import annotations

from typing import Any

import pytest
from rulekit import keys_of, make_tables, person, pid, run_rule, with_section

from qingfeng.contract import fingerprint

pytestmark = pytest.mark.spark

A, B, C = pid(1), pid(2), pid(3)


def roll(
    p: str | None, month: str, employer: str = "E1", category: str = "在编", net: float = 7000, **extra: Any
) -> dict:
    row = {
        "person_id": p,
        "name": "某",
        "pay_month": f"{month}-01",
        "employer_code": employer,
        "employer_name": f"单位{employer}",
        "staff_category": category,
        "gross_pay": 8000,
        "net_pay": net,
    }
    row.update(extra)
    return row


def wage(
    p: str | None, month: str, project: str = "XS1", gross: float = 6000, net: float = 6000, **extra: Any
) -> dict:
    row = {
        "person_id": p,
        "name": "工",
        "project_no": project,
        "contractor_name": "某建设公司",
        "wage_month": f"{month}-01",
        "gross_wage": gross,
        "net_wage": net,
        "pay_date": f"{month}-25",
        "account": f"62{p or extra.get('name', 'x')}",
    }
    row.update(extra)
    return row


def test_p01_lines_after_the_month_of_death(spark):
    people = [
        person(A, "甲", "H1", death_date="2023-03-31"),
        person(B, "乙", "H2", death_date="2023-03-01"),
        person(C, "丙", "H3"),
    ]
    payroll = [
        roll(A, "2023-03"),
        roll(A, "2023-04", category="离退休", net=4000),  # April pension: fires
        roll(B, "2023-03"),  # the month of death itself: not a clue
        roll(C, "2023-06"),
    ]
    site = [wage(A, "2023-05", net=5000), wage(B, "2023-03")]
    clues = run_rule("P01", make_tables(spark, person=people, payroll=payroll, site_wage=site))
    assert keys_of(clues) == [{"person": A}]
    (clue,) = clues
    assert clue["amount"] == 9000.0
    assert (clue["period_start"], clue["period_end"]) == ("2023-04-01", "2023-05-31")
    assert {e["table"] for e in clue["evidence"]} == {"payroll", "site_wage"}
    assert clue["subjects"] == [{"kind": "person", "id": A, "name": "甲"}]
    assert clue["town"] == "城厢街道" and clue["severity"] == "high"
    assert clue["fingerprint"] == fingerprint("P01", {"person": A})


def test_p02_two_in_service_employers_in_one_month(spark):
    payroll = [
        roll(A, "2023-03", "E1"),
        roll(A, "2023-03", "E2", category="编外"),  # fires
        roll(B, "2023-03", "E1"),
        roll(B, "2023-04", "E2"),  # one employer per month: moved job
        roll(C, "2023-03", "E1"),
        roll(C, "2023-03", "E2", category="离退休"),  # pension is not in service
    ]
    tables = make_tables(spark, person=[person(A, "甲", "H1")], payroll=payroll)
    clues = run_rule("P02", tables)
    assert keys_of(clues) == [{"person": A}]
    assert clues[0]["amount"] == 14000.0 and len(clues[0]["evidence"]) == 2
    assert run_rule("P02", tables, cfg=with_section("P02", min_employers=3)) == []


def _crew(project: str, month: str, n: int, paid: float, start: int = 0) -> list[dict]:
    return [wage(pid(100 + start + i), month, project, gross=1000, net=paid) for i in range(n)]


def test_p03_three_underpaid_workers_two_consecutive_months(spark):
    site = [
        *_crew("P-FIRE", "2023-03", 3, 899.99),
        *_crew("P-FIRE", "2023-04", 3, 500, start=10),  # fires
        *_crew("P-EXACT", "2023-03", 3, 900),
        *_crew("P-EXACT", "2023-04", 3, 900),  # exactly 90%: paid enough
        *_crew("P-GAP", "2023-03", 3, 500),
        *_crew("P-GAP", "2023-05", 3, 500),  # months not consecutive
        *_crew("P-TWO", "2023-03", 2, 500),
        *_crew("P-TWO", "2023-04", 2, 500),  # only 2 workers
        *_crew("P-FIRE", "2023-06", 5, 1000, start=20),  # paid in full: not evidence
    ]
    clues = run_rule("P03", make_tables(spark, site_wage=site))
    assert keys_of(clues) == [{"project": "P-FIRE"}]
    (clue,) = clues
    assert clue["amount"] == pytest.approx(3 * 100.01 + 3 * 500)
    assert len(clue["evidence"]) == 6
    assert clue["subjects"] == [{"kind": "project", "id": "P-FIRE", "name": None}]
    assert (clue["period_start"], clue["period_end"]) == ("2023-03-01", "2023-04-30")


def test_p04_site_worker_on_payroll_or_two_projects(spark):
    site = [
        wage(A, "2023-03", "XS1"),  # A 在编 in March: fires
        wage(B, "2023-03", "XS1"),
        wage(B, "2023-03", "XS2"),  # B on two projects: fires
        wage(C, "2023-03", "XS1"),
        wage(C, "2023-04", "XS2"),  # consecutive months, one project each
        wage(pid(9), "2023-03", "XS1"),  # retired public employee working on site: allowed
    ]
    payroll = [roll(A, "2023-03"), roll(C, "2023-02"), roll(pid(9), "2023-03", category="离退休")]
    clues = run_rule("P04", make_tables(spark, site_wage=site, payroll=payroll))
    assert keys_of(clues) == [{"person": A}, {"person": B}]
    assert {e["table"] for e in clues[0]["evidence"]} == {"site_wage", "payroll"}
    assert clues[1]["amount"] == 12000.0


def test_p05_five_workers_one_account_one_month(spark):
    site = [wage(pid(100 + i), "2023-03", account="SHARED") for i in range(5)]  # exactly 5: fires
    site += [wage(pid(200 + i), "2023-03", account="FOUR") for i in range(4)]  # 4 workers: no
    site += [
        wage(pid(300 + i), f"2023-0{3 + i % 2}", account="SPLIT") for i in range(6)
    ]  # 3 + 3 over two months
    site += [wage(pid(400), f"2023-0{m}", account="ONE") for m in range(1, 8)]  # one worker, many lines
    clues = run_rule("P05", make_tables(spark, site_wage=site))
    assert keys_of(clues) == [{"account": "SHARED"}]
    (clue,) = clues
    assert clue["subjects"][0] == {"kind": "account", "id": "SHARED", "name": None}
    assert len(clue["subjects"]) == 6 and clue["amount"] == 30000.0
    assert clue["fingerprint"] == fingerprint("P05", {"account": "SHARED"})
