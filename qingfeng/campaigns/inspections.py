"""检查: one inspection visit (date, inspecting unit, units and places inspected, summary) and its
findings. Each finding becomes a problem in the register, a ``Clue`` with source ``inspection`` and
rule ``JC``, which then goes through the same lifecycle as a rule clue (``ClueService``: 核查, 派件,
整改, 销号)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qingfeng.campaigns.base import CampaignBase, ProjectRef, choice, day, required_text, text
from qingfeng.register.bounds import parse_money
from qingfeng.register.errors import InvalidInput
from qingfeng.register.lifecycle import FOUND, SEVERITY_RANK, SOURCE_RULES
from qingfeng.register.models import Clue, Evidence, Inspection

SOURCE = "inspection"
RULE = SOURCE_RULES[SOURCE]
RULE_NAME = "监督检查发现问题"
MAX_PLACES = 500
MAX_FINDINGS = 200


@dataclass(frozen=True)
class Finding:
    """One problem an inspection found. ``amount``: the money involved, in yuan (exact)."""

    description: str
    severity: str = "medium"
    town: str | None = None
    village: str | None = None
    amount: Decimal | str | int | None = None

    @classmethod
    def of(cls, value: Finding | dict[str, Any] | str) -> Finding:
        if isinstance(value, Finding):
            return value
        if isinstance(value, str):
            return cls(value)
        unknown = sorted(set(value) - {"description", "severity", "town", "village", "amount"})
        if unknown:
            raise InvalidInput(f"问题的字段无效:{', '.join(unknown)}")
        return cls(**value)


def finding_fingerprint(inspection_id: int, number: int) -> str:
    return hashlib.sha256(f"{SOURCE}:{inspection_id}:{number}".encode()).hexdigest()


class InspectionActions(CampaignBase):
    def record_inspection(
        self,
        *,
        inspected_on: dt.date | str,
        inspecting_unit: str,
        places: Sequence[str],
        findings: Sequence[Finding | dict[str, Any] | str] = (),
        summary: str | None = None,
        project: ProjectRef | None = None,
    ) -> Inspection:
        """One ``Inspection`` and one problem (``Clue``, status 发现) per finding, all in one commit."""
        self.require("record_inspection")
        owner = None if project is None or project == "" else self.project(project)
        when = day(inspected_on, "检查日期", latest=self.today)
        unit = required_text(inspecting_unit, "检查单位", limit=200)
        sites = self._places(places)
        checked = [self._finding(Finding.of(f), n) for n, f in enumerate(findings, start=1)]
        if len(checked) > MAX_FINDINGS:
            raise InvalidInput(f"一次检查最多登记 {MAX_FINDINGS} 个问题")
        inspection = Inspection(
            project=owner,
            inspected_on=when,
            inspecting_unit=unit,
            places=sites,
            summary=text(summary, "检查情况", limit=20000),
            recorded_by=self.actor,
            recorded_at=self.now,
        )
        self.session.add(inspection)
        self.session.flush()
        where = "、".join(sites[:5]) + (" 等" if len(sites) > 5 else "")
        for number, finding in enumerate(checked, start=1):
            note = f"{unit} {when.isoformat()} 检查 {where}:{finding.description}"
            clue = Clue(
                rule=RULE,
                rule_name=RULE_NAME,
                domain=owner.domain if owner else None,
                keys={"inspection": str(inspection.id), "finding": str(number)},
                fingerprint=finding_fingerprint(inspection.id, number),
                subjects=[],
                amount=finding.amount,
                severity=finding.severity,
                evidence=[{"feed": SOURCE, "table": "inspection", "file": None, "line": None, "note": note}],
                evidence_rows=[Evidence(feed=SOURCE, table_name="inspection", note=note)],
                town=finding.town,
                village=finding.village,
                first_seen=when,
                last_seen=when,
                as_of=when,
                status=FOUND,
                source=SOURCE,
                project=owner,
                inspection=inspection,
                detection_state="active",
                updated_at=self.now,
            )
            self.session.add(clue)
            self.clue_event(clue, "inspection", f"检查发现:{finding.description}({unit},{when.isoformat()})")
        self.session.flush()
        self.commit(
            f"inspection:{inspection.id}",
            f"登记检查 {when.isoformat()} {unit},检查单位(场所){len(sites)} 家,发现问题 {len(checked)} 个",
        )
        return inspection

    def _places(self, places: Sequence[str]) -> list[str]:
        sites: list[str] = []
        for raw in places or []:
            site = text(raw, "被检查单位(场所)", limit=200)
            if site and site not in sites:
                sites.append(site)
        if not sites:
            raise InvalidInput("被检查单位(场所)至少填写一个")
        if len(sites) > MAX_PLACES:
            raise InvalidInput(f"被检查单位(场所)最多 {MAX_PLACES} 个")
        return sites

    def _finding(self, finding: Finding, number: int) -> Finding:
        label = f"第 {number} 个问题"
        description = required_text(finding.description, f"{label}的描述", limit=4000)
        severity = choice((finding.severity or "medium").strip(), f"{label}的严重程度", tuple(SEVERITY_RANK))
        blank = finding.amount is None or (isinstance(finding.amount, str) and not finding.amount.strip())
        amount = None if blank else parse_money(finding.amount, label=f"{label}的涉及金额")
        return Finding(
            description=description,
            severity=severity,
            town=text(finding.town, f"{label}的乡镇(街道)", limit=100),
            village=text(finding.village, f"{label}的村(社区)", limit=100),
            amount=amount,
        )
