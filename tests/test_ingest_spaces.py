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


ACCOUNTS = FileSpec.model_validate(
    {
        "table": "toy_account",
        "pattern": r"toy_\d+\.csv",
        "encoding": "utf-8",
        "columns": {"银行账号": {"name": "account", "type": "bank_account"}},
    }
)


def test_bank_accounts_land_in_one_spelling(spark) -> None:
    """S06 and P05 group payments by account: Excel's ', spaces, hyphens and full-width digits
    must not split one card into several (issue #20)."""
    typed = [
        "'6217001234567890",
        "6217 0012 3456 7890",
        "6217-0012-3456-7890",
        "６２１７００１２３４５６７８９０",
    ]
    rows = [
        ("toy", "toy_1.csv", i + 2, "sha", "fsha", value)
        for i, value in enumerate([*typed, "\u3000", "ab-12"])
    ]
    staged = spark.createDataFrame(
        rows, "_feed string, _file string, _line long, _file_sha string, file_id string, account string"
    )
    parsed = {r["_line"]: r for r in parse_table(staged, ACCOUNTS).collect()}
    assert {parsed[line]["account"] for line in range(2, 2 + len(typed))} == {"6217001234567890"}
    assert parsed[6]["account"] is None and parsed[7]["account"] == "AB12"
    assert all(r["_problems"] == [] for r in parsed.values())
