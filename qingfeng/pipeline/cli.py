"""``qingfeng run``: the whole pipeline in one command (light at import: no pyspark here)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from qingfeng.clikit import as_of_option, fail, with_settings

if TYPE_CHECKING:
    from rich.console import Console

    from qingfeng.pipeline.run import RunOutcome
    from qingfeng.settings import Settings


@click.command("run")
@click.option(
    "--input",
    "input_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of delivered export files.",
)
@as_of_option()
@with_settings
def run(settings: Settings, input_dir: Path, as_of: dt.date | None) -> None:
    """Ingest, resolve, graph, cross-match and publish to the register, in one process.

    Without --as-of, the as-of date follows the data: the end of the latest period every
    period-named input reaches (docs/operations.md, "The as-of date").
    """
    from rich.console import Console

    from qingfeng.pipeline.run import run_pipeline
    from qingfeng.pipeline.stages import StageError

    console = Console()
    shown = as_of or "from the data"
    console.print(f"清风 run  as-of [bold]{shown}[/]  input {input_dir}  home {settings.home.resolve()}")
    try:
        with _StageProgress(console) as progress:
            outcome = run_pipeline(settings, input_dir, as_of, hook=progress.hook, detail=progress.detail)
    except StageError as exc:
        fail(str(exc))
        return
    finally:
        from qingfeng.spark import stop_spark

        stop_spark()
    print_summary(console, outcome)


class _StageProgress:
    """A rich progress display with one line per stage."""

    def __init__(self, console: Console) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(finished_text=""),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _StageProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        for task_id in self.tasks.values():
            self.progress.stop_task(task_id)
        self.progress.__exit__(None, None, None)

    def detail(self, stage: str, message: str) -> None:
        if stage in self.tasks:
            self.progress.update(self.tasks[stage], description=f"[bold]{stage}[/] [dim]{message}")

    def hook(self, stage: str, event: str, result: Any) -> None:
        if not self.progress.console.is_terminal:  # logs (Airflow, CI) get one plain line per event
            done = f"done in {result.seconds:.1f}s {_brief(result)}" if result is not None else "started"
            self.progress.console.print(f"{stage}: {done}", highlight=False)
        if event == "start":
            self.tasks[stage] = self.progress.add_task(f"[bold]{stage}[/] …", total=1)
        else:
            task_id = self.tasks[stage]
            self.progress.update(
                task_id, completed=1, description=f"[green]✓[/] {stage} [dim]{_brief(result)}"
            )
            self.progress.stop_task(task_id)


def _brief(result: Any) -> str:
    """A few headline numbers of a stage summary for its progress line."""
    summary = getattr(result, "summary", {}) or {}
    totals = summary.get("totals")
    if isinstance(totals, dict):
        return ", ".join(f"{k} {v}" for k, v in totals.items() if v)
    return ""


def print_summary(console: Console, outcome: RunOutcome) -> None:
    from rich.table import Table

    rules = outcome.clues_per_rule
    clues = Table(title="Clues per rule", show_footer=bool(rules))
    totals = {k: sum(c[k] for c in rules.values()) for k in ("new", "re-detected", "re-opened")}
    clues.add_column("rule", footer="total")
    for label in ("new", "re-detected", "re-opened"):
        clues.add_column(label, justify="right", footer=str(totals[label]))
    for rule, counts in rules.items():
        clues.add_row(rule, *(str(counts[k]) for k in ("new", "re-detected", "re-opened")))
    if not rules:
        clues.add_row("(the publish stage reported no per-rule counts)", "", "", "")
    console.print(clues)

    quarantine = Table(title="Quarantined rows per feed")
    quarantine.add_column("feed")
    quarantine.add_column("rows", justify="right")
    for feed, n in outcome.quarantined_per_feed.items():
        quarantine.add_row(feed, str(n))
    console.print(quarantine)

    timing = Table(title="Time per stage")
    timing.add_column("stage")
    timing.add_column("seconds", justify="right")
    for result in outcome.results:
        timing.add_row(result.stage, f"{result.seconds:.1f}")
    timing.add_row("[bold]total", f"[bold]{sum(r.seconds for r in outcome.results):.1f}")
    console.print(timing)
    publish = outcome.result("publish")
    run_id = publish.summary.get("run_id") if publish else None
    console.print(f"As-of {outcome.as_of} ({outcome.as_of_source}).")
    console.print(f"Recorded as pipeline run {run_id}." if run_id else "Published to the register.")


commands = [run]
