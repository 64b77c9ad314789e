"""``qingfeng ingest`` and ``qingfeng quality``. Light at import: Spark loads inside the commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from qingfeng.clikit import fail, with_settings

if TYPE_CHECKING:
    from qingfeng.ingest.report import IngestReport
    from qingfeng.settings import Settings


@click.command()
@click.option(
    "--input",
    "input_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of delivered export files.",
)
@click.option("--feed", "feeds", multiple=True, help="Only these feeds (repeatable); default all.")
@click.option("--json", "as_json", is_flag=True, help="Print the ingest report as JSON.")
@with_settings
def ingest(settings: Settings, input_dir: Path, feeds: tuple[str, ...], as_json: bool) -> None:
    """Ingest every recognised file in --input into the lake.

    Exit status 1 when a file failed, or when no file in the folder was recognised.
    Unrecognised files are listed but do not fail a run that ingested others.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from qingfeng.feeds.model import FeedFileError

    if not input_dir.is_dir():
        fail(f"input folder {input_dir} does not exist")
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting Spark", total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        from qingfeng.ingest.engine import ingest_dir
        from qingfeng.spark import get_spark

        try:
            report = ingest_dir(
                settings, input_dir, spark=get_spark(settings), feeds=list(feeds) or None, progress=progress
            )
        except (FeedFileError, FileNotFoundError) as exc:
            fail(str(exc))
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_report(console, report)
    problems = [f.error or f.file for f in report.failed]
    usable = [f for f in report.files if f.status in ("ingested", "duplicate")]
    if problems:
        fail(f"{len(problems)} file(s) failed:\n  " + "\n  ".join(problems))
    if not usable:
        fail(f"no recognised file in {input_dir}")


def _print_report(console: object, report: IngestReport) -> None:
    from rich.table import Table

    table = Table(title=f"ingest of {report.input_dir}")
    for name in ("file", "table", "status", "read", "accepted", "quarantined", "reasons"):
        table.add_column(name, justify="right" if name in ("read", "accepted", "quarantined") else "left")
    for f in report.files:
        reasons = ", ".join(f"{k} {v}" for k, v in f.reasons.items())
        table.add_row(
            f.file,
            f.table or "-",
            f.status,
            str(f.rows_read),
            str(f.rows_accepted),
            str(f.rows_quarantined),
            reasons or (f.error or ""),
        )
    console.print(table)  # type: ignore[attr-defined]
    for f in report.files:
        for warning in f.warnings:
            console.print(f"[yellow]warning[/]: {warning}")  # type: ignore[attr-defined]


@click.command()
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
@with_settings
def quality(settings: Settings, fmt: str) -> None:
    """Print the per-file reconciliation of everything ingested: rows read = accepted + quarantined."""
    from qingfeng.ingest.quality import reconciliation

    rows = reconciliation(settings)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    if not rows:
        fail(f"nothing ingested yet under {settings.lake}")
    table = Table(title=f"reconciliation under {settings.lake}")
    for name in ("feed", "table", "file", "rows_read", "rows_accepted", "rows_quarantined", "reasons"):
        table.add_column(name)
    for r in rows:
        reasons = ", ".join(f"{k} {v}" for k, v in r["reasons"].items())
        table.add_row(
            r["feed"],
            r["table"],
            r["file"],
            str(r["rows_read"]),
            str(r["rows_accepted"]),
            str(r["rows_quarantined"]),
            reasons,
        )
    Console().print(table)


commands = [ingest, quality]
