"""Column helpers shared by the engineering and asset rules: evidence structs from prefixed
provenance, company name keys, the people behind a company, and cadres-in-office with their kin.

Everything is a Spark column expression or a DataFrame transform (joins, windows); no UDFs.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.resolve.normalize import company_name_key
from jobs.rules.base import Tables, reused, subject
from jobs.rules.evidence import as_text, evidence_of, join_text, text
from qingfeng.contract import RulesConfig

ROLE_LABELS = {"legal_representative": "法定代表人", "shareholder": "股东"}
PROVENANCE = ("_feed", "_file", "_line")
BRACKETS = r"[()（）\[\]【】〔〕［］]"


def with_provenance(df: DataFrame, prefix: str) -> DataFrame:
    """Copy ``_feed``/``_file``/``_line`` to ``<prefix>_feed`` …; NULLs when the table has none."""
    present = set(df.columns)  # read once: on Spark Connect every read of the schema is a round trip
    return df.withColumns(
        {f"{prefix}{col}": F.col(col) if col in present else F.lit(None) for col in PROVENANCE}
    )


def latest_rows(df: DataFrame, keys: list[str]) -> DataFrame:
    """One row per business key: the one from the latest-named file (then the last line).

    Exports are re-delivered with overlapping content; a project or contract delivered in two
    files must not count twice. Rows with a NULL key are kept as they are.
    """
    if not all(c in df.columns for c in ("_file", "_line")):
        return df.dropDuplicates(keys)
    order = Window.partitionBy(*keys).orderBy(
        F.col("_file").desc_nulls_last(), F.col("_line").desc_nulls_last()
    )
    has_key = F.lit(True)
    for k in keys:
        has_key = has_key & F.col(k).isNotNull()
    ranked = df.withColumn("_latest", F.when(has_key, F.row_number().over(order)).otherwise(F.lit(1)))
    return ranked.where(F.col("_latest") == 1).drop("_latest")


def company_key(col: Column) -> Column:
    """Matching key of a company name: normalised (full-width, traditional, spaces), legal form
    (有限公司/有限责任公司/股份有限公司/…) removed, and bracket characters dropped (before the legal
    form is removed), so ``杭州某某（萧山）有限公司``, ``杭州某某(萧山)有限责任公司`` and
    ``杭州某某萧山（有限公司）`` are one company."""
    key = F.regexp_replace(company_name_key(F.regexp_replace(col, BRACKETS, "")), BRACKETS, "")
    return F.nullif(key, F.lit(""))


def unique_company_names(tables: Tables) -> DataFrame:
    """``name_key`` → ``credit_code`` for registry names that identify exactly one company.

    Checkpointed: the name key is a deep expression, and a Spark Connect client refuses a plan
    nested more than 100 protobuf levels (the engineering rules built on it came to 101).
    """
    company = tables["company"].where(F.col("credit_code").isNotNull())
    keyed = company.select(company_key(F.col("company_name")).alias("name_key"), "credit_code").distinct()
    return reused(
        keyed.where(F.col("name_key").isNotNull())
        .groupBy("name_key")
        .agg(F.count("*").alias("_n"), F.first("credit_code").alias("credit_code"))
        .where(F.col("_n") == 1)
        .drop("_n")
    )


def company_people(tables: Tables) -> DataFrame:
    """One row per (credit_code, person_id, role) with ``role_label`` and ``cp_`` provenance.

    Legal representatives come from ``company_party`` and from ``company.legal_rep_person``.
    """
    party = with_provenance(tables["company_party"], "cp").select(
        "credit_code", "person_id", "role", "cp_feed", "cp_file", "cp_line", F.lit(0).alias("_pref")
    )
    frames = [party]
    company = tables["company"]
    if "legal_rep_person" in company.columns:
        reps = with_provenance(company, "cp").select(
            "credit_code",
            F.col("legal_rep_person").alias("person_id"),
            F.lit("legal_representative").alias("role"),
            "cp_feed",
            "cp_file",
            "cp_line",
            F.lit(1).alias("_pref"),
        )
        frames.append(reps)
    people = frames[0]
    for extra in frames[1:]:
        people = people.unionByName(extra)
    people = people.where(F.col("credit_code").isNotNull() & F.col("person_id").isNotNull())
    first = Window.partitionBy("credit_code", "person_id", "role").orderBy("_pref", "cp_file", "cp_line")
    labels = F.create_map(*[F.lit(x) for pair in ROLE_LABELS.items() for x in pair])
    return (
        people.withColumn("_r", F.row_number().over(first))
        .where(F.col("_r") == 1)
        .drop("_r", "_pref")
        .withColumn("role_label", F.coalesce(labels[F.col("role")], F.col("role")))
    )


def cadre_kin(tables: Tables, config: RulesConfig) -> DataFrame:
    """Every person within ``kinship_steps`` of a cadre, once per cadre stint.

    Columns: ``k_person`` (the kin, or the cadre at step 0), ``k_cadre_id``, ``k_cadre_name``,
    ``k_post``, ``k_town``, ``k_start``, ``k_end``, ``k_steps``, ``k_path``, ``k_name`` (the kin's
    name) and ``kc_`` provenance of the cadre row. The cadre themself is always included at step 0,
    whether or not ``curated/kin`` lists them.
    """
    cadre = with_provenance(tables["cadre"], "kc").where(F.col("person_id").isNotNull())
    self_rows = cadre.select(
        F.col("person_id").alias("cadre_id"),
        F.col("person_id").alias("kin_id"),
        F.lit(0).alias("steps"),
        F.concat(F.col("name"), F.lit("("), F.coalesce(F.col("post"), F.lit("干部")), F.lit(")")).alias(
            "path"
        ),
        F.lit(1).alias("_pref"),
    )
    kin = (
        tables["kin"]
        .where(F.col("steps") <= config.kinship_steps)
        .select(
            "cadre_id", "kin_id", F.col("steps").cast("int").alias("steps"), "path", F.lit(0).alias("_pref")
        )
    )
    shortest = Window.partitionBy("cadre_id", "kin_id").orderBy("steps", "_pref", "path")
    pairs = (
        kin.unionByName(self_rows)
        .withColumn("_r", F.row_number().over(shortest))
        .where(F.col("_r") == 1)
        .drop("_r", "_pref")
    )
    names = tables["person"].select(F.col("person_id").alias("kin_id"), F.col("name").alias("k_name"))
    stints = cadre.select(
        F.col("person_id").alias("cadre_id"),
        F.col("name").alias("k_cadre_name"),
        F.col("post").alias("k_post"),
        F.col("town").alias("k_town"),
        F.col("start_date").alias("k_start"),
        F.col("end_date").alias("k_end"),
        "kc_feed",
        "kc_file",
        "kc_line",
    )
    return (
        pairs.join(stints, "cadre_id")
        .join(names, "kin_id", "left")
        .select(
            F.col("kin_id").alias("k_person"),
            F.col("cadre_id").alias("k_cadre_id"),
            "k_cadre_name",
            "k_post",
            "k_town",
            "k_start",
            "k_end",
            F.col("steps").alias("k_steps"),
            F.col("path").alias("k_path"),
            "k_name",
            "kc_feed",
            "kc_file",
            "kc_line",
        )
    )


def match_cadre_kin(targets: DataFrame, kin: DataFrame, *, person: str, on_date: str, town: str) -> DataFrame:
    """Rows of ``targets`` whose ``person`` is a cadre in office on ``on_date`` in ``town``, or that
    cadre's kin; one output row per matching cadre stint, with the ``k_*`` columns of ``cadre_kin``.

    In office: 任职开始日期 ≤ date and (任职结束日期 empty or ≥ date).
    """
    cond = (
        (F.col(person) == F.col("k_person"))
        & (F.col(town) == F.col("k_town"))
        & (F.col("k_start") <= F.col(on_date))
        & (F.col("k_end").isNull() | (F.col("k_end") >= F.col(on_date)))
    )
    return reused(targets.join(kin, cond))


def cadre_note() -> Column:
    """Evidence note of a matched cadre stint."""
    return join_text(
        "干部 ",
        F.col("k_cadre_name"),
        " ",
        F.coalesce(F.col("k_post"), F.lit("")),
        " 任职 ",
        as_text("k_start"),
        "–",
        F.coalesce(as_text("k_end"), F.lit("至今")),
        "，关系 ",
        F.col("k_path"),
        sep="",
    )


def cadre_evidence() -> Column:
    """Evidence of a matched cadre stint: its ``cadre`` row with ``cadre_note``."""
    return evidence_of("kc", "cadre", cadre_note())


def party_evidence(person: Column | str) -> Column:
    """Evidence of the company role (``role_label``, ``cp_`` provenance) held by the kin ``person``."""
    return evidence_of("cp", "company_party", text(F.col("role_label"), " ", F.coalesce("k_name", person)))


def kin_paths() -> Column:
    """Aggregate ``_paths``: every kinship ``_path`` of the group with its steps, shortest first."""
    return F.array_sort(
        F.collect_set(F.struct(F.col("k_steps").alias("s"), F.col("_path").alias("p")))
    ).alias("_paths")


def kin_people() -> Column:
    """Aggregate ``_people``: the cadres and kin of the group's matches (``kin_subjects``)."""
    return F.array_sort(F.array_distinct(F.flatten(F.collect_list(kin_subjects())))).alias("_people")


def path_text() -> Column:
    """The clue's path: the ``_paths`` of ``kin_paths`` joined by "；"."""
    return F.array_join(F.transform("_paths", lambda x: x["p"]), "；")


def kin_subjects() -> Column:
    """Subjects of a kinship match: the cadre, and the kin when the kin is not the cadre."""
    return F.filter(
        F.array(
            subject("person", F.col("k_cadre_id"), F.col("k_cadre_name")),
            F.when(F.col("k_steps") > 0, subject("person", F.col("k_person"), F.col("k_name"))),
        ),
        lambda s: s.isNotNull(),
    )


def village_subject(town: Column, village: Column) -> Column:
    return F.when(village.isNotNull(), subject("village", village, F.concat_ws("", town, village)))


def non_null(arr: Column) -> Column:
    return F.filter(arr, lambda s: s.isNotNull())
