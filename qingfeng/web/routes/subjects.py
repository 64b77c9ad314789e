"""Subject page: the clues of one person, company, village (etc.) and its stored risk score and explanation."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from qingfeng.register.errors import RegisterError
from qingfeng.register.queries import subject_clues, subject_risk, subject_totals
from qingfeng.web import accounts
from qingfeng.web.deps import orm_user, render
from qingfeng.web.formatting import SUBJECT_KIND_LABELS
from qingfeng.web.masking import Masker
from qingfeng.web.rows import subject_line

router = APIRouter()
MAX_ROWS = 200  # a village can have hundreds of clues: the queue (filter 村社) pages through them all


@router.get("/subjects/{kind}/{subject_id}", name="subject")
def subject(request: Request, kind: str, subject_id: str) -> Response:
    if kind not in SUBJECT_KIND_LABELS:
        raise HTTPException(404, f"未知的对象类型「{kind}」")
    current = request.state.user
    masker = Masker(current.full_ids)
    with request.app.state.sessions() as session:
        try:
            actor = orm_user(session, current)
            clues = subject_clues(session, actor, kind, subject_id[:100], limit=MAX_ROWS)
            count, total_amount = subject_totals(session, actor, kind, subject_id[:100])
            risk = subject_risk(session, actor, kind, subject_id[:100])
        except RegisterError as exc:
            raise HTTPException(403, exc.message) from exc
        rows = [{"clue": c, "subjects": subject_line(c, masker)} for c in clues]
    name = next(
        (
            s.get("name")
            for c in clues
            for s in c.subjects or []
            if s.get("kind") == kind and s.get("id") == subject_id
        ),
        None,
    )
    if name is None and risk is not None:
        name = risk.name
    accounts.audit(request, "view", target=f"subject:{kind}:{subject_id[:100]}", detail=f"{count} 条线索")
    return render(
        request,
        "subject.html",
        title=name or "对象",
        active="queue",
        kind=kind,
        name=name,
        shown_id=masker.subject_id(kind, subject_id),
        rows=rows,
        risk=risk,
        risk_explanation=masker.text(risk.explanation) if risk else "",
        total_amount=total_amount,
        count=count,
        subject_id=subject_id,
    )
