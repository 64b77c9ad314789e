"""``qingfeng campaigns``: projects, task lists, monthly reports, inspections and outcomes from the
command line, through the same service as the web pages (``qingfeng.campaigns.service``).

The acting user is the operating-system login (``cli:<login>``), as for ``qingfeng users`` and
``qingfeng clues export``: whoever runs the command owns the register database, and every change is
audited under that name. Dates are ``YYYY-MM-DD``; an empty option value (``--hotline ""``) clears
an optional field. The register is imported inside the commands, to keep ``qingfeng --help`` fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qingfeng.clikit import Settings, fail, with_settings
from qingfeng.register.cli import console, domain_errors, operator_name, register_session

if TYPE_CHECKING:
    from qingfeng.campaigns.config import CampaignsConfig
    from qingfeng.campaigns.service import CampaignService

COLOUR_TEXT = {"red": "[red]红色(逾期)[/]", "yellow": "[yellow]黄色(临期)[/]", "green": "绿色", None: ""}


@contextmanager
def service(settings: Settings) -> Iterator[CampaignService]:
    """The campaign service on the settings' register, acting as the command-line operator; a refusal
    is a clear message and exit code 1."""
    from qingfeng.campaigns.service import CampaignService

    with register_session(settings) as session, domain_errors():
        yield CampaignService(session, operator_name())


def warn_days(settings: Settings) -> int:
    return configuration(settings).tasks.warn_days


def configuration(settings: Settings) -> CampaignsConfig:
    from qingfeng.campaigns.config import CampaignsConfigError, campaigns_config

    try:
        return campaigns_config(Path(settings.campaigns_config))
    except CampaignsConfigError as exc:
        raise click.ClickException(f"专项治理配置有误:{exc}") from exc


def _period(project: Any) -> str:
    end = project.period_end.isoformat() if project.period_end else "至今"
    return f"{project.period_start.isoformat()} ~ {end}"


@click.group()
def campaigns() -> None:
    """专项治理: campaign projects, task lists, inspections, outcomes."""


# -- projects --------------------------------------------------------------------------------------

PROJECT_OPTIONS: list[tuple[str, str, str]] = [
    ("--title", "title", "项目名称"),
    ("--domain", "domain", "领域: subsidy, engineering, collective_asset, payroll (或中文名),可空"),
    ("--lead-unit", "lead_unit", "牵头单位 (单位名称,须已存在)"),
    ("--office", "office", "职能科室"),
    ("--hotline", "hotline", "监督举报电话"),
    ("--liaison-unit", "liaison_unit", "派驻机构 (单位名称,须已存在)"),
    ("--task-force", "task_force", "工作专班"),
    ("--description", "description", "项目说明"),
    ("--start", "period_start", "开始日期 YYYY-MM-DD"),
    ("--end", "period_end", "结束日期 YYYY-MM-DD (空: 仍在进行)"),
    ("--status", "status", "筹备 / 进行中 / 已结束"),
]


def project_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for flag, name, help_text in reversed(PROJECT_OPTIONS):
        func = click.option(flag, name, default=None, help=help_text)(func)
    return func


@campaigns.command("add")
@click.argument("code")
@project_options
@with_settings
def project_add(code: str, settings: Settings, **fields: str | None) -> None:
    """Create project CODE (needs --title, --lead-unit and --start)."""
    given = {k: v for k, v in fields.items() if v is not None}
    for name, flag in (("title", "--title"), ("lead_unit", "--lead-unit"), ("period_start", "--start")):
        if name not in given:
            fail(f"缺少 {flag}")
    with service(settings) as svc:
        title, lead, start = given.pop("title"), given.pop("lead_unit"), given.pop("period_start")
        project = svc.create_project(code, title, lead_unit=lead, period_start=start, **given)
        click.echo(f"已新建专项治理项目 {project.code}「{project.title}」(id {project.id},{project.status})")


@campaigns.command("edit")
@click.argument("code")
@click.option("--code", "new_code", default=None, help="新的项目编号")
@project_options
@click.option(
    "--version", "expected_version", type=int, default=None, help="您看到的版本号 (防止覆盖他人修改)"
)
@with_settings
def project_edit(
    code: str, new_code: str | None, expected_version: int | None, settings: Settings, **fields: str | None
) -> None:
    """Change fields of project CODE; an empty value clears an optional field."""
    changes: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    if new_code is not None:
        changes["code"] = new_code
    if not changes:
        fail("没有要修改的字段")
    with service(settings) as svc:
        project = svc.edit_project(code, expected_version=expected_version, **changes)
        click.echo(f"项目 {project.code} 已保存(第 {project.version} 版)")


@campaigns.command("close")
@click.argument("code")
@with_settings
def project_close(code: str, settings: Settings) -> None:
    """Close project CODE (已结束); an open end becomes today."""
    with service(settings) as svc:
        project = svc.close_project(code)
        click.echo(f"项目 {project.code} 已结束,期间 {_period(project)}")


@campaigns.command("publish")
@click.argument("code")
@with_settings
def project_publish(code: str, settings: Settings) -> None:
    """Publish project CODE on the public page (向社会公开)."""
    with service(settings) as svc:
        click.echo(f"项目 {svc.set_public(code, True).code} 已向社会公开")


@campaigns.command("unpublish")
@click.argument("code")
@with_settings
def project_unpublish(code: str, settings: Settings) -> None:
    """Withdraw project CODE from the public page."""
    with service(settings) as svc:
        click.echo(f"项目 {svc.set_public(code, False).code} 已撤回公开")


@campaigns.command("list")
@click.option("--status", default=None, help="筹备 / 进行中 / 已结束")
@with_settings
def project_list(status: str | None, settings: Settings) -> None:
    """Every project with its lead unit, period, problems and overdue tasks."""
    from rich.table import Table
    from sqlalchemy import func, select

    from qingfeng.campaigns.tasks import task_colour
    from qingfeng.register.models import Clue

    days = warn_days(settings)
    with service(settings) as svc:
        rows = svc.list_projects(status=status)
        counts = dict(
            svc.session.execute(select(Clue.project_id, func.count()).group_by(Clue.project_id))
            .tuples()
            .all()
        )
        table = Table(title=f"专项治理项目 {len(rows)} 个")
        for col in (
            "编号",
            "名称",
            "状态",
            "牵头单位",
            "派驻机构",
            "期间",
            "公开",
            "问题线索",
            "任务",
            "逾期",
        ):
            table.add_column(col)
        today = dt.date.today()
        for p in rows:
            colours = [task_colour(t, today, days) for t in p.tasks]
            table.add_row(
                p.code,
                p.title,
                p.status,
                p.lead_unit.name if p.lead_unit else "",
                p.liaison_unit.name if p.liaison_unit else "",
                _period(p),
                "是" if p.public else "否",
                str(counts.get(p.id, 0)),
                str(len(p.tasks)),
                str(colours.count("red")),
            )
        console().print(table)


@campaigns.command("show")
@click.argument("code")
@with_settings
def project_show(code: str, settings: Settings) -> None:
    """Project CODE: its facts, task list (with colours), monthly reports, inspections and problems."""
    from rich.table import Table
    from sqlalchemy import func, select

    from qingfeng.campaigns.tasks import project_tasks
    from qingfeng.register.models import Clue

    days = warn_days(settings)
    out = console()
    with service(settings) as svc:
        p = svc.get_project(code)
        facts = [
            (
                "项目",
                f"{p.code}「{p.title}」 {p.status}{' · 已公开' if p.public else ''} · 第 {p.version} 版",
            ),
            ("领域", p.domain or ""),
            ("牵头单位", p.lead_unit.name if p.lead_unit else ""),
            ("职能科室", p.office or ""),
            ("监督举报电话", p.hotline or ""),
            ("派驻机构", p.liaison_unit.name if p.liaison_unit else ""),
            ("工作专班", p.task_force or ""),
            ("期间", _period(p)),
            ("说明", p.description or ""),
        ]
        for label, value in facts:
            out.print(f"[bold]{label}[/]  {value}")
        tasks = Table(title="任务清单")
        for col in ("id", "任务", "责任单位", "责任人", "完成时限", "完成方式", "状态", "预警", "进展"):
            tasks.add_column(col)
        for t, colour in project_tasks(p, dt.date.today(), days):
            tasks.add_row(
                str(t.id),
                t.title,
                t.responsible_unit.name if t.responsible_unit else "",
                t.responsible_person or "",
                t.deadline.isoformat(),
                t.method or "",
                t.status,
                COLOUR_TEXT[colour],
                t.notes[-1].text if t.notes else "",
            )
        out.print(tasks)
        reports = ", ".join(f"{r.month}({r.submitted_at:%Y-%m-%d})" for r in p.reports)
        out.print(f"[bold]月报[/]  {reports or '(无)'}")
        for i in p.inspections:
            out.print(
                f"[bold]检查[/]  {i.inspected_on} {i.inspecting_unit}:检查 {len(i.places)} 家,发现问题 {len(i.findings)} 个"
            )
        by_status = svc.session.execute(
            select(Clue.status, func.count()).where(Clue.project_id == p.id).group_by(Clue.status)
        ).all()
        out.print("[bold]问题线索[/]  " + (", ".join(f"{s} {n}" for s, n in by_status) or "(无)"))
        for inst in p.institutions:
            out.print(f"[bold]制度[/]  《{inst.title}》 {inst.issuer or ''} {inst.issued_on}")


# -- tasks -----------------------------------------------------------------------------------------


@campaigns.group("task")
def task() -> None:
    """任务清单: task items of a project."""


@task.command("add")
@click.argument("code")
@click.option("--title", required=True, help="任务内容")
@click.option("--unit", "responsible_unit", required=True, help="责任单位")
@click.option("--deadline", required=True, help="完成时限 YYYY-MM-DD")
@click.option("--person", "responsible_person", default=None, help="责任人")
@click.option("--method", default=None, help="完成方式")
@with_settings
def task_add(
    code: str,
    title: str,
    responsible_unit: str,
    deadline: str,
    responsible_person: str | None,
    method: str | None,
    settings: Settings,
) -> None:
    """Add a task item to project CODE."""
    with service(settings) as svc:
        t = svc.add_task(
            code,
            title,
            responsible_unit=responsible_unit,
            deadline=deadline,
            responsible_person=responsible_person,
            method=method,
        )
        click.echo(f"已添加任务 {t.id}:{t.title}(完成时限 {t.deadline})")


@task.command("edit")
@click.argument("task_id", type=int)
@click.option("--title", default=None)
@click.option("--unit", "responsible_unit", default=None)
@click.option("--deadline", default=None)
@click.option("--person", "responsible_person", default=None)
@click.option("--method", default=None)
@click.option("--version", "expected_version", type=int, default=None)
@with_settings
def task_edit(task_id: int, expected_version: int | None, settings: Settings, **fields: str | None) -> None:
    """Change a task item's fields."""
    changes = {k: v for k, v in fields.items() if v is not None}
    if not changes:
        fail("没有要修改的字段")
    with service(settings) as svc:
        t = svc.edit_task(task_id, expected_version=expected_version, **changes)
        click.echo(f"任务 {t.id} 已保存(第 {t.version} 版)")


