"""The access log (访问日志) for auditors and administrators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from qingfeng.register import audit_chain
from qingfeng.register.bounds import parse_day, parse_page
from qingfeng.register.errors import RegisterError
from qingfeng.register.lifecycle import ACCESS_ACTIONS
from qingfeng.register.models import AccessLog
from qingfeng.register.queries import audit_log
from qingfeng.web import accounts, exports
from qingfeng.web.deps import orm_user, render
from qingfeng.web.formatting import ACCESS_LABELS, beijing
from qingfeng.web.masking import Masker

router = APIRouter()
PER_PAGE = 100
BEIJING_OFFSET = dt.timedelta(hours=8)


def _day(value: str) -> dt.date | None:
    """A filter day within ``bounds.day_range``: malformed or out of range is a 400, never an unfiltered log."""
    try:
        return parse_day(value) if value else None
    except RegisterError as exc:
        raise HTTPException(400, exc.message) from exc


@dataclass(frozen=True)
class AuditFilters:
    username: str
    action: str
    since: dt.date | None
    until: dt.date | None

    @classmethod
    def parse(cls, q: Mapping[str, str]) -> AuditFilters:
        action = q.get("action") or ""
        return cls(
            username=(q.get("username") or "").strip()[:100],
            action=action if action in ACCESS_ACTIONS else "",
            since=_day(q.get("since") or ""),
            until=_day(q.get("until") or ""),
        )

    def query(self) -> dict[str, Any]:
        """The register's filter arguments, Beijing dates as naive UTC bounds."""
        return {
            "username": self.username or None,
            "action": self.action or None,
            "since": dt.datetime.combine(self.since, dt.time()) - BEIJING_OFFSET if self.since else None,
            "until": dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time()) - BEIJING_OFFSET
            if self.until
            else None,
        }

    def describe(self) -> str:
        return f"username={self.username}; action={self.action}; since={self.since or ''}; until={self.until or ''}"


def _shown(row: AccessLog, masker: Masker) -> dict[str, Any]:
    return {
        "at": row.at,
        "username": row.username,
        "action": row.action,
        "target": masker.text(row.target),
        "detail": masker.text(row.detail),
        "ip": row.ip,
        "seq": row.seq,
        "hash": (row.hash or "")[:16],
    }


@router.get("/audit", name="audit")
def audit(request: Request) -> Response:
    current = request.state.user
    q = request.query_params
    filters = AuditFilters.parse(q)
    try:
        page = parse_page(q.get("page"))
    except RegisterError as exc:
        raise HTTPException(400, exc.message) from exc
    with request.app.state.sessions() as session:
        rows, total = audit_log(
            session, orm_user(session, current), **filters.query(), page=page, per_page=PER_PAGE
        )
        verdict = audit_chain.verify(session) if q.get("verify") == "1" else None  # O(records): on request
    accounts.audit(request, "view", target="audit", detail=f"{filters.describe()}; page={page}")
    masker = Masker(current.full_ids)
    shown = [_shown(r, masker) for r in rows]
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
        username=filters.username,
        action=filters.action,
        since=q.get("since") or "",
        until=q.get("until") or "",
        actions=ACCESS_ACTIONS,
        verdict=verdict,
    )


EXPORT_COLUMNS = (
    ("序号", "seq"),
    ("时间(北京时间)", "at"),
    ("用户", "username"),
    ("动作", "action"),
    ("对象", "target"),
    ("详情", "detail"),
    ("IP", "ip"),
    ("哈希", "hash"),
)
EXPORT_LIMIT = 200_000


@router.get("/audit/export.{fmt}", name="audit_export")
def audit_export(request: Request, fmt: Literal["csv", "xlsx"]) -> Response:
    """The filtered audit trail for the auditor (masked like the page), newest first."""
    current = request.state.user
    filters = AuditFilters.parse(request.query_params)
    masker = Masker(current.full_ids)
    with request.app.state.sessions() as session:
        rows, _total = audit_log(
            session, orm_user(session, current), **filters.query(), page=1, per_page=EXPORT_LIMIT
        )
        data = []
        for row in rows:
            shown = _shown(row, masker)
            shown["at"] = beijing(row.at)
            shown["action"] = ACCESS_LABELS.get(row.action, row.action)
            shown["hash"] = row.hash or ""
            data.append([shown[key] for _title, key in EXPORT_COLUMNS])
    accounts.audit(request, "export", target=f"audit.{fmt}", detail=f"{len(data)} 条; {filters.describe()}")
    header = [title for title, _key in EXPORT_COLUMNS]
    name = f"访问日志_{dt.date.today().isoformat()}.{fmt}"
    if fmt == "csv":
        return Response(
            exports.to_csv(header, data), media_type=exports.CSV_TYPE, headers=exports.attachment(name)
        )
    body = exports.to_xlsx([("访问日志", header, data)])
    return Response(body, media_type=exports.XLSX_TYPE, headers=exports.attachment(name))
