"""The audit chain under concurrent writers, and its retention, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading

from sqlalchemy import func, select, text
from test_register_support import *  # noqa: F403

from qingfeng.register import audit_chain, audit_retention
from qingfeng.register.db import session_factory
from qingfeng.register.models import AccessLog
from qingfeng.register.users import audit


def test_concurrent_writers_never_fork_the_chain(engine) -> None:
    factory = session_factory(engine)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with factory() as session:
                    audit(session, f"writer{n}", "view", target=f"clue:{i}")
                    session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with factory() as session:
        verdict = audit_chain.verify(session)
        assert verdict.ok, verdict
        assert verdict.checked == session.scalar(select(func.count(AccessLog.id))) >= 90


def test_deleting_a_record_is_found(engine) -> None:
    factory = session_factory(engine)
    with factory() as session:
        for i in range(5):
            audit(session, "analyst1", "view", target=f"clue:{i}")
        session.commit()
        victim = session.scalars(select(AccessLog).order_by(AccessLog.seq).offset(2)).first()
        assert victim is not None
        seq = victim.seq
        session.execute(text("DELETE FROM access_log WHERE id = :i"), {"i": victim.id})
        session.commit()
        verdict = audit_chain.verify(session)
        assert not verdict.ok and verdict.broken_seq == seq and "删除" in (verdict.reason or "")


def test_archive_moves_only_records_past_retention_and_the_chain_still_verifies(engine, tmp_path) -> None:
    factory = session_factory(engine)
    old = dt.datetime(2025, 1, 1)
    with factory() as session:
        for i in range(4):
            row = audit(session, "analyst1", "view", target=f"old:{i}")
            row.at = old + dt.timedelta(minutes=i)
            row.hash = audit_chain.record_hash(
                str(row.prev_hash), {k: getattr(row, k) for k in audit_chain.FIELDS}
            )
            session.flush()
            session.execute(text("UPDATE audit_chain SET last_hash = :h"), {"h": row.hash})
        audit(session, "analyst1", "view", target="young")
        session.commit()
        assert audit_chain.verify(session).ok
        result = audit_retention.archive(session, tmp_path / "a.jsonl", retention_days=183, actor="cli:test")
        assert result["archived"] == 4
        lines = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [r["target"] for r in lines] == [f"old:{i}" for i in range(4)]
        remaining = [r.target for r in session.scalars(select(AccessLog).order_by(AccessLog.seq))]
        assert remaining[0] == "young" and remaining[-1].endswith("a.jsonl")
        verdict = audit_chain.verify(session)
        assert verdict.ok and verdict.checked == 2  # the young record and the archive's own record
