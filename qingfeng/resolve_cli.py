"""Commands ``resolve``, ``graph`` and ``resolution-quality`` (light at import: Spark loads inside the commands)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from qingfeng.clikit import fail, with_settings


def _spark(settings):
    from qingfeng.spark import get_spark

    return get_spark(settings)


@click.command()
@with_settings
def resolve(settings) -> None:
    """Resolve people and companies: standardized → curated/person, company, mentions, quarantine."""
    from jobs.resolve import main

    try:
        summary = main(settings, spark=_spark(settings))
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@click.command()
@with_settings
def graph(settings) -> None:
    """Build the kinship/ownership graph: curated/relation and curated/kin (kinship_steps in config/rules.yml)."""
    from jobs.kinship import main

    try:
        summary = main(settings, spark=_spark(settings))
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    click.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@click.command("resolution-quality")
@click.option(
    "--truth",
    "truth_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="truth.jsonl written by `qingfeng synth`.",
)
@click.option("--min-precision", type=float, default=None, help="Exit 1 when precision is below this.")
@click.option("--min-recall", type=float, default=None, help="Exit 1 when recall is below this.")
@with_settings
def resolution_quality(
    settings, truth_path: Path, min_precision: float | None, min_recall: float | None
) -> None:
    """Print resolution precision and recall against the synthetic truth file."""
    from jobs.resolve.quality import quality_from_lake

    try:
        result = quality_from_lake(settings, truth_path)
    except ValueError as exc:
        fail(str(exc))
    click.echo(
        f"planted {result.planted}: correct {result.correct}, wrong {result.wrong}, missed {result.missed}; "
        f"traps {result.traps}: merged {result.trap_merges}"
    )
    click.echo(f"precision {result.precision:.4f}  recall {result.recall:.4f}")
    for failure in result.failures[:20]:
        click.echo("  " + json.dumps(failure, ensure_ascii=False))
    if (min_precision is not None and result.precision < min_precision) or (
        min_recall is not None and result.recall < min_recall
    ):
        raise SystemExit(1)


commands = [resolve, graph, resolution_quality]
