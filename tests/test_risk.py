"""The per-subject risk profile: graver and more clues rank higher, and the explanation names them."""

from __future__ import annotations

from typing import Any

import pytest

from qingfeng.register.risk_score import RiskWeights, risk_profiles


def clue(
    rule: str, severity: str, *subjects: tuple[str, str, str], amount: float = 0, name: str = ""
) -> dict[str, Any]:
    return {
        "rule": rule,
        "rule_name": name or f"{rule}规则",
        "severity": severity,
        "amount": amount,
        "subjects": [{"kind": k, "id": i, "name": n} for k, i, n in subjects],
        "keys": {"project": f"{rule}-{len(subjects)}"},
    }


A = ("person", "A", "张三")
B = ("person", "B", "李四")
C = ("person", "C", "王五")
CO = ("company", "91330109MA00000011", "甲公司")
V = ("village", "园梅村", "城厢街道园梅村")
PRJ = ("project", "P1", "P1工程")


def scores(profiles) -> dict[str, float]:
    return {p.id: p.score for p in profiles}


def test_graver_and_more_clues_rank_higher() -> None:
    clues = [
        clue("S03", "high", A),
        clue("E03", "high", A),  # A: two high clues
        clue("S03", "high", B),  # B: one high
        clue("A02", "low", C),  # C: one low
    ]
    profiles = risk_profiles(clues)
    assert [p.id for p in profiles] == ["A", "B", "C"]
    s = scores(profiles)
    assert 0 < s["C"] < s["B"] < s["A"] < 100
    assert s["B"] == pytest.approx(33.3, abs=0.1)  # one high clue: 100 × 30 / (30 + 60)


def test_repeats_of_one_rule_count_with_diminishing_returns() -> None:
    many_same = [clue("S04", "medium", A) for _ in range(6)]
    two_rules = [clue("S04", "medium", B), clue("S07", "medium", B)]
    s = scores(risk_profiles(many_same + two_rules))
    one = scores(risk_profiles([clue("S04", "medium", C)]))["C"]
    assert s["A"] > one  # more clues still raise the score …
    assert s["A"] < 2 * one  # … but six repeats are worth less than twice one
    assert s["B"] > s["A"] * 0.95  # two different patterns weigh about as much as six repeats


def test_amount_raises_the_score() -> None:
    s = scores(risk_profiles([clue("E03", "high", A, amount=500000), clue("E03", "high", B, amount=100)]))
    assert s["A"] > s["B"]


def test_subjects_by_kind_and_explanation_lists_contributors() -> None:
    clues = [
        clue("E04", "high", PRJ, V, CO, A, amount=200000, name="干部及亲属关联企业承揽"),
        clue("E07", "high", PRJ, V, CO, amount=30000, name="工程款支付对象异常"),
    ]
    profiles = {(p.kind, p.id): p for p in risk_profiles(clues)}
    assert set(profiles) == {
        ("company", CO[1]),
        ("village", "园梅村"),
        ("person", "A"),
    }  # projects are not profiled
    company = profiles[("company", CO[1])]
    assert company.clue_count == 2 and company.rules == ("E04", "E07") and company.name == "甲公司"
    text = company.explanation
    assert text.startswith(f"企业 甲公司 综合风险分 {company.score:.1f}（2 条线索，涉及 2 项规则）")
    assert "E04 干部及亲属关联企业承揽 1 条（风险高，涉及金额 20.00 万元）" in text
    assert text.index("E04") < text.index("E07")  # larger contribution first
    assert profiles[("person", "A")].rules == ("E04",)


def test_weights_are_configurable() -> None:
    clues = [clue("S01", "high", A), clue("E03", "high", B)]
    heavy_engineering = RiskWeights(domain_weights={"E": 2.0})
    assert [p.id for p in risk_profiles(clues, weights=heavy_engineering)] == ["B", "A"]
    assert scores(risk_profiles(clues))["A"] == scores(risk_profiles(clues))["B"]


def test_no_clues_no_profiles() -> None:
    assert risk_profiles([]) == []


def test_heavily_flagged_subjects_still_rank_among_themselves() -> None:
    ten = [clue(f"R{i:02d}", "high", A) for i in range(10)]
    twelve = [clue(f"R{i:02d}", "high", B) for i in range(12)]
    s = scores(risk_profiles(ten + twelve))
    assert s["A"] < s["B"] < 100.0
