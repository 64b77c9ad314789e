"""Hand-made curated tables for rule tests, with the schemas of docs/architecture.md.

``make_tables(spark, payroll=[{...}], person=[{...}])`` builds every curated table a rule may need
(empty when not given). Rows are dicts: missing columns are NULL, dates may be ``"YYYY-MM-DD"``
strings, money may be numbers, and the provenance columns (``_feed``, ``_file``, ``_line``,
``_file_sha``) are filled in from the row's position unless given. ``run_rule`` runs one
registered rule through ``finalize`` and returns plain dicts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2023, 12, 31)

PROVENANCE = "_feed string, _file string, _line int, _file_sha string"
RESOLVED = "person_id string, resolve_method string, resolve_score double"
ID = "id_no string, id_no_raw string, id_no_status string"

SCHEMAS: dict[str, tuple[str, str]] = {  # table -> (feed, DDL)
    "person": (
        "household_registry",
        "person_id string, name string, sex string, birth_date date, household_no string, relation string, "
        "town string, village string, status string, status_date date, death_date date, death_source string",
    ),
    "subsidy_payment": (
        "subsidy",
        f"batch string, programme string, town string, village string, household_no string, "
        f"name string, {ID}, amount decimal(18,2), pay_date date, account string, "
        f"account_holder string, clerk string, approver string, {PROVENANCE}, {RESOLVED}",
    ),
    "payroll": (
        "payroll",
        f"pay_month date, employer_code string, employer_name string, staff_category string, {ID}, "
        f"name string, gross_pay decimal(18,2), net_pay decimal(18,2), {PROVENANCE}, {RESOLVED}",
    ),
    "site_wage": (
        "site_wage",
        f"project_no string, contractor_name string, wage_month date, {ID}, name string, "
        f"gross_wage decimal(18,2), net_wage decimal(18,2), pay_date date, account string, "
        f"{PROVENANCE}, {RESOLVED}",
    ),
    "asset_holding": (
        "property",
        "owner_id string, owner_id_raw string, owner_id_status string, owner_name string, "
        "asset_type string, reg_date date, dereg_date date, size double, "
        f"appraised_value decimal(18,2), {PROVENANCE}, owner_id_person string, "
        "owner_id_method string, owner_id_score double",
    ),
    "company": (
        "company",
        "credit_code string, company_name string, name_norm string, legal_rep_person string, "
        f"reg_status string, {PROVENANCE}",
    ),
    "company_party": ("company", f"credit_code string, person_id string, role string, {PROVENANCE}"),
    "cadre": (
        "cadre",
        f"{ID}, name string, town string, village string, post string, start_date date, end_date date, "
        f"{PROVENANCE}, {RESOLVED}",
    ),
    "kin": (
        "kinship",
        "cadre_id string, kin_id string, steps int, path string, path_ids array<string>, "
        "path_relationships array<string>",
    ),
    "company_registration": (
        "company",
        "credit_code string, credit_code_raw string, credit_code_status string, company_name string, "
        "legal_rep_name string, legal_rep_id string, legal_rep_id_raw string, legal_rep_id_status string, "
        f"established_date date, reg_status string, address string, {PROVENANCE}, legal_rep_id_person string, "
        "legal_rep_id_method string, legal_rep_id_score double",
    ),
    "project": (
        "engineering",
        "project_no string, project_name string, town string, village string, category string, approval_date date, "
        "tender_method string, award_date date, sign_date date, start_date date, acceptance_date date, "
        "control_price decimal(18,2), contract_amount decimal(18,2), winner_name string, winner_credit_code string, "
        f"winner_credit_code_raw string, winner_credit_code_status string, bidder_count int, {PROVENANCE}",
    ),
    "project_payment": (
        "engineering",
        f"project_no string, pay_date date, amount decimal(18,2), payee_name string, payee_account string, {PROVENANCE}",
    ),
    "lease_contract": (
        "collective_asset",
        "contract_no string, town string, village string, asset_name string, asset_type string, area double, "
        "area_unit string, lessee_name string, lessee_id string, lessee_id_raw string, lessee_id_status string, "
        "trade_method string, platform_no string, start_date date, end_date date, annual_rent decimal(18,2), "
        f"prev_contract_no string, {PROVENANCE}, lessee_id_person string, lessee_id_method string, "
        "lessee_id_score double",
    ),
    "rent_receivable": (
        "collective_asset",
        f"contract_no string, due_date date, due_amount decimal(18,2), paid_date date, paid_amount decimal(18,2), "
        f"{PROVENANCE}",
    ),
}


def _fields(spark: Any, table: str) -> Any:
    from pyspark.sql.types import _parse_datatype_string

    return _parse_datatype_string(SCHEMAS[table][1])


def _value(value: Any, type_name: str) -> Any:
    if value is None:
        return None
    if type_name == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if type_name.startswith("decimal"):
        return Decimal(str(value))
    if type_name == "double":
        return float(value)
    return value


def frame(spark: Any, table: str, rows: list[dict[str, Any]] | None = None) -> Any:
    """One curated table from row dicts (unknown column names are an error, to catch typos)."""
    schema = _fields(spark, table)
    names = [f.name for f in schema.fields]
    feed = SCHEMAS[table][0]
    records = []
    for i, row in enumerate(rows or []):
        unknown = set(row) - set(names)
        if unknown:
            raise KeyError(f"{table}: unknown column(s) {sorted(unknown)}")
        full = dict(row)
        if "_feed" in names:
            full.setdefault("_feed", feed)
            full.setdefault("_file", f"{table}.csv")
            full.setdefault("_line", i + 2)
            full.setdefault("_file_sha", "0" * 64)
        if "resolve_method" in names and full.get("person_id"):
            full.setdefault("resolve_method", "id")
            full.setdefault("resolve_score", 1.0)
        if "id_no" in names and full.get("person_id"):
            full.setdefault("id_no", full["person_id"])
            full.setdefault("id_no_raw", full["person_id"])
            full.setdefault("id_no_status", "valid")
        records.append(tuple(_value(full.get(f.name), f.dataType.simpleString()) for f in schema.fields))
    return spark.createDataFrame(records, schema)


def make_tables(spark: Any, **rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Every curated table of ``SCHEMAS``; the ones not given are empty."""
    unknown = set(rows) - set(SCHEMAS)
    if unknown:
        raise KeyError(f"unknown curated table(s) {sorted(unknown)}")
    return {name: frame(spark, name, rows.get(name)) for name in SCHEMAS}


