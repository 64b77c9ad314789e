"""Per-subject risk profile: one explained 0–100 score per person, company or village.

Like ARACHNE's global risk score, a subject's clues are combined into one number that analysts
sort by, and the number is explained by its contributors. For each clue a subject appears in:

    points = severity points × domain weight × amount factor

- severity points: high 30, medium 15, low 6;
- domain weight: 1.0 for every domain unless configured;
- amount factor: 1 + min(1, log10(1 + amount / 10 000) / 2), i.e. ×1 for no amount, ×1.5 at
  about 100 000 元, ×2 from about 1 000 000 元.

Within one rule the clues are taken largest first and the k-th counts ``repeat_decay**(k-1)``
(0.5: a second clue of the same rule adds half, a third a quarter), so many clues of one pattern
do not drown a subject touched by several patterns. The subject's points P become the score
``100 × P / (P + scale)`` (scale 60): monotone, 0 without clues, approaching 100 only slowly, so
subjects with many clues (a village with a dozen) still rank among themselves. One high clue
scores 33.3, a high and a medium clue 42.9, 300 points 83.3.

Weights can be overridden in ``config/rules.yml`` under an optional ``risk:`` section with the
field names of :class:`RiskWeights`.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from qingfeng.contract import clue_to_dict

SEVERITY_LABELS = {"high": "高", "medium": "中", "low": "低"}
SUBJECT_KINDS = ("person", "company", "village")
KIND_LABELS = {"person": "人员", "company": "企业", "village": "村社"}


@dataclass(frozen=True)
class RiskWeights:
    severity_points: Mapping[str, float] = field(
        default_factory=lambda: {"high": 30.0, "medium": 15.0, "low": 6.0}
    )
    domain_weights: Mapping[str, float] = field(default_factory=dict)  # S/E/A/P → weight, default 1.0
    repeat_decay: float = 0.5
    amount_unit: float = 10000.0
    scale: float = 60.0

    @classmethod
    def from_config(cls, config: Any) -> RiskWeights:
        """The weights of ``config.section('risk')`` (a ``RulesConfig``), defaults for the rest."""
        section = config.section("risk") if config is not None else {}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in section.items() if k in known})

    def amount_factor(self, amount: float | None) -> float:
        if not amount or amount <= 0:
            return 1.0
        return 1.0 + min(1.0, math.log10(1.0 + amount / self.amount_unit) / 2.0)

    def clue_points(self, clue: Mapping[str, Any]) -> float:
        base = self.severity_points.get(str(clue.get("severity")), self.severity_points.get("medium", 15.0))
        domain = self.domain_weights.get(str(clue.get("rule", "?"))[:1], 1.0)
        return base * domain * self.amount_factor(_float(clue.get("amount")))


@dataclass(frozen=True)
class Contribution:
    rule: str
    rule_name: str
    clue_count: int
    severity: str
    amount: float
    points: float


@dataclass(frozen=True)
class RiskProfile:
    kind: str
    id: str
    name: str | None
    score: float
    clue_count: int
    rules: tuple[str, ...]
    explanation: str
    contributions: tuple[Contribution, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "score": self.score,
            "clue_count": self.clue_count,
            "rules": list(self.rules),
            "explanation": self.explanation,
        }


def risk_profiles(
    clues: Any,
    *,
    weights: RiskWeights | None = None,
    kinds: Iterable[str] = SUBJECT_KINDS,
) -> list[RiskProfile]:
    """Profiles of every subject of the wanted ``kinds``, highest score first.

    ``clues`` is a clue DataFrame (collected: clues are few) or an iterable of clue dicts
    (``qingfeng.contract.clue_to_dict``): ``rule``, ``rule_name``, ``subjects``, ``amount``, ``severity``, ``fingerprint``.
    """
    weights = weights or RiskWeights()
    wanted = set(kinds)
    by_subject: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    names: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for clue in _as_dicts(clues):
        seen: set[tuple[str, str]] = set()
        for subj in clue.get("subjects") or []:
            kind, sid = subj.get("kind"), subj.get("id")
            if kind not in wanted or not sid or (kind, sid) in seen:
                continue
            seen.add((kind, sid))
            by_subject[(kind, sid)].append(clue)
            if subj.get("name"):
                names[(kind, sid)][subj["name"]] += 1
    points = {id(c): weights.clue_points(c) for cs in by_subject.values() for c in cs}  # once per clue
    profiles = [
        _profile(kind, sid, _common(names[(kind, sid)]), subject_clues, weights, points)
        for (kind, sid), subject_clues in by_subject.items()
    ]
    return sorted(profiles, key=lambda p: (-p.score, -p.clue_count, p.kind, p.id))


def _profile(
    kind: str,
    sid: str,
    name: str | None,
    clues: list[Mapping[str, Any]],
    weights: RiskWeights,
    points_of: Mapping[int, float] | None = None,
) -> RiskProfile:
    per_rule: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for clue in clues:
        per_rule[str(clue["rule"])].append(clue)
    contributions = []
    for code, rule_clues in per_rule.items():
        ranked = sorted(
            (points_of[id(c)] if points_of else weights.clue_points(c) for c in rule_clues), reverse=True
        )
        points = sum(p * weights.repeat_decay**k for k, p in enumerate(ranked))
        severities = [str(c.get("severity")) for c in rule_clues]
        worst = min(
            severities, key=lambda s: ["high", "medium", "low"].index(s) if s in SEVERITY_LABELS else 3
        )
        contributions.append(
            Contribution(
                rule=code,
                rule_name=str(rule_clues[0].get("rule_name") or ""),
                clue_count=len(rule_clues),
                severity=worst,
                amount=sum(_float(c.get("amount")) or 0.0 for c in rule_clues),
                points=points,
            )
        )
    contributions.sort(key=lambda c: (-c.points, c.rule))
    total = sum(c.points for c in contributions)
    score = round(100.0 * total / (total + weights.scale), 1)
    label = f"{KIND_LABELS.get(kind, kind)} {name or sid}"
    parts = [_describe(c) for c in contributions]
    explanation = (
        f"{label} 综合风险分 {score:.1f}（{len(clues)} 条线索，涉及 {len(contributions)} 项规则）："
        + "；".join(parts)
        + "。"
    )
    return RiskProfile(
        kind=kind,
        id=sid,
        name=name,
        score=score,
        clue_count=len(clues),
        rules=tuple(sorted(per_rule)),
        explanation=explanation,
        contributions=tuple(contributions),
    )


def _describe(c: Contribution) -> str:
    amount = f"，涉及金额 {c.amount / 10000:.2f} 万元" if c.amount else ""
    severity = SEVERITY_LABELS.get(c.severity, c.severity)
    return f"{c.rule} {c.rule_name} {c.clue_count} 条（风险{severity}{amount}）+{c.points:.1f}"


def _as_dicts(clues: Any) -> Iterable[Mapping[str, Any]]:
    if hasattr(clues, "collect") and hasattr(clues, "columns"):  # a Spark DataFrame
        return [clue_to_dict(row) for row in clues.collect()]
    return clues


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _common(counter: Counter[str]) -> str | None:
    if not counter:
        return None
    if len(counter) == 1:
        return next(iter(counter))
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
