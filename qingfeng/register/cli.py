"""Commands: ``qingfeng db``, ``qingfeng clues``, ``qingfeng report`` (users, units, audit: ``accounts_cli``).

Imports of SQLAlchemy and the register happen inside the commands to keep ``qingfeng --help`` fast.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from qingfeng.clikit import Settings, fail, with_settings


def operator_name() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli:unknown"


def console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200)  # files and pipes get whole numbers


@contextmanager
def register_session(settings: Settings) -> Iterator[Any]:
    from sqlalchemy import inspect

    from qingfeng.register.db import make_engine, session_factory

    engine = make_engine(settings.resolved_register_url)
    try:
        if not inspect(engine).has_table("clue"):
            fail(f"登记库尚未初始化：{settings.resolved_register_url}，请先运行 `qingfeng db upgrade`")
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def domain_errors() -> Iterator[None]:
    from qingfeng.register.errors import RegisterError

    try:
        yield
    except RegisterError as exc:
        fail(str(exc))


@click.group()
def db() -> None:
    """The register database (clue register)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_settings
def db_upgrade(revision: str, settings: Settings) -> None:
    """Create or migrate the register database to the latest schema."""
    from qingfeng.register.db import current_revision, make_engine, upgrade

    url = settings.resolved_register_url
    upgrade(url, revision)
    engine = make_engine(url)
    click.echo(
        f"register at revision {current_revision(engine)}: {engine.url.render_as_string(hide_password=True)}"
    )
    engine.dispose()


@click.group()
def clues() -> None:
    """List and export the clues in the register."""


@clues.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv", "xlsx"]), default="jsonl", show_default=True
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File (default stdout)."
)
@with_settings
def clues_export(fmt: str, out: Path | None, settings: Settings) -> None:
    """Export every clue (audited)."""
    from qingfeng.register.export import export_clues, export_to_file

    if out is None and fmt == "xlsx":
        fail("xlsx 导出需要 --out 文件")
    with register_session(settings) as session, domain_errors():
        if out is None:
            export_clues(session, operator_name(), fmt, sys.stdout.buffer)
        else:
            n = export_to_file(session, operator_name(), fmt, out)
            click.echo(f"{n} clue(s) written to {out}", err=True)


@clues.command("list")
@click.option("--rule", default=None)
@click.option("--status", default=None)
@click.option("--town", default=None)
@click.option(
    "--sort", default="severity", type=click.Choice(["severity", "amount", "risk", "first_seen", "id"])
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@with_settings
def clues_list(
    rule: str | None, status: str | None, town: str | None, sort: str, limit: int, settings: Settings
) -> None:
    """Print the clue queue."""
    from rich.table import Table
    from sqlalchemy import func, select

    from qingfeng.register.queries import ClueFilter, filtered_ids, rows_for_ids, sort_order
    from qingfeng.register.service import describe

    with register_session(settings) as session, domain_errors():
        today = dt.date.today()
        stmt = filtered_ids(ClueFilter(rule=rule, status=status, town=town), today)
        ids = list(session.scalars(stmt.order_by(*sort_order(sort)).limit(limit)))
        rows = [(r.clue, r.deadline, r.colour) for r in rows_for_ids(session, ids, today)]
        total = session.scalar(select(func.count()).select_from(stmt.subquery()))
        table = Table(title=f"线索 {len(rows)} / {total}")
        for col in ("id", "rule", "status", "severity", "amount", "town", "subjects", "last_seen", "colour"):
            table.add_column(col)
        for clue, _deadline, colour in rows:
            d = describe(clue)
            names = ", ".join(s.get("name") or s.get("id") or "" for s in d["subjects"][:3])
            table.add_row(
                str(d["id"]),
                d["rule"],
                d["status"],
                d["severity"],
                str(d["amount"]),
                d["town"] or "",
                names,
                d["last_seen"],
                colour or "",
            )
        console().print(table)


@click.group()
def report() -> None:
    """Progress reports."""


@report.command("monthly")
@click.option("--month", required=True, help="YYYY-MM")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "xlsx"]), default="table", show_default=True
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File for xlsx/json."
)
@with_settings
def report_monthly(month: str, fmt: str, out: Path | None, settings: Settings) -> None:
    """进度月报: found, dispatched, rectified, closed, recovered funds, outcomes, overdue — per rule and town."""
    from qingfeng.register.report import FIGURE_TITLES, FIGURES, monthly_report, report_rows

    with register_session(settings) as session, domain_errors():
        rep = monthly_report(session, month)
    header = ["维度", "项目", *[FIGURE_TITLES[k] for k in FIGURES]]
    if fmt == "json":
        text = json.dumps(rep, ensure_ascii=False, indent=2)
        if out:
            out.write_text(text + "\n", encoding="utf-8")
        else:
            click.echo(text)
    elif fmt == "xlsx":
        if out is None:
            fail("xlsx 需要 --out 文件")
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = f"进度月报 {month}"
        ws.append(header)
        for row in report_rows(rep):
            ws.append([float(v) if k == 2 + FIGURES.index("recovered") else v for k, v in enumerate(row)])
        assert out is not None
        out.parent.mkdir(parents=True, exist_ok=True)
        wb.save(out)
        click.echo(f"report written to {out}", err=True)
    else:
        from rich.table import Table

        table = Table(title=f"进度月报 {month}")
        for h in header:
            table.add_column(h)
        for row in report_rows(rep):
            table.add_row(*[str(v) for v in row])
        console().print(table)


