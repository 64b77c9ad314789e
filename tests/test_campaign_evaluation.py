"""评估单 on the hand-built campaign year (tests/campaign_year.py): every item of every unit's score,
the ranking and the 督促提醒 list, counted by hand (docs/campaigns.md, "Evaluation")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from campaign_year import END, LEAD_JY, LEAD_MZ, LEAD_ZJ, LIAISON_MZ, LIAISON_ZJ, START, TODAY, build_year
from test_register_support import *  # noqa: F403

from qingfeng.campaigns.config import EvaluationConfig, EvaluationWeights, load
from qingfeng.campaigns.evaluation import evaluate
from qingfeng.register.errors import InvalidInput
from qingfeng.settings import PROJECT_ROOT

CONFIG = EvaluationConfig(
    base=100,
    report_due_day=5,
    weights=EvaluationWeights(overdue_task=-5, late_report=-3, rectified_on_time=2, recovered_per_10k=0.01),
    remind_below=90,
)
# unit: (overdue tasks, late or missing reports, rectified on time, 万元 recovered, score, rank)
EXPECTED = {
    LIAISON_ZJ: (0, 0, 1, Decimal("250.0005"), Decimal("104.50"), 1),
    LIAISON_MZ: (2, 0, 1, Decimal("1234.567999"), Decimal("104.35"), 2),
    LEAD_MZ: (1, 2, 0, Decimal("1234.567999"), Decimal("101.35"), 3),
    LEAD_JY: (0, 6, 1, Decimal("0"), Decimal("84.00"), 4),
    LEAD_ZJ: (2, 9, 0, Decimal("250.0005"), Decimal("65.50"), 5),
}


@pytest.fixture
def year(session):
    return build_year(session)


def test_scores_ranking_and_breakdown(session, year):
    ev = evaluate(session, START, END, CONFIG, today=TODAY)
    assert ev.as_of == END
    got = {
        s.unit: (
            *(int(s.item(k).quantity) for k in ("overdue_task", "late_report", "rectified_on_time")),
            s.item("recovered_per_10k").quantity,
            s.score,
            s.rank,
        )
        for s in ev.scores
    }
    assert got == EXPECTED
    assert [s.unit for s in ev.scores] == list(EXPECTED)
    for s in ev.scores:  # the score is the base plus the points shown
        assert s.score == s.base + sum(i.points for i in s.items)
        assert all(len(i.basis) == i.quantity for i in s.items if i.key != "recovered_per_10k")
    lead_mz = next(s for s in ev.scores if s.unit == LEAD_MZ)
    assert lead_mz.roles == ("牵头单位",) and lead_mz.projects == ("MSZJ",)
    late = [b.text for b in lead_mz.item("late_report").basis]
    assert late == [
        "MSZJ 2025-03 月报迟报:2025-04-07 报送,应于 2025-04-05 前",
        "MSZJ 2025-09 月报未报送(应于 2025-10-05 前报送)",
    ]
    assert lead_mz.item("recovered_per_10k").points == Decimal("12.35")
    on_time = next(s for s in ev.scores if s.unit == LIAISON_MZ).item("rectified_on_time").basis
    assert [b.clue_id for b in on_time] == [year.clues["C1"]]


def test_funds_add_at_most_the_cap(session, year):
    capped = CONFIG.model_copy(update={"weights": CONFIG.weights.model_copy(update={"recovered_cap": 5})})
    ev = evaluate(session, START, END, capped, today=TODAY)
    scores = {s.unit: s for s in ev.scores}
    assert scores[LEAD_MZ].item("recovered_per_10k").points == Decimal("5.00")  # 12.35 uncapped
    assert scores[LEAD_MZ].score == EXPECTED[LEAD_MZ][4] - Decimal("7.35")
    assert scores[LIAISON_ZJ].item("recovered_per_10k").points == Decimal("2.50")  # under the cap


def test_the_reminder_list(session, year):
    ev = evaluate(session, START, END, CONFIG, today=TODAY)
    assert ev.last_month == "2025-11"
    assert {r.unit: r.reasons for r in ev.reminders} == {
        LIAISON_MZ: ("2 项任务超期未完成",),
        LEAD_MZ: ("1 项任务超期未完成",),
        LEAD_JY: ("评分 84.00 低于 90 分",),
        LEAD_ZJ: (
            "评分 65.50 低于 90 分",
            "1 项任务超期未完成",
            "CJGC 2025-11 月报未报送(已超期 2025-12-05)",
        ),
    }


def test_mid_year_evaluation_counts_only_what_was_due(session, year):
    ev = evaluate(session, START, END, CONFIG, today=dt.date(2025, 6, 15))
    assert ev.as_of == dt.date(2025, 6, 15) and ev.last_month == "2025-05"
    lead_mz = next(s for s in ev.scores if s.unit == LEAD_MZ)
    assert int(lead_mz.item("late_report").quantity) == 1  # March; May's on the due day (Beijing) is on time
    assert int(lead_mz.item("overdue_task").quantity) == 0  # T2 is due on 30 June
    zj = next(r for r in ev.reminders if r.unit == LEAD_ZJ)
    assert "CJGC 2025-05 月报未报送(已超期 2025-06-05)" in zj.reasons
    with pytest.raises(InvalidInput):
        evaluate(session, START, END, CONFIG, today=dt.date(2024, 12, 1))
    with pytest.raises(InvalidInput):
        evaluate(session, END, START, CONFIG)


def test_the_shipped_weights_are_the_evaluation_defaults():
    shipped = load(PROJECT_ROOT / "config" / "campaigns.yml").evaluation
    assert shipped == EvaluationConfig()
