"""Entity resolution on a hand-made village (Spark local)."""

from __future__ import annotations

import pytest
from test_resolve_support import (
    d,
    id_valid,
    legacy15,
    make_credit_code,
    make_id,
    person,
    shipped_mentions,
    std_table,
    substitute,
    transpose,
    valid_typo,
)

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
E1 = make_id("19650115", 12)  # 周建国, household H5 of four (户主)
E2 = make_id("19670220", 24)  # 吴秀英, H5 配偶
E3 = make_id("19900310", 36)  # 周杰, H5 子
E4 = make_id("19920412", 48)  # 周婷, H5 女
G1 = make_id("19400101", 71)  # 孙老汉: known only from a death record (no longer in the registry)
G1_NEIGHBOUR = make_id("19400101", 62)  # 孙秀英, H10: born the same day, ID body 2 digits from G1's
N1 = make_id("19880808", 81, region="320102")  # 钱多多: valid, not local, nobody like him
FAR = make_id("19881111", 5, region="440301")  # valid, not in the registry, far from everyone
TWO_DIGITS_OFF_A3 = substitute(substitute(A3, 15), 16)
# an unverified ID: the 15-digit form of E1 with one digit mistyped (no check digit to catch it)
E1_LEGACY_TYPO = legacy15(E1, typo_at=12)
# G1 with another region code and G1's check digit: fails the check, birth date intact, far from G1
G1_OTHER_REGION = "320102" + G1[6:]


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
        person(E1, "周建国", "H5", "户主"),
        person(E2, "吴秀英", "H5", "配偶", sex="女"),
        person(E3, "周杰", "H5", "子"),
        person(E4, "周婷", "H5", "女", sex="女"),
        person(G1_NEIGHBOUR, "孙秀英", "H10", "户主", sex="女"),
    ]


def subsidy(id_no, name, hh, amount=500.0, pay_date="2023-01-15", programme="最低生活保障金"):
    return {
        "batch": "B1",
        "programme": programme,
        "town": "清风镇",
        "village": "东村",
        "household_no": hh,
        "name": name,
        "id_no": id_no,
        "amount": amount,
        "pay_date": d(pay_date),
    }


