"""``qingfeng bench --households N [--seed S]``."""

from __future__ import annotations

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


commands = [bench]
