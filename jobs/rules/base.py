"""The rules framework: registry, keys, subjects, severity and the clue frame.

A rule is one small pure function ``(tables, *, config, as_of) -> DataFrame`` returning the
clue columns of ``CLUE_COLUMNS`` (see docs/architecture.md); its code, name and key names come
from the catalogue of ``qingfeng.contract``. ``finalize`` adds the rule name, fingerprint and
as-of date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from qingfeng.contract import CATALOGUE, CLUE_COLUMNS, DOMAINS, KEY_NAMES, RulesConfig

Tables = Mapping[str, DataFrame]
RuleFunc = Callable[..., DataFrame]


@dataclass(frozen=True)
class RuleSpec:
    code: str
    name: str
    keys: tuple[str, ...]
    needs: tuple[str, ...]
    func: RuleFunc
    summary: str = ""

    @property
    def domain(self) -> str:
        return DOMAINS[self.code[0]]


REGISTRY: dict[str, RuleSpec] = {}


def rule(code: str, *, needs: tuple[str, ...], summary: str = "") -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule function under its catalogue code (name and key names from the catalogue)."""
    if code not in CATALOGUE:
        raise KeyError(f"{code} is not in the rule catalogue (qingfeng.contract.CATALOGUE)")
    entry = CATALOGUE[code]

    def deco(func: RuleFunc) -> RuleFunc:
        summary_text = summary or (func.__doc__ or "").strip()
        REGISTRY[code] = RuleSpec(code, entry.name, entry.keys, needs, func, summary_text)
        return func

    return deco


def fingerprint_col(rule_col: Column, keys_col: Column) -> Column:
    """``qingfeng.contract.fingerprint`` as a Column."""
    entries = F.array_sort(F.map_entries(keys_col))
    joined = F.array_join(F.transform(entries, lambda e: F.concat(e["key"], F.lit("="), e["value"])), "|")
    return F.sha2(F.concat_ws("|", rule_col, joined), 256)


def keys_map(**named: Column) -> Column:
    """``keys`` column from named key columns, in catalogue order."""
    unknown = set(named) - set(KEY_NAMES)
    if unknown:
        raise ValueError(f"unknown key names {sorted(unknown)}")
    args: list[Column] = []
    for name in KEY_NAMES:
        if name in named:
            args += [F.lit(name), named[name].cast("string")]
    return F.create_map(*args)


def subject(kind: str, id_col: Column, name_col: Column | None = None) -> Column:
    return F.struct(
        F.lit(kind).alias("kind"),
        id_col.cast("string").alias("id"),
        (name_col if name_col is not None else F.lit(None)).cast("string").alias("name"),
    )


def severity_col(code: str, amount: Column, config: RulesConfig) -> Column:
    order = ["low", "medium", "high"]
    base = config.severity.base.get(code, "medium")
    raised = order[min(order.index(base) + 1, 2)]
    return F.when(amount >= F.lit(config.severity.raise_at), F.lit(raised)).otherwise(F.lit(base))


def finalize(df: DataFrame, spec: RuleSpec, as_of: dt.date) -> DataFrame:
    """Select the clue columns in order, and add rule name, fingerprint and as-of date."""
    missing = [c for c in CLUE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"rule {spec.code} returned no column(s) {missing}")
    out = df.select(*CLUE_COLUMNS)
    return out.select(
        *CLUE_COLUMNS[:1],
        F.lit(spec.name).alias("rule_name"),
        *CLUE_COLUMNS[1:],
        fingerprint_col(F.col("rule"), F.col("keys")).alias("fingerprint"),
        F.lit(as_of).cast("date").alias("as_of"),
    )


def month_key(date_col: Column) -> Column:
    """``YYYY-MM`` of a date, the ``month`` key format."""
    return F.date_format(date_col, "yyyy-MM")


def reused(df: DataFrame) -> DataFrame:
    """``df``, computed once however many branches of the rule's plan read it.

    Spark re-runs a shared sub-plan for every branch that reads it (S05 ran 116 jobs); a lazy
    local checkpoint keeps the first result for the others. Still lazy: nothing runs until the
    clue frame is used, so the rule stays a pure transform.
    """
    return df.localCheckpoint(eager=False)


def clue_frame(
    df: DataFrame,
    code: str,
    config: RulesConfig,
    *,
    keys: Column,
    subjects: Column,
    amount: Column,
    period_start: Column,
    period_end: Column,
    town: Column,
    evidence: Column | None = None,
    path: Column | None = None,
) -> DataFrame:
    """Select the ``CLUE_COLUMNS`` with their contract types (severity from the amount)."""
    money = amount.cast("decimal(18,2)")
    return df.select(
        F.lit(code).alias("rule"),
        keys.alias("keys"),
        subjects.alias("subjects"),
        money.alias("amount"),
        period_start.cast("date").alias("period_start"),
        period_end.cast("date").alias("period_end"),
        (evidence if evidence is not None else F.col("evidence")).alias("evidence"),
        (path if path is not None else F.lit(None)).cast("string").alias("path"),
        severity_col(code, F.coalesce(money, F.lit(0)), config).alias("severity"),
        town.cast("string").alias("town"),
    )
