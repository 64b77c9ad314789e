"""``qingfeng campaigns``: projects, task lists, inspections and outcomes from the command line,
through the same service as the web pages."""

from __future__ import annotations

from pathlib import Path

import click

from qingfeng.clikit import with_settings
from qingfeng.settings import Settings


@click.group()
def campaigns() -> None:
    """专项治理: campaign projects, task lists, inspections, outcomes."""


commands = [campaigns]


@campaigns.command("export-public")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for index.html and its stylesheet (created if missing; the two files are replaced).",
)
@with_settings
def export_public(settings: Settings, out_dir: Path) -> None:
    """向社会公开: write the public page (as GET /public shows it today) for the government site."""
    from qingfeng.campaigns.config import campaigns_config
    from qingfeng.campaigns.disclosure import public_disclosure
    from qingfeng.register import users
    from qingfeng.register.cli import operator_name, register_session
    from qingfeng.web.public_page import export

    min_count = campaigns_config(settings.campaigns_config).disclosure.min_count
    with register_session(settings) as session:
        disclosure = public_disclosure(session, min_count=min_count)
        written = export(disclosure, out_dir)
        detail = f"{len(disclosure.projects)} projects as of {disclosure.as_of} to {out_dir.resolve()}"
        users.audit(session, operator_name(), "export", target="public", detail=detail[:500])
        session.commit()
    for path in written:
        click.echo(str(path))
