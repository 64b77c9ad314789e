"""The kinship graph (rules.md "Kinship graph") and kin reach on Spark local."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.spark

REG = "户籍人口信息_20231231.csv"
MAR = "婚姻登记信息_2023.csv"
CAD = "村社干部名册_2023.xlsx"

# person_id, name, household, relation (与户主关系); the registry line is the list position + 2
PEOPLE = [
    ("G1", "王老汉", "HX", "户主"),
    ("P1", "王大", "HX", "子"),
    ("P2", "王二妹", "HX", "女"),
    ("C", "王村长", "HC", "户主"),  # the cadre
    ("Y", "王小宝", "HC", "子"),
    ("EX", "赵前妻", "HC", "配偶"),  # registry still lists her as 配偶; a divorce has ended it
    ("W", "李四", "HW", "女"),  # married to C by registration
    ("W2", "李五", "HW", "子"),
    ("WH", "李老爹", "HW", "户主"),
    ("K", "王表妹", "HK", "户主"),  # a cousin of C (another cadre, who declared 王二妹 her mother)
    ("F", "钱某", "HF", "户主"),  # married then divorced by a man outside the cadre's family
    ("M", "孙某", "HF", "配偶"),
]


def person_df(spark):
    rows = [
        (pid, name, hh, rel, "household_registry", REG, i + 2)
        for i, (pid, name, hh, rel) in enumerate(PEOPLE)
    ]
    return spark.createDataFrame(
        rows,
        "person_id string, name string, household_no string, relation string, "
        "_feed string, _file string, _line long",
    )


def marriage_df(spark):
    rows = [
        ("C", "王村长", "EX", "赵前妻", "结婚登记", dt.date(2010, 1, 1), 2),
        ("C", "王村长", "EX", "赵前妻", "离婚登记", dt.date(2019, 6, 1), 3),
        ("C", "王村长", "W", "李四", "结婚登记", dt.date(2021, 5, 20), 4),
        ("F", "钱某", "M", "孙某", "结婚登记", dt.date(2012, 1, 1), 5),
        ("F", "钱某", "M", "孙某", "离婚登记", dt.date(2020, 1, 1), 6),
        ("F", "钱某", "M", "孙某", "结婚登记", dt.date(2022, 1, 1), 7),  # remarried: the edge stands
    ]
    return spark.createDataFrame(
        [(*r[:6], "marriage", MAR, r[6]) for r in rows],
        "husband_id_person string, husband_name string, wife_id_person string, wife_name string, "
        "business_type string, reg_date date, _feed string, _file string, _line long",
    )


def relatives_df(spark):
    rows = [("C", "王村长", "P1", "王大", "父亲", 2), ("K", "王表妹", "P2", "王二妹", "母亲", 3)]
    return spark.createDataFrame(
        [(*r[:5], "cadre", CAD, r[5]) for r in rows],
        "cadre_id_person string, cadre_name string, relative_id_person string, relative_name string, "
        "relation string, _feed string, _file string, _line long",
    )


def cadre_df(spark):
    rows = [
        ("C", "王村长", "村书记", dt.date(2020, 1, 1)),
        ("C", "王村长", "村委委员", dt.date(2015, 1, 1)),
        ("K", "王表妹", "会计", dt.date(2021, 1, 1)),
    ]
    return spark.createDataFrame(rows, "person_id string, name string, post string, start_date date")


@pytest.fixture(scope="module")
def graph(spark):
    from jobs.kinship import build_graph

    tables = {
        "person": person_df(spark),
        "marriage_registration": marriage_df(spark),
        "cadre_relative": relatives_df(spark),
        "cadre": cadre_df(spark),
    }
    return {k: build_graph(tables, kinship_steps=k) for k in (2, 3)}


def edges(graph):
    out: dict[tuple, set] = {}
    for r in graph[2]["relation"].toPandas().itertuples():
        out.setdefault((r.source, r.target, r.relationship), set()).add((r.feed, r.file, r.line))
    return out


def test_household_edges_follow_the_rules_with_provenance(graph):
    e = edges(graph)
    assert e[("G1", "P1", "parent")] == {("household_registry", REG, 3)}
    assert e[("G1", "P2", "parent")] == {("household_registry", REG, 4)}
    assert ("P1", "P2", "sibling") in e
    assert e[("C", "Y", "parent")] == {("household_registry", REG, 6)}
    assert ("EX", "Y", "parent") in e  # 配偶–子
    assert ("WH", "W", "parent") in e and ("W", "W2", "sibling") in e
    assert ("C", "W", "spouse") in e and e[("C", "W", "spouse")] == {("marriage", MAR, 4)}
    assert e[("C", "P1", "declared:父亲")] == {("cadre", CAD, 2)}


def test_divorce_removes_the_spouse_edge_and_remarriage_restores_it(graph):
    e = edges(graph)
    assert not any({s, t} == {"C", "EX"} and r == "spouse" for s, t, r in e)
    assert e[("F", "M", "spouse")] == {("marriage", MAR, 7), ("household_registry", REG, 13)}


def kin(graph, k):
    df = graph[k]["kin"].toPandas()
    return {(r.cadre_id, r.kin_id): r for r in df.itertuples()}


def test_reach_within_two_steps_with_readable_paths(graph):
    k2 = kin(graph, 2)
    assert k2[("C", "C")].steps == 0 and k2[("C", "C")].path == "王村长(村书记)"
    w2 = k2[("C", "W2")]
    assert w2.steps == 2
    assert w2.path == "王村长(村书记) —配偶— 李四 —兄弟姐妹— 李五"
    assert list(w2.path_ids) == ["C", "W", "W2"] and list(w2.path_relationships) == ["配偶", "兄弟姐妹"]
    assert k2[("C", "P1")].path == "王村长(村书记) —父亲— 王大"
    assert k2[("C", "G1")].path == "王村长(村书记) —父亲— 王大 —父母— 王老汉"
    assert k2[("C", "WH")].path == "王村长(村书记) —配偶— 李四 —父母— 李老爹"
    assert k2[("C", "Y")].steps == 1 and k2[("C", "Y")].path == "王村长(村书记) —子女— 王小宝"
    assert k2[("C", "EX")].path == "王村长(村书记) —子女— 王小宝 —父母— 赵前妻"
    pairs = graph[2]["kin"].groupBy("cadre_id", "kin_id").count()
    assert pairs.filter("count > 1").count() == 0  # one shortest path per pair


def test_three_steps_reach_cousins_and_two_do_not(graph):
    assert ("C", "K") not in kin(graph, 2)
    cousin = kin(graph, 3)[("C", "K")]
    assert cousin.steps == 3
    assert cousin.path == "王村长(村书记) —父亲— 王大 —兄弟姐妹— 王二妹 —子女— 王表妹"
    back = kin(graph, 3)[("K", "C")]
    assert back.path.startswith("王表妹(会计) —母亲— 王二妹 —兄弟姐妹— 王大 —子女— 王村长")
