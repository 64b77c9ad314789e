"""Cells padded with full-width or no-break spaces parse like their trimmed values."""

from __future__ import annotations

import pytest

from qingfeng.feeds.model import FileSpec
from qingfeng.ingest.parse import parse_table

pytestmark = pytest.mark.spark

SPEC = FileSpec.model_validate(
    {
        "table": "toy_payment",
        "pattern": r"toy_\d+\.csv",
        "encoding": "utf-8",
        "columns": {
            "补助项目": {"name": "programme", "type": "enum", "values": ["最低生活保障金"]},
            "发放金额(元)": {"name": "amount", "type": "money", "nullable": False},
        },
    }
)


def test_full_width_and_no_break_spaces_are_trimmed(spark) -> None:
    staged = spark.createDataFrame(
        [
            ("toy", "toy_1.csv", 2, "sha", "fsha", "\u3000最低生活保障金\u3000", "\u00a01,250.00 "),
            ("toy", "toy_1.csv", 3, "sha", "fsha", "\u3000\u3000", "10.00"),
        ],
        "_feed string, _file string, _line long, _file_sha string, file_id string, programme string, amount string",
    )
    rows = {r["_line"]: r for r in parse_table(staged, SPEC).collect()}
    assert rows[2]["programme"] == "最低生活保障金"
    assert float(rows[2]["amount"]) == 1250.0
    assert rows[2]["_problems"] == []
    assert rows[3]["programme"] is None  # a cell of spaces only is blank, not a value outside the set
