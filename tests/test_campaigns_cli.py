"""``qingfeng campaigns`` through click's runner against a real SQLite register: one happy path per
command group, and refusals as a clear message with exit code 1 (never a traceback)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from test_register_support import *  # noqa: F403
from test_register_support import AS_OF, make_clue

from qingfeng.cli import main
from qingfeng.register.models import AccessLog, CampaignProject, CampaignTask, Clue, Institution, Unit
from qingfeng.register.publish import RunInfo, publish

TODAY = dt.date.today()


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def run(monkeypatch, register_url, tmp_path, session):
    monkeypatch.setenv("QINGFENG_REGISTER_URL", register_url)
    session.add_all([Unit(name="区民政局", active=True), Unit(name="区民政局派驻纪检组", active=True)])
    session.commit()

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(main, ["campaigns", *args, "--home", str(tmp_path / "home")])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result

    return invoke


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


def test_projects(run, session):
    refused(run("add", "MSZJ", "--title", "民生资金专项治理", "--lead-unit", "区民政局"), "缺少 --start")
    refused(
        run("add", "MSZJ", "--title", "x", "--lead-unit", "区卫健局", "--start", "2026-01-01"),
        "牵头单位「区卫健局」不存在,请先在单位管理中添加",
    )
    assert "已新建专项治理项目 MSZJ「民生资金专项治理」" in ok(
        run(
            *("add", "mszj", "--title", "民生资金专项治理", "--lead-unit", "区民政局"),
            *("--liaison-unit", "区民政局派驻纪检组", "--start", "2026-01-01", "--hotline", "0571-12345678"),
            *("--domain", "民生资金"),
        )
    )
    ok(run("edit", "MSZJ", "--office", "社会救助科", "--hotline", "", "--version", "1"))
    refused(run("edit", "MSZJ", "--office", "x", "--version", "1"), "您看到的是第 1 版,当前为第 2 版")
    refused(run("edit", "MSZJ", "--end", "2025-01-01"), "结束日期 2025-01-01 早于开始日期 2026-01-01")
    ok(run("publish", "MSZJ"))
    listing = ok(run("list"))
    assert "MSZJ" in listing and "区民政局" in listing and "2026-01-01 ~ 至今" in listing
    shown = ok(run("show", "MSZJ"))
    assert "社会救助科" in shown and "已公开" in shown and "subsidy" in shown
    ok(run("unpublish", "MSZJ"))
    assert "已结束" in ok(run("close", "MSZJ"))
    refused(run("show", "NOPE"), "专项治理项目 NOPE 不存在")
    project = session.scalar(select(CampaignProject))
    session.refresh(project)
    assert (project.status, project.public, project.hotline, project.office) == (
        "已结束",
        False,
        None,
        "社会救助科",
    )
    who = set(session.scalars(select(AccessLog.username).where(AccessLog.target == f"project:{project.id}")))
    assert len(who) == 1 and who.pop().startswith("cli:")


def test_tasks_and_reports(run, session):
    ok(run("add", "MSZJ", "--title", "民生资金专项治理", "--lead-unit", "区民政局", "--start", "2026-01-01"))
    late = (TODAY - dt.timedelta(days=2)).isoformat()
    ok(run("task", "add", "MSZJ", "--title", "清理死亡人员补助", "--unit", "区民政局", "--deadline", late))
    ok(
        run(
            *("task", "add", "MSZJ", "--title", "核对低保名单", "--unit", "区民政局"),
            *("--deadline", (TODAY + dt.timedelta(days=30)).isoformat(), "--person", "张科长"),
        )
    )
    refused(
        run("task", "add", "MSZJ", "--title", "x", "--unit", "区民政局", "--deadline", "明天"),
        "完成时限「明天」格式应为 YYYY-MM-DD",
    )
    first, second = session.scalars(select(CampaignTask.id).order_by(CampaignTask.id)).all()
    due = ok(run("task", "list", "--due"))
    assert "清理死亡人员补助" in due and "红色(逾期)" in due and "核对低保名单" not in due
    ok(run("task", "note", str(first), "已约谈"))
    ok(run("task", "edit", str(second), "--method", "入户核查"))
    assert "已完成" in ok(run("task", "done", str(first), "--note", "已清理 3 户"))
    everything = ok(run("task", "list", "--project", "MSZJ"))
    assert "绿色" in everything and "红色" not in everything
    refused(run("task", "done", str(first)), f"任务 {first} 已是「已完成」")
    refused(run("task", "note", "999", "x"), "任务 999 不存在")

    month = TODAY.strftime("%Y-%m")
    ok(run("report", "submit", "MSZJ", "--month", month, "--summary", "本月排查 12 户"))
    refused(run("report", "submit", "MSZJ", "--month", month, "--summary", "again"), f"已报送 {month} 月报")
    ok(run("report", "submit", "MSZJ", "--month", month, "--summary", "本月排查 13 户", "--revise"))
    refused(run("report", "submit", "MSZJ", "--month", "2999-01", "--summary", "x"), "月份 2999-01 超出范围")


def test_inspections_institutions_and_link(run, session, tmp_path: Path):
    ok(run("add", "MSZJ", "--title", "民生资金专项治理", "--lead-unit", "区民政局", "--start", "2026-01-01"))
    findings = tmp_path / "findings.yml"
    findings.write_text(
        "- description: 死亡人员仍领高龄津贴\n  severity: high\n  village: 红星村\n  amount: '3000'\n- 公示不到位\n",
        encoding="utf-8",
    )
    out = ok(
        run(
            *("inspect", "--project", "MSZJ", "--date", "2026-04-08", "--unit", "第三监督检查室"),
            *("--place", "红星村", "--place", "城关镇民政办", "--finding", "台账不全"),
            *("--findings-file", str(findings)),
        )
    )
    assert "检查单位(场所)2 家,发现问题 3 个" in out
    problems = session.scalars(select(Clue).order_by(Clue.id)).all()
    assert [(c.source, c.rule, c.severity, c.village) for c in problems] == [
        ("inspection", "JC", "medium", None),
        ("inspection", "JC", "high", "红星村"),
        ("inspection", "JC", "medium", None),
    ]
    bad = tmp_path / "bad.yml"
    bad.write_text("description: not a list\n", encoding="utf-8")
    refused(
        run("inspect", "--date", "2026-04-08", "--unit", "x", "--place", "y", "--findings-file", str(bad)),
        "应为列表",
    )
    refused(run("inspect", "--date", "2999-04-08", "--unit", "x", "--place", "y"), "检查日期 2999-04-08")

    ok(
        run(
            "institution",
            "add",
            "--title",
            "高龄津贴比对办法",
            "--date",
            "2026-04-09",
            "--clue",
            str(problems[1].id),
        )
    )
    assert session.scalar(select(Institution.project_id)) == problems[1].project_id
    refused(
        run("institution", "add", "--title", "x", "--date", "2026-04-09"),
        "制度须关联一个专项治理项目或一条线索",
    )

    ok(run("move", str(problems[2].id), "--reason", "不属本项目"))
    session.expire_all()
    assert session.get(Clue, problems[2].id).project_id is None

    publish(
        session,
        [make_clue("S01", f"3301091980010100{i:02d}", f"人{i}") for i in range(3)],
        RunInfo(as_of=AS_OF),
    )
    assert "MSZJ\t将归入 3 条" in ok(run("link", "--dry-run"))
    assert "MSZJ\t已归入 3 条" in ok(run("link"))
    assert "合计已归入 0 条" in ok(run("link"))  # idempotent


def test_the_group_imports_nothing_heavy():
    import subprocess
    import sys

    code = "import sys, qingfeng.campaigns.cli; print(sorted(m for m in ('sqlalchemy', 'rich', 'yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
