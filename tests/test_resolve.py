"""Entity resolution on a hand-made village (Spark local)."""

from __future__ import annotations

import pytest
from test_resolve_support import d, make_credit_code, make_id, person, std_table, substitute, transpose

pytestmark = pytest.mark.spark

A1 = make_id("19700101", 11)  # 张伟, household H1 (户主)
A2 = make_id("19720202", 22)  # 李芳, H1 配偶
A3 = make_id("19950303", 33)  # 张小明, H1 子
A4 = make_id("19970404", 44)  # 张小红, H1 女
B1 = make_id("19800505", 55)  # 张伟, household H2 in the same village: a homonym of A1
B2 = make_id("19820606", 66)  # 王丽, H2 配偶
C1 = make_id("19600707", 77)  # 刘德华, H3
D1 = make_id("19500808", 88)  # 陈静, H4 户主
D2 = make_id("19850909", 99)  # 陈静, H4 儿媳: same name, same household
CC1 = make_credit_code(1)
CC2 = make_credit_code(2)
TWO_DIGITS_OFF_A3 = substitute(substitute(A3, 15), 16)


def registry_rows():
    return [
        person(A1, "张伟", "H1", "户主"),
        person(A2, "李芳", "H1", "配偶", sex="女"),
        person(A3, "张小明", "H1", "子"),
        person(A4, "张小红", "H1", "女", sex="女"),
        person(B1, "张伟", "H2", "户主"),
        person(B2, "王丽", "H2", "配偶", sex="女"),
        person(C1, "刘德华", "H3", "户主", status="死亡", status_date=d("2023-02-01")),
        person(D1, "陈静", "H4", "户主", sex="女"),
        person(D2, "陈静", "H4", "儿媳", sex="女"),
    ]


def subsidy(id_no, name, hh):
    return {
        "batch": "B1",
        "programme": "最低生活保障金",
        "town": "清风镇",
        "village": "东村",
        "household_no": hh,
        "name": name,
        "id_no": id_no,
        "amount": 500.0,
        "pay_date": d("2023-01-15"),
    }


def payroll(id_no, name):
    return {
        "pay_month": "2023-01",
        "employer_code": "E1",
        "staff_category": "在编",
        "id_no": id_no,
        "name": name,
    }


