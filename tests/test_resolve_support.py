"""Hand-made standardized tables for the resolve and kinship tests (no tests in this module).

Rows are given with canonical column names and the ID values *as delivered*; ``std_table`` adds
the ID triple (x, x_raw, x_status) the way ingest does and the provenance columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from stdnum.cn import ric, uscc

ID_COLUMNS = {
    "registry_person": {"id_no": "resident_id"},
    "subsidy_payment": {"id_no": "resident_id"},
    "payroll": {"id_no": "resident_id"},
    "site_wage": {"id_no": "resident_id"},
    "death_record": {"id_no": "resident_id"},
    "cadre": {"id_no": "resident_id"},
    "cadre_relative": {"cadre_id": "resident_id", "relative_id": "resident_id"},
    "marriage_registration": {"husband_id": "resident_id", "wife_id": "resident_id"},
    "company": {"credit_code": "credit_code", "legal_rep_id": "resident_id"},
    "shareholder": {"credit_code": "credit_code", "shareholder_id": "party_id"},
    "asset_holding": {"owner_id": "resident_id"},
    "lease_contract": {"lessee_id": "party_id"},
}
FEEDS = {
    "registry_person": ("household_registry", "户籍人口信息_20231231.csv"),
    "subsidy_payment": ("subsidy", "民生补助发放明细_202301.csv"),
    "payroll": ("payroll", "财政供养人员工资_2023.csv"),
    "site_wage": ("site_wage", "农民工工资发放_2023.csv"),
    "death_record": ("death", "死亡火化信息_2023.csv"),
    "cadre": ("cadre", "村社干部名册_2023.xlsx"),
    "cadre_relative": ("cadre", "村社干部名册_2023.xlsx"),
    "marriage_registration": ("marriage", "婚姻登记信息_2023.csv"),
    "company": ("company", "企业基本信息.csv"),
    "shareholder": ("company", "企业股东信息.csv"),
    "asset_holding": ("property", "不动产车辆登记.csv"),
    "lease_contract": ("collective_asset", "集体资产合同.csv"),
    "project_payment": ("engineering", "村级工程付款.csv"),
}
DATE_COLUMNS = {
    "birth_date",
    "status_date",
    "death_date",
    "reg_date",
    "start_date",
    "end_date",
    "pay_date",
    "cremation_date",
    "established_date",
}
DOUBLE_COLUMNS = {"share_pct", "amount"}


def shipped_mentions():
    """The person mentions the shipped feed files declare (what ``jobs.resolve.main`` resolves)."""
    from jobs.resolve.specs import mention_specs
    from qingfeng.feeds.model import load_feeds
    from qingfeng.settings import PROJECT_ROOT

    return mention_specs(load_feeds(PROJECT_ROOT / "feeds"))


def id_valid(value: str) -> bool:
    """Length, digits and check digit (GB 11643), as the ingest engine checks them."""
    return len(value) == 18 and value[:17].isdigit() and value[-1] == ric.calc_check_digit(value)


def make_id(birth: str, seq: int, region: str = "110101") -> str:
    body = f"{region}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_credit_code(seq: int) -> str:
    body = f"91330102MA{seq:07d}"
    return body + uscc.calc_check_digit(body)


def substitute(id_no: str, pos: int) -> str:
    """The ID with one digit at ``pos`` changed so that the check digit no longer fits."""
    for d in "0123456789":
        bad = id_no[:pos] + d + id_no[pos + 1 :]
        if bad != id_no and not id_valid(bad):
            return bad
    raise AssertionError("no invalid substitution")


def transpose(id_no: str) -> str:
    """The ID with two adjacent different digits swapped, check digit broken."""
    for i in range(14, 16):
        bad = id_no[:i] + id_no[i + 1] + id_no[i] + id_no[i + 2 :]
        if bad != id_no and not id_valid(bad):
            return bad
    for i in range(6, 16):
        bad = id_no[:i] + id_no[i + 1] + id_no[i] + id_no[i + 2 :]
        if bad != id_no and not id_valid(bad):
            return bad
    raise AssertionError("no invalid transposition")


def valid_typo(id_no: str, pos: int) -> str:
    """The ID with one body digit at ``pos`` changed and the check digit recomputed: checksum-valid, wrong."""
    digit = str((int(id_no[pos]) + 1) % 10)
    body = id_no[:pos] + digit + id_no[pos + 1 : 17]
    return body + ric.calc_check_digit(body + "0")


def legacy15(id_no: str, typo_at: int | None = None) -> str:
    """The 15-digit form of an ID born 19xx, optionally with one digit (index of the 15) changed."""
    short = id_no[:6] + id_no[8:17]
    if typo_at is not None:
        short = short[:typo_at] + str((int(short[typo_at]) + 1) % 10) + short[typo_at + 1 :]
    return short


def _id_triple(raw: str | None, kind: str) -> tuple[str | None, str | None, str]:
    raw = (raw or "").strip() or None
    if raw is None:
        return None, None, "blank"
    value = raw.upper()
    if kind in ("credit_code", "party_id") and uscc.is_valid(value):
        return value, raw, "credit_code" if kind == "party_id" else "valid"
    if kind == "credit_code":
        return None, raw, "invalid"
    if id_valid(value):
        return value, raw, "valid"
    if len(value) == 15 and value.isdigit():
        body = value[:6] + "19" + value[6:]
        return body + ric.calc_check_digit(body + "0"), raw, "legacy15"
    return None, raw, "invalid"


def std_table(spark, table: str, rows: list[dict], file: str | None = None):
    """A standardized table as ingest would write it."""
    from pyspark.sql import types as T

    feed, default_file = FEEDS[table]
    file = file or default_file
    ids = ID_COLUMNS.get(table, {})
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    out_cols: list[str] = []
    for c in columns:
        out_cols += [c, f"{c}_raw", f"{c}_status"] if c in ids else [c]
    out_cols += ["_feed", "_file", "_line", "_file_sha"]
    sha = hashlib.sha256(f"{table}:{file}".encode()).hexdigest()
    data = []
    for line, row in enumerate(rows, start=2):
        rec: list[object] = []
        for c in columns:
            if c in ids:
                rec += list(_id_triple(row.get(c), ids[c]))
            else:
                rec.append(row.get(c))
        rec += [feed, file, line, sha]
        data.append(rec)

    def field(name: str) -> T.StructField:
        if name in DATE_COLUMNS:
            return T.StructField(name, T.DateType())
        if name in DOUBLE_COLUMNS:
            return T.StructField(name, T.DoubleType())
        if name == "_line":
            return T.StructField(name, T.IntegerType())
        return T.StructField(name, T.StringType())

    return spark.createDataFrame(data, T.StructType([field(c) for c in out_cols]))


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def person(
    id_no, name, hh, rel, village="东村", town="清风镇", birth=None, sex="男", status="正常", status_date=None
):
    birth = birth or d(f"{id_no[6:10]}-{id_no[10:12]}-{id_no[12:14]}")
    return {
        "id_no": id_no,
        "name": name,
        "sex": sex,
        "birth_date": birth,
        "household_no": hh,
        "relation": rel,
        "town": town,
        "village": village,
        "status": status,
        "status_date": status_date,
    }
