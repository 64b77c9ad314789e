"""The gazetteer of 镇街 and 村社 (issue #20, item 4): every alias rule, ambiguity, the quarantine."""

from __future__ import annotations

import pytest
from test_resolve_support import make_id, person, shipped_mentions, std_table

pytestmark = pytest.mark.spark

REGISTRY = [  # (town, village): 东村 is in two towns
    ("北干街道", "梅杨村"),
    ("北干街道", "兴沈村"),
    ("瓜沥镇", "明山村"),
    ("瓜沥镇", "东村"),
    ("城厢街道", "东村"),
    ("城厢街道", "湖滨社区"),
]

# line → (town as delivered, village as delivered, expected town, expected village); None: unknown_division
CASES = {
    "exact": ("北干街道", "梅杨村", "北干街道", "梅杨村"),
    "district_prefix": ("萧山区北干街道", "梅杨村", "北干街道", "梅杨村"),
    "city_and_district_prefix": ("杭州市萧山区北干街道", "梅杨村", "北干街道", "梅杨村"),
    "dropped_jiedao": ("北干", "梅杨村", "北干街道", "梅杨村"),
    "dropped_zhen": ("瓜沥", "明山村", "瓜沥镇", "明山村"),
    "prefix_and_dropped_suffix": ("萧山区瓜沥", "明山村", "瓜沥镇", "明山村"),
    "banshichu": ("北干街道办事处", "兴沈村", "北干街道", "兴沈村"),
    "renmin_zhengfu": ("瓜沥镇人民政府", "明山村", "瓜沥镇", "明山村"),
    "cunmin_weiyuanhui": ("北干街道", "梅杨村村民委员会", "北干街道", "梅杨村"),
    "cunweihui": ("北干街道", "梅杨村委会", "北干街道", "梅杨村"),
    "cun_cunweihui": ("北干街道", "梅杨村村委会", "北干街道", "梅杨村"),
    "juweihui": ("城厢街道", "湖滨社区居委会", "城厢街道", "湖滨社区"),
    "town_before_village": ("北干街道", "北干街道梅杨村", "北干街道", "梅杨村"),
    "district_and_town_before_village": ("北干街道", "萧山区北干街道梅杨村村委会", "北干街道", "梅杨村"),
    "spaces_inside": ("北干 街道", "梅杨\u3000村", "北干街道", "梅杨村"),
    "code": ("330109002000", "330109002201", "北干街道", "梅杨村"),
    "config_alias": ("北干街道办", "梅家杨", "北干街道", "梅杨村"),
    "village_fixes_blank_town": (None, "明山村", "瓜沥镇", "明山村"),
    "village_fixes_unknown_town": ("萧山区", "明山村", "瓜沥镇", "明山村"),
    "prefixed_village_fixes_blank_town": (None, "城厢街道东村", "城厢街道", "东村"),
    "village_within_its_town": ("瓜沥镇", "东村", "瓜沥镇", "东村"),
    "blank_village": ("北干街道", None, "北干街道", None),
    "ambiguous_village_without_town": (None, "东村", None, None),
    "village_of_another_town": ("北干街道", "东村", None, None),
    "prefix_of_another_town": ("瓜沥镇", "北干街道明山村", None, None),
    "unknown_town": ("清风镇", None, None, None),
    "unknown_village": ("北干街道", "不存在村", None, None),
}
LINES = {case: line for line, case in enumerate(CASES, start=2)}


def registry(spark):
    rows = [
        person(make_id("19700101", i + 1), f"甲{i}", f"H{i}", "户主", town=t, village=v)
        for i, (t, v) in enumerate(REGISTRY)
    ]
    return std_table(spark, "registry_person", rows)


def divisions():
    from jobs.resolve.divisions import Divisions

    return Divisions.model_validate(
        {
            "towns": [
                {
                    "name": "北干街道",
                    "code": 330109002000,  # unquoted in YAML: an int, still a code
                    "aliases": ["北干街道办"],
                    "villages": [{"name": "梅杨村", "code": "330109002201", "aliases": ["梅家杨"]}],
                },
                {"name": "清风镇", "aliases": ["清风"]},  # not in the registry: ignored
            ]
        }
    )


