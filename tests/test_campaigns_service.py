"""The campaign service (qingfeng.campaigns): projects, task lists and their colours, monthly reports,
inspections whose findings go through the clue lifecycle to 销号 with outcomes, institutions and
moving a problem between projects. Roles, validation messages, audit rows and versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rolematrix import matrix
from sqlalchemy import func, select
from test_register_support import *  # noqa: F403

from qingfeng.campaigns.service import CampaignService, Finding
from qingfeng.register.errors import ConflictError, InvalidInput, NotFound, PermissionDenied
from qingfeng.register.lifecycle import PERMISSIONS
from qingfeng.register.models import AccessLog, Clue, Event, Institution, Rectification, Unit
from qingfeng.register.service import ClueService

NOW = dt.datetime(2026, 4, 10, 9, 30)
TODAY = NOW.date()
LEAD, LIAISON = "区民政局", "区民政局派驻纪检组"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """SQLite here; the lifecycle test below also runs on PostgreSQL."""
    return request.param


@pytest.fixture
def units(session) -> None:
    session.add_all([Unit(name=LEAD, active=True), Unit(name="区财政局", active=True)])
    session.add(Unit(name="区旧机构", active=False))
    session.commit()


def svc(session, user, now: dt.datetime = NOW, **kw) -> CampaignService:
    return CampaignService(session, user, now=now, **kw)


def make_project(session, user, code: str = "MSZJ", **kw):
    fields = {
        "lead_unit": LEAD,
        "liaison_unit": LIAISON,
        "period_start": dt.date(2026, 1, 1),
        "hotline": "0571-87654321",
        "domain": "subsidy",
        **kw,
    }
    return svc(session, user).create_project(code, "民生资金专项治理", **fields)


def changes(session) -> int:
    return session.scalar(select(func.count()).select_from(AccessLog).where(AccessLog.action == "change"))


def test_the_role_matrix_of_the_docs_is_the_code():
    assert matrix("actions") == {action: set(roles) for action, roles in PERMISSIONS.items()}


# -- projects ------------------------------------------------------------------------------------


def test_only_the_supervisor_creates_and_publishes_projects(session, people, units):
    for role in ("admin", "analyst", "liaison", "auditor"):
        with pytest.raises(PermissionDenied, match="无权管理专项治理项目"):
            make_project(session, people[role])
    assert changes(session) == 0
    project = make_project(session, people["supervisor"], code="mszj")
    assert project.code == "MSZJ" and project.status == "进行中" and project.public is False
    assert project.lead_unit.name == LEAD and project.liaison_unit.name == LIAISON
    row = session.scalar(select(AccessLog).where(AccessLog.target == f"project:{project.id}"))
    assert row.username == "zhuren" and row.action == "change" and "MSZJ" in row.detail
    with pytest.raises(PermissionDenied, match="无权向社会公开"):
        svc(session, people["analyst"]).set_public("MSZJ", True)
    assert svc(session, people["supervisor"]).set_public("MSZJ", True).public is True
    assert svc(session, people["analyst"]).get_project("MSZJ").id == project.id  # analysts read
    with pytest.raises(PermissionDenied):
        svc(session, people["liaison"]).list_projects()
    cli = svc(session, "cli:operator")  # the command-line operator owns the database
    assert cli.set_public(project.id, False).public is False
    assert session.scalar(select(AccessLog.username).order_by(AccessLog.id.desc()).limit(1)) == "cli:operator"


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"code": "项目 1"}, "项目编号「项目 1」无效"),
        ({"title": "  "}, "项目名称不能为空"),
        ({"lead_unit": ""}, "牵头单位不能为空"),
        ({"lead_unit": "区不存在局"}, "牵头单位「区不存在局」不存在"),
        ({"lead_unit": "区旧机构"}, "牵头单位「区旧机构」已停用"),
        ({"liaison_unit": "区旧机构"}, "派驻机构「区旧机构」已停用"),
        ({"period_end": dt.date(2025, 12, 31)}, "结束日期 2025-12-31 早于开始日期 2026-01-01"),
        ({"period_start": "2026-02-30"}, "开始日期「2026-02-30」不是有效日期"),
        ({"hotline": "call me"}, "监督举报电话「call me」无效"),
        ({"domain": "education"}, "领域「education」无效"),
        ({"status": "暂停"}, "项目状态「暂停」无效,可选:筹备、进行中、已结束"),
        ({"office": "科" * 201}, "职能科室过长:最多 200 字"),
    ],
)
def test_a_project_with_bad_input_is_refused_naming_the_field(session, people, units, fields, message):
    args = {
        "code": "MSZJ",
        "title": "民生资金专项治理",
        "lead_unit": LEAD,
        "period_start": "2026-01-01",
        **fields,
    }
    with pytest.raises((InvalidInput, NotFound), match=message.replace("(", r"\(").replace(")", r"\)")):
        svc(session, people["supervisor"]).create_project(**args)
    assert changes(session) == 0


def test_edit_checks_the_version_and_close_ends_an_open_period(session, people, units):
    boss = svc(session, people["supervisor"])
    project = make_project(session, people["supervisor"])
    with pytest.raises(InvalidInput, match="项目编号 MSZJ 已存在"):
        make_project(session, people["supervisor"], code="MSZJ")
    seen = project.version
    boss.edit_project("MSZJ", title="民生资金领域专项治理", hotline="", expected_version=seen)
    assert project.title == "民生资金领域专项治理" and project.hotline is None
    with pytest.raises(ConflictError, match=f"您看到的是第 {seen} 版"):
        boss.edit_project("MSZJ", office="社会救助科", expected_version=seen)
    with pytest.raises(InvalidInput, match="结束日期 2020-01-01 早于开始日期"):
        boss.edit_project("MSZJ", title="改了一半", period_end="2020-01-01")
    session.commit()
    session.refresh(project)
    assert project.title == "民生资金领域专项治理"  # a refused edit sets nothing
    with pytest.raises(InvalidInput, match="不能修改的项目字段:public"):
        boss.edit_project("MSZJ", public=True)
    with pytest.raises(InvalidInput, match="缺少项目 MSZJ 版本号"):
        svc(session, people["supervisor"], require_version=True).edit_project("MSZJ", office="x")
    session.scalar(select(Unit).where(Unit.name == LEAD)).active = False
    session.commit()
    boss.edit_project("MSZJ", lead_unit=LEAD, office="社会救助科")  # keeping a unit deactivated since is fine
    with pytest.raises(InvalidInput, match="牵头单位「区旧机构」已停用"):
        boss.edit_project("MSZJ", lead_unit="区旧机构")
    closed = boss.close_project("MSZJ")
    assert closed.status == "已结束" and closed.closed_at == NOW and closed.period_end == TODAY
    with pytest.raises(InvalidInput, match="已结束"):
        boss.close_project("MSZJ")
    with pytest.raises(NotFound, match="专项治理项目 NOPE 不存在"):
        boss.get_project("NOPE")


# -- tasks ---------------------------------------------------------------------------------------


def test_task_colours_follow_the_deadline_like_dispatches(session, people, units):
    make_project(session, people["supervisor"])
    analyst = svc(session, people["analyst"])
    late = analyst.add_task(
        "MSZJ", "清理死亡人员补助", responsible_unit=LEAD, deadline=TODAY - dt.timedelta(days=1)
    )
    soon = analyst.add_task(
        "MSZJ", "核对低保名单", responsible_unit="区财政局", deadline=TODAY + dt.timedelta(days=3)
    )
    later = analyst.add_task(
        "MSZJ",
        "建立比对机制",
        responsible_unit=LEAD,
        deadline="2026-06-30",
        responsible_person="张科长",
        method="联席会议",
    )
    done = analyst.add_task("MSZJ", "摸底排查", responsible_unit=LEAD, deadline=TODAY - dt.timedelta(days=30))
    analyst.set_task_status(done.id, "已完成", note="已完成摸底")
    assert done.done_at == NOW and done.notes[0].text == "已完成摸底"
    colours = {t.id: c for t, c in analyst_tasks(analyst)}
    assert colours == {late.id: "red", soon.id: "yellow", later.id: "green", done.id: None}
    due = analyst.due_tasks(TODAY, 3)
    assert [(d.task.id, d.colour) for d in due] == [(late.id, "red"), (soon.id, "yellow")]
    assert [d.task.id for d in analyst.due_tasks(TODAY, 2)] == [late.id]
    analyst.add_task_note(late.id, "已约谈责任人")
    analyst.edit_task(late.id, deadline=TODAY + dt.timedelta(days=10), expected_version=late.version)
    assert [d.task.id for d in analyst.due_tasks(TODAY, 3)] == [soon.id]
    analyst.set_task_status(soon.id, "已取消")
    assert soon.done_at is None and analyst.due_tasks(TODAY, 3) == []
    with pytest.raises(InvalidInput, match="已是「已取消」"):
        analyst.set_task_status(soon.id, "已取消")
    with pytest.raises(InvalidInput, match="任务状态「完成」无效"):
        analyst.set_task_status(soon.id, "完成")


def analyst_tasks(analyst: CampaignService):
    from qingfeng.campaigns.service import task_colour

    return [(t, task_colour(t, TODAY, 3)) for t in analyst.list_tasks("MSZJ")]


def test_task_rules_and_roles(session, people, units):
    make_project(session, people["supervisor"])
    with pytest.raises(PermissionDenied, match="无权维护任务清单"):
        svc(session, people["liaison"]).add_task("MSZJ", "x", responsible_unit=LEAD, deadline=TODAY)
    analyst = svc(session, people["analyst"])
    with pytest.raises(InvalidInput, match="责任单位不能为空"):
        analyst.add_task("MSZJ", "x", responsible_unit="", deadline=TODAY)
    with pytest.raises(NotFound, match="责任单位「区不存在局」不存在"):
        analyst.add_task("MSZJ", "x", responsible_unit="区不存在局", deadline=TODAY)
    with pytest.raises(InvalidInput, match="完成时限「2026/05/01」格式应为 YYYY-MM-DD"):
        analyst.add_task("MSZJ", "x", responsible_unit=LEAD, deadline="2026/05/01")
    with pytest.raises(InvalidInput, match="任务内容不能为空"):
        analyst.add_task("MSZJ", " ", responsible_unit=LEAD, deadline=TODAY)
    session.commit()
    assert analyst.list_tasks("MSZJ") == []  # nothing refused was left in the session
    task = analyst.add_task("MSZJ", "x", responsible_unit=LEAD, deadline=TODAY)
    with pytest.raises(ConflictError):
        analyst.edit_task(task.id, title="y", expected_version=task.version + 1)
    with pytest.raises(InvalidInput, match="进展情况不能为空"):
        analyst.add_task_note(task.id, "")
    svc(session, people["supervisor"]).close_project("MSZJ")
    with pytest.raises(InvalidInput, match="项目 MSZJ 已结束,不能再添加任务"):
        analyst.add_task("MSZJ", "x", responsible_unit=LEAD, deadline=TODAY)
    with pytest.raises(NotFound, match="任务 99999999999 不存在"):
        analyst.get_task(99999999999)


# -- monthly reports -----------------------------------------------------------------------------


def test_a_month_is_reported_once_and_never_ahead(session, people, units):
    make_project(session, people["supervisor"])
    march = svc(session, people["analyst"], now=dt.datetime(2026, 4, 7, 10)).submit_report(
        "MSZJ", "2026-03", "三月:排查 12 户"
    )
    assert march.submitted_at == dt.datetime(2026, 4, 7, 10) and march.submitted_by == "fenxi"
    analyst = svc(session, people["analyst"])
    with pytest.raises(InvalidInput, match="已报送 2026-03 月报"):
        analyst.submit_report("MSZJ", "2026-03", "again")
    with pytest.raises(InvalidInput, match="月份 2026-05 尚未到来"):
        analyst.submit_report("MSZJ", "2026-05", "future")
    with pytest.raises(InvalidInput, match="月份 2025-12 早于项目开始的 2026-01"):
        analyst.submit_report("MSZJ", "2025-12", "before")
    with pytest.raises(InvalidInput, match="月份「2026-3」格式应为 YYYY-MM"):
        analyst.submit_report("MSZJ", "2026-3", "x")
    with pytest.raises(InvalidInput, match="月报内容不能为空"):
        analyst.submit_report("MSZJ", "2026-04", "")
    revised = analyst.revise_report("MSZJ", "2026-03", "三月:排查 13 户")
    assert revised.summary == "三月:排查 13 户" and revised.submitted_at == dt.datetime(2026, 4, 7, 10)
    with pytest.raises(NotFound, match="尚未报送 2026-02 月报"):
        analyst.revise_report("MSZJ", "2026-02", "x")
    make_project(session, people["supervisor"], code="PLAN", status="筹备")
    with pytest.raises(InvalidInput, match="尚在筹备"):
        analyst.submit_report("PLAN", "2026-03", "x")


# -- inspections, the lifecycle and the outcomes --------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_an_inspection_finding_goes_to_closed_with_its_outcomes(session, people, units):
    project = make_project(session, people["supervisor"])
    analyst = svc(session, people["analyst"])
    inspection = analyst.record_inspection(
        project="MSZJ",
        inspected_on="2026-04-08",
        inspecting_unit="区纪委监委第三监督检查室",
        places=["城关镇民政办", "红星村", "红星村"],
        summary="抽查低保档案 40 卷",
        findings=[
            Finding(
                "低保对象死亡后未及时停发", severity="high", town="城关镇", village="红星村", amount="3600.50"
            ),
            {"description": "台账登记不全"},
        ],
    )
    assert inspection.places == ["城关镇民政办", "红星村"] and inspection.project_id == project.id
    found = list(session.scalars(select(Clue).where(Clue.inspection_id == inspection.id).order_by(Clue.id)))
    assert [c.source for c in found] == ["inspection", "inspection"]
    assert {c.rule for c in found} == {"JC"} and {c.status for c in found} == {"发现"}
    assert {c.project_id for c in found} == {project.id} and found[0].domain == "subsidy"
    assert found[0].first_seen == found[0].last_seen == found[0].as_of == dt.date(2026, 4, 8)
    assert (
        found[0].amount == Decimal("3600.50")
        and found[0].severity == "high"
        and found[1].severity == "medium"
    )
    assert found[0].fingerprint != found[1].fingerprint and found[0].subjects == []
    assert found[0].events[0].kind == "inspection" and found[0].events[0].text.startswith(
        "检查发现:低保对象死亡"
    )
    assert "城关镇民政办" in found[0].evidence[0]["note"]

    clue_id = found[0].id
    work = ClueService(session, people["analyst"], now=NOW)
    work.transition(clue_id, "核查", reason="调阅档案")
    work.dispatch(clue_id, LIAISON, TODAY + dt.timedelta(days=15))
    liaison = ClueService(session, people["liaison"], now=NOW)
    with pytest.raises(InvalidInput, match="问责人数应为 0 至 10000 之间的整数"):
        liaison.record_rectification(clue_id, measures="追回", accountability_count=-1)
    rect = liaison.record_rectification(
        clue_id,
        measures="追回多发低保金,停发待遇",
        recovered_amount="3600.50",
        sanction_count=1,
        org_handling_count=2,
        accountability_count=3,
        accountability_text="对民政办负责人问责",
        exposure_count=1,
    )
    assert "问责 3 人；通报曝光 1 起" in found[0].events[-1].text
    ClueService(session, people["supervisor"], now=NOW).close(clue_id, reason="整改到位")
    stored = session.get(Rectification, rect.id)
    assert (stored.accountability_count, stored.exposure_count, stored.recovered_amount) == (
        3,
        1,
        Decimal("3600.50"),
    )
    assert session.get(Clue, clue_id).status == "销号"

    boss = svc(session, people["supervisor"])
    rule = boss.record_institution(
        "低保对象死亡信息比对制度", issued_on="2026-04-09", issuer="区民政局", clue_id=clue_id
    )
    assert rule.project_id == project.id and rule.clue_id == clue_id  # counts for the problem's project
    assert session.get(Clue, clue_id).events[-1].kind == "institution"
    assert session.scalar(select(func.count()).select_from(Institution)) == 1


def test_inspection_input_is_checked(session, people, units):
    make_project(session, people["supervisor"])
    before = changes(session)
    analyst = svc(session, people["analyst"])
    base = {"inspected_on": "2026-04-08", "inspecting_unit": "第三监督检查室", "places": ["红星村"]}
    cases = [
        ({"inspected_on": "2026-04-11"}, "检查日期 2026-04-11 晚于今天 2026-04-10"),
        ({"places": [" ", ""]}, r"被检查单位\(场所\)至少填写一个"),
        ({"inspecting_unit": ""}, "检查单位不能为空"),
        ({"findings": [{"description": "x", "severity": "严重"}]}, "第 1 个问题的严重程度「严重」无效"),
        ({"findings": ["ok", {"description": ""}]}, "第 2 个问题的描述不能为空"),
        ({"findings": [{"description": "x", "amount": "1e9"}]}, "第 1 个问题的涉及金额「1e9」不是有效金额"),
        ({"findings": [{"description": "x", "who": "张三"}]}, "问题的字段无效:who"),
        ({"project": "NOPE"}, "专项治理项目 NOPE 不存在"),
    ]
    for change, message in cases:
        with pytest.raises((InvalidInput, NotFound), match=message):
            analyst.record_inspection(**{**base, **change})
    with pytest.raises(PermissionDenied, match="无权登记检查"):
        svc(session, people["liaison"]).record_inspection(**base)
    assert session.scalar(select(func.count()).select_from(Clue)) == 0 and changes(session) == before
    none = analyst.record_inspection(**base)  # an inspection that found nothing still counts as one
    assert none.project_id is None and none.findings == []


def test_institutions_and_moving_a_problem(session, people, units):
    make_project(session, people["supervisor"])
    other = make_project(session, people["supervisor"], code="XWPX", domain=None)
    analyst = svc(session, people["analyst"])
    with pytest.raises(InvalidInput, match="制度须关联一个专项治理项目或一条线索"):
        analyst.record_institution("x", issued_on="2026-04-01")
    with pytest.raises(InvalidInput, match="印发日期 2026-05-01 晚于今天"):
        analyst.record_institution("x", issued_on="2026-05-01", project="MSZJ")
    with pytest.raises(InvalidInput, match="制度名称不能为空"):
        analyst.record_institution("", issued_on="2026-04-01", project="MSZJ")
    kept = analyst.record_institution("资金发放联审办法", issued_on="2026-04-01", project="MSZJ")
    assert kept.project.code == "MSZJ" and kept.clue_id is None and kept.recorded_by == "fenxi"

    inspection = analyst.record_inspection(
        project="MSZJ",
        inspected_on=TODAY,
        inspecting_unit="第三室",
        places=["某培训机构"],
        findings=["无证办学"],
    )
    clue = inspection.findings[0]
    with pytest.raises(PermissionDenied):
        svc(session, people["liaison"]).move_clue(clue.id, "XWPX")
    version = clue.version
    analyst.move_clue(clue.id, "XWPX", reason="属校外培训", expected_version=version)
    assert clue.project_id == other.id and clue.version > version
    assert clue.events[-1].kind == "project" and "移入专项治理项目" in clue.events[-1].text
    with pytest.raises(InvalidInput, match="已在该项目"):
        analyst.move_clue(clue.id, other.id)
    with pytest.raises(ConflictError):
        analyst.move_clue(clue.id, None, expected_version=version)
    analyst.move_clue(clue.id, None)
    assert clue.project_id is None and "移出" in clue.events[-1].text
    assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "project")) == 2