def build_tables(spark):
    return {
        "registry_person": std_table(spark, "registry_person", registry_rows()),
        "subsidy_payment": std_table(
            spark,
            "subsidy_payment",
            [
                subsidy("", "张伟", "H2"),  # line 2: blank ID, homonym household → B1
                subsidy("", "张伟", "H1"),  # line 3 → A1
                subsidy("", "劉　德華", "H3"),  # line 4: traditional + full-width space → C1
                subsidy("", "陈静", "H4"),  # line 5: two 陈静 in H4 → quarantine, ambiguous
                subsidy(A4, "张小红", "H1"),  # line 6: valid ID
            ],
        ),
        "payroll": std_table(
            spark,
            "payroll",
            [
                payroll(substitute(A3, 9), "张小明"),  # line 2: one-digit typo → A3
                payroll(transpose(A4), "张小红"),  # line 3: transposition → A4
                payroll(A2[:6] + A2[8:17], "李芳"),  # line 4: 15-digit ID → A2
                payroll("", "赵无名"),  # line 5: nobody → quarantine, unresolved
                payroll(
                    TWO_DIGITS_OFF_A3, "張曉明"
                ),  # line 6: two digits off, homophone name → probabilistic A3
                payroll("", "张伟"),  # line 7: two 张伟, nothing else known → ambiguous
                payroll(substitute(A1, 10), "张伟"),  # line 8: typo of A1 (B1 is far away) → A1
            ],
        ),
        "death_record": std_table(
            spark,
            "death_record",
            [
                {"name": "刘德华", "id_no": C1, "death_date": d("2023-02-10")},
                {"name": "张伟", "id_no": A1, "death_date": d("2023-03-01")},
            ],
        ),
        "cadre": std_table(
            spark,
            "cadre",
            [
                {
                    "id_no": A1,
                    "name": "张伟",
                    "town": "清风镇",
                    "village": "东村",
                    "post": "村书记",
                    "start_date": d("2020-01-01"),
                },
            ],
        ),
        "cadre_relative": std_table(
            spark,
            "cadre_relative",
            [
                {
                    "cadre_id": A1,
                    "cadre_name": "张伟",
                    "relative_name": "张小明",
                    "relative_id": "",
                    "relation": "子女",
                },
                {
                    "cadre_id": A1,
                    "cadre_name": "张伟",
                    "relative_name": "王丽",
                    "relative_id": "",
                    "relation": "表妹",
                },
            ],
        ),
        "company": std_table(
            spark,
            "company",
            [
                {
                    "credit_code": CC1,
                    "company_name": "清风建筑工程有限公司",
                    "legal_rep_name": "张小明",
                    "legal_rep_id": A3,
                    "reg_status": "存续",
                },
                {
                    "credit_code": CC2,
                    "company_name": "东村投资集团有限公司",
                    "legal_rep_name": "王丽",
                    "legal_rep_id": B2,
                    "reg_status": "在业",
                },
            ],
        ),
        "shareholder": std_table(
            spark,
            "shareholder",
            [
                {"credit_code": CC1, "shareholder_name": "李芳", "shareholder_id": A2, "share_pct": 60.0},
                {
                    "credit_code": CC1,
                    "shareholder_name": "东村投资集团有限公司",
                    "shareholder_id": CC2,
                    "share_pct": 40.0,
                },
            ],
        ),
        "project_payment": std_table(
            spark,
            "project_payment",
            [
                {
                    "project_no": "P1",
                    "pay_date": d("2023-05-01"),
                    "amount": 1000.0,
                    "payee_name": "清风建筑工程有限责任公司",
                },
                {"project_no": "P1", "pay_date": d("2023-05-02"), "amount": 1000.0, "payee_name": "別的公司"},
            ],
        ),
    }


@pytest.fixture(scope="module")
def curated(spark):
    from qingfeng.jobs.resolve import resolve_tables
    from qingfeng.jobs.resolve.matching import MatchConfig

    out = resolve_tables(build_tables(spark), config=MatchConfig())
    return {name: df.toPandas() for name, df in out.items()}


def by_line(df, line):
    return df[df["_line"] == line].iloc[0]


def test_blank_ids_resolve_through_the_household_and_homonyms_stay_apart(curated):
    sub = curated["subsidy_payment"]
    assert (by_line(sub, 2)["person_id"], by_line(sub, 2)["resolve_method"]) == (B1, "household_name")
    assert (by_line(sub, 3)["person_id"], by_line(sub, 3)["resolve_method"]) == (A1, "household_name")
    assert by_line(sub, 6)["person_id"] == A4 and by_line(sub, 6)["resolve_method"] == "id"
    # the same name in one village never merges across households
    zhang = curated["subsidy_payment"].query("name == '张伟'")
    assert sorted(zip(zhang["household_no"], zhang["person_id"], strict=True)) == [("H1", A1), ("H2", B1)]


def test_traditional_and_full_width_names_match_simplified(curated):
    row = by_line(curated["subsidy_payment"], 4)
    assert (row["person_id"], row["resolve_method"], row["resolve_score"]) == (C1, "household_name", 1.0)


def test_typos_and_transpositions_are_repaired_and_legacy_ids_upgraded(curated):
    pay = curated["payroll"]
    assert (by_line(pay, 2)["person_id"], by_line(pay, 2)["resolve_method"]) == (A3, "id_repair")
    assert (by_line(pay, 3)["person_id"], by_line(pay, 3)["resolve_method"]) == (A4, "id_repair")
    assert (by_line(pay, 4)["person_id"], by_line(pay, 4)["resolve_method"]) == (A2, "id_legacy15")
    assert (by_line(pay, 8)["person_id"], by_line(pay, 8)["resolve_method"]) == (A1, "id_repair")