def _write(out: Path | None, fmt: str, text: str | None = None, body: bytes | None = None) -> None:
    if fmt == "xlsx":
        if out is None:
            fail("xlsx 需要 --out 文件")
        assert out is not None and body is not None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(body)
        click.echo(f"report written to {out}", err=True)
    elif out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text((text or "") + "\n", encoding="utf-8")
    else:
        click.echo(text)


PERIOD_OPTIONS = (
    click.option("--from", "start", required=True, help="开始日期 YYYY-MM-DD(含)"),
    click.option("--to", "end", required=True, help="结束日期 YYYY-MM-DD(含)"),
    click.option(
        "--format", "fmt", type=click.Choice(["text", "json", "xlsx"]), default="text", show_default=True
    ),
    click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File."),
)


def period_options(func: Any) -> Any:
    for option in reversed(PERIOD_OPTIONS):
        func = option(func)
    return func


@report.command("campaign")
@period_options
@click.option("--project", "code", default=None, help="项目代码 (default: the whole district)")
@with_settings
def report_campaign(
    start: str, end: str, fmt: str, out: Path | None, code: str | None, settings: Settings
) -> None:
    """专项治理成效: the headline sentence, the per-project table and the records behind them (xlsx)."""
    from qingfeng.campaigns import exports
    from qingfeng.campaigns.periods import parse_period
    from qingfeng.campaigns.report import campaign_report, project_by_code
    from qingfeng.register.safe_output import FULL_NOTE
    from qingfeng.register.users import audit
    from qingfeng.web.masking import Masker

    if fmt == "xlsx" and out is None:
        fail("xlsx 需要 --out 文件")
    with register_session(settings) as session, domain_errors():
        first, last = parse_period(start, end)
        project_id = project_by_code(session, code).id if code is not None else None
        rep = campaign_report(session, first, last, project_id=project_id)
        if fmt == "json":
            _write(out, fmt, json.dumps(exports.report_data(rep), ensure_ascii=False, indent=2))
        elif fmt == "xlsx":  # the records name people: the operator sees them whole, and it is audited
            _write(out, fmt, body=exports.report_xlsx(session, rep, Masker(full=True)))
            audit(
                session,
                operator_name(),
                "export",
                target="campaign_report.xlsx",
                detail=f"{first}~{last} {exports.scope_label(rep)}; {FULL_NOTE}",
            )
            session.commit()
        else:
            _print_campaign(rep)


def _print_campaign(rep: Any) -> None:
    from decimal import Decimal

    from rich.table import Table

    from qingfeng.campaigns.exports import UNASSIGNED, scope_label
    from qingfeng.campaigns.report import FIGURE_TITLES, FIGURES

    click.echo(f"{rep.start.isoformat()} 至 {rep.end.isoformat()}（{scope_label(rep)}），{rep.sentence}。")
    table = Table(title="分项目统计")
    for title in ("项目", *FIGURE_TITLES.values()):
        table.add_column(title)
    rows = [(f"{p.code} {p.title}", p.figures) for p in rep.projects]
    if rep.unassigned is not None and rep.scope is None:
        rows.append((UNASSIGNED, rep.unassigned))
    rows.append(("合计", rep.headline))
    for label, figures in rows:
        values = [figures.value(k) for k in FIGURES]
        table.add_row(label, *[f"{v:,.2f}" if isinstance(v, Decimal) else str(v) for v in values])
    console().print(table)


@report.command("evaluation")
@period_options
@with_settings
def report_evaluation(start: str, end: str, fmt: str, out: Path | None, settings: Settings) -> None:
    """评估单: lead departments and liaison units scored, ranked, and the 督促提醒 list."""
    from qingfeng.campaigns import exports
    from qingfeng.campaigns.config import CampaignsConfigError, campaigns_config
    from qingfeng.campaigns.evaluation import evaluate
    from qingfeng.campaigns.periods import parse_period
    from qingfeng.web.masking import Masker

    if fmt == "xlsx" and out is None:
        fail("xlsx 需要 --out 文件")
    try:
        config = campaigns_config(settings.campaigns_config).evaluation
    except CampaignsConfigError as exc:
        fail(str(exc))
    with register_session(settings) as session, domain_errors():
        first, last = parse_period(start, end)
        ev = evaluate(session, first, last, config)
    if fmt == "json":
        _write(out, fmt, json.dumps(exports.evaluation_data(ev), ensure_ascii=False, indent=2))
    elif fmt == "xlsx":
        _write(out, fmt, body=exports.evaluation_xlsx(ev, Masker(full=True)))
    else:
        from rich.table import Table

        table = Table(title=f"评估单 {ev.start.isoformat()} 至 {ev.as_of.isoformat()}")
        for title in exports.EVALUATION_HEADER:
            table.add_column(title)
        for row in exports.evaluation_rows(ev):
            table.add_row(*[str(v) for v in row])
        console().print(table)
        click.echo(f"督促提醒({ev.last_month}):" + ("无" if not ev.reminders else ""))
        for r in ev.reminders:
            click.echo(f"- {r.unit}:" + "；".join(r.reasons))


commands = [db, clues, report]
