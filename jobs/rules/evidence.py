"""Evidence of a clue: the structs that point at source rows, and the Chinese notes they carry.

A note is written as its parts, e.g. ``text("签订 ", as_text("sign_date"), "，合同金额 ",
money("contract_amount"))``: plain strings are literal text, Columns are values. Each formatter
is one Spark function (``concat``, ``concat_ws``, ``cast``, ``format_number``), so a note's
expression is exactly as deep as when it is written out by hand.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

Part = Column | str

EVIDENCE_LIMIT = 50


def _columns(parts: tuple[Part, ...]) -> list[Column]:
    return [F.lit(p) if isinstance(p, str) else p for p in parts]


def _column(col: Column | str) -> Column:
    return F.col(col) if isinstance(col, str) else col


def text(*parts: Part) -> Column:
    """The parts run together; NULL when any part is NULL."""
    return F.concat(*_columns(parts))


def join_text(*parts: Part, sep: str = " ") -> Column:
    """The parts joined by ``sep``; NULL parts are left out."""
    return F.concat_ws(sep, *_columns(parts))


def as_text(col: Column | str) -> Column:
    """A value (a column or a column name) as text: a date as ``2023-05-01``, a number as its digits."""
    return _column(col).cast("string")


def money(col: Column | str, digits: int = 2) -> Column:
    """An amount as text with ``digits`` decimals and thousands separators (``12,345.60``)."""
    return F.format_number(_column(col).cast("double"), digits)


def with_note(ev: str, *parts: Part) -> Column:
    """The evidence struct column ``ev`` with ``parts`` added to its note (space-separated)."""
    return F.col(ev).withField("note", F.concat_ws(" ", F.col(f"{ev}.note"), *_columns(parts)))


def evidence_item(ev: Column, order: int) -> Column:
    """An evidence struct ``e`` with its place ``o`` among a clue's evidence (for ``collect_evidence``)."""
    return F.struct(ev.alias("e"), F.lit(order).alias("o"))


def evidence_row(table: str, note: Column | str | None = None) -> Column:
    """One evidence struct from a row's provenance columns (``_feed``, ``_file``, ``_line``)."""
    note_col = F.lit(note) if isinstance(note, str) or note is None else note
    return F.struct(
        F.col("_feed").alias("feed"),
        F.lit(table).alias("table"),
        F.col("_file").alias("file"),
        F.col("_line").cast("long").alias("line"),
        note_col.cast("string").alias("note"),
    )


def evidence_of(prefix: str, table: str, note: Column | str | None) -> Column:
    """An evidence struct (the fields of ``evidence_row``) from prefixed provenance columns
    (``<prefix>_feed`` …, see ``linkage.with_provenance``)."""
    note_col = F.lit(note) if isinstance(note, str) or note is None else note
    return F.struct(
        F.col(f"{prefix}_feed").cast("string").alias("feed"),
        F.lit(table).alias("table"),
        F.col(f"{prefix}_file").cast("string").alias("file"),
        F.col(f"{prefix}_line").cast("long").alias("line"),
        note_col.cast("string").alias("note"),
    )


def collect_evidence(
    df: DataFrame, group: list[str], evidence: Column, order: Column, limit: int = EVIDENCE_LIMIT
) -> DataFrame:
    """One row per group with ``evidence``: its distinct evidence structs, the first ``limit`` by ``order``.

    Bounded before aggregating, so a huge group never builds a huge array.
    """
    rows = df.select(*group, evidence.alias("_e"), order.alias("_o")).dropDuplicates([*group, "_e"])
    rank = F.row_number().over(Window.partitionBy(*group).orderBy("_o", "_e"))
    ranked = rows.withColumn("_r", rank).where(F.col("_r") <= limit)
    items = F.array_sort(F.collect_list(F.struct(F.col("_o"), F.col("_e").alias("e"))))
    return ranked.groupBy(*group).agg(F.transform(items, lambda x: x["e"]).alias("evidence"))
