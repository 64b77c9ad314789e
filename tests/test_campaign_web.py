"""The campaign report and evaluation pages over HTTP (TestClient, a real SQLite register holding the
hand-built year): every number of the headline and of the table is a link to exactly its records, the
workbook reads back with numbers as numbers, bad input is a clear 400/404, views are audited."""

from __future__ import annotations

import html
import io
import re
import shutil
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from campaign_year import (
    END,
    EXPECTED_HEADLINE,
    EXPECTED_ROWS,
    EXPECTED_SENTENCE,
    EXPECTED_UNASSIGNED,
    START,
    build_year,
)
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from test_web_security import login

from qingfeng.campaigns.config import EvaluationConfig
from qingfeng.campaigns.evaluation import evaluate
from qingfeng.campaigns.periods import beijing_today
from qingfeng.campaigns.report import OUTCOME_COLUMNS
from qingfeng.register.db import session_factory
from qingfeng.register.models import AccessLog
from qingfeng.synth.sample_register import seed
from qingfeng.web import create_app
from qingfeng.web.settings import web_settings

PERIOD = {"from": START.isoformat(), "to": END.isoformat()}
COUNTED = [f for f in EXPECTED_HEADLINE if f not in OUTCOME_COLUMNS]
OUTCOME_CELL = {  # the records table's column of each outcome (0-based)
    "sanctioned": 5,
    "org_handled": 6,
    "accountability": 7,
    "exposed": 8,
    "recovered": 9,
}


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("campaign-web") / "register.db"
    engine = seed(f"sqlite:///{path}", clues=[])  # the sample users, no sample clues
    with session_factory(engine)() as session:
        build_year(session)
    engine.dispose()
    return path


