"""A data engineer adds a feed with one YAML file, and no Python: its GX suite is generated from it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from qingfeng.settings import get_settings

pytestmark = pytest.mark.spark

FEED = """
feed: toy
title: 门诊登记 (a toy feed)
files:
  - table: toy_visit
    pattern: 'toy_visits_\\d{4}\\.csv'
    encoding: gb18030
    columns:
      编号: {name: visit_no, nullable: false}
      日期: {name: visit_date, type: date, nullable: false}
      金额: {name: fee, type: money}
      证件号: {name: visitor_id, type: resident_id}
      科室: {name: department, type: enum, values: [内科, 外科]}
      备注: {name: note, required: false}
    keys: [visit_no]
    checks:
      - reason: fee_too_high
        column: fee
        when: "fee > 1000"
    expectations:  # the suite also checks the row count, the key and the enum: generated
      - type: expect_column_values_to_be_between
        kwargs: {column: fee, min_value: 0, max_value: 500}
        severity: warning
"""

ROWS = """编号,日期,金额,证件号,科室
V1,2023年1月2日,"1,200.00",330109197510152073,内科
V2,2023/1/3,800.00,330109197510152074,外科
V3,20230104,12.50,330109197510152073,外科
V4,2023-01-05,600.00,,内科
"""


def _setup(tmp_path: Path, rows: str):
    feeds, inbox = tmp_path / "feeds", tmp_path / "inbox"
    for folder in (feeds, inbox):
        folder.mkdir()
    (feeds / "toy.yml").write_text(FEED, encoding="utf-8")
    (inbox / "toy_visits_2023.csv").write_bytes(rows.encode("gb18030"))
    settings = get_settings(home=tmp_path / "home", feeds_dir=feeds, spark_master="local[2]")
    return settings, inbox


def test_a_toy_feed_from_yaml_alone(spark, tmp_path: Path) -> None:
    from qingfeng.ingest import ingest_dir

    settings, inbox = _setup(tmp_path, ROWS)
    report = ingest_dir(settings, inbox, spark=spark)
    [f] = report.files
    assert (f.feed, f.table, f.status) == ("toy", "toy_visit", "ingested")
    assert (f.rows_read, f.rows_accepted, f.reasons) == (4, 2, {"fee_too_high": 1, "invalid_id": 1})
    assert any("optional columns absent" in w and "备注" in w for w in f.warnings)
    assert any(
        "expect_column_values_to_be_between" in w and "fee" in w for w in f.warnings
    )  # 800 > 500: a warning
    rows = {
        r["visit_no"]: r
        for r in spark.read.parquet(str(settings.lake / "standardized" / "toy_visit")).collect()
    }
    assert set(rows) == {"V3", "V4"}
    assert rows["V3"]["fee"] == Decimal("12.50") and str(rows["V3"]["visit_date"]) == "2023-01-04"
    assert rows["V4"]["visitor_id_status"] == "blank" and rows["V4"]["note"] is None
    assert (settings.home / "gx" / "expectations" / "toy_visit.json").exists()


def test_a_failing_error_level_expectation_fails_the_feed(spark, tmp_path: Path) -> None:
    from qingfeng.ingest import ingest_dir

    settings, inbox = _setup(tmp_path, ROWS.replace("V4,", "V3,"))
    [f] = ingest_dir(settings, inbox, spark=spark).files
    assert f.status == "failed"
    assert (
        "feed toy, table toy_visit: expectation expect_column_values_to_be_unique(column='visit_no') failed"
        in f.error
    )
    assert not (settings.lake / "standardized" / "toy_visit").exists()
    assert not (settings.lake / "_manifests" / "toy_visit").exists()
