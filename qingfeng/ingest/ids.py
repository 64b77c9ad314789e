"""Resident IDs (GB 11643) and unified social credit codes (GB 32100) as Spark expressions.

Pure column expressions (no UDF), checked against python-stdnum in the tests. Birth place is
not validated: administrative region codes change over time and the household registry is
the authority on who exists; a check digit and a real birth date are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column

RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _weighted_sum(code: Column, weights: tuple[int, ...], char_value: object) -> Column:
    """sum(value(code[i]) * weights[i]) as one higher-order expression (a small plan, no UDF)."""
    from pyspark.sql import functions as F

    w = F.array(*[F.lit(x) for x in weights])
    return F.aggregate(
        F.sequence(F.lit(1), F.lit(len(weights))),
        F.lit(0),
        lambda acc, i: acc + char_value(code.substr(i, F.lit(1))) * F.element_at(w, i),  # type: ignore[operator]
    )


def _ric_check_char(body17: Column) -> Column:
    from pyspark.sql import functions as F

    total = _weighted_sum(body17, RIC_WEIGHTS, lambda c: c.cast("int"))
    return F.lit(RIC_CHECK).substr((total % 11 + 1).cast("int"), F.lit(1))


def _valid_birth(id18: Column) -> Column:
    from pyspark.sql import functions as F

    return F.try_to_date(F.substring(id18, 7, 8), "yyyyMMdd").isNotNull()


def resident_id(raw: Column) -> tuple[Column, Column]:
    """(normalised ID or NULL, status valid|legacy15|blank|invalid) of a trimmed raw value."""
    from pyspark.sql import functions as F

    v = F.upper(F.regexp_replace(raw, r"\s", ""))
    upgraded_body = F.concat(F.substring(v, 1, 6), F.lit("19"), F.substring(v, 7, 9))
    upgraded = F.concat(upgraded_body, _ric_check_char(upgraded_body))
    is18 = v.rlike(r"^[0-9]{17}[0-9X]$")
    is15 = v.rlike(r"^[0-9]{15}$")
    ok18 = is18 & (F.substring(v, 18, 1) == _ric_check_char(F.substring(v, 1, 17))) & _valid_birth(v)
    ok15 = is15 & _valid_birth(upgraded)
    status = (
        F.when(v.isNull() | (v == ""), "blank")
        .when(ok18, "valid")
        .when(ok15, "legacy15")
        .otherwise("invalid")
    )
    value = F.when(ok18, v).when(ok15, upgraded)
    return value, status


def _uscc_check_char(code: Column) -> Column:
    from pyspark.sql import functions as F

    total = _weighted_sum(code, USCC_WEIGHTS, lambda c: F.position(c, F.lit(USCC_ALPHABET)) - 1)
    return F.lit(USCC_ALPHABET).substr(((31 - total % 31) % 31 + 1).cast("int"), F.lit(1))


def credit_code(raw: Column) -> tuple[Column, Column]:
    """(normalised code or NULL, status valid|blank|invalid)."""
    from pyspark.sql import functions as F

    v = F.upper(F.regexp_replace(raw, r"[\s-]", ""))
    shape = v.rlike(r"^[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}$")
    ok = shape & (F.substring(v, 18, 1) == _uscc_check_char(v))
    status = F.when(v.isNull() | (v == ""), "blank").when(ok, "valid").otherwise("invalid")
    return F.when(ok, v), status


def party_id(raw: Column) -> tuple[Column, Column]:
    """A resident ID, or else a credit code (status ``credit_code``)."""
    from pyspark.sql import functions as F

    rid, rid_status = resident_id(raw)
    code, code_status = credit_code(raw)
    status = (
        F.when(rid_status.isin("valid", "legacy15", "blank"), rid_status)
        .when(code_status == "valid", "credit_code")
        .otherwise("invalid")
    )
    return F.coalesce(rid, code), status
