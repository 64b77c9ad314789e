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


commands = [db, clues, report]
