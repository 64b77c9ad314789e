"""The resolution cascade over distinct mention signatures.

Input ``sigs``: one row per distinct mention signature with ``sig_id``, ``id``, ``id_raw``,
``id_status``, ``name_norm``, ``household_no``, ``village``, ``town``, ``household_is_hint``.
Input ``ref``: the reference of known persons (``person_id``, ``name``, ``name_norm``,
``household_no``, ``village``, ``town``, ``birth_date``, and ``known_from``: ``registry``, or
``death_record`` for a person known only from a death record).

Output: ``resolved`` (sig_id, person_id, method, score) and ``quarantined`` (sig_id, reason,
candidates). Every signature ends in exactly one of them. See docs/resolution.md.

An ID is an identity only when the reference knows it. A checksum-valid or upgraded 15-digit ID
that it does not know is a *hint*: the signature goes down the cascade like a blank ID, and the
ID's 17-character body and embedded birth date are evidence (``_with_hints``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.resolve.normalize import birth_date_from_id, surname_key

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

CANDIDATE = T.StructType(
    [
        T.StructField("person_id", T.StringType()),
        T.StructField("name", T.StringType()),
        T.StructField("household_no", T.StringType()),
        T.StructField("score", T.DoubleType()),
    ]
)
RESOLVED_COLUMNS = ["sig_id", "person_id", "method", "score"]
QUARANTINE_COLUMNS = ["sig_id", "reason", "candidates"]


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds and Fellegi–Sunter log2 weights (agreement / disagreement) of the probabilistic step."""

    accept_threshold: float = 0.95
    review_threshold: float = 0.5
    ambiguity_margin: float = 0.10
    prior_log2: float = -6.0
    repair_score: float = 0.99
    name_birth_score: float = 0.95
    village_name_score: float = 0.9
    hint_max_edits: int = 2  # an ID hint "fits" a candidate within this many edits of the ID body
    max_candidates: int = 5
    weights: dict[str, float] = field(
        default_factory=lambda: {
            "name_exact": 6.0,
            "name_pinyin": 4.0,
            "name_edit1": 2.0,
            "name_differs": -6.0,
            "birth_agrees": 7.0,
            "birth_differs": -5.0,
            "household_agrees": 6.0,
            "household_differs": -8.0,
            "village_agrees": 2.0,
            "village_differs": -3.0,
            "id_close": 5.0,
            "id_far": -3.0,
        }
    )

    @classmethod
    def from_mapping(cls, data: dict | None) -> MatchConfig:
        data = dict(data or {})
        weights = {**cls().weights, **(data.pop("weights", None) or {})}
        return cls(**data, weights=weights)


ID_STATUSES = ("valid", "legacy15")  # a well-formed ID: a person key once the reference knows it


def resolve_signatures(
    sigs: DataFrame, ref: DataFrame, *, config: MatchConfig
) -> tuple[DataFrame, DataFrame]:
    # Each step is checkpointed: the cascade would otherwise nest every earlier step's plan several times.
    sigs = _with_hints(sigs).localCheckpoint()
    ref = _ref_keys(ref)
    known = ref.select(F.col("person_id").alias("id"), F.col("known_from").alias("_known_from"))
    checked = sigs.join(known, "id", "left")
    verified = (
        F.coalesce(F.col("id_status").isin(*ID_STATUSES), F.lit(False)) & F.col("_known_from").isNotNull()
    )
    by_id = checked.filter(verified).select(
        "sig_id",
        F.col("id").alias("person_id"),
        F.when(F.col("_known_from") == "death_record", "id_death_record")
        .when(F.col("id_status") == "legacy15", "id_legacy15")
        .otherwise("id")
        .alias("method"),
        F.lit(1.0).alias("score"),
    )
    # blank, failed, and unverified IDs (well-formed but unknown): resolved by name, the ID is evidence
    unsure = checked.filter(~verified).drop("_known_from")
    rest = unsure.filter(F.col("name_norm").isNotNull())
    no_name = unsure.filter(F.col("name_norm").isNull()).select(
        "sig_id",
        F.lit("unresolved").alias("reason"),
        F.array().cast(T.ArrayType(CANDIDATE)).alias("candidates"),
    )

    resolved, quarantined = [by_id], [no_name]
    steps = (
        lambda df: _household_name(df, ref, config=config),
        lambda df: _id_repair(df, ref, config=config),
        lambda df: _name_birth(df, ref, config=config),
        lambda df: _village_name(df, ref, config=config),
        lambda df: _probabilistic(df, ref, config=config),
    )
    for step in steps:
        ok, held = step(rest)
        ok, held = ok.localCheckpoint(), held.localCheckpoint()
        resolved.append(ok)
        quarantined.append(held)
        done = ok.select("sig_id").unionByName(held.select("sig_id"))
        rest = rest.join(done, "sig_id", "left_anti").localCheckpoint()
    quarantined.append(
        rest.select(
            "sig_id",
            F.lit("unresolved").alias("reason"),
            F.array().cast(T.ArrayType(CANDIDATE)).alias("candidates"),
        )
    )
    return _union(resolved, RESOLVED_COLUMNS), _union(quarantined, QUARANTINE_COLUMNS)