def test_probabilistic_match_records_its_score(curated):
    row = by_line(curated["payroll"], 6)
    assert (row["person_id"], row["resolve_method"]) == (A3, "probabilistic")
    assert 0.95 <= row["resolve_score"] < 1.0


def test_ambiguous_and_unresolvable_mentions_are_quarantined_with_candidates(curated):
    q = curated["resolution_quarantine"]
    chen = q[(q["table"] == "subsidy_payment") & (q["_line"] == 5)].iloc[0]
    assert chen["reason"] == "ambiguous" and chen["column"] == "id_no" and chen["household_no"] == "H4"
    assert sorted(c["person_id"] for c in chen["candidates"]) == sorted([D1, D2])
    zhang = q[(q["table"] == "payroll") & (q["_line"] == 7)].iloc[0]
    assert zhang["reason"] == "ambiguous"
    assert sorted(c["person_id"] for c in zhang["candidates"]) == sorted([A1, B1])
    nobody = q[(q["table"] == "payroll") & (q["_line"] == 5)].iloc[0]
    assert nobody["reason"] == "unresolved" and len(nobody["candidates"]) == 0
    # quarantined rows stay in the curated table, unresolved, never silently picked
    for table, line in (("subsidy_payment", 5), ("payroll", 7), ("payroll", 5)):
        row = by_line(curated[table], line)
        assert row["person_id"] is None and row["resolve_method"] == "unresolved"
    assert len(q) == 3


def test_declared_relatives_resolve_within_the_cadres_household_then_village(curated):
    rel = curated["cadre_relative"].set_index("relative_name")
    assert rel.loc["张小明", "cadre_id_person"] == A1
    assert (rel.loc["张小明", "relative_id_person"], rel.loc["张小明", "relative_id_method"]) == (
        A3,
        "household_name",
    )
    assert (rel.loc["王丽", "relative_id_person"], rel.loc["王丽", "relative_id_method"]) == (
        B2,
        "village_name",
    )


def test_person_master_takes_the_earlier_death_date(curated):
    people = curated["person"].set_index("person_id")
    assert len(people) == 9
    assert people.loc[C1, "death_date"] == d("2023-02-01") and people.loc[C1, "death_source"] == "registry"
    assert (
        people.loc[A1, "death_date"] == d("2023-03-01") and people.loc[A1, "death_source"] == "death_record"
    )
    assert people.loc[A2, "death_date"] is None or str(people.loc[A2, "death_date"]) in ("NaT", "None")


def test_company_master_parties_and_payee_names(curated):
    master = curated["company_master"].set_index("credit_code")
    assert master.loc[CC1, "name_norm"] == "清风建筑工程" and master.loc[CC1, "legal_rep_person"] == A3
    parties = curated["company_party"]
    got = sorted(zip(parties["credit_code"], parties["person_id"], parties["role"], strict=True))
    assert got == sorted(
        [(CC1, A3, "legal_representative"), (CC2, B2, "legal_representative"), (CC1, A2, "shareholder")]
    )
    holders = curated["shareholder"].set_index("shareholder_name")
    assert holders.loc["东村投资集团有限公司", "shareholder_id_person"] is None
    assert holders.loc["东村投资集团有限公司", "shareholder_id_method"] is None  # a company, not a person
    pay = curated["project_payment"].set_index("payee_name")
    assert pay.loc["清风建筑工程有限责任公司", "payee_credit_code"] == CC1
    assert pay.loc["別的公司", "payee_credit_code"] is None


def test_resolve_command_without_a_registry_fails_with_a_clear_message(spark, home):
    from click.testing import CliRunner

    from qingfeng.cli import main

    result = CliRunner().invoke(main, ["resolve", "--home", str(home)])
    assert result.exit_code == 1
    assert "registry_person" in result.output and "Traceback" not in result.output
