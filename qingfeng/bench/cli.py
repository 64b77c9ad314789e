"""``qingfeng bench --households N [--seed S]`` and ``qingfeng bench-pages [--clues N] [--home DIR]``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from qingfeng.clikit import Settings, fail, with_settings


@click.command("bench")
@click.option("--households", "-n", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--spark-server",
    is_flag=True,
    help="Run through a fresh Spark Connect server and measure its second run (a resident server's steady state).",
)
@with_settings
def bench(households: int, seed: int, spark_server: bool, settings: Settings) -> None:
    """Benchmark the end-to-end pipeline on a generated district (cached by size and seed)."""
    from qingfeng.bench.harness import markdown, run_bench, write_results
    from qingfeng.pipeline.stages import StageError

    try:
        result = run_bench(
            settings, households, seed, say=lambda m: click.echo(m, err=True), spark_server=spark_server
        )
    except StageError as exc:
        fail(str(exc))
        return
    json_path, md_path = write_results(settings, result)
    click.echo(markdown(result))
    click.echo(f"results: {json_path} and {md_path}")


@click.command("bench-pages")
@click.option("--clues", type=click.IntRange(min=1), default=100_000, show_default=True)
@click.option("--runs", type=click.IntRange(min=1), default=5, show_default=True)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the register (default: a temp folder); an existing register.db is re-used.",
)
def bench_pages(clues: int, runs: int, home: Path | None) -> None:
    """Time the UI's pages over HTTP on a register of N synthetic clues (median wall and CPU ms)."""
    from qingfeng.bench.pages import run_page_bench

    run_page_bench(home or Path(tempfile.mkdtemp(prefix="qingfeng-bench-")), clues, runs)


commands = [bench, bench_pages]