def _with_hints(sigs: DataFrame) -> DataFrame:
    """What a signature's ID tells when it is not (yet) an identity.

    ``id18``: the 18 characters as delivered, or the upgrade of a 15-digit ID; ``body``: its first 17
    characters (a checksum-valid typo, or a recomputed/upgraded check digit, differs from the true
    ID in the body only); ``birth_hint``: the birth date inside it, even when the check digit fails.
    """
    raw_u = F.upper(F.trim("id_raw"))
    id18 = F.when(F.length(raw_u) == 18, raw_u).when(F.col("id_status") == "legacy15", F.col("id"))
    return (
        sigs.withColumn("raw_u", raw_u)
        .withColumn("id18", id18)
        .withColumn("body", F.substring(F.col("id18"), 1, 17))
        .withColumn("birth_hint", birth_date_from_id(F.col("id18")))
    )


def _ref_keys(ref: DataFrame) -> DataFrame:
    out = ref if "known_from" in ref.columns else ref.withColumn("known_from", F.lit("registry"))
    return out.withColumn("body", F.substring(F.col("person_id"), 1, 17))


def _near(config: MatchConfig) -> Column:
    """The mention's ID body within ``hint_max_edits`` edits of the candidate's (a transposition is 2)."""
    return F.levenshtein(F.col("m.body"), F.col("c.body")) <= config.hint_max_edits


def _fits(config: MatchConfig) -> Column:
    """The ID hint does not contradict the candidate: no hint, or same birth date, or a near ID."""
    same_birth = F.coalesce(F.col("m.birth_hint") == F.col("c.birth_date"), F.lit(False))
    return F.col("m.body").isNull() | same_birth | F.coalesce(_near(config), F.lit(False))


def _union(frames: list[DataFrame], columns: list[str]) -> DataFrame:
    out = frames[0].select(*columns)
    for df in frames[1:]:
        out = out.unionByName(df.select(*columns))
    return out


def _candidate(score: Column) -> Column:
    return F.struct(
        F.col("c.person_id").alias("person_id"),
        F.col("c.name").alias("name"),
        F.col("c.household_no").alias("household_no"),
        score.cast("double").alias("score"),
    )


def _conflict() -> Column:
    """A known household on the mention that differs from the candidate's: never an accepted match.

    A candidate without a household (a person known only from a death record) does not differ.
    """
    return (
        ~F.coalesce(F.col("m.household_is_hint"), F.lit(False))
        & F.col("m.household_no").isNotNull()
        & F.col("c.household_no").isNotNull()
        & (F.col("m.household_no") != F.col("c.household_no"))
    )


def _decide_unique(pairs: DataFrame, *, method: str, score: float) -> tuple[DataFrame, DataFrame]:
    """Exactly one non-conflicting candidate → resolved; two or more → quarantined as ambiguous.

    Signatures whose only candidates conflict with their household fall through to the next step.
    """
    grouped = pairs.groupBy("sig_id").agg(
        F.collect_set(F.when(~F.col("conflict"), F.col("cand"))).alias("ok"),
        F.collect_set("cand").alias("all"),
    )
    resolved = grouped.filter(F.size("ok") == 1).select(
        "sig_id",
        F.col("ok")[0]["person_id"].alias("person_id"),
        F.lit(method).alias("method"),
        F.lit(score).alias("score"),
    )
    ambiguous = grouped.filter(F.size("ok") >= 2).select(
        "sig_id", F.lit("ambiguous").alias("reason"), F.array_sort("all").alias("candidates")
    )
    return resolved, ambiguous


def _household_name(rest: DataFrame, ref: DataFrame, *, config: MatchConfig) -> tuple[DataFrame, DataFrame]:
    """Same 户号 and name. A candidate the mention's ID hint contradicts (other birth date and a far
    ID) does not fit: exactly one fitting candidate links, a signature with none falls through."""
    m = rest.filter(F.col("household_no").isNotNull()).alias("m")
    c = ref.alias("c")
    pairs = m.join(
        c,
        (F.col("m.household_no") == F.col("c.household_no")) & (F.col("m.name_norm") == F.col("c.name_norm")),
    ).select(
        F.col("m.sig_id").alias("sig_id"),
        (~_fits(config)).alias("conflict"),
        _candidate(F.lit(1.0)).alias("cand"),
    )
    return _decide_unique(pairs, method="household_name", score=1.0)


