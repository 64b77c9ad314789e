"""``qingfeng campaigns``: projects, task lists, inspections and outcomes from the command line,
through the same service as the web pages."""

from __future__ import annotations

import click


@click.group()
def campaigns() -> None:
    """专项治理: campaign projects, task lists, inspections, outcomes."""


commands = [campaigns]
