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


def bank_account(v: Column) -> Column:
    """One account, one spelling: ``'6217 0012-3456`` and ``６２１７００１２３４５６`` both land as ``621700123456``.

    Excel's text marker ``'``, spaces, hyphens and dots go; full-width digits become ASCII; letters
    (some foreign accounts) are upper-cased. Rules compare accounts (S06, P05) on this form.
    """
    from pyspark.sql import functions as F

    half = F.translate(v, FULL_WIDTH_DIGITS, "0123456789")
    cleaned = F.upper(F.regexp_replace(F.regexp_replace(half, r"^['‘’`]+", ""), ACCOUNT_NOISE, ""))
    return F.when(cleaned != "", cleaned)


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


def _typed(v: Column, col: ColumnSpec) -> list[tuple[str, Column]]:
    """Output columns of one declared column from its cleaned text ``v`` (NULL when blank)."""
    from pyspark.sql import functions as F

    if col.type in _ID_PARSERS:
        value, status = _ID_PARSERS[col.type](v)
        status = F.when(v.isNull(), F.lit("blank")).otherwise(status)
        return [(col.name, value), (f"{col.name}_raw", v), (f"{col.name}_status", status)]
    if col.type is ColumnType.date:
        return [(col.name, parse_date(v))]
    if col.type is ColumnType.month:
        return [(col.name, parse_month(v))]
    if col.type is ColumnType.bank_account:
        return [(col.name, bank_account(v))]
    if col.type is ColumnType.money:
        cleaned = F.regexp_replace(v, MONEY_NOISE, "")
        return [(col.name, F.when(cleaned.rlike(NUMBER), cleaned.cast("decimal(18,2)")))]
    if col.type in (ColumnType.decimal, ColumnType.int):
        cleaned = F.regexp_replace(v, r"[,，\s]", "")
        pattern = r"^[+-]?\d+(\.0*)?$" if col.type is ColumnType.int else NUMBER
        number = F.when(cleaned.rlike(pattern), cleaned.cast("double"))
        return [(col.name, number.cast("int") if col.type is ColumnType.int else number)]
    return [(col.name, v)]


def _problems(v: Column, col: ColumnSpec, header: str) -> list[Column]:
    """Problem expressions of one column, from its cleaned text ``v`` and its typed output."""
    from pyspark.sql import functions as F

    name, t = col.name, col.type
    typed = F.col(f"`{name}`")
    quoted = F.concat(F.lit(f"{header}: '"), v, F.lit("'"))
    failed = v.isNotNull() & typed.isNull()
    problems: list[Column] = []
    if not col.nullable:
        problems.append(_problem(v.isNull(), "missing_value", name, F.lit(f"{header} is blank")))
    if t in _ID_PARSERS and col.on_invalid is OnInvalid.quarantine:
        reason = "invalid_credit_code" if t is ColumnType.credit_code else "invalid_id"
        invalid = F.col(f"`{name}_status`") == "invalid"
        problems.append(
            _problem(invalid, reason, name, F.concat(quoted, F.lit(" fails its check digit or date")))
        )
    elif t in (ColumnType.date, ColumnType.month):
        problems.append(
            _problem(failed, "unparseable_date", name, F.concat(quoted, F.lit(f" is not a {t.value}")))
        )
    elif t is ColumnType.money:
        problems.append(
            _problem(failed, "unparseable_amount", name, F.concat(quoted, F.lit(" is not an amount")))
        )
    elif t in (ColumnType.decimal, ColumnType.int):
        problems.append(
            _problem(failed, "unparseable_number", name, F.concat(quoted, F.lit(" is not a number")))
        )
    elif t is ColumnType.enum:
        values = col.values or []
        bad = v.isNotNull() & ~v.isin(*values)
        problems.append(
            _problem(
                bad, "value_not_allowed", name, F.concat(quoted, F.lit(f" is not one of {'、'.join(values)}"))
            )
        )
    return problems


_ID_PARSERS = {
    ColumnType.resident_id: ids.resident_id,
    ColumnType.credit_code: ids.credit_code,
    ColumnType.party_id: ids.party_id,
}


FULL_WIDTH_DIGITS = "０１２３４５６７８９"
ACCOUNT_NOISE = r"[\s\-－—–_·.．\u3000]"

# Exports pad cells with full-width (U+3000) and no-break spaces too, which a plain trim leaves alone.
_EDGE_SPACE = " \t\r\n\u000b\u000c\u3000\u00a0\ufeff"


def _stripped(col: Column) -> Column:
    from pyspark.sql import functions as F

    return F.trim(col, F.lit(_EDGE_SPACE))


def parse_table(staged: DataFrame, spec: FileSpec) -> DataFrame:
    """Typed columns + provenance + ``_problems`` + ``_raw`` (JSON of the cells, for a row with
    problems only: accepted rows never need it, and it is the widest column).

    Three projections (clean, type, check) so that no large expression is repeated: Spark
    keeps non-trivial expressions that are used twice in their own projection.
    """
    from pyspark.sql import functions as F

    carried = [*PROVENANCE, "file_id", *[f"__raw_{c.name}" for c in spec.columns.values()]]
    cleaned = staged.select(
        *PROVENANCE,
        "file_id",
        *[F.col(f"`{c.name}`").alias(f"__raw_{c.name}") for c in spec.columns.values()],
        *[_stripped(F.col(f"`{c.name}`")).alias(f"__v_{c.name}") for c in spec.columns.values()],
    )
    cleaned = cleaned.select(
        *carried,
        *[
            F.when(F.col(f"__v_{c.name}") != "", F.col(f"__v_{c.name}")).alias(f"__v_{c.name}")
            for c in spec.columns.values()
        ],
    )
    outputs = [
        expr.alias(name) for c in spec.columns.values() for name, expr in _typed(F.col(f"__v_{c.name}"), c)
    ]
    typed = cleaned.select("*", *outputs)
    problems = [p for h, c in spec.columns.items() for p in _problems(F.col(f"__v_{c.name}"), c, h)]
    checks = [
        _problem(
            F.coalesce(F.expr(check.when), F.lit(False)),
            check.reason,
            check.column,
            F.lit(check.description or check.when),
        )
        for check in spec.checks
    ]
    found = F.filter(_array(problems + checks), lambda p: p.isNotNull())
    checked = typed.select(*carried, *spec.output_columns, found.alias("_problems"))
    cells = F.struct(*[F.col(f"__raw_{c.name}").alias(h) for h, c in spec.columns.items()])
    return checked.select(
        *PROVENANCE,
        "file_id",
        *spec.output_columns,
        F.when(F.size("_problems") > 0, F.to_json(cells)).alias("_raw"),
        "_problems",
    )


PROBLEM_TYPE = "array<struct<reason:string,column:string,detail:string>>"


def _array(items: list[Column]) -> Column:
    from pyspark.sql import functions as F

    return F.array(*items).cast(PROBLEM_TYPE) if items else F.array().cast(PROBLEM_TYPE)