# over the 17-character ID body; identical bodies share every key, so "only the check digit differs" matches too
SUBSTITUTIONS = "transform(sequence(1, 17), i -> overlay({c}, '*', i, 1))"
TRANSPOSITIONS = (
    "filter(transform(sequence(1, 16), i -> concat(substr({c}, 1, i - 1), substr({c}, i + 1, 1), "
    "substr({c}, i, 1), substr({c}, i + 2))), v -> v != {c})"
)


def _id_repair(rest: DataFrame, ref: DataFrame, *, config: MatchConfig) -> tuple[DataFrame, DataFrame]:
    """The ID body one substitution or one adjacent transposition away from exactly one known ID of
    the same name: a failed check digit, a checksum-valid typo, or a mistyped 15-digit ID."""
    bad = rest.filter(F.length("body") == 17)
    names = bad.select("name_norm").distinct()
    reg = ref.join(F.broadcast(names), "name_norm", "left_semi")
    m_sub = bad.select("*", F.explode(F.expr(SUBSTITUTIONS.format(c="body"))).alias("key"))
    r_sub = reg.select("*", F.explode(F.expr(SUBSTITUTIONS.format(c="body"))).alias("key"))
    sub = m_sub.alias("m").join(r_sub.alias("c"), ["name_norm", "key"])
    m_tr = bad.select("*", F.explode(F.expr(TRANSPOSITIONS.format(c="body"))).alias("key"))
    tr = m_tr.alias("m").join(
        reg.alias("c"),
        (F.col("m.name_norm") == F.col("c.name_norm")) & (F.col("m.key") == F.col("c.body")),
    )
    cols = [
        F.col("m.sig_id").alias("sig_id"),
        _conflict().alias("conflict"),
        _candidate(F.lit(config.repair_score)).alias("cand"),
    ]
    pairs = sub.select(*cols).unionByName(tr.select(*cols))
    return _decide_unique(pairs, method="id_repair", score=config.repair_score)


def _name_birth(rest: DataFrame, ref: DataFrame, *, config: MatchConfig) -> tuple[DataFrame, DataFrame]:
    """A failed ID (check digit wrong) whose birth date and name fit exactly one known person.

    Only failed IDs: a checksum-valid ID far from the candidate's is evidence of someone else.
    """
    m = rest.filter((F.col("id_status") == "invalid") & F.col("birth_hint").isNotNull()).alias("m")
    pairs = m.join(
        ref.alias("c"),
        (F.col("m.name_norm") == F.col("c.name_norm")) & (F.col("m.birth_hint") == F.col("c.birth_date")),
    ).select(
        F.col("m.sig_id").alias("sig_id"),
        _conflict().alias("conflict"),
        _candidate(F.lit(config.name_birth_score)).alias("cand"),
    )
    return _decide_unique(pairs, method="name_birth", score=config.name_birth_score)


def _village_name(rest: DataFrame, ref: DataFrame, *, config: MatchConfig) -> tuple[DataFrame, DataFrame]:
    """Only for hinted households (declared relatives): the unique same-name person in the cadre's village."""
    m = rest.filter(F.col("household_is_hint") & F.col("village").isNotNull()).alias("m")
    pairs = m.join(
        ref.alias("c"),
        (F.col("m.village") == F.col("c.village"))
        & (F.col("m.name_norm") == F.col("c.name_norm"))
        & F.col("m.town").eqNullSafe(F.col("c.town")),
    ).select(
        F.col("m.sig_id").alias("sig_id"),
        F.lit(False).alias("conflict"),
        _candidate(F.lit(config.village_name_score)).alias("cand"),
    )
    return _decide_unique(pairs, method="village_name", score=config.village_name_score)


def _blocked_pairs(rest: DataFrame, ref: DataFrame) -> DataFrame:
    m = rest.withColumn("surname", surname_key(F.col("name_norm")))
    c = ref.withColumn("surname", surname_key(F.col("name_norm")))
    rules = [
        ["household_no"],
        ["village", "surname"],
        ["birth_date", "surname"],
        ["name_norm"],
    ]
    frames = []
    for keys in rules:
        left = m.withColumnRenamed("birth_hint", "birth_date") if "birth_date" in keys else m
        cond = [F.col(f"m.{k}") == F.col(f"c.{k}") for k in keys]
        frames.append(
            left.alias("m")
            .join(c.alias("c"), cond)
            .select(F.col("m.sig_id").alias("sig_id"), F.col("c.person_id").alias("person_id"))
        )
    out = frames[0]
    for f in frames[1:]:
        out = out.unionByName(f)
    return out.distinct()


