"""The 专项治理 pages over HTTP (FastAPI TestClient, a real SQLite register seeded like the other web
tests, plus project 1 ``MSZJ`` with one task): the list, the project form, the project page's task
list, monthly reports, inspections, institutions and problems, and the clue page's source, project,
outcomes and institutions; for each role, with refusals audited, bad input named and stale versions
refused."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from projectkit import add_project
from sqlalchemy import func, select
from test_web_security import csrf_of, login, make_app

from qingfeng.campaigns.periods import beijing_today
from qingfeng.campaigns.service import CampaignService, Finding
from qingfeng.register.db import session_factory
from qingfeng.register.models import (
    AccessLog,
    CampaignProject,
    CampaignTask,
    Clue,
    Institution,
    ProjectReport,
    Rectification,
)
from qingfeng.synth.sample_register import UNITS, seed
from qingfeng.web.routes.campaigns import findings_of

TODAY = beijing_today()


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("register") / "register.db"
    engine = seed(f"sqlite:///{path}", as_of=dt.date(2025, 6, 30))
    with session_factory(engine)() as session:
        add_project(session)
    engine.dispose()
    return path


@pytest.fixture
def app(home, template_db):
    application = make_app(home, template_db)
    yield application
    application.state.engine.dispose()


def count(app, model, *where) -> int:
    with app.state.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def audited(app, action: str, target: str, username: str | None = None) -> int:
    where = [AccessLog.action == action, AccessLog.target == target]
    if username:
        where.append(AccessLog.username == username)
    return count(app, AccessLog, *where)


def post(client: TestClient, path: str, data: dict[str, str], page: str = "/campaigns/1"):
    return client.post(path, data={"csrf_token": csrf_of(client, page), **data})


def version_on(page: str, form_id: str) -> str:
    form = page[page.index(f'id="{form_id}"') :]
    return re.search(r'name="version" value="(\d+)"', form).group(1)


def flash_errors(page: str) -> list[str]:
    return re.findall(r'class="flash flash-error" role="alert">([^<]*)<', page)


# -- the list and the roles ----------------------------------------------------------------------


def test_the_list_shows_each_project_with_its_counts_and_filters_by_status(app):
    supervisor = login(app, "super1")
    page = supervisor.get("/campaigns")
    assert page.status_code == 200
    assert '<a href="/campaigns" class="active">专项治理</a>' in page.text
    row = page.text[page.text.index('data-code="MSZJ"') :].split("</tr>")[0]
    for shown in ("民生资金专项治理", "民生资金", UNITS[0], UNITS[1], "2025-01-01 至 今", "进行中", "未公开"):
        assert shown in row, shown
    assert "在办 1 项" in row and "colour-red" not in row
    assert 'href="/campaigns/new"' in page.text
    assert audited(app, "view", "projects", "super1") == 1
    assert 'data-code="MSZJ"' not in supervisor.get("/campaigns", params={"status": "已结束"}).text
    wrong = supervisor.get("/campaigns", params={"status": "暂停"})
    assert wrong.status_code == 200 and 'data-code="MSZJ"' in wrong.text
    assert "项目状态「暂停」无效" in wrong.text
    analyst = login(app, "analyst1").get("/campaigns").text
    assert 'data-code="MSZJ"' in analyst and 'href="/campaigns/new"' not in analyst


@pytest.mark.parametrize("username", ["liaison1", "auditor1", "admin1"])
def test_roles_without_view_campaign_are_refused_and_audited(app, username):
    client = login(app, username)
    for path in ("/campaigns", "/campaigns/1", "/campaigns/new"):
        response = client.get(path)
        assert response.status_code == 403 and "无权" in response.text, path
        assert audited(app, "denied", f"GET {path}", username) == 1, path
    assert ">专项治理<" not in client.get("/account/password").text  # not in the navigation


def test_an_analyst_keeps_tasks_but_cannot_manage_or_publish(app):
    analyst = login(app, "analyst1")
    page = analyst.get("/campaigns/1").text
    assert 'id="form-task"' in page and 'id="form-inspection"' in page
    assert 'id="form-publish"' not in page and 'id="edit-project"' not in page
    token = csrf_of(analyst, "/campaigns/1")
    for path, data in (
        ("/campaigns/new", {"code": "X1", "title": "x"}),
        ("/campaigns/1/publish", {"public": "1", "version": "1"}),
        ("/campaigns/1/close", {"version": "1"}),
        ("/campaigns/1/edit", {"title": "改名"}),
    ):
        refused = analyst.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 403 and "无权" in refused.text, path
        assert audited(app, "denied", f"POST {path}", "analyst1") == 1, path
    with app.state.sessions() as session:
        project = session.get(CampaignProject, 1)
        assert (project.public, project.status, project.title) == (False, "进行中", "民生资金专项治理")
    assert count(app, CampaignProject) == 1


def test_a_post_without_the_csrf_token_changes_nothing(app):
    analyst = login(app, "analyst1")
    data = {"title": "无令牌", "responsible_unit": UNITS[0], "deadline": TODAY.isoformat()}
    assert analyst.post("/campaigns/1/tasks", data=data).status_code == 403
    assert count(app, CampaignTask) == 1
    assert post(analyst, "/campaigns/1/tasks", data).status_code == 303
    assert count(app, CampaignTask) == 2


# -- the project form ------------------------------------------------------------------------------


def test_the_supervisor_creates_edits_publishes_and_closes_a_project(app):
    supervisor = login(app, "super1")
    form = supervisor.get("/campaigns/new").text
    assert f"<option>{UNITS[0]}</option>" in form and 'name="period_start"' in form
    fields = {
        "code": "cjgc",
        "title": "村级工程项目专项治理",
        "domain": "engineering",
        "lead_unit": UNITS[1],
        "liaison_unit": "",
        "office": "农业农村科",
        "hotline": "0571-12345678",
        "period_start": "2026-02-30",
        "status": "进行中",
        "task_force": "区纪委监委第二监督检查室牵头",
    }
    bad = post(supervisor, "/campaigns/new", fields, page="/campaigns/new")
    assert bad.status_code == 400
    assert flash_errors(bad.text) == ["开始日期「2026-02-30」不是有效日期"]
    assert 'value="村级工程项目专项治理"' in bad.text and "区纪委监委第二监督检查室牵头" in bad.text
    assert "E01 化整为零规避招标" in bad.text  # the typed code's rules (cjgc is CJGC)
    assert "<td>MSZJ</td><td>S01, S02" in form  # the codes config/campaigns.yml has rules for
    assert count(app, CampaignProject) == 1
    made = post(supervisor, "/campaigns/new", {**fields, "period_start": "2026-01-01"}, page="/campaigns/new")
    assert made.status_code == 303
    path = made.headers["location"]
    page = supervisor.get(path).text
    assert "已新建专项治理项目 CJGC「村级工程项目专项治理」" in page
    assert "E01 化整为零规避招标" in page and "E07 工程款支付对象异常" in page  # config/campaigns.yml
    assert "0571-12345678" in page and "农业农村科" in page and "村级工程" in page
    project_id = int(path.rsplit("/", 1)[1])
    assert audited(app, "view", f"project:{project_id}", "super1") == 1

    edit = supervisor.get(f"/campaigns/{project_id}/edit").text
    assert 'value="CJGC"' in edit and "E01 化整为零规避招标" in edit and "数据比对规则" in edit
    seen = version_on(edit, "project-form")
    changed = {**fields, "period_start": "2026-01-01", "title": "村级工程领域专项治理", "version": seen}
    assert post(supervisor, f"/campaigns/{project_id}/edit", changed, page=path).status_code == 303
    stale = post(supervisor, f"/campaigns/{project_id}/edit", {**changed, "title": "又改"}, page=path)
    assert stale.status_code == 400
    assert f"您看到的是第 {seen} 版" in flash_errors(stale.text)[0]
    assert 'value="又改"' in stale.text  # what was typed is still in the form

    page = supervisor.get(path).text
    assert "村级工程领域专项治理" in page
    publish = {"public": "1", "version": version_on(page, "form-publish")}
    assert post(supervisor, f"/campaigns/{project_id}/publish", publish, page=path).status_code == 303
    page = supervisor.get(path).text
    assert "已向社会公开" in page and "撤回公开" in page
    close = {"version": version_on(page, "form-close-project")}
    assert post(supervisor, f"/campaigns/{project_id}/close", close, page=path).status_code == 303
    with app.state.sessions() as session:
        project = session.get(CampaignProject, project_id)
        assert (project.code, project.title, project.public, project.status) == (
            "CJGC",
            "村级工程领域专项治理",
            True,
            "已结束",
        )
        assert project.period_end is not None and project.liaison_unit is None
    assert 'id="form-task"' not in supervisor.get(path).text  # a closed project takes no new task


# -- the task list ---------------------------------------------------------------------------------


def test_tasks_are_added_coloured_finished_and_annotated(app):
    analyst = login(app, "analyst1")
    late = {
        "title": "核对低保名单",
        "responsible_unit": UNITS[1],
        "responsible_person": "李股长",
        "deadline": "2026/05/01",
        "method": "入户核查",
    }
    bad = post(analyst, "/campaigns/1/tasks", late)
    assert bad.status_code == 400
    assert flash_errors(bad.text) == ["完成时限「2026/05/01」格式应为 YYYY-MM-DD"]
    assert 'value="核对低保名单"' in bad.text and 'value="李股长"' in bad.text
    assert count(app, CampaignTask) == 1
    overdue = (TODAY - dt.timedelta(days=2)).isoformat()
    assert post(analyst, "/campaigns/1/tasks", {**late, "deadline": overdue}).status_code == 303
    soon = (TODAY + dt.timedelta(days=1)).isoformat()
    assert (
        post(analyst, "/campaigns/1/tasks", {**late, "title": "公示结果", "deadline": soon}).status_code
        == 303
    )
    page = analyst.get("/campaigns/1").text
    with app.state.sessions() as session:
        red = session.scalar(select(CampaignTask).where(CampaignTask.title == "核对低保名单"))
    row = page[page.index(f'id="task-{red.id}"') :].split("</tr>")[0]
    assert "colour-red" in row and "红色预警" in row and overdue in row and "李股长" in row
    assert "黄色预警" in page and "绿色" in page  # the soon one, the fixture's
    listing = analyst.get("/campaigns").text
    assert "超期 1" in listing and "即将到期 1" in listing and "在办 3 项" in listing

    note = post(analyst, f"/campaigns/1/tasks/{red.id}/note", {"note": "已约谈责任人"})
    assert note.status_code == 303 and note.headers["location"].endswith(f"#task-{red.id}")
    version = str(red.version)
    done = {"status": "已完成", "note": "名单已核对", "version": version}
    assert post(analyst, f"/campaigns/1/tasks/{red.id}/status", done).status_code == 303
    stale = post(analyst, f"/campaigns/1/tasks/{red.id}/edit", {**late, "deadline": soon, "version": version})
    assert stale.status_code == 400 and "已被他人修改" in flash_errors(stale.text)[0]
    assert "<details open>" in stale.text  # the refused task's forms stay open, as typed
    page = analyst.get("/campaigns/1").text
    row = page[page.index(f'id="task-{red.id}"') :].split("</tr>")[0]
    assert "已完成" in row and "名单已核对" in row and "colour-red" not in row
    assert "已约谈责任人" in page
    other = add_other_project(app)
    wrong = post(analyst, f"/campaigns/{other}/tasks/{red.id}/note", {"note": "张冠李戴"})
    assert wrong.status_code == 400 and f"任务 {red.id} 不属于本项目" in wrong.text
    empty = post(analyst, f"/campaigns/1/tasks/{red.id}/status", {"status": "进行中", "version": ""})
    assert empty.status_code == 400 and "缺少任务" in flash_errors(empty.text)[0]


def add_other_project(app) -> int:
    with app.state.sessions() as session:
        return add_project(session, code="XWPX", title="校外培训机构乱象治理").id


# -- monthly reports -------------------------------------------------------------------------------


def test_monthly_reports_are_submitted_once_and_marked_late_or_missing(app):
    analyst = login(app, "analyst1")
    this_month = TODAY.strftime("%Y-%m")
    two_ago = (TODAY.replace(day=1) - dt.timedelta(days=40)).strftime("%Y-%m")
    assert (
        post(analyst, "/campaigns/1/reports", {"month": this_month, "summary": "本月排查 12 户"}).status_code
        == 303
    )
    assert post(analyst, "/campaigns/1/reports", {"month": two_ago, "summary": "补报"}).status_code == 303
    again = post(analyst, "/campaigns/1/reports", {"month": this_month, "summary": "重复报送的内容"})
    assert again.status_code == 400 and f"已报送 {this_month} 月报" in flash_errors(again.text)[0]
    assert "重复报送的内容" in again.text
    future = (TODAY.replace(day=28) + dt.timedelta(days=10)).strftime("%Y-%m")
    ahead = post(analyst, "/campaigns/1/reports", {"month": future, "summary": "x"})
    assert f"月份 {future} 尚未到来" in flash_errors(ahead.text)[0]
    assert (
        post(analyst, "/campaigns/1/reports/revise", {"month": two_ago, "summary": "补报(更正)"}).status_code
        == 303
    )
    page = analyst.get("/campaigns/1").text

    def state(month: str) -> str:
        row = page[page.index(f'data-month="{month}"') :].split("</tr>")[0]
        return re.search(r'class="report-state"><span class="badge[^"]*">([^<]+)<', row).group(1)

    assert state(this_month) == "按时报送" and state(two_ago) == "迟报" and state("2025-01") == "未报送"
    assert "补报(更正)" in page
    assert count(app, ProjectReport) == 2


# -- inspections, problems and the clue page -------------------------------------------------------


def test_findings_parse_one_per_line_with_an_optional_severity():
    got = findings_of("高:死亡后未停发\n\n  台账不全 \n低：公示不到位", "medium")
    assert [(f.description.strip(), f.severity) for f in got] == [
        ("死亡后未停发", "high"),
        ("台账不全", "medium"),
        ("公示不到位", "low"),
    ]


def test_an_inspection_records_findings_as_problems_linked_to_their_pages(app):
    analyst = login(app, "analyst1")
    visit = {
        "inspected_on": "2026-13-01",
        "inspecting_unit": "区纪委监委第三监督检查室",
        "places": "城关镇民政办\n红星村\n",
        "summary": "抽查低保档案 40 卷",
        "findings": "高:低保对象死亡后未及时停发\n台账登记不全",
        "severity": "low",
    }
    bad = post(analyst, "/campaigns/1/inspections", visit)
    assert bad.status_code == 400
    assert flash_errors(bad.text) == ["检查日期「2026-13-01」不是有效日期"]
    assert "低保对象死亡后未及时停发\n台账登记不全" in bad.text and "城关镇民政办\n红星村" in bad.text
    clues_before = count(app, Clue)
    done = post(analyst, "/campaigns/1/inspections", {**visit, "inspected_on": TODAY.isoformat()})
    assert done.status_code == 303 and done.headers["location"].endswith("#inspections")
    assert count(app, Clue) == clues_before + 2
    page = analyst.get("/campaigns/1").text
    assert "检查单位(场所)2 家,发现问题 2 个" in page
    with app.state.sessions() as session:
        high, low = session.scalars(select(Clue).where(Clue.source == "inspection").order_by(Clue.id)).all()
        assert (high.severity, low.severity, high.project_id, high.status) == ("high", "low", 1, "发现")
    table = page[page.index('id="inspection-list"') : page.index('id="form-inspection"')]
    assert f'href="/clues/{high.id}">#{high.id}</a>' in table and "低保对象死亡后未及时停发" in table
    assert "城关镇民政办、红星村" in table and "区纪委监委第三监督检查室" in table
    counts = page[page.index('id="problem-counts"') :].split("</table>")[0]
    assert re.search(r'data-source="inspection"><td>监督检查</td>\s*<td class="num">2</td>', counts)

    clue = analyst.get(f"/clues/{high.id}").text
    assert re.search(r'<dd id="source">监督检查 <span class="muted">\(区纪委监委第三监督检查室', clue)
    assert '<a href="/campaigns/1">MSZJ 民生资金专项治理</a>' in clue
    assert "检查记录" in clue and "问题序号" in clue  # the finding's keys, labelled


def inspected_problem(app) -> int:
    with app.state.sessions() as session:
        service = CampaignService(session, "cli:test")
        found = service.record_inspection(
            project=1,
            inspected_on=TODAY,
            inspecting_unit="第三监督检查室",
            places=["红星村"],
            findings=[Finding("村务公开栏未更新", severity="medium")],
        )
        return found.findings[0].id


def test_a_problem_is_rectified_with_its_outcomes_moved_and_given_an_institution(app):
    clue_id = inspected_problem(app)
    analyst = login(app, "analyst1")
    page = f"/clues/{clue_id}"

    def clue_version() -> str:
        return re.search(r'name="version" value="(\d+)"', analyst.get(page).text).group(1)

    post(
        analyst,
        f"{page}/status",
        {"to_status": "核查", "reason": "调阅档案", "version": clue_version()},
        page,
    )
    deadline = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    post(
        analyst, f"{page}/dispatch", {"unit": UNITS[0], "deadline": deadline, "version": clue_version()}, page
    )
    outcomes = {
        "measures": "更新公开栏,补录台账",
        "recovered_amount": "1,200.50",
        "sanction_count": "1",
        "org_handling_count": "0",
        "accountability_count": "2",
        "accountability_text": "对村监委会主任问责",
        "exposure_count": "1",
        "version": clue_version(),
    }
    assert post(analyst, f"{page}/rectify", outcomes, page).status_code == 303
    with app.state.sessions() as session:
        rect = session.scalar(select(Rectification).where(Rectification.clue_id == clue_id))
        assert (rect.accountability_count, rect.accountability_text, rect.exposure_count) == (
            2,
            "对村监委会主任问责",
            1,
        )
        assert rect.recovered_amount == Decimal("1200.50")
    shown = analyst.get(page).text
    rectified = shown[shown.index('id="rectifications"') :].split("</table>")[0]
    assert "2 人 对村监委会主任问责" in rectified and "1 起" in rectified and "1,200.50" in rectified

    bad = post(analyst, f"{page}/institution", {"title": "村务公开管理办法", "issued_on": "2026-02-30"}, page)
    assert bad.status_code == 303 and "印发日期「2026-02-30」不是有效日期" in analyst.get(page).text
    made = {"title": "村务公开管理办法", "issued_on": TODAY.isoformat(), "issuer": UNITS[0]}
    assert post(analyst, f"{page}/institution", made, page).status_code == 303
    assert (
        "村务公开管理办法" in analyst.get(page).text.split('id="clue-institutions"')[1].split("</table>")[0]
    )
    with app.state.sessions() as session:
        assert session.scalar(select(Institution.project_id).where(Institution.clue_id == clue_id)) == 1
    project_page = analyst.get("/campaigns/1").text
    institutions = project_page[project_page.index('id="institution-list"') :].split("</table>")[0]
    assert "村务公开管理办法" in institutions and f'href="/clues/{clue_id}"' in institutions

    other = add_other_project(app)
    seen = clue_version()
    move = {"project": str(other), "reason": "属校外培训", "version": seen}
    assert post(analyst, f"{page}/project", move, page).status_code == 303
    assert f'<a href="/campaigns/{other}">XWPX 校外培训机构乱象治理</a>' in analyst.get(page).text
    post(analyst, f"{page}/project", {"project": "", "version": seen}, page)  # the page it was moved from
    assert "已被他人修改" in analyst.get(page).text
    with app.state.sessions() as session:
        assert session.get(Clue, clue_id).project_id == other
    assert post(analyst, f"{page}/project", {"project": "x1", "version": seen}, page).status_code == 400


def test_a_liaison_sees_the_project_and_records_accountability_but_not_the_campaign_forms(app):
    clue_id = inspected_problem(app)
    with app.state.sessions() as session:
        from qingfeng.register.models import User
        from qingfeng.register.service import ClueService

        analyst = session.scalar(select(User).where(User.username == "analyst1"))
        work = ClueService(session, analyst)
        work.transition(clue_id, "核查", reason="核实")
        work.dispatch(clue_id, UNITS[0], dt.date.today() + dt.timedelta(days=10))
    liaison = login(app, "liaison1")
    page = liaison.get(f"/clues/{clue_id}").text
    assert "MSZJ 民生资金专项治理" in page and 'href="/campaigns/1"' not in page  # no page to link to
    assert 'id="form-move"' not in page and 'id="form-institution"' not in page
    assert 'name="accountability_count"' in page and 'name="exposure_count"' in page
    token = csrf_of(liaison, f"/clues/{clue_id}")
    refused = liaison.post(f"/clues/{clue_id}/institution", data={"csrf_token": token, "title": "越权"})
    assert refused.status_code == 403
    assert audited(app, "denied", f"POST /clues/{clue_id}/institution", "liaison1") == 1


def test_an_inspection_dated_today_in_beijing_is_not_in_the_future(app):
    """20:00 UTC is already the next day in Beijing: that day is today, not a day ahead."""
    evening = dt.datetime(2026, 4, 10, 20, 0)
    with app.state.sessions() as session:
        service = CampaignService(session, "cli:test", now=evening)
        assert service.today == dt.date(2026, 4, 11)
        done = service.record_inspection(
            project=1, inspected_on="2026-04-11", inspecting_unit="第三室", places=["红星村"]
        )
        assert done.inspected_on == dt.date(2026, 4, 11)
