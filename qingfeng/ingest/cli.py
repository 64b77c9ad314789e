"""``qingfeng ingest`` and ``qingfeng quality``. Light at import: Spark loads inside the commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from qingfeng.clikit import fail, with_settings

if TYPE_CHECKING:
    from qingfeng.feeds.model import FeedProblem
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

    Exit status 1 when a file failed or was held, or when no file in the folder was recognised.
    Unrecognised files are listed but do not fail a run that ingested others. A held file (a
    re-delivery with markedly fewer rows, or without a village, than the one it would replace)
    waits for `qingfeng deliveries accept` or `reject`; the other files still land.

    A broken feed file (see `qingfeng feeds check`) is reported with its file and field, and the
    other feeds are ingested. It fails the run (exit status 1) only when it was asked for: named
    with --feed, or claiming (by its pattern) a file of --input, which then cannot be ingested.
    """
    import logging

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from qingfeng.feeds.model import FeedFileError, load_feeds

    if not input_dir.is_dir():
        fail(f"input folder {input_dir} does not exist")
    console = Console(stderr=True)
    feedset = load_feeds(settings.feeds_dir, log_problems=False)
    broken = {path.stem: path for path in feedset.broken if path.suffix == ".yml"}
    for problem in feedset.problems:
        console.print(f"[red]broken feed file[/], not ingested: {problem}", highlight=False, soft_wrap=True)
    asked_broken = sorted(set(feeds) & set(broken))
    wanted = [f for f in feeds if f not in broken] if feeds else None
    if feeds and not wanted:
        fail(_broken_message(feedset.problems, asked_broken, [], ingested=False))
    # the engine loads the feeds again: this command reported their problems already
    feeds_log = logging.getLogger("qingfeng.feeds.model")
    level = feeds_log.level
    feeds_log.setLevel(logging.ERROR)
    try:
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
                    settings, input_dir, spark=get_spark(settings), feeds=wanted, progress=progress
                )
            except (FeedFileError, FileNotFoundError) as exc:
                fail(str(exc))
    finally:
        feeds_log.setLevel(level)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_report(console, report)
    stranded = [
        f"{f.file}: not ingested: its feed file {owner} is broken"
        for f in report.files
        if f.status == "unrecognised" and (owner := feedset.broken_feed_for(f.file)) is not None
    ]
    if asked_broken or stranded:
        fail(_broken_message(feedset.problems, asked_broken, stranded, ingested=True))
    failed = [f.error or f.file for f in report.failed if f.status == "failed"]
    held = [f.error or f"{f.file}: held" for f in report.held]
    usable = [f for f in report.files if f.status in ("ingested", "duplicate", "rejected")]
    if failed or held:
        lines = [f"{len(failed)} file(s) failed:", *[f"  {p}" for p in failed]] if failed else []
        if held:
            lines += [f"{len(held)} file(s) held, nothing of them landed (`qingfeng deliveries list`):"]
            lines += [f"  {p}" for p in held]
        fail("\n".join(lines))
    if not usable:
        fail(f"no recognised file in {input_dir}")


def _broken_message(
    problems: list[FeedProblem], asked: list[str], stranded: list[str], *, ingested: bool
) -> str:
    others = "the other feeds were ingested" if ingested else "nothing was ingested"
    lines = [f"broken feed file(s), {others} ({len(problems)} problem(s)):"]
    lines += [f"  {p}" for p in problems]
    if asked:
        lines.append(f"requested with --feed: {', '.join(asked)}")
    lines += [f"  {s}" for s in stranded]
    lines.append("check them with `qingfeng feeds check`")
    return "\n".join(lines)


def _short(f: object) -> str:
    """The last column of a report row: the error, or for a held file what held it."""
    held = getattr(f, "held", None)
    if held:
        return f"held: {held.get('reason', '')}"
    return getattr(f, "error", None) or ""


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
            reasons if f.status != "held" and reasons else _short(f),
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
