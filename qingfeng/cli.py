"""The ``qingfeng`` command. Each area contributes its commands from ``qingfeng/<area>/cli.py``;
those modules stay light at import (no pyspark) so that ``qingfeng --help`` is instant."""

from __future__ import annotations

import importlib

import click

from qingfeng import __version__

COMMAND_MODULES = (
    "qingfeng.ingest.cli",  # ingest, quality
    "qingfeng.ingest.deliveries",  # deliveries list|accept|reject
    "qingfeng.feeds.cli",  # feeds check
    "qingfeng.synth.cli",  # synth
    "qingfeng.resolve_cli",  # resolve, graph, resolution-quality
    "qingfeng.register.cli",  # db, clues, report
    "qingfeng.register.accounts_cli",  # users, units, audit
    "qingfeng.campaigns.cli",  # campaigns
    "qingfeng.notify.cli",  # notify send-pending|sweep|list|test
    "qingfeng.pipeline.cli",  # run
    "qingfeng.pipeline.alerts",  # alerts test
    "qingfeng.pipeline.service",  # airflow setup|env|run
    "qingfeng.evaluate",  # evaluate
    "qingfeng.rulesdoc",  # rules-doc
    "qingfeng.web.cli",  # serve
    "qingfeng.bench.cli",  # bench
    "qingfeng.spark_server",  # spark-server
    "qingfeng.demo",  # demo
    "qingfeng.backup.cli",  # backup, restore
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__)
def main() -> None:
    """清风 qingfeng: supervision data lake, cross-matching and clue register."""


def _load() -> None:
    for name in COMMAND_MODULES:
        for command in importlib.import_module(name).commands:
            main.add_command(command)


_load()
