"""The rules runner: registry loading, the union of all rules, and ``main`` on a real lake."""

from __future__ import annotations

import datetime as dt

import pyarrow.dataset as ds
import pytest
from rulekit import make_tables, person, pid, run_rule

from jobs.rules import runner
from jobs.rules.base import REGISTRY
from qingfeng import lake
from qingfeng.contract import CLUE_COLUMNS, fingerprint

pytestmark = pytest.mark.spark

A = pid(1)
AS_OF = dt.date(2023, 12, 31)


def _curated(spark):
    people = [person(A, "甲", "H1", death_date="2023-01-01")]
    payments = [
        {
            "person_id": A,
            "name": "甲",
            "household_no": "H1",
            "programme": "最低生活保障金",
            "amount": 900,
            "pay_date": "2023-03-10",
            "batch": "202303-00",
            "town": "城厢街道",
        }
    ]
    return make_tables(spark, person=people, subsidy_payment=payments)


def test_registry_holds_subsidy_and_payroll_rules_with_catalogue_keys():
    runner.load_rule_modules()
    expected = {
        "S01": ("person", "programme"),
        "S02": ("person", "programme"),
        "S03": ("person", "cadre", "programme"),
        "S04": ("person", "programme", "month"),
        "S05": ("person", "programme"),
        "S06": ("account",),
        "S07": ("person", "programme", "month"),
        "P01": ("person",),
        "P02": ("person",),
        "P03": ("project",),
        "P04": ("person",),
        "P05": ("account",),
    }
    assert {c: REGISTRY[c].keys for c in expected} == expected


def test_an_unknown_rule_code_is_an_error():
    with pytest.raises(KeyError, match="Z99"):
        runner.select_specs(["Z99"])


def test_run_rules_unions_every_rule_with_the_clue_columns(spark):
    tables = _curated(spark)
    runner.load_rule_modules()
    have = {c for c, s in REGISTRY.items() if set(s.needs) <= set(tables)}
    out = runner.run_rules(tables, config=_config(), as_of=AS_OF, codes=sorted(have))
    assert out.columns == [*CLUE_COLUMNS[:1], "rule_name", *CLUE_COLUMNS[1:], "fingerprint", "as_of"]
    assert {"S01", "S07", "P01"} <= have
    clues = run_rule("S01", tables)
    assert [c["keys"] for c in clues] == [{"person": A, "programme": "最低生活保障金"}]


def test_rule_missing_a_table_is_a_clear_error(spark):
    tables = _curated(spark)
    del tables["kin"]
    with pytest.raises(KeyError, match="S03 needs curated table"):
        runner.run_rules(tables, config=_config(), as_of=AS_OF, codes=["S03"])


def test_main_writes_lake_clues_and_is_idempotent(spark, settings):
    for name, df in _curated(spark).items():
        if name != "kin":  # kin not built: S03 is skipped and reported
            lake.write_table(df, settings, "curated", name)
    summary = runner.main(settings, spark=spark, as_of=AS_OF, codes=["S01", "S03", "S04"])
    assert summary["per_rule"] == {"S01": 1, "S04": 0}
    assert summary["skipped"] == {"S03": ["kin"]}
    assert set(summary["seconds_per_rule"]) == {"S01", "S04"}

    def read():
        return (
            ds.dataset(str(lake.table_path(settings, "clues", "")), format="parquet").to_table().to_pylist()
        )

    first = read()
    assert [(r["rule"], dict(r["keys"]), r["as_of"]) for r in first] == [
        ("S01", {"person": A, "programme": "最低生活保障金"}, AS_OF)
    ]
    assert first[0]["fingerprint"] == fingerprint("S01", {"person": A, "programme": "最低生活保障金"})
    runner.main(settings, spark=spark, as_of=AS_OF, codes=["S01", "S03", "S04"])
    assert read() == first


def _config():
    from rulekit import config

    return config()
