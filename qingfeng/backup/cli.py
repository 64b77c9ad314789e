"""``qingfeng backup`` and ``qingfeng restore`` (the work happens in ``archive``, imported when run)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from qingfeng.clikit import Settings, fail, with_settings


@contextmanager
def _one_line_errors() -> Iterator[None]:
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    from qingfeng.backup import BackupError

    try:
        yield
    except BackupError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        fail(f"register: {detail[0] if detail else type(exc).__name__}")
    except (OSError, sqlite3.Error) as exc:
        fail(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"


def _rows(rows: dict[str, int]) -> str:
    return ", ".join(f"{table} {n}" for table, n in rows.items())


def _parts(manifest: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    lake = [f for f in manifest["files"] if f["path"].startswith("lake/")]
    secrets = [f["path"].split("/", 1)[1] for f in manifest["files"] if f["path"].startswith("secrets/")]
    return lake, secrets


def _waiting(lock: Path) -> None:
    click.echo(f"waiting for {lock}: an ingest or cross-match is running on this home", err=True)


def _audit(url: str, action: str, target: str, detail: str) -> bool:
    """One audit record as the operating-system user (``cli:<login>``, as ``qingfeng users`` does);
    False for a register too old to have the audit chain (back up before ``qingfeng db upgrade``)."""
    from sqlalchemy import inspect

    from qingfeng.register.cli import operator_name
    from qingfeng.register.db import make_engine, session_factory
    from qingfeng.register.users import audit

    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("audit_chain"):
            return False
        with session_factory(engine)() as session:
            audit(session, operator_name(), action, target=target, detail=detail)
            session.commit()
        return True
    finally:
        engine.dispose()


@click.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_settings
def backup(out: Path, settings: Settings) -> None:
    """Write a consistent snapshot of the home's register and lake to OUT (.tar.gz).

    \b
    The archive holds the register (SQLite online backup, or pg_dump of the
    PostgreSQL register), the whole lake, the web UI's key file <home>/web_secret
    and backup.json (versions, alembic revision, row counts, sha256 of every
    file). It holds personal data and the web secret: keep it as confidential
    as the register. Restore it with `qingfeng restore`.
    """
    from qingfeng.backup import archive

    audited: list[bool] = []

    def audit(manifest: dict[str, Any]) -> None:
        detail = f"{out.resolve()} ({manifest['created_at']}, {_files(len(manifest['files']))})"
        audited.append(_audit(settings.resolved_register_url, "export", "backup", detail))

    with _one_line_errors():
        outcome = archive.backup(settings, out, audit=audit, waiting=_waiting)
    manifest = outcome.manifest
    lake, secrets = _parts(manifest)
    total = sum(f["bytes"] for f in manifest["files"])
    click.echo(
        f"backup {outcome.archive}: {_files(len(manifest['files']))}, {_size(total)} "
        f"({_size(outcome.archive_bytes)} compressed)"
    )
    click.echo(
        f"  register  {manifest['backend']} at revision {manifest['alembic_revision']}: "
        f"{_rows(manifest['register']['rows'])}"
    )
    click.echo(f"  lake      {_files(len(lake))}, {_size(sum(f['bytes'] for f in lake))}")
    click.echo(f"  secrets   {', '.join(secrets) or '(none under home)'}")
    if audited and not audited[0]:
        click.echo("  not audited: the register predates the audit chain (run `qingfeng db upgrade`)")
    click.echo("  the archive holds personal data and the web secret: store it as you store the register")


@click.command()
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--register-url",
    default=None,
    help="Register to restore into (default QINGFENG_REGISTER_URL, else SQLite <home>/register.db).",
)
@click.option("--force", is_flag=True, help="Replace the lake and register of a target that is not empty.")
@with_settings
def restore(archive: Path, register_url: str | None, force: bool, settings: Settings) -> None:
    """Restore a `qingfeng backup` ARCHIVE into --home and its register.

    \b
    Every file is checked against the sha256 in backup.json before anything is
    written; a target home (or register) that is not empty is refused unless
    --force. The register is then migrated to this version's schema (the
    backup may be older). Stop `qingfeng serve` and pipeline runs on the
    target first.
    """
    from qingfeng.backup import archive as backups
    from qingfeng.settings import get_settings

    target = get_settings(home=settings.home, register_url=register_url) if register_url else settings

    def audit(manifest: dict[str, Any]) -> None:
        detail = (
            f"{archive.resolve()}: backup of {manifest['created_at']} from {manifest['source']['home']} "
            f"(revision {manifest['alembic_revision']}, qingfeng {manifest['qingfeng_version']})"
        )
        _audit(target.resolved_register_url, "change", "restore", detail)

    with _one_line_errors():
        manifest = backups.restore(archive, target, force=force, audit=audit, waiting=_waiting)
    lake, secrets = _parts(manifest)
    from qingfeng.backup.register import shown

    click.echo(
        f"restored {archive} (backup of {manifest['created_at']}, qingfeng {manifest['qingfeng_version']}) "
        f"into {target.home.resolve()}: {_files(len(manifest['files']))}, "
        f"{_size(sum(f['bytes'] for f in manifest['files']))}"
    )
    click.echo(
        f"  register  {shown(target.resolved_register_url)} at revision {manifest['restored_revision']} "
        f"(backup: {manifest['alembic_revision']}): {_rows(manifest['restored_rows'])}"
    )
    click.echo(f"  lake      {_files(len(lake))}, {_size(sum(f['bytes'] for f in lake))}")
    click.echo(f"  secrets   {', '.join(secrets) or '(none in the archive)'}")


commands = [backup, restore]
