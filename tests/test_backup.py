"""``qingfeng backup`` / ``qingfeng restore``: a home with review work is backed up, restored into a new
home, and the real web server on the restored home shows the work; SQLite and PostgreSQL round trips,
an older register migrated on restore, damaged archives and occupied targets refused in one line."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from pg import *  # noqa: F403  (pg_server)
from sqlalchemy import select

from qingfeng.backup import register as backup_register
from qingfeng.cli import main
from qingfeng.register import audit_chain
from qingfeng.register.db import current_revision, make_engine, session_factory, upgrade
from qingfeng.register.models import AccessLog, Clue, Dispatch, Event, User
from qingfeng.register.service import ClueService
from qingfeng.synth.sample_register import PASSWORD, UNITS, seed, write_relations
from qingfeng.web.settings import web_settings

AS_OF = dt.date(2025, 6, 30)
NOTE = "备份前核实：低保发放材料已调取，待比对户籍"
COMMENT = "村委会已提供花名册复印件（备份测试）"
RELATION = "lake/curated/relation/part-0.parquet"
MANIFEST_FILE = "lake/_manifests/subsidy_payment/ab12cd.json"


def _head() -> str:
    from alembic.script import ScriptDirectory

    from qingfeng.register.db import alembic_config

    return str(ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head())


HEAD = _head()  # the newest migration: a restore upgrades to it


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("QINGFENG_HOME", "QINGFENG_REGISTER_URL", "QINGFENG_SESSION_SECRET"):
        monkeypatch.delenv(name, raising=False)


def qingfeng(*args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:  # a refusal: one line, through click, never a traceback
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    return result


def make_home(home: Path, url: str | None = None):
    """The sample register with review work (status change with a note, assignment, dispatch, comment),
    the relation table and a manifest in the lake, a table still being written, and the web secret."""
    cfg = web_settings(home=home, register_url=url)
    engine = seed(cfg.resolved_register_url, as_of=AS_OF)
    with session_factory(engine)() as session:
        analyst = session.scalar(select(User).where(User.username == "analyst1"))
        service = ClueService(session, analyst)
        service.transition(1, "核查", reason=NOTE)
        service.assign(1, "analyst1")
        service.dispatch(1, UNITS[0], dt.date.today() + dt.timedelta(days=10), note="十日内反馈")
        service.comment(2, COMMENT)
    engine.dispose()
    write_relations(cfg)
    manifest = home / MANIFEST_FILE
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"table": "subsidy_payment", "rows": 3}), encoding="utf-8")
    half_written = cfg.lake / "curated" / ".relation.tmp-deadbeef"
    half_written.mkdir()
    (half_written / "part-0.parquet").write_bytes(b"not yet")
    cfg.secret()
    return cfg


def register_state(url: str) -> dict:
    """The review work and the audit trail of a register, comparable across backends."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return {
                "revision": current_revision(engine),
                "clues": [
                    (c.id, c.rule, c.status, c.version)
                    for c in session.scalars(select(Clue).order_by(Clue.id))
                ],
                "events": [
                    (e.clue_id, e.kind, e.from_status, e.to_status, e.actor, e.text)
                    for e in session.scalars(select(Event).order_by(Event.id))
                ],
                "dispatches": [
                    (d.clue_id, d.unit.name, d.deadline, d.state, d.note)
                    for d in session.scalars(select(Dispatch).order_by(Dispatch.id))
                ],
                "assignee": session.get(Clue, 1).assignee.username,
                "audit": [
                    (a.username, a.action, a.target, a.hash)
                    for a in session.scalars(select(AccessLog).order_by(AccessLog.seq))
                ],
                "chain_ok": audit_chain.verify(session).ok,
            }
    finally:
        engine.dispose()


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A SQLite home with review work, its state before the backup, and its archive."""
    root = tmp_path_factory.mktemp("backup")
    cfg = make_home(root / "source")
    before = register_state(cfg.resolved_register_url)
    result = qingfeng("backup", str(root / "out.tar.gz"), "--home", str(cfg.home))
    assert result.exit_code == 0, result.output
    return cfg, before, root / "out.tar.gz", result.output


def test_archive_holds_register_lake_secret_and_manifest(source) -> None:
    cfg, before, archive, output = source
    files = members(archive)
    manifest = json.loads(files["backup.json"])
    assert list(files)[-1] == "backup.json"
    assert manifest["backend"] == "sqlite" and manifest["alembic_revision"] == before["revision"] == HEAD
    assert manifest["register"]["rows"]["clue"] == 4 and manifest["register"]["rows"]["event"] == 4
    assert manifest["register"]["rows"]["access_log"] == len(before["audit"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"backup.json"}
    assert {"register/register.db", RELATION, MANIFEST_FILE, "secrets/web_secret"} <= set(listed)
    assert not any(".tmp-" in path for path in listed)  # the table still being written is left out
    assert files[RELATION] == (cfg.home / RELATION).read_bytes()
    assert files["secrets/web_secret"] == (cfg.home / "web_secret").read_bytes()
    assert all(len(files[p]) == f["bytes"] for p, f in listed.items())
    assert manifest["created_at"].endswith("Z") and manifest["qingfeng_version"]
    assert "clue 4" in output and "lake      2 files" in output and "web_secret" in output
    assert not [p for p in archive.parent.iterdir() if p.name.startswith(".")]  # no temporary left
    assert archive.stat().st_mode & 0o777 == 0o600  # personal data and the web secret: owner only
    # the backup itself is in the source's audit trail, chained
    after = register_state(cfg.resolved_register_url)
    assert after["audit"][:-1] == before["audit"] and after["chain_ok"]
    assert after["audit"][-1][1:3] == ("export", "backup")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(home: Path):
    """``qingfeng serve`` on the home, as in production: the key comes from <home>/web_secret."""
    port, log = free_port(), home.parent / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QINGFENG_")}
    env["QINGFENG_HOME"] = str(home)
    qingfeng_bin = str(Path(sys.executable).parent / "qingfeng")
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [qingfeng_bin, "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "qingfeng serve did not start"
        time.sleep(0.2)


def test_restore_into_new_home_is_served_with_the_review_work(source, tmp_path: Path) -> None:
    cfg, before, archive, _ = source
    target = tmp_path / "restored"
    result = qingfeng("restore", str(archive), "--home", str(target))
    assert result.exit_code == 0, result.output
    assert f"at revision {HEAD} (backup: {HEAD})" in result.output and "clue 4" in result.output

    restored = register_state(f"sqlite:///{target / 'register.db'}")
    for key in ("revision", "clues", "events", "dispatches", "assignee"):
        assert restored[key] == before[key], key
    assert restored["audit"][: len(before["audit"])] == before["audit"]
    assert restored["audit"][-1][1:3] == ("change", "restore") and restored["chain_ok"]
    assert (target / RELATION).read_bytes() == (cfg.home / RELATION).read_bytes()
    assert (target / MANIFEST_FILE).read_bytes() == (cfg.home / MANIFEST_FILE).read_bytes()
    assert (target / "web_secret").read_bytes() == (cfg.home / "web_secret").read_bytes()
    assert (target / "web_secret").stat().st_mode & 0o777 == 0o600
    assert not list((target / "lake" / "curated").glob(".*"))

    process, base = serve(target)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            page = client.get("/login", headers={"accept": "text/html"})
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            signed = client.post(
                "/login",
                data={"username": "analyst1", "password": PASSWORD, "csrf_token": token, "next": "/"},
            )
            assert signed.status_code == 303, signed.text
            clue = client.get("/clues/1", headers={"accept": "text/html"})
            assert clue.status_code == 200
            assert NOTE in clue.text and "十日内反馈" in clue.text and UNITS[0] in clue.text
            assert "处置" in clue.text and "钱分析" in clue.text  # status after dispatch, assignee
            assert 'data-source="relation"' in clue.text  # the graph is drawn from the restored lake
            assert COMMENT in client.get("/clues/2", headers={"accept": "text/html"}).text
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_damaged_archive_is_refused_naming_the_file(source, tmp_path: Path) -> None:
    _, _, archive, _ = source
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive, "r:gz") as tar, tarfile.open(damaged, "w:gz") as out:
        for member in tar:
            data = tar.extractfile(member).read()
            if member.name == RELATION:
                data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]  # one byte, same size
            out.addfile(member, io.BytesIO(data))
    target = tmp_path / "target"
    result = qingfeng("restore", str(damaged), "--home", str(target))
    assert result.exit_code == 1
    assert RELATION in result.output and "sha256" in result.output
    assert not target.exists()  # refused before anything was written: no home left behind

    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    result = qingfeng("restore", str(cut), "--home", str(target))
    assert result.exit_code == 1 and "damaged" in result.output
    assert not target.exists()  # refused before anything was written: no home left behind

    garbage = tmp_path / "notes.tar.gz"
    garbage.write_bytes(gzip.compress(b"not a tar file at all" * 100))
    result = qingfeng("restore", str(garbage), "--home", str(target))
    assert result.exit_code == 1 and "not a qingfeng backup" in result.output

    flipped = tmp_path / "flipped.tar.gz"  # a byte flipped inside the compressed stream
    raw = archive.read_bytes()
    flipped.write_bytes(raw[:3000] + bytes([raw[3000] ^ 0xFF]) + raw[3001:])
    result = qingfeng("restore", str(flipped), "--home", str(target))
    assert result.exit_code == 1 and "damaged" in result.output
    assert not target.exists()


def test_occupied_target_needs_force(source, tmp_path: Path) -> None:
    cfg, before, archive, _ = source
    target = tmp_path / "occupied"
    other = make_home(target)  # a home of its own: review work of its own, another secret
    with session_factory(engine := make_engine(other.resolved_register_url))() as session:
        ClueService(session, session.scalar(select(User).where(User.username == "super1"))).comment(
            3, "目标库的评论"
        )
    engine.dispose()
    stray = target / "lake" / "curated" / "stray" / "part-0.parquet"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x")
    secret = (target / "web_secret").read_bytes()

    result = qingfeng("restore", str(archive), "--home", str(target))
    assert result.exit_code == 1 and "not empty" in result.output and "--force" in result.output
    assert stray.exists() and (target / "web_secret").read_bytes() == secret

    result = qingfeng("restore", str(archive), "--home", str(target), "--force")
    assert result.exit_code == 0, result.output
    restored = register_state(other.resolved_register_url)
    assert restored["events"] == before["events"] and restored["chain_ok"]
    assert not stray.exists() and (target / RELATION).exists()
    assert (target / "web_secret").read_bytes() == (cfg.home / "web_secret").read_bytes()
    assert not [p for p in target.iterdir() if p.name.startswith(".")]


def test_older_register_is_migrated_on_restore(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    upgrade(f"sqlite:///{old / 'register.db'}", "0001")  # a register of an earlier qingfeng
    result = qingfeng("backup", str(tmp_path / "old.tar.gz"), "--home", str(old))
    assert result.exit_code == 0, result.output
    assert "revision 0001" in result.output and "not audited" in result.output
    result = qingfeng("restore", str(tmp_path / "old.tar.gz"), "--home", str(tmp_path / "new"))
    assert result.exit_code == 0, result.output
    assert f"at revision {HEAD} (backup: 0001)" in result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'register.db'}")
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_lake_changed_during_copy_is_copied_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = web_settings(home=tmp_path / "busy")
    seed(cfg.resolved_register_url, as_of=AS_OF).dispose()
    write_relations(cfg)
    copy = backup_register.copy_register
    calls: list[int] = []

    def writer_meanwhile(url: str, folder: Path):  # a pipeline stage lands a table during the first copy
        calls.append(1)
        if len(calls) == 1:
            landed = cfg.lake / "standardized" / "death_record" / "part-0.parquet"
            landed.parent.mkdir(parents=True)
            landed.write_bytes(b"landed")
        return copy(url, folder)

    monkeypatch.setattr(backup_register, "copy_register", writer_meanwhile)
    result = qingfeng("backup", str(tmp_path / "busy.tar.gz"), "--home", str(cfg.home))
    assert result.exit_code == 0, result.output
    assert len(calls) == 2
    assert members(tmp_path / "busy.tar.gz")["lake/standardized/death_record/part-0.parquet"] == b"landed"


def test_backup_waits_for_a_running_ingest(tmp_path: Path) -> None:
    """An ingest holds the lake lock shared (its own open file: flock locks conflict even within one
    process): the backup waits, says so, and runs when the ingest is done."""
    from qingfeng.backup import archive
    from qingfeng.pipeline.lock import lake_lock

    cfg = web_settings(home=tmp_path / "busy")
    seed(cfg.resolved_register_url, as_of=AS_OF).dispose()
    write_relations(cfg)
    out, waited, outcome = tmp_path / "waited.tar.gz", threading.Event(), []
    worker = threading.Thread(
        target=lambda: outcome.append(archive.backup(cfg, out, waiting=lambda _lock: waited.set()))
    )
    with lake_lock(cfg, exclusive=False):
        worker.start()
        assert waited.wait(30), "the backup did not report the held lock"
        worker.join(1.0)
        assert worker.is_alive() and not out.exists()  # still waiting while the ingest runs
    worker.join(60)
    assert outcome and RELATION in members(out)


def test_missing_pg_dump_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(backup_register, "PG_BIN_GLOB", str(tmp_path / "no-postgresql"))
    (tmp_path / "home").mkdir()
    result = qingfeng(
        "backup",
        str(tmp_path / "pg.tar.gz"),
        "--home",
        str(tmp_path / "home"),
        env={"QINGFENG_REGISTER_URL": "postgresql+psycopg://qingfeng@127.0.0.1:1/register"},
    )
    assert result.exit_code == 1 and "pg_dump not found" in result.output
    assert not list(tmp_path.glob("*.tar.gz")) and not list(tmp_path.glob(".pg.tar.gz*"))


@pytest.mark.postgres
def test_postgres_round_trip(pg_server, tmp_path: Path) -> None:
    source_url = pg_server.create_database(f"qf_backup_src_{os.getpid()}")
    cfg = make_home(tmp_path / "source", source_url)
    before = register_state(source_url)
    archive = tmp_path / "pg.tar.gz"
    result = qingfeng(
        "backup", str(archive), "--home", str(cfg.home), env={"QINGFENG_REGISTER_URL": source_url}
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads(members(archive)["backup.json"])
    assert manifest["backend"] == "postgresql" and manifest["register"]["file"] == "register/register.pgdump"
    assert manifest["register"]["rows"]["event"] == 4 and manifest["alembic_revision"] == HEAD

    target_url = pg_server.create_database(f"qf_backup_dst_{os.getpid()}")
    target = tmp_path / "target"
    result = qingfeng("restore", str(archive), "--home", str(target), "--register-url", target_url)
    assert result.exit_code == 0, result.output
    restored = register_state(target_url)
    for key in ("revision", "clues", "events", "dispatches", "assignee"):
        assert restored[key] == before[key], key
    assert restored["audit"][: len(before["audit"])] == before["audit"] and restored["chain_ok"]
    assert (target / RELATION).read_bytes() == (cfg.home / RELATION).read_bytes()

    # a populated database is refused, then replaced with --force (pg_restore --clean)
    again = tmp_path / "again"
    result = qingfeng("restore", str(archive), "--home", str(again), "--register-url", target_url)
    assert result.exit_code == 1 and "not empty" in result.output and "register" in result.output
    result = qingfeng("restore", str(archive), "--home", str(again), "--register-url", target_url, "--force")
    assert result.exit_code == 0, result.output
    replaced = register_state(target_url)
    assert replaced["events"] == before["events"] and replaced["chain_ok"]
    assert [a[1:3] for a in replaced["audit"][len(before["audit"]) :]] == [("change", "restore")]