def person(pid: str, name: str, household_no: str, **extra: Any) -> dict[str, Any]:
    row = {
        "person_id": pid,
        "name": name,
        "household_no": household_no,
        "town": "城厢街道",
        "village": "园梅村",
        "status": "正常",
        "birth_date": "1970-01-01",
    }
    row.update(extra)
    if row.get("death_date") and "status" not in extra:
        row["status"], row["status_date"] = "死亡", row["death_date"]
    return row


def pid(n: int) -> str:
    """A distinct, well-formed-looking 18-character person id (check digits are not tested here)."""
    return f"3301091970{n:08d}"


def config(**overrides: Any) -> Any:
    from qingfeng.contract import RulesConfig

    return RulesConfig.load(PROJECT / "config" / "rules.yml", **overrides)


def with_section(code: str, **values: Any) -> Any:
    """The project configuration with some thresholds of one rule's section changed."""
    from qingfeng.contract import RulesConfig

    base = config()
    data = base.model_dump()
    data[code] = {**base.section(code), **values}
    return RulesConfig.model_validate(data)


def run_rule(
    code: str, tables: dict[str, Any], *, cfg: Any = None, as_of: dt.date = AS_OF
) -> list[dict[str, Any]]:
    """Run one registered rule (through ``finalize``) and return its clues as plain dicts, sorted by keys."""
    from jobs.rules.runner import run_rule as run_spec
    from jobs.rules.runner import select_specs
    from qingfeng.contract import KEY_NAMES, clue_to_dict

    (spec,) = select_specs([code])
    df = run_spec(spec, tables, config=cfg or config(), as_of=as_of)
    rows = [clue_to_dict(r) for r in df.collect()]
    return sorted(rows, key=lambda r: tuple(r["keys"].get(k, "") for k in KEY_NAMES))


def keys_of(clues: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The clues' keys, each in catalogue order (compare with ``==`` on dicts; order of names is free)."""
    return [c["keys"] for c in clues]
