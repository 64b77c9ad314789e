"""The rules framework: configuration, registry, clue schema and fingerprints.

A rule is one small pure function ``(tables, *, config, as_of) -> DataFrame`` returning the
clue columns of ``CLUE_COLUMNS`` (see docs/architecture.md). ``finalize`` adds the rule name,
fingerprint and as-of date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

Tables = Mapping[str, "DataFrame"]
RuleFunc = Callable[..., "DataFrame"]

DOMAINS = {"S": "subsidy", "E": "engineering", "A": "collective_asset", "P": "payroll"}
DOMAIN_TITLES = {
    "subsidy": "民生资金",
    "engineering": "村级工程",
    "collective_asset": "村集体资产",
    "payroll": "工资",
}
KEY_NAMES = ("person", "programme", "cadre", "month", "account", "village", "company", "project", "contract")
CLUE_COLUMNS = (
    "rule",
    "keys",
    "subjects",
    "amount",
    "period_start",
    "period_end",
    "evidence",
    "path",
    "severity",
    "town",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow")


class Programmes(BaseModel):
    means_tested: list[str]
    discretionary: list[str]


class Severity(BaseModel):
    base: dict[str, str]
    raise_at: float = 100000


class RulesConfig(BaseModel):
    """Typed view of ``config/rules.yml``; a rule reads ``config.section('S07')`` for its own thresholds."""

    model_config = ConfigDict(extra="allow")

    kinship_steps: int = Field(2, ge=1, le=6)
    programmes: Programmes
    in_service_categories: list[str]
    active_company_status: list[str]
    direct_award_limit: float
    severity: Severity

    def section(self, code: str) -> dict[str, Any]:
        extra = self.model_extra or {}
        return dict(extra.get(code) or {})

    @classmethod
    def load(cls, path: Path, **overrides: Any) -> RulesConfig:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data.update(overrides)
        return cls.model_validate(data)


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


def rule(
    code: str, name: str, *, keys: tuple[str, ...], needs: tuple[str, ...], summary: str = ""
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule function under its catalogue code."""
    unknown = set(keys) - set(KEY_NAMES)
    if unknown:
        raise ValueError(f"{code}: unknown key names {sorted(unknown)}")

    def deco(func: RuleFunc) -> RuleFunc:
        REGISTRY[code] = RuleSpec(code, name, keys, needs, func, summary or (func.__doc__ or "").strip())
        return func

    return deco


def fingerprint(rule_code: str, keys: Mapping[str, str | None]) -> str:
    """sha256 of the rule and its sorted key values; the same in Spark (``fingerprint_col``)."""
    parts = [rule_code] + [f"{k}={keys[k]}" for k in sorted(keys)]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def fingerprint_col(rule_col: Column, keys_col: Column) -> Column:
    from pyspark.sql import functions as F

    entries = F.array_sort(F.map_entries(keys_col))
    joined = F.array_join(F.transform(entries, lambda e: F.concat(e["key"], F.lit("="), e["value"])), "|")
    return F.sha2(F.concat_ws("|", rule_col, joined), 256)


def keys_map(**named: Column) -> Column:
    """``keys`` column from named key columns, in catalogue order."""
    from pyspark.sql import functions as F

    unknown = set(named) - set(KEY_NAMES)
    if unknown:
        raise ValueError(f"unknown key names {sorted(unknown)}")
    args: list[Column] = []
    for name in KEY_NAMES:
        if name in named:
            args += [F.lit(name), named[name].cast("string")]
    return F.create_map(*args)


def subject(kind: str, id_col: Column, name_col: Column | None = None) -> Column:
    from pyspark.sql import functions as F

    return F.struct(
        F.lit(kind).alias("kind"),
        id_col.cast("string").alias("id"),
        (name_col if name_col is not None else F.lit(None)).cast("string").alias("name"),
    )


def evidence_row(table: str, note: Column | str | None = None) -> Column:
    """One evidence struct from a row's provenance columns (``_feed``, ``_file``, ``_line``)."""
    from pyspark.sql import functions as F

    note_col = F.lit(note) if isinstance(note, str) or note is None else note
    return F.struct(
        F.col("_feed").alias("feed"),
        F.lit(table).alias("table"),
        F.col("_file").alias("file"),
        F.col("_line").cast("long").alias("line"),
        note_col.cast("string").alias("note"),
    )


def severity_col(code: str, amount: Column, config: RulesConfig) -> Column:
    from pyspark.sql import functions as F

    order = ["low", "medium", "high"]
    base = config.severity.base.get(code, "medium")
    raised = order[min(order.index(base) + 1, 2)]
    return F.when(amount >= F.lit(config.severity.raise_at), F.lit(raised)).otherwise(F.lit(base))


def finalize(df: DataFrame, spec: RuleSpec, as_of: dt.date) -> DataFrame:
    """Select the clue columns in order, and add rule name, fingerprint and as-of date."""
    from pyspark.sql import functions as F

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


def clue_to_dict(row: Any) -> dict[str, Any]:
    """A collected clue Row as plain JSON-able Python (for publishing and export)."""
    d = row.asDict(recursive=True)
    for k in ("period_start", "period_end", "as_of"):
        if d.get(k) is not None:
            d[k] = d[k].isoformat()
    if d.get("amount") is not None:
        d["amount"] = float(d["amount"])
    d["keys"] = dict(d["keys"] or {})
    json.dumps(d, ensure_ascii=False)  # fail early on anything not serialisable
    return d


# --- helpers shared by rule modules (additive; used by subsidy.py and payroll.py) -----------------

EVIDENCE_LIMIT = 50


def month_key(date_col: Column) -> Column:
    """``YYYY-MM`` of a date, the ``month`` key format."""
    from pyspark.sql import functions as F

    return F.date_format(date_col, "yyyy-MM")


def reused(df: DataFrame) -> DataFrame:
    """``df``, computed once however many branches of the rule's plan read it.

    Spark re-runs a shared sub-plan for every branch that reads it (S05 ran 116 jobs); a lazy
    local checkpoint keeps the first result for the others. Still lazy: nothing runs until the
    clue frame is used, so the rule stays a pure transform.
    """
    return df.localCheckpoint(eager=False)


def collect_evidence(
    df: DataFrame, group: list[str], evidence: Column, order: Column, limit: int = EVIDENCE_LIMIT
) -> DataFrame:
    """One row per group with ``evidence``: its distinct evidence structs, the first ``limit`` by ``order``.

    Bounded before aggregating, so a huge group never builds a huge array.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows = df.select(*group, evidence.alias("_e"), order.alias("_o")).dropDuplicates([*group, "_e"])
    rank = F.row_number().over(Window.partitionBy(*group).orderBy("_o", "_e"))
    ranked = rows.withColumn("_r", rank).where(F.col("_r") <= limit)
    items = F.array_sort(F.collect_list(F.struct(F.col("_o"), F.col("_e").alias("e"))))
    return ranked.groupBy(*group).agg(F.transform(items, lambda x: x["e"]).alias("evidence"))


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
    from pyspark.sql import functions as F

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
