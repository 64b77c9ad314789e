"""The register's part of a backup: a consistent copy with its alembic revision and row counts, and the
way back.

SQLite: ``sqlite3.Connection.backup`` copies the file page by page under a read transaction (WAL
content included), so writers may go on; the copy is switched to a rollback journal, one file.
PostgreSQL: a REPEATABLE READ transaction exports its snapshot, the row counts are read in it, and
``pg_dump --snapshot`` dumps exactly that state.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from qingfeng.backup import BackupError

# the register's main tables, in the order the summary prints them
MAIN_TABLES = (
    "clue",
    "clue_subject",
    "evidence",
    "event",
    "dispatch",
    "rectification",
    "subject_risk",
    "campaign_project",
    "campaign_task",
    "inspection",
    "institution",
    "unit",
    "app_user",
    "pipeline_run",
    "access_log",
    "notification",
)
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
DUMP_NAMES = {"sqlite": "register.db", "postgresql": "register.pgdump"}


@dataclass
class RegisterCopy:
    backend: str
    path: Path
    revision: str | None
    rows: dict[str, int]


def backend_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in DUMP_NAMES:
        raise BackupError(f"register backend {backend!r} is not supported (sqlite or postgresql)")
    return backend


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"register {url} is not a file")
    return Path(database).resolve()


def pg_binary(name: str) -> str:
    """``name`` from PATH, else the newest /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.parent.name))

    candidates = sorted(glob.glob(f"{PG_BIN_GLOB}/{name}"), key=version, reverse=True)
    if not candidates:
        raise BackupError(
            f"{name} not found on PATH or in {PG_BIN_GLOB}: install the PostgreSQL client tools "
            "(e.g. apt-get install postgresql-client) of the server's version or newer"
        )
    return candidates[0]


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for ``--dbname`` and the environment carrying the password (never on the command line)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def run_tool(cmd: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{Path(cmd[0]).name} could not run: {exc}") from None
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()] or lines
        raise BackupError(f"{Path(cmd[0]).name} failed: {errors[0] if errors else f'exit {done.returncode}'}")


def _counts(execute: Any, tables: list[str]) -> dict[str, int]:
    return {t: int(execute(f'SELECT count(*) FROM "{t}"')) for t in MAIN_TABLES if t in tables}


def copy_register(url: str, folder: Path) -> RegisterCopy:
    """Copy the register at ``url`` into ``folder``; its revision and row counts are those of the copy."""
    backend = backend_of(url)
    target = folder / DUMP_NAMES[backend]
    if backend == "sqlite":
        return _copy_sqlite(url, target)
    return _copy_postgres(url, target)


def _copy_sqlite(url: str, target: Path) -> RegisterCopy:
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"register {source_path} does not exist: nothing to back up")
    source = sqlite3.connect(source_path, timeout=15)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        tables = [row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        if "alembic_version" not in tables:
            raise BackupError(f"register {source_path} is not initialized (no alembic_version table)")
        revision = copy.execute("SELECT version_num FROM alembic_version").fetchone()
        rows = _counts(lambda sql: copy.execute(sql).fetchone()[0], tables)
    finally:
        copy.close()
        source.close()
    return RegisterCopy("sqlite", target, revision[0] if revision else None, rows)


def _copy_postgres(url: str, target: Path) -> RegisterCopy:
    pg_dump = pg_binary("pg_dump")
    dbname, env = libpq_target(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                tables = inspect(conn).get_table_names()
                if "alembic_version" not in tables:
                    raise BackupError(f"register {shown(url)} is not initialized (no alembic_version table)")
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                rows = _counts(lambda sql: conn.execute(text(sql)).scalar_one(), tables)
                # the transaction stays open while pg_dump reads its exported snapshot
                run_tool(
                    [
                        pg_dump,
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        f"--file={target}",
                        f"--dbname={dbname}",
                    ],
                    env,
                )
    finally:
        engine.dispose()
    return RegisterCopy("postgresql", target, revision, rows)


def target_is_empty(url: str) -> bool:
    """No register at ``url`` yet: no SQLite file, or a PostgreSQL database without tables."""
    if backend_of(url) == "sqlite":
        return not sqlite_path(url).exists()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


def restore_register(copy: Path, backend: str, url: str) -> None:
    """Put the copied register in place at ``url`` (the caller has checked the backends match)."""
    if backend == "sqlite":
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.restore-{uuid.uuid4().hex[:8]}")
        shutil.copyfile(copy, staged)
        # a WAL or journal left beside the old file would be replayed into the restored one
        for suffix in ("-wal", "-shm", "-journal"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        os.replace(staged, target)
        return
    dbname, env = libpq_target(url)
    run_tool(
        [
            pg_binary("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={dbname}",
            str(copy),
        ],
        env,
    )


def known_revision(url: str, revision: str | None) -> None:
    """Refuse a backup made by a newer qingfeng (its revision is not among this code's migrations)."""
    if revision is None:
        return
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from qingfeng.register.db import alembic_config

    try:
        ScriptDirectory.from_config(alembic_config(url)).get_revision(revision)
    except CommandError:
        raise BackupError(
            f"the backup's register is at revision {revision}, unknown to this qingfeng: "
            "restore it with the qingfeng version that made it, or a newer one"
        ) from None


def describe(url: str) -> tuple[str | None, dict[str, int]]:
    """The revision and row counts of the register at ``url`` (after a restore)."""
    from qingfeng.register.db import current_revision, make_engine

    engine = make_engine(url)
    try:
        revision = current_revision(engine)
        with engine.connect() as conn:
            rows = _counts(lambda sql: conn.execute(text(sql)).scalar_one(), inspect(conn).get_table_names())
    finally:
        engine.dispose()
    return revision, rows