def _probabilistic(rest: DataFrame, ref: DataFrame, *, config: MatchConfig) -> tuple[DataFrame, DataFrame]:
    spark = rest.sparkSession
    pairs = (
        _blocked_pairs(rest, ref)
        .alias("p")
        .join(rest.alias("m"), F.col("p.sig_id") == F.col("m.sig_id"))
        .join(ref.alias("c"), F.col("p.person_id") == F.col("c.person_id"))
        .localCheckpoint()
    )
    names = [
        r[0]
        for r in pairs.select(F.col("m.name_norm"))
        .union(pairs.select(F.col("c.name_norm")))
        .distinct()
        .collect()
    ]
    pinyin = spark.createDataFrame([(n, _pinyin(n)) for n in names if n], "name_norm string, pinyin string")
    pairs = pairs.join(
        F.broadcast(pinyin.alias("pm")), F.col("m.name_norm") == F.col("pm.name_norm"), "left"
    ).join(F.broadcast(pinyin.alias("pc")), F.col("c.name_norm") == F.col("pc.name_norm"), "left")
    scored = pairs.select(
        F.col("m.sig_id").alias("sig_id"),
        _conflict().alias("conflict"),
        _probability(_weight(config), config.prior_log2).alias("p"),
        F.col("c.person_id"),
        F.col("c.name"),
        F.col("c.household_no"),
    ).withColumn(
        "cand",
        F.struct(F.col("person_id"), F.col("name"), F.col("household_no"), F.round("p", 4).alias("score")),
    )
    ranked = (
        scored.groupBy("sig_id")
        .agg(
            F.sort_array(
                F.collect_list(F.when(~F.col("conflict"), F.struct(F.col("p"), F.col("person_id")))), False
            ).alias("ok"),
            F.sort_array(
                F.collect_list(F.struct(F.col("cand.score").alias("s"), F.col("cand"))), False
            ).alias("all"),
        )
        .withColumn("top", F.col("ok")[0])
        .withColumn("second", F.col("ok")[1])
    )
    accept = (F.col("top.p") >= config.accept_threshold) & (
        F.col("second").isNull() | (F.col("top.p") - F.col("second.p") >= config.ambiguity_margin)
    )
    resolved = ranked.filter(F.coalesce(accept, F.lit(False))).select(
        "sig_id",
        F.col("top.person_id").alias("person_id"),
        F.lit("probabilistic").alias("method"),
        F.round(F.col("top.p"), 4).alias("score"),
    )
    n_close = F.size(F.filter("ok", lambda s: s["p"] >= config.review_threshold))
    held = ranked.filter(~F.coalesce(accept, F.lit(False))).select(
        "sig_id",
        F.when(n_close >= 2, "ambiguous").otherwise("unresolved").alias("reason"),
        F.transform(F.slice("all", 1, config.max_candidates), lambda s: s["cand"]).alias("candidates"),
    )
    return resolved, held


def _weight(config: MatchConfig) -> Column:
    w = config.weights
    m, c = "m.", "c."
    name = (
        F.when(F.col(m + "name_norm") == F.col(c + "name_norm"), w["name_exact"])
        .when(F.col("pm.pinyin") == F.col("pc.pinyin"), w["name_pinyin"])
        .when(F.levenshtein(F.col(m + "name_norm"), F.col(c + "name_norm")) <= 1, w["name_edit1"])
        .otherwise(w["name_differs"])
    )
    return (
        name
        + _agree(F.col(m + "birth_hint"), F.col(c + "birth_date"), w["birth_agrees"], w["birth_differs"])
        + F.when(F.col(m + "household_is_hint"), 0.0).otherwise(
            _agree(
                F.col(m + "household_no"),
                F.col(c + "household_no"),
                w["household_agrees"],
                w["household_differs"],
            )
        )
        + _agree(F.col(m + "village"), F.col(c + "village"), w["village_agrees"], w["village_differs"])
        + F.when(F.col(m + "body").isNull(), 0.0)
        .when(F.levenshtein(F.col(m + "body"), F.col(c + "body")) <= config.hint_max_edits, w["id_close"])
        .otherwise(w["id_far"])
    )


def _agree(a: Column, b: Column, yes: float, no: float) -> Column:
    return F.when(a.isNull() | b.isNull(), 0.0).when(a == b, yes).otherwise(no)


def _probability(weight: Column, prior_log2: float) -> Column:
    return F.lit(1.0) / (F.lit(1.0) + F.pow(F.lit(2.0), -(weight + F.lit(prior_log2))))


def _pinyin(name: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(name))