def subsidy_rows():
    return [
        {"batch": "B1", "town": t, "village": v, "household_no": "H1", "name": case, "amount": 100.0}
        for case, (t, v, _, _) in CASES.items()
    ]


@pytest.fixture(scope="module")
def normalised(spark):
    from jobs.resolve.divisions import normalise_divisions

    tables = {
        "registry_person": registry(spark),
        "subsidy_payment": std_table(spark, "subsidy_payment", subsidy_rows()),
    }
    out, held = normalise_divisions(tables, divisions=divisions())
    return (
        {r["_line"]: r.asDict() for r in out["subsidy_payment"].collect()},
        {r["_line"]: r.asDict() for r in held.collect()},
        out,
    )


@pytest.mark.parametrize("case", [c for c, (*_, town, _v) in CASES.items() if town is not None])
def test_alias_resolves_to_the_canonical_division(normalised, case) -> None:
    accepted, held, _ = normalised
    raw_town, raw_village, town, village = CASES[case]
    row = accepted[LINES[case]]
    assert (row["town"], row["village"]) == (town, village)
    assert (row["town_raw"], row["village_raw"]) == (raw_town, raw_village)  # kept as delivered
    assert LINES[case] not in held


@pytest.mark.parametrize("case", [c for c, (*_, town, _v) in CASES.items() if town is None])
def test_unknown_or_ambiguous_division_is_quarantined_not_guessed(normalised, case) -> None:
    accepted, held, _ = normalised
    raw_town, raw_village, _, _ = CASES[case]
    assert LINES[case] not in accepted
    q = held[LINES[case]]
    assert (q["table"], q["reason"], q["raw_id"], q["candidates"]) == (
        "subsidy_payment",
        "unknown_division",
        None,
        [],
    )
    assert (q["column"], q["name"]) == (
        ("town", raw_town) if case == "unknown_town" else ("village", raw_village)
    )
    assert q["_file"] == "民生补助发放明细_202301.csv" and q["household_no"] == "H1"


def test_every_row_is_accepted_or_quarantined(normalised) -> None:
    accepted, held, _ = normalised
    assert sorted([*accepted, *held]) == sorted(LINES.values())


def test_the_registry_is_canonical_and_keeps_the_uniform_schema(normalised) -> None:
    _, _, out = normalised
    reg = out["registry_person"]
    cols = reg.columns
    assert (
        cols.index("town_raw") == cols.index("town") + 1
        and cols.index("village_raw") == cols.index("village") + 1
    )
    assert reg.filter("town <> town_raw OR village <> village_raw").count() == 0


def test_tables_are_found_by_their_columns(spark) -> None:
    from rulekit import frame

    from jobs.resolve.divisions import normalise_divisions

    tables = {
        "registry_person": registry(spark),
        "lease_contract": frame(
            spark, "lease_contract", [{"contract_no": "C1", "town": "萧山区瓜沥镇", "village": "明山村委会"}]
        ),
        "payroll": frame(spark, "payroll", [{"name": "甲"}]),
    }
    out, held = normalise_divisions(tables)
    (lease,) = out["lease_contract"].collect()
    assert (lease["town"], lease["village"], lease["town_raw"]) == ("瓜沥镇", "明山村", "萧山区瓜沥镇")
    assert out["payroll"].columns == tables["payroll"].columns  # no town or village: untouched
    assert held.count() == 0


def test_config_loads_and_an_absent_file_adds_nothing(tmp_path) -> None:
    from jobs.resolve.divisions import Divisions
    from qingfeng.settings import get_settings

    assert Divisions.load(tmp_path / "none.yml") == Divisions()
    shipped = Divisions.load(get_settings().divisions_config)
    assert shipped.towns and all(t.code is None or len(t.code) == 12 for t in shipped.towns)
    bad = tmp_path / "bad.yml"
    bad.write_text("towns:\n  - name: 北干街道\n    code: '3301'\n", encoding="utf-8")
    with pytest.raises(ValueError, match="code"):
        Divisions.load(bad)


