"""The district's divisions: a gazetteer of 镇街 and 村社, and every table's ``town``/``village``
normalised through it (docs/resolution.md, "Divisions").

The household registry's 所属镇街/所属村社 are the canonical names; ``config/divisions.yml`` adds
统计用区划代码 and explicit aliases. This runs in the resolve stage, not at ingest: the registry is
a delivery of its own, and a feed's rows must not depend on which of them landed first.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from jobs.resolve.mentions import column_or_null

if TYPE_CHECKING:
    from pathlib import Path

    from pyspark.sql import Column, DataFrame

REGISTRY = "registry_person"
SPACES = r"[\s\u3000\u00a0]+"
OFFICE = "(办事处|人民政府)$"  # added to a town: 北干街道办事处, 瓜沥镇人民政府
TOWN_KIND = "(街道|镇|乡)$"  # dropped from a town: 北干
COMMITTEE = "(村民委员会|居民委员会|村委会|居委会)$"  # added to a village
VILLAGE_KIND = "(村|社区)$"  # dropped before the committee: 梅杨村委会
ADMIN_PREFIX = "^.*(省|市|区|县)$"  # 浙江省杭州市萧山区 before a town
DIVISION_COLUMNS = ("town", "village")


class Division(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    code: str | None = Field(default=None, pattern=r"^\d{12}$", description="统计用区划代码")
    aliases: list[str] = []

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value


class Town(Division):
    villages: list[Division] = []


class Divisions(BaseModel):
    """``config/divisions.yml``: codes and aliases on top of the registry's names."""

    model_config = ConfigDict(extra="forbid")

    towns: list[Town] = []

    @classmethod
    def load(cls, path: Path) -> Divisions:
        """An absent file adds nothing: the registry's names alone."""
        import yaml

        if not path.exists():
            return cls()
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


NAMES = T.StructType(
    [T.StructField(c, T.StringType()) for c in ("town", "village", "name")]
)  # village NULL: a name of the town


def gazetteer(registry: DataFrame, *, divisions: Divisions) -> DataFrame:
    """Every name a division is known by: (town, village, name), canonical town and village.

    The registry's own names, plus the codes and aliases of config entries the registry knows
    (an entry it does not know is ignored: the registry is authoritative)."""
    pairs = registry.select("town", "village").where(F.col("town").isNotNull()).distinct()
    towns = pairs.select("town").distinct()
    villages = pairs.where(F.col("village").isNotNull())
    extra = registry.sparkSession.createDataFrame(
        [(t.name, None, name) for t in divisions.towns for name in (t.code, *t.aliases) if name]
        + [
            (t.name, v.name, name)
            for t in divisions.towns
            for v in t.villages
            for name in (v.code, *v.aliases)
            if name
        ],
        NAMES,
    )
    return (
        towns.select("town", F.lit(None).cast("string").alias("village"), F.col("town").alias("name"))
        .unionByName(villages.select("town", "village", F.col("village").alias("name")))
        .unionByName(extra.where(F.col("village").isNull()).join(towns, "town", "left_semi"))
        .unionByName(
            extra.where(F.col("village").isNotNull()).join(villages, ["town", "village"], "left_semi")
        )
        .distinct()
    )


def normalise_divisions(
    tables: Mapping[str, DataFrame], *, divisions: Divisions | None = None
) -> tuple[dict[str, DataFrame], DataFrame]:
    """Every table with a ``town`` or ``village`` column, normalised, and the rows held back.

    Each such column is replaced by the canonical name and keeps the delivered value beside it
    (``town_raw``, ``village_raw``). A row whose non-blank town or village stays unknown (or
    ambiguous) leaves its table for the second frame, in the schema of
    ``curated/resolution_quarantine`` with reason ``unknown_division``."""
    if REGISTRY not in tables:
        raise ValueError(f"the gazetteer needs the standardized table {REGISTRY}")
    names = gazetteer(tables[REGISTRY], divisions=divisions or Divisions()).localCheckpoint()
    placed = [t for t, df in tables.items() if t != REGISTRY and set(DIVISION_COLUMNS) & set(df.columns)]
    out = dict(tables)
    out[REGISTRY] = _with_raw(tables[REGISTRY], tables[REGISTRY].columns)  # canonical by definition
    held = [_empty_quarantine(tables[REGISTRY])]
    if placed:
        delivered = [
            tables[t].select(*[column_or_null(tables[t], c).alias(f"{c}_raw") for c in DIVISION_COLUMNS])
            for t in placed
        ]
        pairs = reduce(_union, delivered)
        resolved = resolve_pairs(pairs.distinct().localCheckpoint(), names).localCheckpoint()
        for t in placed:
            located = _locate(tables[t], resolved)
            out[t] = _with_raw(located.where(F.col("_unknown").isNull()), tables[t].columns)
            held.append(_quarantine(t, located.where(F.col("_unknown").isNotNull())))
    return out, reduce(_union, held)


