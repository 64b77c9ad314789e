"""Every feed file validates, every table has a GX suite, and a broken feed file says what is wrong."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from qingfeng.feeds.model import FeedFileError, load_feed, load_feeds
from qingfeng.settings import PROJECT_ROOT

FEEDS = PROJECT_ROOT / "feeds"
EXPECTATIONS = PROJECT_ROOT / "expectations"
TABLES = {
    "registry_person", "marriage_registration", "death_record", "cadre", "cadre_relative", "subsidy_payment",
    "payroll", "company", "shareholder", "asset_holding", "project", "project_payment", "lease_contract",
    "rent_receivable", "site_wage",
}  # fmt: skip


def test_all_feeds_load_with_the_contract_tables() -> None:
    feeds = load_feeds(FEEDS)
    assert len(feeds) == 11
    assert {t for f in feeds for t in f.tables} == TABLES


def test_every_table_has_a_gx_suite_on_its_own_columns() -> None:
    from great_expectations.core.expectation_suite import ExpectationSuite

    for feed in load_feeds(FEEDS):
        for spec in feed.files:
            data = json.loads((EXPECTATIONS / f"{spec.suite_name}.json").read_text(encoding="utf-8"))
            suite = ExpectationSuite(**data)
            assert suite.name == spec.table
            assert len(suite.expectations) == len(data["expectations"])
            types = {e["type"] for e in data["expectations"]}
            assert "expect_table_row_count_to_be_between" in types
            for exp in data["expectations"]:
                kwargs = exp["kwargs"]
                cols = [kwargs["column"]] if "column" in kwargs else kwargs.get("column_list", [])
                assert set(cols) <= set(spec.output_columns), (spec.table, exp["type"], cols)
                assert exp["meta"]["severity"] in ("error", "warning") and "severity" not in exp
            if spec.keys:
                assert types & {"expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
feed: toy
title: toy
files:
  - table: toy
    pattern: 'toy\\.csv'
    encoding: utf-8
    columns:
      编号: {name: visit_no, nullable: false}
    keys: [visit_no]
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feed: toy\ntitle: [unclosed", "not valid YAML"),
        ("- a list", "must be a mapping"),
        (GOOD.replace("nullable: false", "type: money_bag"), "files.0.columns.编号.type"),
        (GOOD.replace("nullable: false", "type: enum"), "is an enum but lists no values"),
        (GOOD.replace("keys: [visit_no]", "keys: [number]"), "key 'number' is not a declared column"),
        (GOOD.replace("    encoding: utf-8\n", ""), "must declare its encoding"),
        (GOOD.replace("name: visit_no", "name: VisitNo"), "is not snake_case"),
        (GOOD.replace("'toy\\.csv'", "'toy(.csv'"), "is not a regular expression"),
        (GOOD.replace("title: toy\n", "title: toy\ncolour: red\n"), "colour"),
        (GOOD.replace("'toy\\.csv'", "'toy_(?P<period>\\d+)\\.csv'"), "files.0.pattern: the period group"),
        (
            GOOD.replace("title: toy\n", "title: toy\nmax_shrink: 1.5\n"),
            "max_shrink: max_shrink 1.5 is not a",
        ),
        (GOOD.replace("    keys:", "    max_shrink: -0.1\n    keys:"), "files.0.max_shrink: max_shrink -0.1"),
        (GOOD.replace("    keys:", "    max_shrink: yes\n    keys:"), "files.0.max_shrink: max_shrink True"),
        (
            GOOD.replace("    keys:", "    coverage: [village]\n    keys:"),
            "files.0.coverage: coverage column 'village'",
        ),
    ],
)
def test_a_broken_feed_file_names_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "toy", text)
    with pytest.raises(FeedFileError) as err:
        load_feed(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_feed_name_must_match_file_and_tables_must_be_unique(tmp_path: Path) -> None:
    with pytest.raises(FeedFileError, match="must equal the file name"):
        load_feed(_write(tmp_path, "other", GOOD))
    tmp_path = tmp_path / "feeds"
    tmp_path.mkdir()
    _write(tmp_path, "toy", GOOD)
    _write(tmp_path, "toy2", GOOD.replace("feed: toy", "feed: toy2"))
    with pytest.raises(FeedFileError, match="table 'toy' is declared by both toy and toy2"):
        load_feeds(tmp_path, strict=True)
    # not strict (the DAG files, `qingfeng ingest`): both are left out and named, the others load
    _write(tmp_path, "toy3", GOOD.replace("feed: toy", "feed: toy3").replace("table: toy", "table: toy3"))
    loaded = load_feeds(tmp_path)
    assert [f.feed for f in loaded] == ["toy3"]
    assert [(p.file.name, p.field) for p in loaded.problems] == [
        ("toy.yml", "files.0.table"),
        ("toy2.yml", "files.0.table"),
    ]


D = dt.date


@pytest.mark.parametrize(
    ("pattern", "name", "period"),
    [
        (r"x_(?P<period>\d{4})\.csv", "x_2023.csv", (D(2023, 1, 1), D(2023, 12, 31))),
        (r"x_(?P<period>\d{6})\.csv", "x_202302.csv", (D(2023, 2, 1), D(2023, 2, 28))),
        (r"x_(?P<period>\d{6})\.csv", "x_202402.csv", (D(2024, 2, 1), D(2024, 2, 29))),  # leap year
        (r"x_(?P<period>\d{6})\.csv", "x_202312.csv", (D(2023, 12, 1), D(2023, 12, 31))),
        (r"x_(?P<period>\d{8})\.csv", "x_20231231.csv", (D(2023, 12, 31), D(2023, 12, 31))),
        (r"x_(?P<period>\d{4}|\d{6})\.csv", "x_2023.csv", (D(2023, 1, 1), D(2023, 12, 31))),
        (r"x_(?P<period>\d{4}|\d{6})\.csv", "x_202311.csv", (D(2023, 11, 1), D(2023, 11, 30))),
        (
            r"x_(?P<period>[0-9]{8})(?:\(更正\))?\.csv",
            "x_20240131(更正).csv",
            (D(2024, 1, 31), D(2024, 1, 31)),
        ),
        (r"x_(?P<period>\d{6})\.csv", "x_202313.csv", None),  # not a month
        (r"x_(?P<period>\d{8})\.csv", "x_20230230.csv", None),  # not a day
        (r"x_(?P<period>\d{6})\.csv", "y_202301.csv", None),  # not this pattern
        (r"x_\d{6}\.csv", "x_202301.csv", None),  # no period group
        (r"x(_(?P<period>\d{4}))?\.csv", "x.csv", None),  # the group did not take part
    ],
)
def test_period_of_reads_the_year_month_or_day_of_a_file_name(pattern: str, name: str, period) -> None:
    from qingfeng.feeds.model import FileSpec

    spec = FileSpec(table="t", pattern=pattern, encoding="gbk", columns={"编号": {"name": "no"}})
    assert spec.period_of(name) == period


def test_shipped_feeds_name_their_periods_and_the_registry_guards_its_villages() -> None:
    feeds = {f.feed: f for f in load_feeds(FEEDS)}
    periods = {s.table: s.period_of(s.examples[0]) for f in feeds.values() for s in f.files if s.has_period}
    assert periods == {
        "cadre": (D(2023, 1, 1), D(2023, 12, 31)),
        "cadre_relative": (D(2023, 1, 1), D(2023, 12, 31)),
        "death_record": (D(2023, 1, 1), D(2023, 12, 31)),
        "registry_person": (D(2023, 12, 31), D(2023, 12, 31)),
        "marriage_registration": (D(2023, 1, 1), D(2023, 12, 31)),
        "payroll": (D(2023, 1, 1), D(2023, 12, 31)),
        "site_wage": (D(2023, 1, 1), D(2023, 12, 31)),
        "subsidy_payment": (D(2023, 1, 1), D(2023, 1, 31)),
    }
    assert feeds["payroll"].files[0].period_of("财政供养人员工资_202306.csv") == (
        D(2023, 6, 1),
        D(2023, 6, 30),
    )
    registry = feeds["household_registry"]
    assert registry.files[0].coverage == ["town", "village"]
    assert registry.shrink_limit(registry.files[0]) == (0.10, "the feed's")


def test_max_shrink_of_a_file_kind_overrides_the_feeds(tmp_path: Path) -> None:
    text = GOOD.replace("title: toy\n", "title: toy\nmax_shrink: 0.25\n")
    feed = load_feed(_write(tmp_path, "toy", text))
    assert feed.shrink_limit(feed.files[0]) == (0.25, "the feed's")
    feed = load_feed(_write(tmp_path, "toy", text.replace("    keys:", "    max_shrink: 0\n    keys:")))
    assert feed.shrink_limit(feed.files[0]) == (0.0, "table toy's")
