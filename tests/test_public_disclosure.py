"""向社会公开, the data: which projects, which figures, and how small figures are withheld
(docs/campaigns.md, "Public disclosure"). The page and its HTTP side: tests/test_public_page.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from campaignkit import EXPECTED, PROJECTS, SAMPLE_PEOPLE, add_public_projects

from qingfeng.campaigns.disclosure import (
    FUNDS_WITHHELD,
    Shown,
    count_shown,
    funds_shown,
    public_disclosure,
    total_shown,
    wan,
)
from qingfeng.campaigns.report import project_figures
from qingfeng.register.db import session_factory
from qingfeng.synth.sample_register import seed

TODAY = dt.date(2026, 1, 15)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    engine = seed(
        f"sqlite:///{tmp_path_factory.mktemp('register') / 'register.db'}", as_of=dt.date(2025, 6, 30)
    )
    factory = session_factory(engine)
    with factory() as session:
        ids = add_public_projects(session)
    yield factory, ids
    engine.dispose()


@pytest.mark.parametrize(
    "count,text,value",
    [(0, "0", 0), (1, "少于3", None), (2, "少于3", None), (3, "3", 3), (1029, "1029", 1029)],
)
def test_counts_below_min_count_are_withheld(count, text, value):
    assert count_shown(count, 3) == Shown(value, text)


def test_min_count_one_withholds_nothing():
    assert [count_shown(n, 1).text for n in (0, 1, 2)] == ["0", "1", "2"]


def test_funds_are_shown_in_wan_yuan_only_for_enough_problems():
    assert wan(Decimal("103484000.00")) == "10,348.4万元"
    assert wan(Decimal("23456.78")) == "2.3万元"
    assert wan(Decimal("49999.99")) == "5.0万元"  # half up
    assert wan(Decimal("0")) == "0.0万元"
    assert wan(Decimal("499.99")) == "不足0.1万元"  # not 0.0: something was recovered
    assert funds_shown(Decimal("7560.00"), 2, 3) == Shown(None, FUNDS_WITHHELD)
    assert funds_shown(Decimal("0"), 0, 3) == Shown(None, FUNDS_WITHHELD)  # whatever the amount
    assert funds_shown(Decimal("7560.00"), 3, 3) == Shown(Decimal("7560.00"), "0.8万元")


def test_totals_never_give_a_withheld_figure_away():
    shown = [count_shown(40, 3), count_shown(2, 3), count_shown(0, 3)]
    assert total_shown("rectified", shown) == Shown(None, "不少于41")  # 40 + at least 1; not 42
    assert total_shown("rectified", [count_shown(40, 3), count_shown(5, 3)]) == Shown(45, "45")
    funds = [funds_shown(Decimal("50000"), 40, 3), funds_shown(Decimal("7560"), 2, 3)]
    assert total_shown("recovered", funds) == Shown(None, "不少于5.0万元")
    assert total_shown("recovered", funds[1:]) == Shown(None, FUNDS_WITHHELD)
    assert total_shown("recovered", funds[:1]) == Shown(Decimal("50000"), "5.0万元")
    assert total_shown("exposed", []) == Shown(0, "0")


def test_only_public_projects_past_planning_are_disclosed(sessions):
    factory, _ids = sessions
    with factory() as session:
        disclosure = public_disclosure(session, min_count=3, today=TODAY)
    titles = [p.title for p in disclosure.projects]
    assert titles == [PROJECTS["NMGGZ"][0], PROJECTS["MSZJ"][0]]  # by period start
    assert PROJECTS["CJGC"][0] not in titles  # public, but 筹备
    assert PROJECTS["MSGC"][0] not in titles  # not public


def test_figures_are_the_reports_over_each_projects_period(sessions):
    factory, ids = sessions
    with factory() as session:
        disclosure = public_disclosure(session, min_count=1, today=TODAY)  # nothing withheld
        for project, code in zip(disclosure.projects, ("NMGGZ", "MSZJ"), strict=True):
            title, lead, status, _public, start, end = PROJECTS[code]
            (figures,) = project_figures(
                session, start, min(end or TODAY, TODAY), project_id=ids[code], today=TODAY
            )
            assert (project.title, project.lead_unit, project.status) == (title, lead, status)
            assert (project.period_start, project.period_end) == (start, end)
            assert project.rectified.value == figures.problems_rectified == EXPECTED[code]["rectified"]
            assert project.institutions.value == figures.institutions == EXPECTED[code]["institutions"]
            assert project.exposed.value == figures.exposed == EXPECTED[code]["exposed"]
            assert project.recovered.value == figures.recovered == EXPECTED[code]["recovered"]
    totals = disclosure.totals
    assert totals["rectified"].value == EXPECTED["NMGGZ"]["rectified"] + EXPECTED["MSZJ"]["rectified"]
    assert totals["recovered"].value == EXPECTED["NMGGZ"]["recovered"] + EXPECTED["MSZJ"]["recovered"]


def test_small_figures_are_withheld_as_documented(sessions):
    factory, _ids = sessions
    with factory() as session:
        disclosure = public_disclosure(session, min_count=3, today=TODAY)
    small, large = disclosure.projects  # NMGGZ: 2 rectified, 1 institution; MSZJ: 4, 3, 5 exposed
    assert [small.rectified.text, small.institutions.text, small.exposed.text] == ["少于3", "少于3", "0"]
    assert small.recovered == Shown(None, FUNDS_WITHHELD)  # 8,000 元 over two problems
    assert [large.rectified.text, large.institutions.text, large.exposed.text] == ["4", "3", "5"]
    assert large.recovered == Shown(Decimal("23456.78"), "2.3万元")
    texts = {name: shown.text for name, shown in disclosure.totals.items()}
    assert texts == {
        "rectified": "不少于5",
        "institutions": "不少于4",
        "exposed": "5",
        "recovered": "不少于2.3万元",
    }


def test_a_period_counts_up_to_today_and_a_project_not_begun_shows_zeros(sessions):
    factory, ids = sessions
    today = dt.date(2024, 3, 25)  # NMGGZ's first problem closed on 03-21, its second on 03-28
    with factory() as session:
        running, not_begun = public_disclosure(session, min_count=1, today=today).projects
        (figures,) = project_figures(
            session, dt.date(2024, 3, 1), today, project_id=ids["NMGGZ"], today=today
        )
    assert running.rectified.value == figures.problems_rectified == 1
    assert running.institutions.value == figures.institutions == 0
    assert not_begun.title == PROJECTS["MSZJ"][0]  # public and 进行中, but its period starts in 2025
    assert [not_begun.rectified.value, not_begun.institutions.value, not_begun.exposed.value] == [0, 0, 0]
    assert not_begun.recovered == Shown(None, FUNDS_WITHHELD)  # no problem rectified: no amount shown


def test_nothing_personal_reaches_the_data(sessions):
    factory, _ids = sessions
    with factory() as session:
        disclosure = public_disclosure(session, min_count=3, today=TODAY)
    flat = repr(dataclasses.asdict(disclosure))
    for person in SAMPLE_PEOPLE:
        for value in (person.id, person.name, person.account, person.village, person.town):
            assert value not in flat
