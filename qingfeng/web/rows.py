"""Clue rows as the pages and exports show them: labels, masking, one subject line."""

from __future__ import annotations

from typing import Any

from qingfeng.register.models import Clue
from qingfeng.web.masking import Masker


def subject_line(clue: Clue, masker: Masker) -> str:
    parts = []
    for s in (clue.subjects or [])[:3]:
        kind = s.get("kind") or ""
        ident = masker.subject_id(kind, s.get("id"))
        name = s.get("name") or ""
        parts.append(f"{name}({ident})" if name and ident else name or ident)
    more = len(clue.subjects or []) - 3
    return "、".join(parts) + (f" 等{len(clue.subjects)}个" if more > 0 else "")


EXPORT_COLUMNS = (
    ("编号", "id"),
    ("规则", "rule"),
    ("规则名称", "rule_name"),
    ("领域", "domain"),
    ("乡镇", "town"),
    ("村社", "village"),
    ("涉及对象", "subjects"),
    ("涉及金额(元)", "amount"),
    ("严重程度", "severity"),
    ("风险评分", "risk_score"),
    ("状态", "status"),
    ("预警", "colour"),
    ("办理期限", "deadline"),
    ("首次发现", "first_seen"),
    ("最近发现", "last_seen"),
    ("数据截至", "as_of"),
    ("关系路径", "path"),
)


def export_row(clue: Clue, deadline: Any, colour: str | None, masker: Masker) -> list[Any]:
    from qingfeng.web.formatting import COLOUR_LABELS, DOMAIN_LABELS, SEVERITY_LABELS

    values = {
        "id": clue.id,
        "rule": clue.rule,
        "rule_name": clue.rule_name or "",
        "domain": DOMAIN_LABELS.get(clue.domain or "", clue.domain or ""),
        "town": clue.town or "",
        "village": clue.village or "",
        "subjects": subject_line(clue, masker),
        "amount": float(clue.amount) if clue.amount is not None else None,
        "severity": SEVERITY_LABELS.get(clue.severity, clue.severity),
        "risk_score": clue.risk_score,
        "status": clue.status,
        "colour": COLOUR_LABELS.get(colour or "none", ""),
        "deadline": deadline.isoformat() if deadline else "",
        "first_seen": clue.first_seen.isoformat(),
        "last_seen": clue.last_seen.isoformat(),
        "as_of": clue.as_of.isoformat(),
        "path": masker.text(clue.path),
    }
    return [values[key] for _title, key in EXPORT_COLUMNS]
