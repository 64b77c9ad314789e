"""Subject risk in the register: ``qingfeng.jobs.risk`` profiles over the ACTIVE clues, stored set-wise.

Active = an open status (发现, 核查, 处置, 整改) and still detected; dismissed (了结, 不予立案), closed
(销号) and no-longer-detected clues do not count. The profiles are stored in ``subject_risk`` (one
row per person, company and village), and every clue's ``risk_score`` becomes the highest score
among its subjects (NULL when none of them has an active clue), so the queue sorts by it.
Deterministic: the same active clues give the same rows (publishing twice changes nothing).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from qingfeng.jobs.risk import SUBJECT_KINDS, RiskWeights, risk_profiles
from qingfeng.register.lifecycle import OPEN_STATUSES
from qingfeng.register.models import Clue, ClueSubject, SubjectRisk

BATCH = 5000


def active_clues() -> Any:
    return select(Clue.id).where(Clue.status.in_(OPEN_STATUSES), Clue.detection_state == "active")


def _clue_dicts(session: Session) -> list[dict[str, Any]]:
    """Active clues as ``jobs.risk`` wants them (rule, rule_name, severity, amount, subjects), in two reads."""
    clues: dict[int, dict[str, Any]] = {
        cid: {"rule": rule, "rule_name": name, "severity": severity, "amount": amount, "subjects": []}
        for cid, rule, name, severity, amount in session.execute(
            select(Clue.id, Clue.rule, Clue.rule_name, Clue.severity, Clue.amount)
            .where(Clue.id.in_(active_clues())).order_by(Clue.id)
        )
    }
    links = session.execute(
        select(ClueSubject.clue_id, ClueSubject.kind, ClueSubject.subject_id, ClueSubject.name)
        .where(ClueSubject.kind.in_(SUBJECT_KINDS), ClueSubject.clue_id.in_(active_clues()))
        .order_by(ClueSubject.clue_id, ClueSubject.id)
    )
    for cid, kind, sid, name in links:
        if cid in clues:
            clues[cid]["subjects"].append({"kind": kind, "id": sid, "name": name})
    return list(clues.values())


def refresh_subject_risk(session: Session, as_of: dt.date, *, weights: RiskWeights | None = None) -> dict[str, int]:
    """Recompute and store every subject's risk and every clue's ``risk_score`` (no commit)."""
    profiles = risk_profiles(_clue_dicts(session), weights=weights)
    session.execute(delete(SubjectRisk))
    rows = [
        {"kind": p.kind, "subject_id": p.id, "name": p.name, "score": p.score, "clue_count": p.clue_count,
         "rules": list(p.rules), "explanation": p.explanation, "as_of": as_of}
        for p in profiles
    ]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(SubjectRisk), rows[start:start + BATCH])
    best = (
        select(func.max(SubjectRisk.score))
        .join(ClueSubject, (ClueSubject.kind == SubjectRisk.kind) & (ClueSubject.subject_id == SubjectRisk.subject_id))
        .where(ClueSubject.clue_id == Clue.id)
        .scalar_subquery()
    )
    changed = session.execute(
        update(Clue).where(Clue.risk_score.is_distinct_from(best)).values(risk_score=best)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire_all()  # loaded clues now hold stale risk scores
    by_kind: dict[str, int] = defaultdict(int)
    for p in profiles:
        by_kind[p.kind] += 1
    return {"subjects": len(rows), **dict(by_kind), "clues_rescored": int(changed or 0)}
