"""The web layer's fast read paths agree with the register's own definitions, on a varied register."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from qingfeng.register.db import session_factory
from qingfeng.register.models import User
from qingfeng.register.queries import ClueFilter, list_clues
from qingfeng.register.report import monthly_report
from qingfeng.register.service import ClueService
from qingfeng.web.bench import TOWNS, bulk_seed
from qingfeng.web.charts import bar_chart, line_chart
from qingfeng.web.fastqueue import export_rows, queue_page
from qingfeng.web.sample import UNITS, seed
from qingfeng.web.trend import month_counts


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('reg') / 'register.db'}"
    engine = seed(url, as_of=dt.date(2025, 6, 30))
    bulk_seed(engine, 600, seed=3)
    sessions = session_factory(engine)
    with sessions() as session:  # real service actions on the sample clues, so events carry real times
        analyst = session.scalar(select(User).where(User.username == "analyst1"))
        svc = ClueService(session, analyst)
        svc.transition(1, "核查", reason="核实")
        svc.dispatch(1, UNITS[0], dt.date.today() + dt.timedelta(days=2))
        svc.transition(2, "核查", reason="核实")
        svc.dispatch(2, UNITS[1], dt.date.today() + dt.timedelta(days=30))
    yield sessions
    engine.dispose()


FILTERS = [
    ClueFilter(),
    ClueFilter(sort="amount"),
    ClueFilter(sort="risk", page=3),
    ClueFilter(sort="first_seen", descending=False),
    ClueFilter(town=TOWNS[0]),
    ClueFilter(status="发现", severity="high"),
    ClueFilter(rule="S03", domain="subsidy"),
    ClueFilter(colour="red"),
    ClueFilter(colour="yellow"),
    ClueFilter(colour="green"),
    ClueFilter(q="李秀兰"),
    ClueFilter(q="330109198503154321"),
    ClueFilter(q="王", sort="amount", page=2),
    ClueFilter(as_of=dt.date(2025, 6, 30)),
]


CASES = [(u, f) for u in ("analyst1", "liaison1", "liaison2") for f in FILTERS if u == "analyst1" or not f.q]


@pytest.mark.parametrize(
    ("username", "f"),
    CASES,
    ids=lambda v: (
        v
        if isinstance(v, str)
        else repr({k: x for k, x in vars(v).items() if x not in (None, 1, 50, True, "severity")})
    ),
)
def test_fast_queue_matches_the_registers_list_clues(register, username, f):
    with register() as session:
        user = session.scalar(select(User).where(User.username == username))
        expected = list_clues(session, user, f)
        got = queue_page(session, user, f)
    assert [r.clue.id for r in got.rows] == [r.clue.id for r in expected.rows]
    assert [(r.deadline, r.colour) for r in got.rows] == [(r.deadline, r.colour) for r in expected.rows]
    assert got.total == expected.total
    if username == "analyst1" and not f.q and not f.colour:
        assert got.total > 0


def test_export_rows_are_the_whole_filtered_queue_in_order(register):
    with register() as session:
        user = session.scalar(select(User).where(User.username == "analyst1"))
        f = ClueFilter(town=TOWNS[1], sort="amount", per_page=500)
        expected = [r.clue.id for r in list_clues(session, user, f).rows]
        assert [r.clue.id for r in export_rows(session, user, f, limit=10_000)] == expected
        assert len(export_rows(session, user, ClueFilter(), limit=7)) == 7


def test_trend_counts_agree_with_the_monthly_report(register):
    today = dt.date.today()
    months = sorted({(today - dt.timedelta(days=30 * k)).strftime("%Y-%m") for k in range(19)})
    nonzero = 0
    with register() as session:
        for month in months:
            total = monthly_report(session, month)["total"]
            counts = month_counts(session, month)
            assert counts == {k: total[k] for k in counts}, month
            nonzero += sum(counts.values()) > 0
    assert nonzero >= 12


def test_charts_are_self_contained_svg():
    bars = bar_chart([("S01 <死亡>", 3), ("S03", 0)], title="分布")
    assert (
        bars.startswith("<svg")
        and "&lt;死亡&gt;" in bars
        and "http" not in bars.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "暂无数据" in bar_chart([], title="空")
    line = line_chart(["2025-01", "2025-02"], {"发现": [1, 4]}, title="趋势")
    assert "<polyline" in line and "2025-02" in line and "<text" in line


@pytest.mark.parametrize(("kind", "subject_id"), [("person", "330109198503154321"), ("village", "红星村"),
                                                  ("company", "91330109MA2B3C4D5E"), ("person", "nobody")])
@pytest.mark.parametrize("username", ["analyst1", "liaison1"])
def test_fast_subject_clues_match_the_registers(register, kind, subject_id, username):
    from qingfeng.register.queries import subject_clues as expected_clues
    from qingfeng.web.fastqueue import subject_clues

    with register() as session:
        user = session.scalar(select(User).where(User.username == username))
        expected = [c.id for c in expected_clues(session, user, kind, subject_id)]
        assert [c.id for c in subject_clues(session, user, kind, subject_id)] == expected
        if username == "analyst1" and subject_id != "nobody":
            assert expected
