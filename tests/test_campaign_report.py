"""THE acceptance test of the campaign report: a year built by hand (tests/campaign_year.py), every
figure of the headline sentence and every cell of the per-project table, on SQLite and PostgreSQL;
the drill-down lists behind each figure; the monthly series."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from campaign_year import (
    END,
    EXPECTED_HEADLINE,
    EXPECTED_ROWS,
    EXPECTED_SENTENCE,
    EXPECTED_TASKS,
    EXPECTED_UNASSIGNED,
    START,
    TODAY,
    build_year,
)
from test_register_support import *  # noqa: F403

from qingfeng.campaigns.records import figure_records
from qingfeng.campaigns.report import (
    FIGURES,
    NO_PROJECT,
    OUTCOME_COLUMNS,
    campaign_report,
    default_period,
    project_figures,
    wan_yuan,
)
from qingfeng.register.errors import InvalidInput, NotFound


@pytest.fixture
def year(session):
    return build_year(session)


def as_dict(figures) -> dict:
    return {k: figures.value(k) for k in FIGURES}


def test_headline_sentence_and_every_cell_of_the_table(session, year):
    report = campaign_report(session, START, END, today=TODAY)
    assert as_dict(report.headline) == EXPECTED_HEADLINE
    assert report.sentence == EXPECTED_SENTENCE
    linked = {figure: text for text, figure in report.parts if figure}
    assert linked == {k: str(v) for k, v in EXPECTED_HEADLINE.items() if k != "recovered"} | {
        "recovered": "1489.9"
    }
    assert [p.code for p in report.projects] == list(EXPECTED_ROWS)  # OLD (2023) and NEW (2026) are not
    for row in report.projects:
        assert as_dict(row.figures) == EXPECTED_ROWS[row.code], row.code
        assert (row.tasks, row.tasks_done, row.tasks_overdue) == EXPECTED_TASKS[row.code], row.code
    assert report.unassigned is not None and as_dict(report.unassigned) == EXPECTED_UNASSIGNED

    rows = [as_dict(r.figures) for r in report.projects] + [as_dict(report.unassigned)]
    for figure in FIGURES:
        total = sum((r[figure] for r in rows), Decimal(0) if figure == "recovered" else 0)
        if figure == "places":  # a place inspected under two projects is one place of the district
            assert total == EXPECTED_HEADLINE["places"] + 1
        else:
            assert total == EXPECTED_HEADLINE[figure], figure
    assert isinstance(report.headline.recovered, Decimal)
    assert report.headline.recovered == Decimal("14899000.00")


def test_one_project_and_the_unassigned_scope(session, year):
    mszj = year.projects["MSZJ"]
    report = campaign_report(session, START, END, project_id=mszj, today=TODAY)
    assert report.project is not None and report.project.code == "MSZJ"
    assert as_dict(report.headline) == EXPECTED_ROWS["MSZJ"] and report.unassigned is None
    assert report.sentence.startswith("共开展检查2次，检查单位（场所）3家，发现问题3个，推动整改问题2个")
    assert report.sentence.endswith("追缴或挽回资金1234.57万元")  # 12,345,679.99 元
    unassigned = campaign_report(session, START, END, project_id=NO_PROJECT)
    assert as_dict(unassigned.headline) == EXPECTED_UNASSIGNED
    with pytest.raises(NotFound):
        campaign_report(session, START, END, project_id=9999)
    with pytest.raises(InvalidInput):
        campaign_report(session, END, START)


def test_project_figures_contract(session, year):
    rows = project_figures(session, START, END, today=TODAY)
    assert [r.code for r in rows] == ["CJGC", "MSZJ", "NEW", "OLD", "XWPX"]  # every project, by code
    mszj = next(r for r in rows if r.code == "MSZJ")
    assert (mszj.lead_unit, mszj.liaison_unit, mszj.hotline, mszj.status, mszj.public) == (
        "区民政局",
        "区纪委监委派驻民政局纪检组",
        "0571-12345678",
        "进行中",
        True,
    )
    assert mszj.recovered == Decimal("12345679.99") and mszj.places == 3
    old = next(r for r in rows if r.code == "OLD")
    assert as_dict(old.figures) == {k: (Decimal("0.00") if k == "recovered" else 0) for k in FIGURES}
    # the public page asks from the project's own start
    since = project_figures(session, dt.date(2024, 9, 1), END, project_id=year.projects["XWPX"], today=TODAY)
    assert [r.code for r in since] == ["XWPX"] and since[0].inspections == 2
    assert project_figures(session, START, END, project_id=9999) == []


def test_drill_down_lists_are_the_records_behind_each_figure(session, year):
    scopes = {None: EXPECTED_HEADLINE, NO_PROJECT: EXPECTED_UNASSIGNED}
    scopes |= {year.projects[code]: EXPECTED_ROWS[code] for code in EXPECTED_ROWS}
    for scope, expected in scopes.items():
        for figure in FIGURES:
            records = figure_records(session, figure, START, END, project_id=scope)
            assert records.total == len(records.rows), (scope, figure)
            if figure in OUTCOME_COLUMNS:
                column = OUTCOME_COLUMNS[figure]
                assert sum((getattr(r, column) for r in records.rows), 0) == expected[figure], (scope, figure)
                assert all(getattr(r, column) for r in records.rows)
            else:
                assert records.total == expected[figure], (scope, figure)
    everything = figure_records(session, "places", START, END)
    assert [p.name for p in everything.rows] == sorted(
        [
            "城关镇敬老院",
            "东村村委会",
            "西村村委会",
            "红星村工程项目部",
            "ABC培训学校",
            "阳光培训中心",
            "区政务中心",
        ]
    )
    village = next(p for p in everything.rows if p.name == "东村村委会")
    assert len(village.inspections) == 2
    closed = figure_records(session, "problems_rectified", START, END)
    ids = {v: k for k, v in year.clues.items()}
    assert sorted(ids[r.clue.id] for r in closed.rows) == ["C1", "C10", "C3", "C5", "C6", "C9"]
    c6 = next(r for r in closed.rows if ids[r.clue.id] == "C6")
    assert c6.closed_at == dt.datetime(2025, 6, 1, 10, 0)  # the last 销号 of the period
    found = figure_records(session, "clues_found", START, END, limit=2, offset=1)
    assert found.total == 6 and [ids[c.id] for c in found.rows] == ["C3", "C4"]  # C14, C3, C4, C10, C12
    with pytest.raises(InvalidInput):
        figure_records(session, "subjects", START, END)


def test_monthly_series(session, year):
    report = campaign_report(session, START, END, today=TODAY)
    assert report.months == [f"2025-{m:02d}" for m in range(1, 13)]
    s = report.series
    assert s["inspections"] == [1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert s["problems_rectified"] == [0, 1, 1, 1, 0, 2, 0, 0, 1, 0, 0, 1]  # C6 in April and June
    assert s["recovered"][0] == Decimal("5.00") and s["recovered"][11] == Decimal("12345678.99")
    for figure in FIGURES:
        if figure not in ("places", "problems_rectified"):  # distinct counts do not add up over months
            assert sum(s[figure], Decimal(0) if figure == "recovered" else 0) == EXPECTED_HEADLINE[figure]


def test_wan_yuan_rounding():
    cases = {
        "0": "0",
        "0.01": "0",
        "49.99": "0",
        "50.00": "0.01",
        "5000": "0.5",
        "103484000.00": "10348.4",
        "12345678.99": "1234.57",
        "9999999999999999.99": "1000000000000",
    }
    assert {k: wan_yuan(Decimal(k)) for k in cases} == cases


def test_record_sheets_follow_the_viewers_masking(session, year):
    import io

    from openpyxl import load_workbook

    from qingfeng.campaigns.exports import report_xlsx
    from qingfeng.web.masking import MASKED, Masker

    report = campaign_report(session, START, END, today=TODAY)
    for masker, shown in ((MASKED, "330109********1234"), (Masker(full=True), "330109198001011234")):
        book = load_workbook(io.BytesIO(report_xlsx(session, report, masker)))
        subjects = [row[6] for row in book["发现问题线索"].iter_rows(min_row=2, values_only=True)]
        assert len(subjects) == 6 and any(shown in (s or "") for s in subjects)
        assert not any("330109198001011234" in (s or "") for s in subjects) or masker.full


def test_the_default_period_reports_a_running_campaign_whole(session, year):
    # mid-2025: XWPX (from 2024-09-01) ended this year, so its start opens the period
    assert default_period(session, dt.date(2025, 7, 1)) == (dt.date(2024, 9, 1), dt.date(2025, 7, 1))
    # 2026: only CJGC (from 2025-03-01, no end) still runs; MSZJ and XWPX ended last year, NEW is 筹备
    assert default_period(session, TODAY) == (dt.date(2025, 3, 1), TODAY)
    # years later CJGC, with no end, still runs
    assert default_period(session, dt.date(2031, 5, 1)) == (dt.date(2025, 3, 1), dt.date(2031, 5, 1))


def test_with_no_running_project_the_default_period_is_this_calendar_year(session):
    assert default_period(session, TODAY) == (dt.date(2026, 1, 1), TODAY)
