"""The register's fast read paths (queue, subject pages, trend) agree with straightforward reference
queries written here the slow, obvious way (the original outer-join / correlated-EXISTS versions)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import and_, exists, func, or_, select

from qingfeng.bench.pages import TOWNS, bulk_seed
from qingfeng.register.db import session_factory
from qingfeng.register.models import Clue, ClueSubject, Dispatch, User
from qingfeng.register.queries import (
    ClueFilter,
    colour_expr,
    list_clues,
    open_deadline_subquery,
    queue_rows,
    sort_order,
    subject_clues,
)
from qingfeng.register.report import monthly_report, monthly_trend
from qingfeng.register.service import ClueService
from qingfeng.synth.sample_register import UNITS, seed
from qingfeng.web.charts import bar_chart, line_chart


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


def reference_queue(session, user, f: ClueFilter, today: dt.date, warn_days: int = 3):
    """The queue as first written: every clue outer-joined to its open deadline, correlated EXISTS."""
    dl = open_deadline_subquery()
    colour = colour_expr(dl.c.deadline, today, warn_days)
    stmt = select(Clue.id, dl.c.deadline, colour).outerjoin(dl, dl.c.clue_id == Clue.id)
    conds = [
        getattr(Clue, n) == getattr(f, n)
        for n in ("rule", "domain", "town", "village", "status", "severity", "as_of")
        if getattr(f, n) is not None
    ]
    if f.colour:
        conds.append(colour == f.colour)
    if f.q:
        conds.append(
            exists().where(
                ClueSubject.clue_id == Clue.id,
                or_(ClueSubject.subject_id == f.q, ClueSubject.name.contains(f.q)),
            )
        )
    if user.role == "liaison":
        conds.append(
            exists().where(
                Dispatch.clue_id == Clue.id, Dispatch.unit_id == user.unit_id, Dispatch.state != "withdrawn"
            )
        )
    stmt = stmt.where(and_(*conds)) if conds else stmt
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(
        stmt.order_by(*sort_order(f.sort, f.descending)).limit(f.per_page).offset((f.page - 1) * f.per_page)
    ).all()
    return [tuple(r) for r in rows], total


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
def test_queue_matches_the_reference_query(register, username, f):
    today = dt.date.today()
    with register() as session:
        user = session.scalar(select(User).where(User.username == username))
        expected, total = reference_queue(session, user, f, today)
        got = list_clues(session, user, f, today=today)
    assert [(r.clue.id, r.deadline, r.colour) for r in got.rows] == expected
    assert got.total == total and not got.capped
    if username == "analyst1" and not f.q and not f.colour:
        assert got.total > 0


def test_queue_total_is_capped(register):
    with register() as session:
        user = session.scalar(select(User).where(User.username == "analyst1"))
        page = list_clues(session, user, ClueFilter(), count_cap=100)
    assert page.total == 100 and page.capped and len(page.rows) == 50


def test_queue_rows_are_the_whole_filtered_queue_in_order(register):
    with register() as session:
        user = session.scalar(select(User).where(User.username == "analyst1"))
        f = ClueFilter(town=TOWNS[1], sort="amount", per_page=500)
        expected = [r.clue.id for r in list_clues(session, user, f).rows]
        assert [r.clue.id for r in queue_rows(session, user, f, limit=10_000)] == expected
        assert len(queue_rows(session, user, ClueFilter(), limit=7)) == 7


def test_trend_agrees_with_the_monthly_report(register):
    today = dt.date.today()
    months = sorted({(today - dt.timedelta(days=30 * k)).strftime("%Y-%m") for k in range(19)})
    with register() as session:
        series = monthly_trend(session, months)
        for i, month in enumerate(months):
            total = monthly_report(session, month)["total"]
            assert {k: v[i] for k, v in series.items()} == {k: total[k] for k in series}, month
    assert sum(1 for i in range(len(months)) if any(v[i] for v in series.values())) >= 12


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


@pytest.mark.parametrize(
    ("kind", "subject_id"),
    [
        ("person", "330109198503154321"),
        ("village", "红星村"),
        ("company", "91330109MA2B3C4D5E"),
        ("person", "nobody"),
    ],
)
@pytest.mark.parametrize("username", ["analyst1", "liaison1"])
def test_subject_clues_match_the_reference_query(register, kind, subject_id, username):
    with register() as session:
        user = session.scalar(select(User).where(User.username == username))
        stmt = select(Clue.id).where(
            exists().where(
                ClueSubject.clue_id == Clue.id, ClueSubject.kind == kind, ClueSubject.subject_id == subject_id
            )
        )
        if username != "analyst1":
            stmt = stmt.where(
                exists().where(
                    Dispatch.clue_id == Clue.id,
                    Dispatch.unit_id == user.unit_id,
                    Dispatch.state != "withdrawn",
                )
            )
        expected = list(session.scalars(stmt.order_by(Clue.first_seen.desc(), Clue.id)))
        assert [c.id for c in subject_clues(session, user, kind, subject_id)] == expected
        assert [c.id for c in subject_clues(session, user, kind, subject_id, limit=1)] == expected[:1]
        if username == "analyst1" and subject_id != "nobody":
            assert expected