def resolve_pairs(pairs: DataFrame, names: DataFrame) -> DataFrame:
    """(town_raw, village_raw) as delivered → canonical ``town``, ``village`` and ``_unknown``
    (NULL when placed, else the column that stays unknown: ``town`` or ``village``)."""
    towns = names.where(F.col("village").isNull()).select("town", "name")
    villages = names.where(F.col("village").isNotNull())
    cleaned = pairs.select(
        "town_raw",
        "village_raw",
        _clean(F.col("town_raw")).alias("t"),
        _clean(F.col("village_raw")).alias("v"),
    )
    town_of = _unique(
        _town_matches(cleaned.select(F.col("t").alias("text")).where("text IS NOT NULL").distinct(), towns),
        ["text"],
        ["town"],
    ).select(F.col("text").alias("t"), F.col("town").alias("_town"))
    # small tables, checkpointed: the name rules nest deep, and a Spark Connect client refuses a
    # plan nested more than 100 protobuf levels
    town_of = town_of.localCheckpoint()
    # a blank town is a group of its own in the village step (t NULL would never join)
    hinted = cleaned.join(F.broadcast(town_of), "t", "left").withColumn("_tk", F.coalesce("t", F.lit("")))
    village_texts = hinted.select(F.col("v").alias("text")).where("text IS NOT NULL").distinct()
    candidates = (
        _village_matches(village_texts, villages, towns).withColumnRenamed("text", "v").localCheckpoint()
    )
    in_town = (
        hinted.where(F.col("v").isNotNull())
        .join(candidates, "v")
        .where(F.col("_town").isNull() | (F.col("_town") == F.col("town")))
    )
    village_of = _unique(in_town, ["_tk", "v"], ["town", "village"]).select(
        "_tk", "v", F.col("town").alias("_vtown"), "village"
    )
    placed = hinted.join(F.broadcast(village_of), ["_tk", "v"], "left")
    town = F.coalesce(F.col("_vtown"), F.col("_town"))
    town_unknown = F.col("t").isNotNull() & town.isNull()
    village_unknown = F.col("v").isNotNull() & F.col("village").isNull()
    unknown = F.when(town_unknown, "town").when(village_unknown, "village")
    return placed.select("town_raw", "village_raw", town.alias("town"), "village", unknown.alias("_unknown"))


def _town_matches(texts: DataFrame, towns: DataFrame) -> DataFrame:
    """(text, town, rank) for every town a text may name: its name, code or alias (rank 0), or
    one of the general rules (rank 1): 办事处/人民政府 added, 街道/镇/乡 dropped, a district prefix."""
    keys = _keys(towns, OFFICE, TOWN_KIND)
    return (
        _suffix_matches(texts, keys, OFFICE)
        .where((F.col("prefix") == "") | F.col("prefix").rlike(ADMIN_PREFIX))
        .select("text", "town", "rank")
    )


def _village_matches(texts: DataFrame, villages: DataFrame, towns: DataFrame) -> DataFrame:
    """(text, town, village, rank) for every village a text may name: as for towns, with 村委会,
    村民委员会 or 居委会 added, and the village's own town (or a district) written before it."""
    keys = _keys(villages, COMMITTEE, VILLAGE_KIND)
    found = _suffix_matches(texts, keys, COMMITTEE)
    prefixes = found.select(F.col("prefix").alias("text")).where("text != ''").distinct()
    own_town = _town_matches(prefixes, towns).select(F.col("text").alias("prefix"), "town")
    ok = found.where((F.col("prefix") == "") | F.col("prefix").rlike(ADMIN_PREFIX)).unionByName(
        found.join(F.broadcast(own_town), ["prefix", "town"], "left_semi")
    )
    return ok.select("text", "town", "village", "rank").distinct()


