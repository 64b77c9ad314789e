"""Migrations upgrade an empty database on both backends, and match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect
from test_register_support import *  # noqa: F403

from qingfeng.register.db import current_revision, make_engine, upgrade
from qingfeng.register.models import Base

HEAD = "0006"
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
    "subject_risk",
    "web_session",
    "audit_chain",
    "campaign_project",
    "campaign_task",
    "task_note",
    "project_report",
    "inspection",
    "institution",
    "notification",
    "alembic_version",
}


def test_upgrade_from_empty_creates_every_table_and_matches_models(empty_register_url: str) -> None:
    eng = make_engine(empty_register_url)
    try:
        assert not inspect(eng).get_table_names()
        upgrade(empty_register_url)
        assert set(inspect(eng).get_table_names()) == TABLES
        assert current_revision(eng) == HEAD
        with eng.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == [], f"models and migrations differ: {diff}"
        upgrade(empty_register_url)  # a second upgrade is a no-op
        assert current_revision(eng) == HEAD
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
    assert HEAD in result.output
    eng = make_engine(f"sqlite:///{tmp_path / 'register.db'}")
    assert "clue" in inspect(eng).get_table_names()
    eng.dispose()


def test_0002_upgrades_a_populated_0001_register_and_downgrades(empty_register_url: str) -> None:
    """0002 only adds indexes and a table: a register with data at 0001 upgrades, and 0002 reverts cleanly."""
    from sqlalchemy import text

    from qingfeng.register.db import alembic_config

    upgrade(empty_register_url, "0001")
    eng = make_engine(empty_register_url)
    try:
        with eng.begin() as conn:
            conn.execute(text("INSERT INTO unit (name) VALUES ('区民政局派驻纪检组')"))
        assert "subject_risk" not in inspect(eng).get_table_names()
        upgrade(empty_register_url)
        assert current_revision(eng) == HEAD
        names = {ix["name"] for ix in inspect(eng).get_indexes("clue")}
        assert {"ix_clue_amount", "ix_clue_risk_score"} <= names
        with eng.connect() as conn:
            assert conn.execute(text("SELECT name FROM unit")).scalar_one() == "区民政局派驻纪检组"
        from alembic import command

        command.downgrade(alembic_config(empty_register_url), "0001")
        assert current_revision(eng) == "0001"
        assert "subject_risk" not in inspect(eng).get_table_names()
    finally:
        eng.dispose()


def test_0004_rewrites_the_input_files_of_old_cli_runs_into_the_one_shape(empty_register_url: str) -> None:
    """Before one run builder, `qingfeng run` recorded {name, bytes, sha256} per input-folder file."""
    import datetime as dt
    import json

    from sqlalchemy import select, text

    from qingfeng.pipeline.inputs import FILE_KEYS
    from qingfeng.register.models import PipelineRun

    sha = "ab" * 32
    landed = {"file": "户籍人口信息_20231231.csv", "sha256": sha, "feed": "household_registry"}
    landed |= {"table": "registry_person", "ingested_at": "2026-11-30T08:00:00", "period_end": "2023-12-31"}
    old = [{"name": "民生补助发放明细_202312.csv", "bytes": 1024, "sha256": sha}]
    upgrade(empty_register_url, "0003")
    eng = make_engine(empty_register_url)
    try:
        with eng.begin() as conn:
            for files in (old, [landed], ["a.csv"]):
                conn.execute(
                    text(
                        "INSERT INTO pipeline_run (as_of, started_at, input_files, counts, status)"
                        " VALUES (:d, :t, :files, '{}', 'published')"
                    ),
                    {"d": dt.date(2023, 12, 31), "t": dt.datetime(2026, 11, 30), "files": json.dumps(files)},
                )
        upgrade(empty_register_url)
        with eng.connect() as conn:
            rows = conn.execute(select(PipelineRun.input_files).order_by(PipelineRun.id)).scalars().all()
    finally:
        eng.dispose()
    rewritten = dict.fromkeys(FILE_KEYS) | {"file": "民生补助发放明细_202312.csv", "sha256": sha}
    assert rows == [[rewritten], [landed], ["a.csv"]]


def test_sqlite_engine_uses_wal_and_waits_for_locks(tmp_path) -> None:
    """A web server reads and writes at once: WAL lets a long report read run beside a login's audit write."""
    from sqlalchemy import text

    from qingfeng.register.db import BUSY_TIMEOUT_MS

    eng = make_engine(f"sqlite:///{tmp_path / 'register.db'}")
    try:
        with eng.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        eng.dispose()
    memory = make_engine("sqlite://")
    with memory.connect() as conn:  # nothing to share in memory: no WAL there
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "memory"
    memory.dispose()


