"""The tamper-evident audit trail: every access-log row is chained to the previous one by a hash.

``hash = sha256(prev_hash + canonical JSON of the row's fields)``, in ``seq`` order. Writers take the
chain's head row first (an UPDATE), which serialises them on SQLite and PostgreSQL alike, so two
concurrent transactions can never chain to the same predecessor. Changing, deleting or inserting a
row anywhere breaks the link after it, and ``verify`` names the first broken one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from qingfeng.register.models import AccessLog, AuditChain

GENESIS = "0" * 64
HEAD_ID = 1
FIELDS = ("seq", "user_id", "username", "action", "target", "detail", "ip", "at")


def record_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash of one record given its predecessor's (the migration chains old rows with it too)."""
    at = fields.get("at")
    canonical = {k: fields.get(k) for k in FIELDS}
    canonical["at"] = at.isoformat(timespec="microseconds") if isinstance(at, dt.datetime) else at
    payload = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def _fields(row: AccessLog) -> dict[str, Any]:
    return {k: getattr(row, k) for k in FIELDS}


def ensure_head(session: Session) -> None:
    if session.execute(select(AuditChain.id).where(AuditChain.id == HEAD_ID)).first() is None:
        session.execute(
            insert(AuditChain).values(id=HEAD_ID, seq=0, last_hash=GENESIS, anchor_seq=0, anchor_hash=GENESIS)
        )


def append(session: Session, row: AccessLog) -> AccessLog:
    """Chain ``row`` after the head and add it (the caller's transaction commits both)."""
    # no autoflush: the caller's pending changes are flushed at its commit, where it handles their errors
    with session.no_autoflush:
        ensure_head(session)
        # the UPDATE takes the write lock (SQLite) or the head's row lock (PostgreSQL) before the head is read
        session.execute(update(AuditChain).where(AuditChain.id == HEAD_ID).values(seq=AuditChain.seq + 1))
        head = session.execute(
            select(AuditChain.seq, AuditChain.last_hash).where(AuditChain.id == HEAD_ID)
        ).one()
        row.seq = head.seq
        row.prev_hash = head.last_hash
        row.hash = record_hash(head.last_hash, _fields(row))
        session.execute(update(AuditChain).where(AuditChain.id == HEAD_ID).values(last_hash=row.hash))
    session.add(row)
    return row


@dataclass(frozen=True)
class Verdict:
    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def _rows(session: Session, batch: int = 5000) -> Iterator[Any]:
    """The chain in ``seq`` order, as plain rows (no ORM objects: the caller's session is left alone)."""
    columns = [getattr(AccessLog, k) for k in ("id", *FIELDS, "prev_hash", "hash")]
    last = -1
    while True:
        chunk = session.execute(
            select(*columns).where(AccessLog.seq > last).order_by(AccessLog.seq).limit(batch)
        ).all()
        if not chunk:
            return
        yield from chunk
        last = int(chunk[-1].seq)


def verify(session: Session) -> Verdict:
    """Walk the chain from its anchor; the first record whose link or content does not hold is named."""
    head = session.get(AuditChain, HEAD_ID)
    if head is None:
        unchained = session.scalar(select(AccessLog.id).limit(1))
        return Verdict(0) if unchained is None else Verdict(0, None, unchained, "审计链头缺失")
    expected_seq, prev, checked = head.anchor_seq + 1, head.anchor_hash, 0
    head_seq, head_hash = head.seq, head.last_hash
    unchained = session.scalar(select(AccessLog.id).where(AccessLog.seq.is_(None)).limit(1))
    if unchained is not None:
        return Verdict(0, None, unchained, "存在未入链的记录(可能被插入)")
    for row in _rows(session):
        seq = int(row.seq or 0)
        if seq != expected_seq:
            return Verdict(checked, expected_seq, row.id, f"缺少第 {expected_seq} 条记录(可能被删除)")
        if row.prev_hash != prev:
            return Verdict(checked, seq, row.id, "与上一条记录的链接不符")
        if record_hash(prev, {k: getattr(row, k) for k in FIELDS}) != row.hash:
            return Verdict(checked, seq, row.id, "记录内容与其哈希不符(可能被篡改)")
        prev, expected_seq, checked = str(row.hash), seq + 1, checked + 1
    if expected_seq - 1 != head_seq or prev != head_hash:
        return Verdict(checked, expected_seq, None, "链尾记录缺失(可能被删除)")
    return Verdict(checked)