@pytest.fixture
def app(home, template_db):
    shutil.copy(template_db, home / "register.db")
    application = create_app(web_settings(home=home, session_secret="test-secret-" + "x" * 40))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def analyst(app) -> TestClient:
    return login(app, "analyst1")


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def record_rows(page: str) -> list[list[str]]:
    body = re.search(r'<table id="records"[^>]*>.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, page[:500]
    return [
        [text_of(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def check_records(client: TestClient, href: str, figure: str, expected) -> None:
    page = client.get(href)
    assert page.status_code == 200, (href, page.text[:300])
    rows = record_rows(page.text)
    assert parse_qs(urlsplit(href).query)["figure"] == [figure]
    if figure in OUTCOME_COLUMNS:
        total = sum((amount(r[OUTCOME_CELL[figure]]) for r in rows), Decimal(0))
        assert total == expected, (href, figure)
    else:
        assert len(rows) == expected, (href, figure)
        assert f'<strong id="total">{expected}</strong>' in page.text


def test_headline_numbers_link_to_exactly_their_records(analyst):
    page = analyst.get("/reports/campaign", params=PERIOD)
    assert page.status_code == 200
    headline = re.search(r'<p class="headline" id="headline">(.*?)</p>', page.text, re.S)
    assert headline
    assert text_of(headline.group(1)) == f"2025年1月1日至2025年12月31日，{EXPECTED_SENTENCE}。"
    links = dict(
        (figure, html.unescape(href))
        for href, figure in re.findall(r'<a href="([^"]+)" data-figure="(\w+)">', headline.group(1))
    )
    assert set(links) == set(EXPECTED_HEADLINE)
    for figure, href in links.items():
        check_records(analyst, href, figure, EXPECTED_HEADLINE[figure])


def test_every_cell_of_the_table_links_to_its_records(analyst):
    page = analyst.get("/reports/campaign", params=PERIOD).text
    expected_rows = {**EXPECTED_ROWS, "-": EXPECTED_UNASSIGNED}
    for code, expected in expected_rows.items():
        row = re.search(rf'<tr data-project="{re.escape(code)}">(.*?)</tr>', page, re.S)
        assert row, code
        cells = re.findall(r'<td class="num"><a href="([^"]+)">([^<]*)</a></td>', row.group(1))
        assert len(cells) == len(expected), code
        for (href, shown), (figure, value) in zip(cells, expected.items(), strict=True):
            assert (amount(shown) if figure == "recovered" else int(shown)) == value, (code, figure)
            if code == "MSZJ" or figure in COUNTED[:3]:  # the MSZJ row whole, a few cells of the others
                check_records(analyst, html.unescape(href), figure, value)


def test_one_project_report_and_defaults(analyst, app):
    with app.state.sessions() as session:
        from qingfeng.register.models import CampaignProject

        mszj = session.scalar(select(CampaignProject.id).where(CampaignProject.code == "MSZJ"))
    page = analyst.get("/reports/campaign", params={**PERIOD, "project": mszj})
    assert page.status_code == 200 and "专项治理工作成效(MSZJ 民生资金专项治理)" in page.text
    assert "共开展检查2次" in text_of(page.text) and 'data-project="-"' not in page.text
    default = analyst.get("/reports/campaign")
    today = beijing_today()
    assert default.status_code == 200
    assert 'name="from" value="2025-03-01"' in default.text  # CJGC, from 2025-03-01 with no end, runs
    assert f'name="to" value="{today.isoformat()}"' in default.text
    assert "<svg" in default.text and 'class="chart"' in default.text


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        (
            "/reports/campaign",
            {"from": "2025-13-01", "to": "2025-12-31"},
            400,
            "开始日期「2025-13-01」不是有效日期",
        ),
        ("/reports/campaign", {"from": "2025-12-31", "to": "2025-01-01"}, 400, "晚于结束日期"),
        ("/reports/campaign", {**PERIOD, "project": "abc"}, 400, "项目参数「abc」无效"),
        ("/reports/campaign", {**PERIOD, "project": "99999"}, 404, "未找到专项治理项目 #99999"),
        ("/reports/campaign.xlsx", {**PERIOD, "project": "-1"}, 400, "项目参数「-1」无效"),
        ("/reports/campaign/records", PERIOD, 400, "缺少或未知的统计指标"),
        ("/reports/campaign/records", {**PERIOD, "figure": "subjects"}, 400, "缺少或未知的统计指标"),
        ("/reports/campaign/records", {**PERIOD, "figure": "inspections", "page": "0"}, 400, "页码无效"),
        ("/reports/evaluation", {"from": "x", "to": "2025-12-31"}, 400, "格式应为 YYYY-MM-DD"),
    ],
)
def test_bad_input_is_a_clear_error(analyst, path, params, status, message):
    response = analyst.get(path, params=params)
    assert response.status_code == status and message in response.text, response.text[:500]


def test_report_workbook_reads_back_with_numbers(analyst, app):
    response = analyst.get("/reports/campaign.xlsx", params=PERIOD)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    summary = {r[0]: r[1] for r in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["追缴或挽回资金(元)"] == 14899000.0 and summary["发现问题(个)"] == 7
    header = [c.value for c in book["分项目"][1]]
    mszj = next(r for r in book["分项目"].iter_rows(min_row=2, values_only=True) if r[0] == "MSZJ")
    assert dict(zip(header, mszj, strict=True))["追缴或挽回资金(元)"] == 12345679.99
    assert book["分项目"].freeze_panes == "A2" and book["分项目"].auto_filter.ref
    assert book["发现问题"].max_row - 1 == 7
    with app.state.sessions() as session:
        logged = session.scalars(select(AccessLog).where(AccessLog.target == "campaign_report.xlsx")).all()
    assert [a.action for a in logged] == ["export"]


def test_evaluation_page_and_workbook(analyst, app):
    page = analyst.get("/reports/evaluation", params=PERIOD)
    assert page.status_code == 200
    with app.state.sessions() as session:
        expected = evaluate(session, START, END, EvaluationConfig())
    shown = re.findall(r'<tr data-unit="([^"]+)"><td class="num">(\d+)</td>', page.text)
    assert shown == [(s.unit, str(s.rank)) for s in expected.scores]
    reminders = re.search(r'<section class="card" id="reminders">(.*?)</section>', page.text, re.S)
    assert reminders and "督促提醒(2025-11)" in reminders.group(1)
    assert re.findall(r'<li data-unit="([^"]+)">', reminders.group(1)) == [r.unit for r in expected.reminders]
    assert "MSZJ 2025-09 月报未报送" in page.text  # a breakdown names its records
    xlsx = analyst.get("/reports/evaluation.xlsx", params=PERIOD)
    assert xlsx.status_code == 200
    ranking = list(load_workbook(io.BytesIO(xlsx.content))["评估排名"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[-1]) for r in ranking] == [(s.unit, float(s.score)) for s in expected.scores]


def test_views_are_audited_and_other_roles_refused(app, analyst):
    analyst.get("/reports/campaign", params=PERIOD)
    analyst.get("/reports/campaign/records", params={**PERIOD, "figure": "problems_found"})
    analyst.get("/reports/evaluation", params=PERIOD)
    with app.state.sessions() as session:
        views = session.scalars(select(AccessLog).where(AccessLog.action == "view")).all()
    details = {a.target: a.detail for a in views}
    assert details["campaign_report"] == "2025-01-01~2025-12-31 全区"
    assert details["campaign_records"] == "problems_found 2025-01-01~2025-12-31 全区; 7 条; 显示完整号码"
    assert details["campaign_evaluation"] == "2025-01-01~2025-12-31"
    for user in ("liaison1", "admin1", "auditor1"):
        assert login(app, user).get("/reports/campaign", params=PERIOD).status_code == 403
    nav = analyst.get("/reports/campaign", params=PERIOD).text
    assert 'href="/reports/campaign"' in nav and 'href="/reports/evaluation"' in nav
