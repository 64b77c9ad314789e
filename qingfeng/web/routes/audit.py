"""The access log (访问日志) for auditors and administrators."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response

from qingfeng.register.lifecycle import ACCESS_ACTIONS
from qingfeng.register.queries import audit_log
from qingfeng.web import accounts
from qingfeng.web.deps import orm_user, render
from qingfeng.web.masking import Masker

router = APIRouter()
PER_PAGE = 100


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/audit", name="audit")
def audit(request: Request) -> Response:
    current = request.state.user
    q = request.query_params
    username = (q.get("username") or "").strip()[:100]
    action = q.get("action") or ""
    action = action if action in ACCESS_ACTIONS else ""
    since, until = _day(q.get("since") or ""), _day(q.get("until") or "")
    page = int(q["page"]) if (q.get("page") or "").isdigit() and int(q["page"]) > 0 else 1
    with request.app.state.sessions() as session:
        rows, total = audit_log(
            session,
            orm_user(session, current),
            username=username or None,
            action=action or None,
            since=dt.datetime.combine(since, dt.time()) - dt.timedelta(hours=8) if since else None,
            until=dt.datetime.combine(until + dt.timedelta(days=1), dt.time()) - dt.timedelta(hours=8)
            if until
            else None,
            page=page,
            per_page=PER_PAGE,
        )
    accounts.audit(
        request, "view", target="audit", detail=f"username={username}; action={action}; page={page}"
    )
    masker = Masker(current.full_ids)
    shown = [
        {
            "at": r.at,
            "username": r.username,
            "action": r.action,
            "target": masker.text(r.target),
            "detail": masker.text(r.detail),
            "ip": r.ip,
        }
        for r in rows
    ]
    pages = max(1, -(-total // PER_PAGE))
    return render(
        request,
        "audit.html",
        title="访问日志",
        active="audit",
        rows=shown,
        total=total,
        page=page,
        pages=pages,
        username=username,
        action=action,
        since=q.get("since") or "",
        until=q.get("until") or "",
        actions=ACCESS_ACTIONS,
    )
