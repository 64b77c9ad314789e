"""Subject risk in the register: ``risk_score`` profiles over the ACTIVE clues, stored set-wise.

Active = an open status (发现, 核查, 处置, 整改) and still detected; dismissed (了结, 不予立案), closed
(销号) and no-longer-detected clues do not count. The profiles are stored in ``subject_risk`` (one
row per person, company and village), and every clue's ``risk_score`` becomes the highest score
among its subjects (NULL when none of them has an active clue), so the queue sorts by it.
Deterministic: the same active clues give the same rows (publishing twice changes nothing).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from qingfeng.register.lifecycle import OPEN_STATUSES
from qingfeng.register.models import Clue, ClueSubject, SubjectRisk
from qingfeng.register.risk_score import SUBJECT_KINDS, RiskWeights, risk_profiles

BATCH = 5000


def _table(model: Any) -> Table:
    """The mapped table, typed for core statements."""
    return cast(Table, model.__table__)


def _clue_dicts(session: Session) -> list[dict[str, Any]]:
    """Active clues as ``risk_profiles`` wants them (rule, rule_name, severity, amount, subjects): one join."""
    conn = session.connection()
    clue, link = Clue.__table__.c, ClueSubject.__table__.c
    clues: dict[int, dict[str, Any]] = {}
    rows = conn.execute(
        select(
            clue.id,
            clue.rule,
            clue.rule_name,
            clue.severity,
            clue.amount,
            link.kind,
            link.subject_id,
            link.name,
        )
        .join_from(Clue.__table__, ClueSubject.__table__, link.clue_id == clue.id)
        .where(clue.status.in_(OPEN_STATUSES), clue.detection_state == "active", link.kind.in_(SUBJECT_KINDS))
        .order_by(clue.id, link.id)
    )
    for cid, rule, rule_name, severity, amount, kind, sid, name in rows:
        found = clues.get(cid)
        if found is None:
            found = clues[cid] = {
                "rule": rule,
                "rule_name": rule_name,
                "severity": severity,
                "amount": amount,
                "subjects": [],
            }
        found["subjects"].append({"kind": kind, "id": sid, "name": name})
    return list(clues.values())


def _rescore_clues(session: Session) -> int:
    """clue.risk_score := the highest stored score of its subjects; writes only the clues that change."""
    conn = session.connection()
    clue, link, risk = Clue.__table__.c, ClueSubject.__table__.c, SubjectRisk.__table__.c
    clue_table = _table(Clue)
    best: dict[int, float] = dict(
        conn.execute(  # type: ignore[arg-type]
            select(link.clue_id, func.max(risk.score))
            .join_from(
                ClueSubject.__table__,
                SubjectRisk.__table__,
                (risk.kind == link.kind) & (risk.subject_id == link.subject_id),
            )
            .group_by(link.clue_id)
        ).all()
    )
    changes = [
        {"cid": cid, "score": best.get(cid)}
        for cid, current in conn.execute(select(clue.id, clue.risk_score))
        if best.get(cid) != current
    ]
    if changes:  # a plain column write: not an analyst's edit, so the optimistic-lock version is untouched
        conn.execute(
            update(clue_table).where(clue.id == bindparam("cid")).values(risk_score=bindparam("score")),
            changes,
        )
    return len(changes)


def refresh_subject_risk(
    session: Session, as_of: dt.date, *, weights: RiskWeights | None = None
) -> dict[str, int]:
    """Recompute and store every subject's risk and every clue's ``risk_score`` (no commit)."""
    session.flush()
    profiles = risk_profiles(_clue_dicts(session), weights=weights)
    conn = session.connection()
    conn.execute(delete(_table(SubjectRisk)))
    rows = [
        {
            "kind": p.kind,
            "subject_id": p.id,
            "name": p.name,
            "score": p.score,
            "clue_count": p.clue_count,
            "rules": list(p.rules),
            "explanation": p.explanation,
            "as_of": as_of,
        }
        for p in profiles
    ]
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(_table(SubjectRisk)), rows[start : start + BATCH])
    changed = _rescore_clues(session)
    session.expire_all()  # loaded clues may now hold stale risk scores
    by_kind: dict[str, int] = defaultdict(int)
    for p in profiles:
        by_kind[p.kind] += 1
    return {"subjects": len(rows), **dict(by_kind), "clues_rescored": changed}
