"""A01–A05 on small hand-made curated tables: a firing case, a look-alike, and the exact threshold."""

from __future__ import annotations

from typing import Any

import pytest
import rulekit
from rulekit import keys_of, make_tables, person, pid, run_rule, with_section

pytestmark = pytest.mark.spark

PROV = rulekit.PROVENANCE
# Asset curated tables (docs/architecture.md); registered here until rulekit has them.
rulekit.SCHEMAS.setdefault(
    "lease_contract",
    (
        "collective_asset",
        "contract_no string, town string, village string, asset_name string, asset_type string, area double, "
        "area_unit string, lessee_name string, lessee_id string, lessee_id_raw string, lessee_id_status string, "
        "trade_method string, platform_no string, start_date date, end_date date, annual_rent decimal(18,2), "
        f"prev_contract_no string, {PROV}, lessee_id_person string, lessee_id_method string, lessee_id_score double",
    ),
)
rulekit.SCHEMAS.setdefault(
    "rent_receivable",
    (
        "collective_asset",
        f"contract_no string, due_date date, due_amount decimal(18,2), paid_date date, paid_amount decimal(18,2), {PROV}",
    ),
)

LESSEE = pid(50)
CO = "91330109MA0000009X"


def lease(no: str, **kw: Any) -> dict[str, Any]:
    row = {
        "contract_no": no,
        "town": "城厢街道",
        "village": "园梅村",
        "asset_name": f"{no}资产",
        "asset_type": "耕地",
        "area": 10.0,
        "area_unit": "亩",
        "lessee_name": "赵六",
        "lessee_id": LESSEE,
        "lessee_id_raw": LESSEE,
        "lessee_id_status": "valid",
        "lessee_id_person": LESSEE,
        "trade_method": "公开竞价",
        "platform_no": f"HZNC{no}",
        "start_date": "2022-01-01",
        "end_date": "2026-12-31",
        "annual_rent": 10000,
    }
    row.update(kw)
    return row


def by_contract(clues: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["keys"]["contract"]: c for c in clues}


# --- A01 ----------------------------------------------------------------------------------------


def a01_rows() -> list[dict[str, Any]]:
    peers = [lease(f"K{i}", start_date=f"202{i % 3}-0{i}-01") for i in range(1, 6)]  # 1000 元/亩
    return [
        *peers,
        lease("LOW", annual_rent=4000),  # 400/亩 < 50% of 1000
        lease("EDGE", annual_rent=5000),  # exactly 50%
        lease("SQM", area=6666.67, area_unit="平方米", annual_rent=10000),  # the same land in m²
        lease("OLD", start_date="2010-01-01", end_date="2015-12-31", annual_rent=1000),  # no peers then
        lease("WOOD", asset_type="林地", annual_rent=100),  # a type with no peers
    ]


def test_a01_low_rent_against_town_median_with_units_converted(spark) -> None:
    clues = run_rule("A01", make_tables(spark, lease_contract=a01_rows()))
    assert keys_of(clues) == [{"contract": "LOW"}]
    (clue,) = clues
    note = clue["evidence"][0]["note"]
    assert "城厢街道同类 7 份合同中位数 1.5000" in note
    assert clue["amount"] == 6000.0  # (1000 − 400) 元/亩 × 10 亩
    assert {(s["kind"], s["id"]) for s in clue["subjects"]} == {
        ("contract", "LOW"),
        ("village", "园梅村"),
        ("person", LESSEE),
    }


def test_a01_small_town_falls_back_to_the_district(spark) -> None:
    small_town = [lease(f"T{i}", town="新塘街道", village="新塘村", annual_rent=4000) for i in range(1, 4)]
    rows = [*a01_rows(), *small_town, lease("Z", town="新塘街道", village="新塘村", annual_rent=3000)]
    tables = make_tables(spark, lease_contract=rows)
    clues = by_contract(run_rule("A01", tables))
    assert "Z" in clues and "全区同类" in clues["Z"]["evidence"][0]["note"]
    # with 3 town peers enough, 新塘街道's own median (400/亩) applies and 300/亩 is not below half of it
    fewer = by_contract(run_rule("A01", tables, cfg=with_section("A01", min_town_peers=3)))
    assert "Z" not in fewer and "LOW" in fewer


# --- A02 ----------------------------------------------------------------------------------------


def test_a02_overdue_unpaid_or_short_paid_as_of(spark) -> None:
    recv = [
        {"contract_no": "C1", "due_date": "2023-10-01", "due_amount": 1000},  # 91 days unpaid
        {"contract_no": "C2", "due_date": "2023-11-01", "due_amount": 1000},  # exactly 60 days
        {
            "contract_no": "C3",
            "due_date": "2023-09-01",
            "due_amount": 1000,
            "paid_date": "2023-09-05",
            "paid_amount": 900,
        },  # short-paid
        {
            "contract_no": "C4",
            "due_date": "2023-06-01",
            "due_amount": 1000,
            "paid_date": "2023-10-01",
            "paid_amount": 1000,
        },  # late, settled
        {
            "contract_no": "C5",
            "due_date": "2023-06-01",
            "due_amount": 1000,
            "paid_date": "2024-01-05",
            "paid_amount": 1000,
        },  # paid after as-of
        {"contract_no": "C6", "due_date": "2023-10-31", "due_amount": 1000},  # 61 days
        {"contract_no": "C6", "due_date": "2023-07-31", "due_amount": 500},
    ]
    tables = make_tables(spark, lease_contract=[lease(f"C{i}") for i in range(1, 7)], rent_receivable=recv)
    clues = by_contract(run_rule("A02", tables))
    assert sorted(clues) == ["C1", "C3", "C5", "C6"]
    assert clues["C3"]["amount"] == 100.0
    assert clues["C6"]["amount"] == 1500.0
    assert (clues["C6"]["period_start"], clues["C6"]["period_end"]) == ("2023-07-31", "2023-10-31")
    assert [e["line"] for e in clues["C6"]["evidence"]] == [8, 7]
    assert "逾期 61 天" in clues["C6"]["evidence"][1]["note"]
    assert clues["C1"]["town"] == "城厢街道" and clues["C1"]["severity"] == "low"


