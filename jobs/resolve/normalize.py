"""Name normalisation as Spark column expressions.

The traditional→simplified and full-width→half-width maps are built once per process as a
character translation table and applied with Spark's built-in ``translate``: no Python UDF
touches a row. OpenCC converts phrases as well as characters; person and company names are
matched character by character, so the character table is what matters here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column

CJK_RANGE = range(0x4E00, 0xA000)
# Longest first: each pass strips one legal-form suffix from the end of a company name.
LEGAL_FORM_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "分公司",
    "集团",
    "公司",
    "专业合作社",
    "合作社",
    "个体工商户",
)
COMPANY_HINT = "公司|合作社|集团|工作室|商行|经营部|厂$|店$|中心$|事务所|委员会|经济联合社"
MIDDLE_DOTS = "•・‧∙⋅"


@lru_cache(maxsize=1)
def char_map() -> tuple[str, str]:
    """(from, to) strings for ``translate``: traditional→simplified, full-width→half-width."""
    from opencc import OpenCC

    chars = [chr(c) for c in CJK_RANGE]
    converted = OpenCC("t2s").convert("\n".join(chars)).split("\n")
    pairs = {a: b for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1}
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        pairs[chr(code)] = chr(code - 0xFEE0)
    pairs["\u3000"] = " "
    for dot in MIDDLE_DOTS:
        pairs[dot] = "·"
    pairs["（"] = "("
    pairs["）"] = ")"
    src = "".join(pairs)
    return src, "".join(pairs[c] for c in src)


def normalize_name(col: Column) -> Column:
    """Full-width→half-width, traditional→simplified, all whitespace removed, upper-case Latin, one
    middle dot (·, •, ・, ‧, ∙, ⋅, or a full stop between Chinese characters)."""
    from pyspark.sql import functions as F

    src, dst = char_map()
    cleaned = F.upper(F.regexp_replace(F.translate(col, src, dst), r"\s+", ""))
    # 阿依古丽.买买提: a full stop between two Chinese characters is the middle dot of a minority name
    cleaned = F.regexp_replace(cleaned, r"(?<=\p{IsHan})\.(?=\p{IsHan})", "·")
    return F.nullif(cleaned, F.lit(""))


def company_name_key(col: Column) -> Column:
    """The matching key of a company name: normalised, brackets unified, legal-form suffix removed."""
    from pyspark.sql import functions as F

    suffix = "(" + "|".join(LEGAL_FORM_SUFFIXES) + ")$"
    key = normalize_name(col)
    for _ in range(2):  # e.g. 集团有限公司 then 分公司 of "XX集团有限公司分公司"
        key = F.regexp_replace(key, suffix, "")
    return F.nullif(key, F.lit(""))


def looks_like_company(col: Column) -> Column:
    """A party name that names an organisation, not a person (lessees, shareholders)."""
    from pyspark.sql import functions as F

    return F.coalesce(
        normalize_name(col).rlike(COMPANY_HINT) | (F.length(normalize_name(col)) > 12), F.lit(False)
    )


def birth_date_from_id(col: Column) -> Column:
    """The birth date embedded in an 18-character ID, even when its check digit is wrong."""
    from pyspark.sql import functions as F

    digits = F.substring(col, 7, 8)
    parsed = F.try_to_timestamp(digits, F.lit("yyyyMMdd")).cast("date")
    return F.when((F.length(col) == 18) & digits.rlike(r"^\d{8}$"), parsed)


def surname_key(col: Column) -> Column:
    from pyspark.sql import functions as F

    return F.substring(col, 1, 1)
