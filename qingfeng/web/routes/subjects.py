"""Subject page: the clues of one person, company, village (etc.) and its stored risk score and explanation."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from qingfeng.register.errors import RegisterError
from qingfeng.register.queries import subject_clues, subject_risk, subject_totals
from qingfeng.web import accounts
from qingfeng.web.deps import orm_user, render
from qingfeng.web.formatting import SUBJECT_KIND_LABELS
from qingfeng.web.masking import Masker, mask_text
from qingfeng.web.opaque import sealer, subject_path
from qingfeng.web.rows import subject_line

router = APIRouter()
MAX_ROWS = 200  # a village can have hundreds of clues: the queue (filter 村社) pages through them all


@router.get("/subjects/{kind}/{subject_id}", name="subject")
def subject(request: Request, kind: str, subject_id: str) -> Response:
    """``subject_id`` is the sealed token of the subject's id (``opaque``); a raw id (an old link, a typed
    address) is answered with a redirect to the sealed address, so no page is ever served at a URL that
    names a person (the access log masks the one request that did)."""
    if kind not in SUBJECT_KIND_LABELS:
        raise HTTPException(404, f"未知的对象类型「{mask_text(kind[:40])}」")
    opened = sealer(request).open_subject(kind, subject_id)
    if opened is None:
        return RedirectResponse(subject_path(request, kind, subject_id[:100]), status_code=303)
    subject_id = opened
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
    accounts.audit(
        request,
        "view",
        target=f"subject:{kind}:{subject_id[:100]}",
        detail=masker.audit_detail(f"{count} 条线索"),
    )
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
