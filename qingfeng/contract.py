"""The clue contract, without Spark: what the rules produce and the register, web and bench read.

The rule catalogue (code → name and key names), the four domains, the clue columns, the typed
rules configuration and the clue fingerprint. The rules (``jobs.rules``) implement the catalogue
in Spark; everything here is plain Python, so that importing it never loads pyspark.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

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


@dataclass(frozen=True)
class CatalogueEntry:
    """A rule of the catalogue: its code, its name and the key names that identify one clue."""

    code: str
    name: str
    keys: tuple[str, ...]

    @property
    def domain(self) -> str:
        return DOMAINS[self.code[0]]


def _catalogue(*entries: CatalogueEntry) -> dict[str, CatalogueEntry]:
    for entry in entries:
        unknown = set(entry.keys) - set(KEY_NAMES)
        if unknown:
            raise ValueError(f"{entry.code}: unknown key names {sorted(unknown)}")
    return {entry.code: entry for entry in entries}


CATALOGUE = _catalogue(
    CatalogueEntry("S01", "死亡人员仍在领取补助", ("person", "programme")),
    CatalogueEntry("S02", "财政供养人员家庭违规享受救助", ("person", "programme")),
    CatalogueEntry("S03", "优亲厚友: 干部亲属享受救助", ("person", "cadre", "programme")),
    CatalogueEntry("S04", "重复发放", ("person", "programme", "month")),
    CatalogueEntry("S05", "有车有房有企仍享受救助", ("person", "programme")),
    CatalogueEntry("S06", "一卡多人代领", ("account",)),
    CatalogueEntry("S07", "超标准发放", ("person", "programme", "month")),
    CatalogueEntry("E01", "化整为零规避招标", ("village", "company")),
    CatalogueEntry("E02", "流程倒置", ("project",)),
    CatalogueEntry("E03", "超合同付款", ("project",)),
    CatalogueEntry("E04", "干部及亲属关联企业承揽", ("project", "company")),
    CatalogueEntry("E05", "竞争性程序投标不足", ("project",)),
    CatalogueEntry("E06", "超限额直接发包", ("project",)),
    CatalogueEntry("E07", "工程款支付对象异常", ("project",)),
    CatalogueEntry("A01", "低价发包出租", ("contract",)),
    CatalogueEntry("A02", "承包款逾期未收", ("contract",)),
    CatalogueEntry("A03", "超期限发包", ("contract",)),
    CatalogueEntry("A04", "未公开交易续租发包", ("contract",)),
    CatalogueEntry("A05", "干部及亲属承租集体资产", ("contract",)),
    CatalogueEntry("P01", "死亡后仍发工资 (吃空饷)", ("person",)),
    CatalogueEntry("P02", "一人多岗在编领薪", ("person",)),
    CatalogueEntry("P03", "拖欠农民工工资", ("project",)),
    CatalogueEntry("P04", "虚列冒领农民工工资", ("person",)),
    CatalogueEntry("P05", "工资代发至同一账户", ("account",)),
)


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


def fingerprint(rule_code: str, keys: Mapping[str, str | None]) -> str:
    """sha256 of the rule and its sorted key values; the same in Spark (``jobs.rules.base.fingerprint_col``)."""
    parts = [rule_code] + [f"{k}={keys[k]}" for k in sorted(keys)]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


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
