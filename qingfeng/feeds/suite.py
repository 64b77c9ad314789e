"""The Great Expectations suite of a table, generated from its file kind (like dbt's sources.yml).

The feed file is the one source of a table's facts; the suite restates them as GX 1.x
expectations, in GX's own JSON form, without importing GX:

- the row count is at least 1 (a warning: an empty delivery is suspicious, not wrong);
- the key: a single column is not null and unique (error); a compound key is unique (a warning:
  a repeated line may be evidence, e.g. a double payment);
- each column, in declaration order: not null when ``nullable: false``; in ``values`` for an
  enum; ``<name>_status`` in its type's statuses for an ID column; and the range a row check of
  the form ``col < 0 OR col > 100`` leaves to the accepted rows;
- then the file kind's ``expectations:``, the checks the YAML cannot say otherwise.

:func:`qingfeng.ingest.expectations.build_suite` turns the document into an ``ExpectationSuite``.
"""

from __future__ import annotations

import re
from typing import Any

from qingfeng.feeds.model import ColumnSpec, ColumnType, FileSpec

ERROR, WARNING = "error", "warning"

# The statuses qingfeng/ingest/ids.py gives each kind of ID column (``x_status``)
ID_STATUSES = {
    ColumnType.resident_id: ["valid", "legacy15", "blank", "invalid"],
    ColumnType.credit_code: ["valid", "blank", "invalid"],
    ColumnType.party_id: ["valid", "legacy15", "blank", "invalid", "credit_code"],
}

_NUMBER = r"-?\d+(?:\.\d+)?"
_BOUND = re.compile(rf"^\s*([a-z][a-z0-9_]*)\s*(<=|>=|<|>)\s*({_NUMBER})\s*$")
_OR = re.compile(r"\s+OR\s+", re.IGNORECASE)


def suite_document(feed: str, spec: FileSpec) -> dict[str, Any]:
    """The table's suite as GX 1.x JSON: ``{"name", "meta", "expectations": [...]}``."""
    expectations = [
        _expectation(
            "expect_table_row_count_to_be_between",
            {"min_value": 1},
            WARNING,
            "an empty delivery is suspicious but not wrong",
        ),
        *_key_expectations(spec.keys),
    ]
    single_key = spec.keys[0] if len(spec.keys) == 1 else None
    ranges = check_ranges(spec)
    for column in spec.columns.values():
        expectations += _column_expectations(column, skip_not_null=column.name == single_key)
        if column.name in ranges:
            expectations.append(
                _expectation(
                    "expect_column_values_to_be_between", {"column": column.name, **ranges[column.name]}
                )
            )
    expectations += [
        _expectation(extra.type, extra.kwargs, extra.severity, extra.notes) for extra in spec.expectations
    ]
    return {
        "name": spec.table,
        "meta": {"feed": feed, "table": spec.table, "title": spec.title},
        "expectations": expectations,
    }


def _expectation(kind: str, kwargs: dict[str, Any], severity: str = ERROR, notes: str | None = None) -> dict:
    item: dict[str, Any] = {"type": kind, "kwargs": kwargs, "meta": {"severity": severity}}
    if notes:
        item["notes"] = notes
    return item


def _key_expectations(keys: list[str]) -> list[dict]:
    if len(keys) == 1:
        return [
            _expectation("expect_column_values_to_not_be_null", {"column": keys[0]}),
            _expectation(
                "expect_column_values_to_be_unique", {"column": keys[0]}, notes="the natural key of the table"
            ),
        ]
    if keys:
        return [
            _expectation(
                "expect_compound_columns_to_be_unique",
                {"column_list": list(keys)},
                WARNING,
                "repeated lines are reported, not blocked: they may be evidence (e.g. double payments)",
            )
        ]
    return []


def _column_expectations(column: ColumnSpec, *, skip_not_null: bool) -> list[dict]:
    out = []
    if not column.nullable and not skip_not_null:
        out.append(_expectation("expect_column_values_to_not_be_null", {"column": column.name}))
    if column.type is ColumnType.enum:
        out.append(
            _expectation(
                "expect_column_values_to_be_in_set", {"column": column.name, "value_set": column.values}
            )
        )
    if column.type in ID_STATUSES:
        statuses = ID_STATUSES[column.type]
        out.append(
            _expectation(
                "expect_column_values_to_be_in_set",
                {"column": f"{column.name}_status", "value_set": statuses},
            )
        )
    return out


def check_ranges(spec: FileSpec) -> dict[str, dict[str, Any]]:
    """The bounds the row checks leave to the accepted rows, by column: a check that is one
    comparison of a column with a number, or several joined by OR (``amount < 0``, ``share_pct < 0
    OR share_pct > 100``), quarantines the rows outside a range. Other checks bound nothing."""
    ranges: dict[str, dict[str, Any]] = {}
    for check in spec.checks:
        terms = [_BOUND.match(term) for term in _OR.split(check.when)]
        for match in terms if all(terms) else []:
            assert match is not None
            column, operator, number = match.groups()
            value: int | float = float(number) if "." in number else int(number)
            # rows where `column < value` are quarantined: the accepted ones are >= value
            side, tighter = ("min", max) if operator.startswith("<") else ("max", min)
            bound = ranges.setdefault(column, {})
            old = bound.get(f"{side}_value")
            if old is not None and (
                tighter(old, value) != value or (old == value and f"strict_{side}" in bound)
            ):
                continue  # an earlier check bounds the column as tightly
            bound[f"{side}_value"] = value
            bound.pop(f"strict_{side}", None)
            if operator in ("<=", ">="):
                bound[f"strict_{side}"] = True
    return ranges
