"""Subject risk wired into publishing: stored per subject over the ACTIVE clues, the clue's risk_score
is its subjects' highest score, the queue sorts by it, and re-publishing changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from test_register_support import *  # noqa: F403
from test_register_support import AS_OF, make_clue

from qingfeng.register.models import Clue, PipelineRun, SubjectRisk
from qingfeng.register.publish import RunInfo, publish
from qingfeng.register.queries import ClueFilter, list_clues, subject_risk
from qingfeng.register.risk_score import risk_profiles
from qingfeng.register.service import ClueService

ZHANG, LI, WANG = "330109198001011234", "330109198202022345", "330109197503033456"
CLUES = [
    make_clue("S01", ZHANG, "张三", amount=1200, severity="medium", village="东村"),
    make_clue("S07", ZHANG, "张三", amount=500, severity="high", village="东村", programme="临时救助金"),
    make_clue("S01", LI, "李四", amount=250000, severity="high", village="西村"),
    make_clue("S07", WANG, "王五", amount=300, severity="low", village="东村"),
]


def stored(session) -> dict[tuple[str, str], tuple]:
    session.expire_all()
    return {
        (r.kind, r.subject_id): (r.name, r.score, r.clue_count, tuple(r.rules), r.explanation, r.as_of)
        for r in session.scalars(select(SubjectRisk))
    }


def scores(session) -> dict[str, float | None]:
    session.expire_all()
    return {c.fingerprint: c.risk_score for c in session.scalars(select(Clue))}


def test_publish_stores_subject_risk_and_the_clues_highest_score(engine, session, people):
    publish(engine, CLUES, RunInfo(as_of=AS_OF))
    expected = {(p.kind, p.id): p for p in risk_profiles(CLUES)}  # the risk job on the same clues
    rows = stored(session)
    assert (
        set(rows)
        == set(expected)
        == {("person", ZHANG), ("person", LI), ("person", WANG), ("village", "东村"), ("village", "西村")}
    )
    for key, p in expected.items():
        assert rows[key] == (p.name, p.score, p.clue_count, p.rules, p.explanation, AS_OF)
    assert rows[("person", ZHANG)][2:4] == (2, ("S01", "S07"))
    assert "综合风险分" in rows[("person", ZHANG)][4]
    for clue in session.scalars(select(Clue)):  # highest of its subjects' scores
        assert clue.risk_score == max(expected[(s["kind"], s["id"])].score for s in clue.subjects)
    # 王五's only clue is low, but he lives in 东村, whose three clues score higher
    wang = session.scalar(select(Clue).where(Clue.rule == "S07", Clue.amount == 300))
    assert wang.risk_score == expected[("village", "东村")].score > expected[("person", WANG)].score
    run = session.scalars(select(PipelineRun)).one()
    assert run.counts["risk"]["subjects"] == 5


def test_queue_sorts_by_the_stored_risk(engine, session, people):
    publish(engine, CLUES, RunInfo(as_of=AS_OF))
    page = list_clues(session, people["analyst"], ClueFilter(sort="risk"), today=AS_OF)
    got = [r.clue.risk_score for r in page.rows]
    assert got == sorted(got, reverse=True) and len(set(got)) > 1
    ascending = list_clues(session, people["analyst"], ClueFilter(sort="risk", descending=False), today=AS_OF)
    assert [r.clue.risk_score for r in ascending.rows] == sorted(got)
    risk = subject_risk(session, people["analyst"], "person", LI)
    assert risk is not None and risk.score <= page.rows[0].clue.risk_score


def test_republishing_is_idempotent_and_dismissed_clues_stop_counting(engine, session, people):
    publish(engine, CLUES, RunInfo(as_of=AS_OF))
    first, first_scores = stored(session), scores(session)
    for _ in range(2):
        publish(engine, CLUES, RunInfo(as_of=AS_OF))
    assert stored(session) == first and scores(session) == first_scores

    # an analyst dismisses 张三's high S07 clue: at the next publish it no longer counts
    s07 = session.scalar(select(Clue).where(Clue.rule == "S07", Clue.amount == 500))
    ClueService(session, people["analyst"]).transition(s07.id, "了结", reason="核实无问题")
    later = dt.date(2026, 4, 30)
    publish(engine, CLUES, RunInfo(as_of=later))
    rows = stored(session)
    active = [c for c in CLUES if not (c["rule"] == "S07" and c["amount"] == 500)]
    assert {k: v[1:3] for k, v in rows.items()} == {
        (p.kind, p.id): (p.score, p.clue_count) for p in risk_profiles(active)
    }
    assert rows[("person", ZHANG)][2:4] == (1, ("S01",)) and rows[("person", ZHANG)][5] == later

    # a clue no longer detected stops counting too; 李四 has no other clue, so his profile goes
    publish(
        engine, [c for c in CLUES if c["keys"]["person"] != LI], RunInfo(as_of=later, rules=["S01", "S07"])
    )
    rows = stored(session)
    assert ("person", LI) not in rows and ("village", "西村") not in rows
    li = session.scalar(select(Clue).where(Clue.amount == 250000))
    assert li.detection_state == "not_detected" and li.risk_score is None


@pytest.mark.parametrize("n", [300])
def test_refresh_is_set_based_on_many_clues(engine, session, people, n):
    many = [
        make_clue(
            "S01",
            f"3301091980{i:08d}"[:18],
            f"人{i}",
            amount=100 + i,
            village=f"村{i % 7}",
            programme=f"项目{i}",
        )
        for i in range(n)
    ]
    publish(engine, many, RunInfo(as_of=AS_OF))
    rows = stored(session)
    assert len(rows) == n + 7
    assert all(c.risk_score is not None for c in session.scalars(select(Clue)))