# --- A03 ----------------------------------------------------------------------------------------


def test_a03_term_longer_than_allowed(spark) -> None:
    tables = make_tables(
        spark,
        lease_contract=[
            lease("L20", start_date="2020-01-01", end_date="2039-12-31"),  # exactly 20 years
            lease("L20B", start_date="2020-01-01", end_date="2040-01-01"),  # ends on the anniversary
            lease("L20C", start_date="2020-01-01", end_date="2040-01-02"),
            lease("W30", asset_type="林地", start_date="2015-01-01", end_date="2044-12-31"),
            lease(
                "B10",
                asset_type="厂房",
                area=500,
                area_unit="平方米",
                start_date="2020-01-01",
                end_date="2029-12-31",
            ),
            lease(
                "B11",
                asset_type="仓库",
                area=500,
                area_unit="平方米",
                start_date="2020-01-01",
                end_date="2030-06-30",
            ),
            lease("F15", asset_type="鱼塘", start_date="2020-01-01", end_date="2034-12-31"),
        ],
    )
    clues = by_contract(run_rule("A03", tables))
    assert sorted(clues) == ["B11", "L20C", "W30"]
    assert "约 30.0 年，超过 20 年" in clues["W30"]["evidence"][0]["note"]
    assert "超过 10 年" in clues["B11"]["evidence"][0]["note"]


# --- A04 ----------------------------------------------------------------------------------------


def test_a04_unlisted_renewal_or_direct_lease(spark) -> None:
    tables = make_tables(
        spark,
        lease_contract=[
            lease(
                "R1", trade_method="协议续租", platform_no=None, annual_rent=50000, prev_contract_no="R0"
            ),  # at limit
            lease("R2", trade_method="协议续租", platform_no=None, annual_rent=49999.99),
            lease("R3", trade_method="直接发包", platform_no="  ", annual_rent=80000),
            lease("R6", trade_method="直接发包", platform_no="无", annual_rent=80000),
            lease("R4", trade_method="公开竞价", platform_no=None, annual_rent=80000),
            lease("R5", trade_method="协议续租", platform_no="HZNC1", annual_rent=80000),
        ],
    )
    clues = by_contract(run_rule("A04", tables))
    assert sorted(clues) == ["R1", "R3", "R6"]
    assert clues["R1"]["evidence"][0]["note"] == "协议续租 年租金 50,000.00，无交易平台编号，原合同 R0"
    assert clues["R1"]["amount"] == 50000.0


# --- A05 ----------------------------------------------------------------------------------------

CADRE, SON = pid(1), pid(2)


def test_a05_cadre_or_kin_or_their_company_leases_in_own_town(spark) -> None:
    company_lessee = {
        "lessee_name": "丙有限公司",
        "lessee_id": CO,
        "lessee_id_raw": CO,
        "lessee_id_status": "credit_code",
        "lessee_id_person": None,
    }
    son = {"lessee_name": "张小三", "lessee_id": SON, "lessee_id_raw": SON, "lessee_id_person": SON}
    tables = make_tables(
        spark,
        lease_contract=[
            lease("L1", start_date="2023-03-01", **son),
            lease("L2", start_date="2023-03-01", **company_lessee),
            lease("L3", start_date="2023-03-01", town="新塘街道", **son),  # cadre serves elsewhere
            lease("L4", start_date="2019-12-31", **son),  # before the cadre's term
            lease("L5", start_date="2020-01-01", **son),  # first day of the term
            lease("L6", start_date="2023-03-01"),  # an unrelated lessee
        ],
        person=[person(CADRE, "张三", "H1"), person(SON, "张小三", "H1"), person(LESSEE, "赵六", "H2")],
        cadre=[
            {
                "person_id": CADRE,
                "name": "张三",
                "town": "城厢街道",
                "village": "园梅村",
                "post": "村委会主任",
                "start_date": "2020-01-01",
            }
        ],
        kin=[{"cadre_id": CADRE, "kin_id": SON, "steps": 1, "path": "张三(村委会主任) —子女— 张小三"}],
        company=[{"credit_code": CO, "company_name": "丙有限公司", "reg_status": "存续"}],
        company_party=[{"credit_code": CO, "person_id": CADRE, "role": "legal_representative"}],
    )
    clues = by_contract(run_rule("A05", tables))
    assert sorted(clues) == ["L1", "L2", "L5"]
    assert clues["L1"]["path"] == "张三(村委会主任) —子女— 张小三 —承租— L1"
    assert clues["L2"]["path"] == "张三(村委会主任) —法定代表人— 丙有限公司 —承租— L2"
    assert [e["table"] for e in clues["L2"]["evidence"]] == ["lease_contract", "company_party", "cadre"]
    assert {(s["kind"], s["id"]) for s in clues["L1"]["subjects"]} == {
        ("contract", "L1"),
        ("village", "园梅村"),
        ("person", SON),
        ("person", CADRE),
    }
    assert ("company", CO) in {(s["kind"], s["id"]) for s in clues["L2"]["subjects"]}