def _status_command(name: str, status: str, doc: str) -> None:
    @task.command(name)
    @click.argument("task_id", type=int)
    @click.option("--note", default=None, help="进展情况")
    @with_settings
    def command(task_id: int, note: str | None, settings: Settings) -> None:
        with service(settings) as svc:
            t = svc.set_task_status(task_id, status, note=note)
            click.echo(f"任务 {t.id}:{t.status}")

    command.__doc__ = doc


_status_command("done", "已完成", "Mark a task item done (已完成).")
_status_command("cancel", "已取消", "Cancel a task item (已取消).")
_status_command("reopen", "进行中", "Open a done or cancelled task item again (进行中).")


@task.command("note")
@click.argument("task_id", type=int)
@click.argument("text")
@with_settings
def task_note(task_id: int, text: str, settings: Settings) -> None:
    """Add a progress note (进展情况) to a task item."""
    with service(settings) as svc:
        svc.add_task_note(task_id, text)
        click.echo(f"任务 {task_id} 已记录进展")


@task.command("list")
@click.option("--project", "code", default=None, help="项目编号")
@click.option("--due", is_flag=True, help="只列逾期(红)和临期(黄)的任务")
@with_settings
def task_list(code: str | None, due: bool, settings: Settings) -> None:
    """Task items with their escalation colour (red overdue, yellow due within tasks.warn_days)."""
    from rich.table import Table

    from qingfeng.campaigns.tasks import task_colour

    days, today = warn_days(settings), dt.date.today()
    with service(settings) as svc:
        rows: list[tuple[Any, str | None]]
        if due:
            rows = [(d.task, d.colour) for d in svc.due_tasks(today, days, project=code)]
        else:
            rows = [(t, task_colour(t, today, days)) for t in svc.list_tasks(code)]
        table = Table(title=f"任务 {len(rows)} 项")
        for col in ("id", "项目", "任务", "责任单位", "责任人", "完成时限", "状态", "预警"):
            table.add_column(col)
        for t, colour in rows:
            table.add_row(
                str(t.id),
                t.project.code,
                t.title,
                t.responsible_unit.name if t.responsible_unit else "",
                t.responsible_person or "",
                t.deadline.isoformat(),
                t.status,
                COLOUR_TEXT[colour],
            )
        console().print(table)


