"""``qingfeng synth``: write a synthetic district (all exports, truth.jsonl, district.json)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("synth")
@click.option(
    "--households", "-n", type=click.IntRange(min=1), required=True, help="Background households to generate."
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Random seed: same seed and size, same bytes."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output directory.",
)
@click.option(
    "--year",
    type=click.IntRange(2000, 2090),
    default=2023,
    show_default=True,
    help="Year of the monthly feeds.",
)
def synth(households: int, seed: int, out_dir: Path, year: int) -> None:
    """Generate a synthetic district with planted cases, look-alike traps and a truth file."""
    from qingfeng.synth.generate import synthesize

    if out_dir.exists() and any(out_dir.iterdir()):
        raise click.ClickException(
            f"{out_dir} is not empty: choose a new directory so old exports do not mix in"
        )
    summary = synthesize(out_dir, households, seed, year, progress=lambda msg: click.echo(msg, err=True))
    clues = sum(v for k, v in summary["truth"].items() if k.startswith("clue:"))
    traps = sum(v for k, v in summary["truth"].items() if k.startswith("trap:"))
    click.echo(
        f"wrote {len(summary['rows'])} export files ({sum(summary['rows'].values())} rows) to {out_dir} "
        f"in {summary['seconds']}s; truth: {clues} clues, {traps} traps; suggested --as-of {summary['as_of']}"
    )


commands = [synth]