def test_a_register_of_the_previous_schema_upgrades_without_losing_anything(empty_register_url: str) -> None:
    """A 0002 register with users, clues, comments, rectifications and audit rows, written with the SQL of
    that schema (money as NUMERIC), upgrades to head: every row and amount is kept, the old audit rows
    are chained, old user names are normalised and money round-trips exactly afterwards."""
    import datetime as dt
    from decimal import Decimal

    from sqlalchemy import select, text

    from qingfeng.register import audit_chain
    from qingfeng.register.db import session_factory
    from qingfeng.register.models import AccessLog, Clue, Event, Rectification, User

    upgrade(empty_register_url, "0002")
    eng = make_engine(empty_register_url)
    now = dt.datetime(2026, 11, 30, 8, 0, 0, 123456)
    try:
        with eng.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO app_user (id, username, display_name, password_hash, role, active, created_at)"
                    " VALUES (1, 'ＡｎａＬｙｓｔ１', '钱分析', 'argon2-hash', 'analyst', :t, :now)"
                ),
                {"t": True, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO clue (id, rule, keys, fingerprint, subjects, amount, severity, evidence, first_seen,"
                    " last_seen, as_of, status, detection_state, updated_at, version) VALUES (1, 'S01', '{}', 'fp1',"
                    " '[]', 123456.78, 'high', '[]', :d, :d, :d, '发现', 'active', :now, 1)"
                ),
                {"d": dt.date(2026, 10, 31), "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO event (clue_id, kind, actor, text, at) VALUES (1, 'comment', 'analyst1', '旧批注', :now)"
                ),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO rectification (clue_id, measures, recovered_amount, sanction_count,"
                    " org_handling_count, recorded_by, recorded_at) VALUES (1, '退回资金', 21600.05, 1, 0, 'analyst1', :now)"
                ),
                {"now": now},
            )
            for i in range(3):
                conn.execute(
                    text(
                        "INSERT INTO access_log (username, action, target, at) VALUES ('analyst1', 'view', :t, :now)"
                    ),
                    {"t": f"clue:{i}", "now": now + dt.timedelta(seconds=i)},
                )
        upgrade(empty_register_url)
        assert current_revision(eng) == HEAD
        with session_factory(eng)() as session:
            clue = session.get(Clue, 1)
            assert clue is not None and clue.amount == Decimal("123456.78")
            assert [e.text for e in session.scalars(select(Event))] == ["旧批注"]
            assert session.scalar(select(Rectification.recovered_amount)) == Decimal("21600.05")
            user = session.scalar(select(User))
            assert user is not None and user.username == "analyst1"
            assert user.must_change_password  # set before the policy: changed at the next sign-in
            assert session.scalar(select(func_count(AccessLog))) == 3
            verdict = audit_chain.verify(session)
            assert verdict.ok and verdict.checked == 3
            clue.amount = Decimal("9999999999999999.99")  # the largest Numeric(18, 2), exactly
            session.commit()
            session.expire_all()
            assert session.get(Clue, 1).amount == Decimal("9999999999999999.99")
            total = session.scalar(select(func_sum(Clue.amount)))
            assert Decimal(total) == Decimal("9999999999999999.99")
    finally:
        eng.dispose()


def func_count(column):
    from sqlalchemy import func

    return func.count(column.id)


def func_sum(column):
    from sqlalchemy import func

    return func.sum(column)