# -- monthly reports -------------------------------------------------------------------------------


@campaigns.group("report")
def report() -> None:
    """月报: a project's monthly report."""


@report.command("submit")
@click.argument("code")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--summary", required=True, help="月报内容")
@click.option("--revise", is_flag=True, help="更正已报送的月报 (报送时间不变)")
@with_settings
def report_submit(code: str, month: str, summary: str, revise: bool, settings: Settings) -> None:
    """Submit (or, with --revise, correct) project CODE's report of --month."""
    with service(settings) as svc:
        if revise:
            r = svc.revise_report(code, month, summary)
            click.echo(f"已更正 {code} {r.month} 月报(报送于 {r.submitted_at:%Y-%m-%d})")
        else:
            r = svc.submit_report(code, month, summary)
            click.echo(f"已报送 {code} {r.month} 月报")


# -- inspections and outcomes ----------------------------------------------------------------------


def read_findings(path: Path) -> list[Any]:
    """A YAML list; each item a description, or a mapping of description, severity, town, village, amount."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise click.ClickException(f"无法读取问题清单 {path}:{exc}") from exc
    if not isinstance(data, list) or not all(isinstance(item, str | dict) for item in data):
        fail(f"问题清单 {path} 应为列表,每项为问题描述或含 description 的映射")
    return list(data)


@campaigns.command("inspect")
@click.option("--project", "code", default=None, help="项目编号 (可空)")
@click.option("--date", "inspected_on", required=True, help="检查日期 YYYY-MM-DD")
@click.option("--unit", "inspecting_unit", required=True, help="检查单位")
@click.option("--place", "places", multiple=True, required=True, help="被检查单位(场所),可重复")
@click.option("--summary", default=None, help="检查情况")
@click.option("--finding", "findings", multiple=True, help="发现的问题 (描述),可重复")
@click.option("--severity", default="medium", show_default=True, help="--finding 的严重程度: high/medium/low")
@click.option(
    "--findings-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML 问题清单 (description, severity, town, village, amount)",
)
@with_settings
def inspect(
    code: str | None,
    inspected_on: str,
    inspecting_unit: str,
    places: tuple[str, ...],
    summary: str | None,
    findings: tuple[str, ...],
    severity: str,
    findings_file: Path | None,
    settings: Settings,
) -> None:
    """Record an inspection; each finding becomes a problem (source inspection, rule JC) in 发现."""
    items: list[Any] = [{"description": f, "severity": severity} for f in findings]
    if findings_file is not None:
        items += read_findings(findings_file)
    with service(settings) as svc:
        i = svc.record_inspection(
            project=code,
            inspected_on=inspected_on,
            inspecting_unit=inspecting_unit,
            places=list(places),
            summary=summary,
            findings=items,
        )
        ids = ", ".join(str(c.id) for c in i.findings)
        click.echo(f"已登记检查 {i.id}:检查单位(场所){len(i.places)} 家,发现问题 {len(i.findings)} 个 {ids}")


@campaigns.group("institution")
def institution() -> None:
    """建立健全制度: systems built as an outcome."""


@institution.command("add")
@click.option("--title", required=True, help="制度名称")
@click.option("--date", "issued_on", required=True, help="印发日期 YYYY-MM-DD")
@click.option("--issuer", default=None, help="制定单位")
@click.option("--project", "code", default=None, help="项目编号")
@click.option("--clue", "clue_id", type=int, default=None, help="线索 id")
@with_settings
def institution_add(
    title: str, issued_on: str, issuer: str | None, code: str | None, clue_id: int | None, settings: Settings
) -> None:
    """Record an institution of a project and/or a problem."""
    with service(settings) as svc:
        row = svc.record_institution(title, issued_on=issued_on, issuer=issuer, project=code, clue_id=clue_id)
        owner = f"项目 {row.project.code}" if row.project else f"线索 {row.clue_id}"
        click.echo(f"已登记制度 {row.id}《{row.title}》({owner})")


@campaigns.command("move")
@click.argument("clue_id", type=int)
@click.option("--project", "code", default=None, help="目标项目编号;不填则移出项目")
@click.option("--reason", default=None, help="理由")
@with_settings
def move(clue_id: int, code: str | None, reason: str | None, settings: Settings) -> None:
    """Move a problem to another project, or out of any (publishing never moves it back)."""
    with service(settings) as svc:
        clue = svc.move_clue(clue_id, code, reason=reason)
        click.echo(f"线索 {clue.id}:{clue.project.code if clue.project else '(无项目)'}")


@campaigns.command("link")
@click.option("--dry-run", is_flag=True, help="只统计,不写入")
@with_settings
def link(dry_run: bool, settings: Settings) -> None:
    """Link rule clues published before their project existed (config/campaigns.yml); idempotent."""
    from qingfeng.campaigns.linking import rule_projects

    mapping = rule_projects(configuration(settings))
    with service(settings) as svc:
        linked = svc.link_clues(mapping, dry_run=dry_run)
    verb = "将归入" if dry_run else "已归入"
    for code, n in linked.items():
        click.echo(f"{code}\t{verb} {n} 条")
    click.echo(f"合计{verb} {sum(linked.values())} 条" + (" (未写入)" if dry_run else ""))


@campaigns.command("export-public")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for index.html and its stylesheet (created if missing; the two files are replaced).",
)
@with_settings
def export_public(settings: Settings, out_dir: Path) -> None:
    """向社会公开: write the public page (as GET /public shows it today) for the government site."""
    from qingfeng.campaigns.disclosure import public_disclosure
    from qingfeng.register import users
    from qingfeng.web.public_page import export

    min_count = configuration(settings).disclosure.min_count
    with register_session(settings) as session:
        disclosure = public_disclosure(session, min_count=min_count)
        written = export(disclosure, out_dir)
        detail = f"{len(disclosure.projects)} projects as of {disclosure.as_of} to {out_dir.resolve()}"
        users.audit(session, operator_name(), "export", target="public", detail=detail[:500])
        session.commit()
    for path in written:
        click.echo(str(path))


commands = [campaigns]
