"""Migrations upgrade an empty database on both backends, and match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect
from test_register_support import *  # noqa: F403

from qingfeng.register.db import current_revision, make_engine, upgrade
from qingfeng.register.models import Base

TABLES = {
    "clue",
    "clue_subject",
    "evidence",
    "event",
    "dispatch",
    "rectification",
    "unit",
    "app_user",
    "access_log",
    "pipeline_run",
    "alembic_version",
}


def test_upgrade_from_empty_creates_every_table_and_matches_models(empty_register_url: str) -> None:
    eng = make_engine(empty_register_url)
    try:
        assert not inspect(eng).get_table_names()
        upgrade(empty_register_url)
        assert set(inspect(eng).get_table_names()) == TABLES
        assert current_revision(eng) == "0001"
        with eng.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == [], f"models and migrations differ: {diff}"
        upgrade(empty_register_url)  # a second upgrade is a no-op
        assert current_revision(eng) == "0001"
    finally:
        eng.dispose()


def test_fingerprint_is_unique_in_the_schema(empty_register_url: str) -> None:
    upgrade(empty_register_url)
    eng = make_engine(empty_register_url)
    try:
        uniques = inspect(eng).get_unique_constraints("clue")
        assert any(u["column_names"] == ["fingerprint"] for u in uniques)
    finally:
        eng.dispose()


def test_db_upgrade_command_creates_the_default_sqlite_register(tmp_path) -> None:
    from qingfeng.cli import main

    result = CliRunner().invoke(main, ["db", "upgrade", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "0001" in result.output
    eng = make_engine(f"sqlite:///{tmp_path / 'register.db'}")
    assert "clue" in inspect(eng).get_table_names()
    eng.dispose()
