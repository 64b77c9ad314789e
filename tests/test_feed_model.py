"""Every feed file validates, every table's GX suite is generated from it, and a broken feed file says
what is wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from qingfeng.feeds.model import FeedFileError, load_feed, load_feeds
from qingfeng.feeds.suite import check_ranges, suite_document
from qingfeng.settings import PROJECT_ROOT

FEEDS = PROJECT_ROOT / "feeds"
TABLES = {
    "registry_person", "marriage_registration", "death_record", "cadre", "cadre_relative", "subsidy_payment",
    "payroll", "company", "shareholder", "asset_holding", "project", "project_payment", "lease_contract",
    "rent_receivable", "site_wage", "petition",
}  # fmt: skip


def test_all_feeds_load_with_the_contract_tables() -> None:
    feeds = load_feeds(FEEDS)
    assert len(feeds) == 12
    assert {t for f in feeds for t in f.tables} == TABLES


def test_every_table_has_a_gx_suite_on_its_own_columns() -> None:
    from qingfeng.ingest.expectations import build_suite

    for feed in load_feeds(FEEDS):
        for spec in feed.files:
            data = suite_document(feed.feed, spec)
            suite = build_suite(feed.feed, spec)
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


def _exp(kind: str, severity: str = "error", **kwargs: object) -> tuple[str, dict, str]:
    return kind, kwargs, severity


def test_a_suite_restates_the_feed_file() -> None:
    """The registry's suite, in full: row count, key, nullability, enums, ID statuses; and the
    ranges that the row checks leave (shareholder, project) with the feed's own extra."""
    feeds = {spec.table: (feed.feed, spec) for feed in load_feeds(FEEDS) for spec in feed.files}

    def suite(table: str) -> list[tuple[str, dict, str]]:
        document = suite_document(*feeds[table])
        assert document["meta"]["table"] == table and document["meta"]["feed"] == feeds[table][0]
        return [(e["type"], e["kwargs"], e["meta"]["severity"]) for e in document["expectations"]]

    statuses = ["valid", "legacy15", "blank", "invalid"]
    assert suite("registry_person") == [
        _exp("expect_table_row_count_to_be_between", "warning", min_value=1),
        _exp("expect_column_values_to_not_be_null", column="id_no"),
        _exp("expect_column_values_to_be_unique", column="id_no"),
        _exp("expect_column_values_to_be_in_set", column="id_no_status", value_set=statuses),
        _exp("expect_column_values_to_not_be_null", column="name"),
        _exp("expect_column_values_to_be_in_set", column="sex", value_set=["男", "女"]),
        _exp("expect_column_values_to_not_be_null", column="household_no"),
        _exp("expect_column_values_to_not_be_null", column="town"),
        _exp("expect_column_values_to_not_be_null", column="village"),
        _exp(
            "expect_column_values_to_be_in_set", column="status", value_set=["正常", "死亡", "迁出", "注销"]
        ),
    ]
    shareholder = suite("shareholder")
    assert shareholder[1] == _exp(
        "expect_compound_columns_to_be_unique",
        "warning",
        column_list=["credit_code", "shareholder_name", "shareholder_id_raw"],
    )
    assert (
        _exp("expect_column_values_to_be_between", column="share_pct", min_value=0, max_value=100)
        in shareholder
    )
    assert (
        _exp(
            "expect_column_values_to_be_in_set",
            column="shareholder_id_status",
            value_set=[*statuses, "credit_code"],
        )
        in shareholder
    )
    project = suite("project")
    for column in ("control_price", "contract_amount", "bidder_count"):  # the last is the feed's extra
        assert _exp("expect_column_values_to_be_between", column=column, min_value=0) in project
    assert not [e for e in suite("project_payment") if "unique" in e[0]]  # no key, no uniqueness


@pytest.mark.parametrize(
    ("when", "ranges"),
    [
        ("fee < 0", {"fee": {"min_value": 0}}),
        ("fee < 0 OR fee > 1000.5", {"fee": {"min_value": 0, "max_value": 1000.5}}),
        ("fee <= 0 or tax < -1", {"fee": {"min_value": 0, "strict_min": True}, "tax": {"min_value": -1}}),
        ("fee < 0 AND tax < 0", {}),  # bounds neither column alone
        ("tax > fee", {}),
        ("fee < 0 OR tax IS NULL", {}),
    ],
)
def test_a_row_check_that_compares_a_column_with_a_number_bounds_the_accepted_rows(
    tmp_path: Path, when: str, ranges: dict
) -> None:
    columns = "      金额: {name: fee, type: money}\n      税: {name: tax, type: money}\n"
    text = GOOD.replace("    keys:", f"{columns}    checks: [{{reason: bad, when: '{when}'}}]\n    keys:")
    assert check_ranges(load_feed(_write(tmp_path, "toy", text)).files[0]) == ranges


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
        "petition": (D(2023, 1, 1), D(2023, 1, 31)),
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