def _keys(names: DataFrame, added: str, kind: str) -> DataFrame:
    """The keys a name is looked up by: the name without the added suffix, and without its kind
    (村, 街道 …) when two or more characters are left."""
    full = F.regexp_replace(_clean(F.col("name")), added, "")
    core = F.regexp_replace(full, kind, "")
    keyed = names.select("*", _clean(F.col("name")).alias("_name"), full.alias("_full"), core.alias("_core"))
    return (
        keyed.select("*", F.col("_full").alias("key"))
        .unionByName(
            keyed.where((F.length("_core") >= 2) & (F.col("_core") != F.col("_full"))).select(
                "*", F.col("_core").alias("key")
            )
        )
        .where(F.length("key") > 0)
        .drop("_full", "_core")
    )


def _suffix_matches(texts: DataFrame, keys: DataFrame, added: str) -> DataFrame:
    """Every key that ends a text (once its added suffix is stripped), with what precedes it as
    ``prefix``; rank 0 when the text is exactly the name, else 1."""
    bare = texts.select("text", F.regexp_replace("text", added, "").alias("_bare")).where(
        F.length("_bare") > 0
    )
    ends = bare.select(
        "text", "_bare", F.explode(F.sequence(F.lit(1), F.length("_bare"))).alias("_n")
    ).select(
        "text",
        F.right("_bare", F.col("_n")).alias("key"),
        F.left("_bare", F.length("_bare") - F.col("_n")).alias("prefix"),
    )
    found = ends.join(F.broadcast(keys), "key")
    exact = (F.col("text") == F.col("_name")) & (F.col("prefix") == "")
    return found.select("*", F.when(exact, 0).otherwise(1).alias("rank")).drop("key", "_name", "name")


def _unique(matches: DataFrame, by: list[str], division: list[str]) -> DataFrame:
    """The division of each ``by`` group when exactly one has the best rank (no guessing otherwise)."""
    best = matches.withColumn("_best", F.min("rank").over(Window.partitionBy(*by))).where("rank = _best")
    return (
        best.select(*by, *division)
        .distinct()
        .groupBy(*by)
        .agg(F.count(F.lit(1)).alias("_n"), *[F.first(c).alias(c) for c in division])
        .where("_n = 1")
        .drop("_n")
    )


def _locate(df: DataFrame, resolved: DataFrame) -> DataFrame:
    """The table with canonical ``_town``/``_village`` and ``_unknown`` joined on the delivered values."""
    r = F.broadcast(
        resolved.select(
            F.col("town_raw").alias("_t_raw"),
            F.col("village_raw").alias("_v_raw"),
            F.col("town").alias("_town"),
            F.col("village").alias("_village"),
            "_unknown",
        )
    )
    same = column_or_null(df, "town").eqNullSafe(F.col("_t_raw")) & column_or_null(df, "village").eqNullSafe(
        F.col("_v_raw")
    )
    return df.join(r, same, "left").drop("_t_raw", "_v_raw")


def _with_raw(df: DataFrame, columns: list[str]) -> DataFrame:
    """``columns`` in order, each division column canonical (``_town``/``_village`` when joined)
    with its delivered value after it as ``<column>_raw``."""
    out: list[Column] = []
    for c in columns:
        if c in DIVISION_COLUMNS:
            canonical = F.col(f"_{c}") if f"_{c}" in df.columns else F.col(c)
            out += [canonical.alias(c), F.col(c).alias(f"{c}_raw")]
        else:
            out.append(F.col(c))
    return df.select(*out)


def _quarantine(table: str, rows: DataFrame) -> DataFrame:
    from jobs.resolve.matching import CANDIDATE

    town = F.col("_unknown") == "town"
    return rows.select(
        F.lit(table).alias("table"),
        "_file",
        F.col("_line").cast("long").alias("_line"),
        F.col("_unknown").alias("column"),
        F.lit(None).cast("string").alias("raw_id"),
        F.when(town, column_or_null(rows, "town")).otherwise(column_or_null(rows, "village")).alias("name"),
        column_or_null(rows, "household_no").alias("household_no"),
        F.lit("unknown_division").alias("reason"),
        F.array().cast(T.ArrayType(CANDIDATE)).alias("candidates"),
    )


def _empty_quarantine(any_table: DataFrame) -> DataFrame:
    return _quarantine(REGISTRY, any_table.withColumn("_unknown", F.lit(None).cast("string")).limit(0))


def _clean(col: Column) -> Column:
    text = F.regexp_replace(col, SPACES, "")
    return F.when(F.length(text) > 0, text)


def _union(a: DataFrame, b: DataFrame) -> DataFrame:
    # each frame's own method: pyspark.sql.DataFrame.unionByName is abstract for a Connect frame
    return a.unionByName(b)
