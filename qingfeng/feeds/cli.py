"""``qingfeng feeds check`` and ``qingfeng feeds suite``. Light at import; never imports pyspark
(see qingfeng.feeds.check)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group()
def feeds() -> None:
    """Feed files (feeds/*.yml) and the expectation suites generated from them."""


@feeds.command()
@click.argument("feeds_dir", required=False, type=click.Path(path_type=Path))
@click.option(
    "--samples",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also run every pattern against the file names in this folder (each must match one feed).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def check(feeds_dir: Path | None, samples: Path | None, as_json: bool) -> None:
    """Check every feed file of FEEDS_DIR (default QINGFENG_FEEDS_DIR, else the shipped feeds/),
    without starting Spark: the model, the row checks' Spark SQL, the GX suites generated from
    the files (their `expectations:` and columns), and the file name patterns against `examples:`.

    Exit status 1 when there is any error; warnings alone exit 0.
    """
    from qingfeng.feeds.check import check_feeds, without_pyspark
    from qingfeng.settings import get_settings

    settings = get_settings(feeds_dir=feeds_dir)
    with without_pyspark():
        result = check_feeds(settings.feeds_dir, samples=samples)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"feeds: {result.feeds_dir}")
        for problem in result.problems:
            click.echo(f"{problem.severity}: {problem}")
        for note in result.notes:
            click.echo(f"note: {note}")
        verdict = "FAILED" if result.errors else "ok"
        click.echo(
            f"{verdict}: {result.feeds} feed file(s), {result.tables} table(s); "
            f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) in {result.seconds:.1f} s"
        )
    if result.errors:
        sys.exit(1)


@feeds.command()
@click.argument("table")
@click.option(
    "--feeds-dir", type=click.Path(path_type=Path), default=None, help="Default QINGFENG_FEEDS_DIR."
)
def suite(table: str, feeds_dir: Path | None) -> None:
    """Print the GX suite generated for TABLE from its feed file (GX's JSON form)."""
    from qingfeng.feeds.model import load_feeds
    from qingfeng.feeds.suite import suite_document
    from qingfeng.settings import get_settings

    folder = get_settings(feeds_dir=feeds_dir).feeds_dir
    for feed in load_feeds(folder, log_problems=False):
        for spec in feed.files:
            if spec.table == table:
                click.echo(json.dumps(suite_document(feed.feed, spec), ensure_ascii=False, indent=2))
                return
    raise click.ClickException(f"no feed of {folder} lands a table {table!r}")


commands = [feeds]