def test_the_shipped_config_names_divisions_of_the_sample_registry() -> None:
    import csv
    from pathlib import Path

    from jobs.resolve.divisions import Divisions
    from qingfeng.settings import get_settings

    sample = Path(__file__).parent / "fixtures" / "sample"
    with (sample / "户籍人口信息_20231231.csv").open(encoding="gb18030") as f:
        known = {(r["所属镇街"], r["所属村社"]) for r in csv.DictReader(f)}
    towns = {t for t, _ in known}
    for town in Divisions.load(get_settings().divisions_config).towns:
        assert town.name in towns
        assert all((town.name, v.name) in known for v in town.villages)


def test_unknown_division_reaches_resolution_quarantine_and_counts_reconcile(spark) -> None:
    from jobs.resolve import resolve_tables
    from jobs.resolve.matching import MatchConfig

    reg = registry(spark)
    head = reg.filter("town = '北干街道' AND village = '梅杨村'").first()
    rows = [
        {"batch": "B1", "town": "萧山区北干街道", "village": "梅杨村委会", "household_no": head["household_no"],
         "name": head["name"], "id_no": head["id_no"], "amount": 100.0},
        {"batch": "B1", "town": "清风镇", "village": "东村", "household_no": "H9", "name": "乙",
         "id_no": "", "amount": 100.0},
        {"batch": "B1", "town": "北干街道", "village": "东村", "household_no": "H9", "name": "丙",
         "id_no": "", "amount": 100.0},
    ]  # fmt: skip
    out = resolve_tables(
        {"registry_person": reg, "subsidy_payment": std_table(spark, "subsidy_payment", rows)},
        config=MatchConfig(),
        mentions=shipped_mentions(),
    )
    accepted = out["subsidy_payment"].collect()
    q = [r.asDict() for r in out["resolution_quarantine"].filter("reason = 'unknown_division'").collect()]
    assert len(accepted) + len(q) == len(rows)
    ((row),) = accepted
    assert (row["town"], row["village"], row["person_id"]) == ("北干街道", "梅杨村", head["id_no"])
    assert sorted((r["_line"], r["column"], r["name"]) for r in q) == [
        (3, "town", "清风镇"),
        (4, "village", "东村"),
    ]
    assert (
        out["resolution_quarantine"].filter("reason <> 'unknown_division'").count() == 0
    )  # not person mentions


def test_e01_grouping_by_village_is_not_split_by_an_alias(spark) -> None:
    """Two direct awards to one firm in one village, one spelled 萧山区城厢街道 / 园梅村村委会."""
    from rulekit import keys_of, make_tables, run_rule
    from test_rules_engineering import C1, small

    from jobs.resolve.divisions import normalise_divisions

    rows = [
        small("P1", "2023-03-01", 60000),
        small("P2", "2023-04-15", 50000, town="萧山区城厢街道", village="园梅村村委会"),
    ]
    tables = make_tables(spark, project=rows)
    reg = std_table(
        spark,
        "registry_person",
        [person(make_id("19700101", 1), "甲", "H1", "户主", town="城厢街道", village="园梅村")],
    )
    out, _ = normalise_divisions({"registry_person": reg, "project": tables["project"]})
    clues = run_rule("E01", {**tables, "project": out["project"]})
    assert keys_of(clues) == [{"village": "园梅村", "company": C1}]
    assert [e["line"] for e in clues[0]["evidence"]] == [2, 3]


def test_the_cross_match_reruns_when_the_divisions_change(tmp_path) -> None:
    import datetime as dt

    from qingfeng.pipeline import inputs
    from qingfeng.settings import get_settings

    config = tmp_path / "divisions.yml"
    settings = get_settings(home=tmp_path).model_copy(update={"divisions_config": config})
    files, day = [{"table": "t", "sha256": "a"}], dt.date(2023, 12, 31)
    before = inputs.fingerprint(files, day, settings)
    config.write_text("towns:\n  - name: 北干街道\n    aliases: [北干街道办]\n", encoding="utf-8")
    assert inputs.fingerprint(files, day, settings) != before
