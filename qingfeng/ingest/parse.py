"""Spark parsing of staged string columns into the typed standardized table (built-ins only).

``parse_table`` returns every staged row with its typed columns and ``_problems``: an array of
(reason, column, detail), empty for an accepted row. The reasons:

- ``missing_value``: a blank in a column that is not nullable;
- ``unparseable_date``, ``unparseable_amount``, ``unparseable_number``;
- ``value_not_allowed``: not in the enum's value set;
- ``invalid_id``, ``invalid_credit_code``: for ID columns with ``on_invalid: quarantine``;
- the feed's own row checks (reason as declared).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qingfeng.feeds.model import ColumnSpec, ColumnType, FileSpec, OnInvalid
from qingfeng.ingest import ids

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

PROVENANCE = ["_feed", "_file", "_line", "_file_sha"]
DATE_YMD = r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$"
DATE_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
MONTH = r"^(\d{4})[-/.年]?(\d{1,2})月?$"
NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)$"
MONEY_NOISE = r"[,，\s¥￥元]"


def parse_date(v: Column) -> Column:
    """2023-05-10, 2023/5/10, 2023.5.10, 20230510, 2023年5月10日 (and Excel ISO datetimes) -> date."""
    from pyspark.sql import functions as F

    def ymd(pattern: str) -> Column:
        parts = [F.regexp_extract(v, pattern, i) for i in (1, 2, 3)]
        return F.try_to_date(F.concat_ws("-", *parts), "yyyy-M-d")

    return F.when(v.rlike(DATE_YMD), ymd(DATE_YMD)).when(v.rlike(DATE_COMPACT), ymd(DATE_COMPACT))


def parse_month(v: Column) -> Column:
    """202305, 2023-05, 2023/5, 2023年5月 -> first day of the month."""
    from pyspark.sql import functions as F

    parts = [F.regexp_extract(v, MONTH, i) for i in (1, 2)]
    return F.when(v.rlike(MONTH), F.try_to_date(F.concat_ws("-", *parts, F.lit("1")), "yyyy-M-d"))


def _problem(cond: Column, reason: str, column: str | None, detail: Column) -> Column:
    from pyspark.sql import functions as F

    return F.when(
        cond,
        F.struct(
            F.lit(reason).alias("reason"),
            F.lit(column).cast("string").alias("column"),
            detail.alias("detail"),
        ),
    )


def _column(raw: Column, col: ColumnSpec, header: str) -> tuple[list[tuple[str, Column]], list[Column]]:
    """Output columns and problem expressions of one declared column."""
    from pyspark.sql import functions as F

    v = F.when(F.trim(raw) != "", F.trim(raw))
    name, t = col.name, col.type
    quoted = F.concat(F.lit(f"{header}: '"), v, F.lit("'"))
    problems: list[Column] = []
    if not col.nullable:
        problems.append(_problem(v.isNull(), "missing_value", name, F.lit(f"{header} is blank")))

    if t in _ID_PARSERS:
        value, status = _ID_PARSERS[t](v)
        status = F.when(v.isNull(), F.lit("blank")).otherwise(status)
        if col.on_invalid is OnInvalid.quarantine:
            reason = "invalid_credit_code" if t is ColumnType.credit_code else "invalid_id"
            problems.append(
                _problem(status == "invalid", reason, name, F.concat(quoted, F.lit(" fails its check")))
            )
        return [(name, value), (f"{name}_raw", v), (f"{name}_status", status)], problems

    if t is ColumnType.date:
        value = parse_date(v)
        problems.append(
            _problem(
                v.isNotNull() & value.isNull(),
                "unparseable_date",
                name,
                F.concat(quoted, F.lit(" is not a date")),
            )
        )
    elif t is ColumnType.month:
        value = parse_month(v)
        problems.append(
            _problem(
                v.isNotNull() & value.isNull(),
                "unparseable_date",
                name,
                F.concat(quoted, F.lit(" is not a month")),
            )
        )
    elif t is ColumnType.money:
        cleaned = F.regexp_replace(v, MONEY_NOISE, "")
        ok = cleaned.rlike(NUMBER)
        value = F.when(ok, cleaned.cast("decimal(18,2)"))
        problems.append(
            _problem(
                v.isNotNull() & value.isNull(),
                "unparseable_amount",
                name,
                F.concat(quoted, F.lit(" is not an amount")),
            )
        )
    elif t in (ColumnType.decimal, ColumnType.int):
        cleaned = F.regexp_replace(v, r"[,，\s]", "")
        ok = cleaned.rlike(r"^[+-]?\d+(\.0*)?$" if t is ColumnType.int else NUMBER)
        value = F.when(ok, cleaned.cast("double"))
        value = value.cast("int") if t is ColumnType.int else value
        problems.append(
            _problem(
                v.isNotNull() & ~ok, "unparseable_number", name, F.concat(quoted, F.lit(" is not a number"))
            )
        )
    elif t is ColumnType.enum:
        value = v
        allowed = "、".join(col.values or [])
        problems.append(
            _problem(
                v.isNotNull() & ~v.isin(*(col.values or [])),
                "value_not_allowed",
                name,
                F.concat(quoted, F.lit(f" is not one of {allowed}")),
            )
        )
    else:
        value = v
    return [(name, value)], problems


_ID_PARSERS = {
    ColumnType.resident_id: ids.resident_id,
    ColumnType.credit_code: ids.credit_code,
    ColumnType.party_id: ids.party_id,
}


def parse_table(staged: DataFrame, spec: FileSpec) -> DataFrame:
    """Typed columns + provenance + ``_raw`` (JSON of the cells) + ``_problems``."""
    from pyspark.sql import functions as F

    outputs: list[Column] = []
    problems: list[Column] = []
    for header, col in spec.columns.items():
        cols, probs = _column(F.col(f"`{col.name}`"), col, header)
        outputs += [c.alias(n) for n, c in cols]
        problems += probs
    raw = F.to_json(F.struct(*[F.col(f"`{c.name}`").alias(h) for h, c in spec.columns.items()]))
    typed = staged.select(
        *PROVENANCE, "file_id", *outputs, raw.alias("_raw"), _array(problems).alias("_cell_problems")
    )
    checks = [
        _problem(
            F.coalesce(F.expr(check.when), F.lit(False)),
            check.reason,
            check.column,
            F.lit(check.description or check.when),
        )
        for check in spec.checks
    ]
    all_problems = F.concat(F.col("_cell_problems"), _array(checks))
    return typed.withColumn("_problems", F.filter(all_problems, lambda p: p.isNotNull())).drop(
        "_cell_problems"
    )


PROBLEM_TYPE = "array<struct<reason:string,column:string,detail:string>>"


def _array(items: list[Column]) -> Column:
    from pyspark.sql import functions as F

    return F.array(*items).cast(PROBLEM_TYPE) if items else F.array().cast(PROBLEM_TYPE)
