"""Retention of the audit trail: records are kept at least six months (网络安全法 第二十一条) and are
never deleted silently. ``archive`` writes the records older than the retention period to a JSON Lines
file with their hashes, removes them, moves the chain's anchor to the last one and audits itself."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from qingfeng.register import audit_chain
from qingfeng.register.errors import InvalidInput
from qingfeng.register.models import AccessLog, AuditChain, utcnow
from qingfeng.register.users import audit


def _record(row: AccessLog) -> dict[str, Any]:
    fields = {k: getattr(row, k) for k in (*audit_chain.FIELDS, "prev_hash", "hash", "id")}
    fields["at"] = row.at.isoformat(timespec="microseconds")
    return fields


def archive(session: Session, out: Path, *, retention_days: int, actor: str) -> dict[str, Any]:
    verdict = audit_chain.verify(session)
    if not verdict.ok:
        raise InvalidInput(f"审计链不完整({verdict.reason}),不能归档;请先运行 qingfeng audit verify")
    if out.exists():
        raise InvalidInput(f"{out} 已存在,不会覆盖")
    cutoff = utcnow() - dt.timedelta(days=retention_days)
    rows = list(session.scalars(select(AccessLog).where(AccessLog.at < cutoff).order_by(AccessLog.seq)))
    # only a prefix of the chain can leave: stop at the first record that is still young
    first_young = session.scalar(select(AccessLog.seq).where(AccessLog.at >= cutoff).order_by(AccessLog.seq))
    if first_young is not None:
        rows = [r for r in rows if (r.seq or 0) < first_young]
    if not rows:
        return {"archived": 0, "file": None}
    out.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(_record(r), ensure_ascii=False) + "\n" for r in rows)
    out.write_text(body, encoding="utf-8")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    last = rows[-1]
    head = session.get(AuditChain, audit_chain.HEAD_ID)
    assert head is not None
    head.anchor_seq, head.anchor_hash = int(last.seq or 0), str(last.hash)
    session.execute(delete(AccessLog).where(AccessLog.seq <= last.seq))
    audit(
        session,
        actor,
        "audit_archive",
        target=str(out)[:200],
        detail=f"{len(rows)} records to seq {last.seq}; file sha256 {digest}",
    )
    session.commit()
    return {"archived": len(rows), "file": str(out), "sha256": digest, "anchor_seq": last.seq}