def payroll(id_no, name, month="2023-01"):
    return {
        "pay_month": month,
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
                # unverified IDs (checksum-valid or upgraded, not in the registry): hints, not identities
                subsidy(E1_LEGACY_TYPO, "周建国", "H5", amount=4000.0),  # line 7 → E1 (4 living: no S07)
                subsidy(valid_typo(E2, 14), "吴秀英", "H5"),  # line 8 → E2
                subsidy(valid_typo(D2, 15), "陈静", "H4"),  # line 9: two 陈静, the ID evidence fits D2 only
                subsidy(FAR, "王丽", "H2"),  # line 10: B2 by name, but the ID contradicts → quarantine
                # the dead who left the registry: reached through the death record's ID
                subsidy(G1, "孙老汉", "H9", amount=200.0, pay_date="2023-05-15", programme="高龄津贴"),  # 11
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
                payroll(valid_typo(A2, 13), "李芳"),  # line 9: checksum-valid typo → A2 (id_repair)
                payroll(legacy15(A4, typo_at=13), "张小红"),  # line 10: 15-digit typo → A4 (id_repair)
                payroll(N1, "钱多多"),  # line 11: valid but not local, no candidate → quarantine
                payroll(G1, "孙老汉", "2023-05"),  # line 12: the death record's ID → G1
                payroll(G1_OTHER_REGION, "孙老汉", "2023-06"),  # line 13: failed ID, name + birth → G1
            ],
        ),
        "death_record": std_table(
            spark,
            "death_record",
            [
                {"name": "刘德华", "id_no": C1, "death_date": d("2023-02-10")},
                {"name": "张伟", "id_no": A1, "death_date": d("2023-03-01")},
                {"name": "孙老汉", "id_no": G1, "death_date": d("2023-03-01")},
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
def resolved(spark):
    from jobs.resolve import resolve_tables
    from jobs.resolve.matching import MatchConfig

    out = resolve_tables(build_tables(spark), config=MatchConfig(), mentions=shipped_mentions())
    return {name: df.localCheckpoint() for name, df in out.items()}


@pytest.fixture(scope="module")
def curated(resolved):
    return {name: df.toPandas() for name, df in resolved.items()}


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
    assert len(q) == 5  # the three above and the two unverified IDs of the next test


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
    assert len(people) == 15  # 14 registered and 孙老汉, known only from his death record
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


def _method(df, line):
    row = by_line(df, line)
    return row["person_id"], row["resolve_method"], row["resolve_score"]


def test_unverified_ids_resolve_like_blank_ones_through_household_and_name(curated):
    """An upgraded 15-digit or checksum-valid 18-digit ID that is not in the registry is a hint:
    户号 + 姓名 decides, the ID and its birth date are evidence (issue #20, item 1)."""
    assert id_valid(valid_typo(E2, 14)) and valid_typo(E2, 14) != E2
    sub = curated["subsidy_payment"]
    assert by_line(sub, 7)["id_no_status"] == "legacy15" and by_line(sub, 7)["id_no"] != E1
    assert _method(sub, 7) == (E1, "household_name", 1.0)
    assert _method(sub, 8) == (E2, "household_name", 1.0)
    # two 陈静 in H4: the mistyped ID is one digit from D2's and far from D1's, so exactly one fits
    assert _method(sub, 9) == (D2, "household_name", 1.0)


def test_unverified_ids_without_household_are_repaired_against_the_registry(curated):
    pay = curated["payroll"]
    assert _method(pay, 9) == (A2, "id_repair", 0.99)
    assert _method(pay, 10) == (A4, "id_repair", 0.99)


def test_unverified_ids_that_fit_nobody_are_quarantined_never_a_person(curated):
    q = curated["resolution_quarantine"]
    wang = q[(q["table"] == "subsidy_payment") & (q["_line"] == 10)].iloc[0]
    assert wang["raw_id"] == FAR and wang["reason"] == "unresolved"
    assert B2 in [c["person_id"] for c in wang["candidates"]]  # listed, not picked: the ID contradicts
    qian = q[(q["table"] == "payroll") & (q["_line"] == 11)].iloc[0]
    assert qian["raw_id"] == N1 and qian["reason"] == "unresolved" and len(qian["candidates"]) == 0
    for table, line in (("subsidy_payment", 10), ("payroll", 11)):
        assert _method(curated[table], line) == (None, "unresolved", 0.0)


def test_a_mistyped_legacy_id_no_longer_shrinks_the_household_to_one(resolved):
    """The false S07 of issue #20: the typo became a 'person' outside the registry, a household of one."""
    from rulekit import run_rule

    tables = {"subsidy_payment": resolved["subsidy_payment"], "person": resolved["person"]}
    assert run_rule("S07", tables) == []


def test_the_dead_who_left_the_registry_are_persons_known_from_the_death_record(curated):
    """孙秀英 of H10 was born the same day as 孙老汉 and her ID is two digits from his: birth date and
    ID body agree, the name does not. She is not a plausible registry candidate for his record."""
    people = curated["person"].set_index("person_id")
    sun = people.loc[G1]
    assert (sun["name"], sun["death_date"], sun["death_source"]) == (
        "孙老汉",
        d("2023-03-01"),
        "death_record",
    )
    assert sun["household_no"] is None and sun["birth_date"] == d("1940-01-01")
    assert sun["_feed"] == "death"
    deaths = curated["death_record"].set_index("name")
    assert (deaths.loc["孙老汉", "person_id"], deaths.loc["孙老汉", "resolve_method"]) == (
        G1,
        "id_death_record",
    )
    assert _method(curated["subsidy_payment"], 11) == (G1, "id_death_record", 1.0)
    assert _method(curated["payroll"], 12) == (G1, "id_death_record", 1.0)
    assert not id_valid(G1_OTHER_REGION)
    assert _method(curated["payroll"], 13) == (G1, "name_birth", 0.95)


def test_the_dead_who_left_the_registry_reach_s01_and_p01(resolved, spark):
    from pyspark.sql import functions as F
    from rulekit import frame, keys_of, run_rule

    roll = (
        resolved["payroll"]
        .withColumn("pay_month", F.to_date(F.concat("pay_month", F.lit("-01"))))
        .withColumn("employer_name", F.lit("清风镇人民政府"))
        .withColumn("gross_pay", F.lit(8000).cast("decimal(18,2)"))
        .withColumn("net_pay", F.lit(7000).cast("decimal(18,2)"))
    )
    tables = {
        "subsidy_payment": resolved["subsidy_payment"],
        "person": resolved["person"],
        "payroll": roll,
        "site_wage": frame(spark, "site_wage"),
    }
    assert keys_of(run_rule("S01", tables)) == [{"person": G1, "programme": "高龄津贴"}]
    (p01,) = run_rule("P01", tables)
    assert p01["keys"] == {"person": G1} and [e["line"] for e in p01["evidence"]] == [12, 13]
    assert p01["subjects"] == [{"kind": "person", "id": G1, "name": "孙老汉"}]


def test_resolve_command_without_a_registry_fails_with_a_clear_message(spark, home):
    from click.testing import CliRunner

    from qingfeng.cli import main

    result = CliRunner().invoke(main, ["resolve", "--home", str(home)])
    assert result.exit_code == 1
    assert "registry_person" in result.output and "Traceback" not in result.output
