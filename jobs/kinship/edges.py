"""The relation vocabulary (curated/relation): family edges as rules.md defines them, and company roles.

Columns: ``source``, ``target``, ``relationship``, ``schema``, ``source_name``, ``target_name``,
``feed``, ``file``, ``line``. Family: ``spouse``, ``parent`` (source is the parent of target),
``sibling``, ``declared:<关系>``. Ownership: ``shareholder``. Directorship: ``legal_representative``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import Window
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

RELATION_COLUMNS = (
    "source",
    "target",
    "relationship",
    "schema",
    "source_name",
    "target_name",
    "feed",
    "file",
    "line",
)
CHILD = ("子", "女")
PARENT_OF_HEAD = ("父亲", "母亲")
MARRIAGE, DIVORCE = "结婚登记", "离婚登记"


def _edge(
    source: Column,
    target: Column,
    relationship: str | Column,
    schema: str,
    source_name: Column,
    target_name: Column,
    row: str,
) -> list[Column]:
    rel = F.lit(relationship) if isinstance(relationship, str) else relationship
    return [
        source.alias("source"),
        target.alias("target"),
        rel.alias("relationship"),
        F.lit(schema).alias("schema"),
        source_name.alias("source_name"),
        target_name.alias("target_name"),
        F.col(f"{row}._feed").alias("feed"),
        F.col(f"{row}._file").alias("file"),
        F.col(f"{row}._line").cast("long").alias("line"),
    ]


def household_edges(person: DataFrame) -> DataFrame:
    """Spouse, parent and sibling edges within one household; each cites the member's registry row."""
    p = person.filter(F.col("household_no").isNotNull())
    heads = p.filter(F.col("relation") == "户主").alias("h")
    members = p.filter(F.col("relation") != "户主").alias("m")
    hm = heads.join(members, F.col("h.household_no") == F.col("m.household_no"))
    h_id, h_name, m_id, m_name = F.col("h.person_id"), F.col("h.name"), F.col("m.person_id"), F.col("m.name")
    rel = F.col("m.relation")
    spouse = hm.filter(rel == "配偶").select(*_edge(h_id, m_id, "spouse", "Family", h_name, m_name, "m"))
    head_child = hm.filter(rel.isin(*CHILD)).select(
        *_edge(h_id, m_id, "parent", "Family", h_name, m_name, "m")
    )
    head_parent = hm.filter(rel.isin(*PARENT_OF_HEAD)).select(
        *_edge(m_id, h_id, "parent", "Family", m_name, h_name, "m")
    )

    spouses = p.filter(F.col("relation") == "配偶").alias("s")
    children = p.filter(F.col("relation").isin(*CHILD)).alias("c")
    spouse_child = spouses.join(children, F.col("s.household_no") == F.col("c.household_no")).select(
        *_edge(
            F.col("s.person_id"),
            F.col("c.person_id"),
            "parent",
            "Family",
            F.col("s.name"),
            F.col("c.name"),
            "c",
        )
    )
    other = p.filter(F.col("relation").isin(*CHILD)).alias("o")
    siblings = children.join(
        other,
        (F.col("c.household_no") == F.col("o.household_no")) & (F.col("c.person_id") < F.col("o.person_id")),
    ).select(
        *_edge(
            F.col("c.person_id"),
            F.col("o.person_id"),
            "sibling",
            "Family",
            F.col("c.name"),
            F.col("o.name"),
            "o",
        )
    )
    return (
        spouse.unionByName(head_child)
        .unionByName(head_parent)
        .unionByName(spouse_child)
        .unionByName(siblings)
    )


def marriage_state(marriage: DataFrame) -> DataFrame:
    """The last registration of each resolved (husband, wife) pair; a divorce on the day of a marriage wins."""
    pairs = marriage.filter(F.col("husband_id_person").isNotNull() & F.col("wife_id_person").isNotNull())
    order = Window.partitionBy("husband_id_person", "wife_id_person").orderBy(
        F.col("reg_date").desc(),
        F.when(F.col("business_type") == DIVORCE, 0).otherwise(1),
        F.col("_line").desc(),
    )
    return pairs.withColumn("_rank", F.row_number().over(order)).filter("_rank = 1").drop("_rank")


def family_edges(
    person: DataFrame, marriage: DataFrame | None = None, relatives: DataFrame | None = None
) -> DataFrame:
    edges = household_edges(person)
    if marriage is not None:
        last = marriage_state(marriage).alias("r")
        married = last.filter(F.col("business_type") == MARRIAGE).select(
            *_edge(
                F.col("husband_id_person"),
                F.col("wife_id_person"),
                "spouse",
                "Family",
                F.col("husband_name"),
                F.col("wife_name"),
                "r",
            )
        )
        # A divorce that no later marriage of the pair undoes also ends the registry's 户主–配偶 edge.
        divorced = last.filter(F.col("business_type") == DIVORCE).select(
            F.col("husband_id_person").alias("a"), F.col("wife_id_person").alias("b")
        )
        undone = divorced.unionByName(divorced.select(F.col("b").alias("a"), F.col("a").alias("b")))
        edges = edges.join(
            F.broadcast(undone).withColumn("spouse_rel", F.lit("spouse")),
            (F.col("source") == F.col("a"))
            & (F.col("target") == F.col("b"))
            & (F.col("relationship") == F.col("spouse_rel")),
            "left_anti",
        )
        edges = edges.unionByName(married)
    if relatives is not None:
        declared = relatives.filter(
            F.col("cadre_id_person").isNotNull() & F.col("relative_id_person").isNotNull()
        ).alias("d")
        edges = edges.unionByName(
            declared.select(
                *_edge(
                    F.col("cadre_id_person"),
                    F.col("relative_id_person"),
                    F.concat(F.lit("declared:"), F.trim("relation")),
                    "Family",
                    F.col("cadre_name"),
                    F.col("relative_name"),
                    "d",
                )
            )
        )
    return edges.filter(F.col("source") != F.col("target")).dropDuplicates(
        ["source", "target", "relationship", "file", "line"]
    )


def company_edges(
    company_party: DataFrame, companies: DataFrame, shareholder: DataFrame | None = None
) -> DataFrame:
    """Person → company roles, plus company → company shareholdings when the shareholder is a company."""
    names = F.broadcast(companies.select("credit_code", F.col("company_name")))
    cp = company_party.join(names, "credit_code", "left").alias("p")
    schema = F.when(F.col("role") == "legal_representative", "Directorship").otherwise("Ownership")
    people = cp.select(
        F.col("person_id").alias("source"),
        F.col("credit_code").alias("target"),
        F.col("role").alias("relationship"),
        schema.alias("schema"),
        F.col("party_name").alias("source_name"),
        F.coalesce("company_name", "credit_code").alias("target_name"),
        F.col("_feed").alias("feed"),
        F.col("_file").alias("file"),
        F.col("_line").cast("long").alias("line"),
    )
    if shareholder is None:
        return people
    corp = (
        shareholder.filter(F.col("shareholder_id_status") == "credit_code")
        .join(names, "credit_code", "left")
        .select(
            F.col("shareholder_id").alias("source"),
            F.col("credit_code").alias("target"),
            F.lit("shareholder").alias("relationship"),
            F.lit("Ownership").alias("schema"),
            F.col("shareholder_name").alias("source_name"),
            F.coalesce("company_name", "credit_code").alias("target_name"),
            F.col("_feed").alias("feed"),
            F.col("_file").alias("file"),
            F.col("_line").cast("long").alias("line"),
        )
    )
    return people.unionByName(corp)
