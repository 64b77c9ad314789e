"""The clue queue (线索台账) and its CSV/XLSX export."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from qingfeng.register import users
from qingfeng.register.errors import RegisterError
from qingfeng.register.queries import Page, list_clues, queue_rows
from qingfeng.web import accounts, exports
from qingfeng.web.deps import client_ip, orm_user, render
from qingfeng.web.masking import Masker
from qingfeng.web.queries import SORTS, QueueParams, filter_options
from qingfeng.web.rows import EXPORT_COLUMNS, export_row, subject_line

router = APIRouter()
EXPORT_LIMIT = 200_000


@router.get("/clues", name="queue")
def queue(request: Request) -> Response:
    current = request.state.user
    params = QueueParams.parse(request.query_params, may_search=current.may_search)
    page: Page | None = None
    errors = list(params.errors)
    with request.app.state.sessions() as session:
        actor = orm_user(session, current)
        if params.valid:
            try:
                cfg = request.app.state.settings
                page = list_clues(
                    session,
                    actor,
                    params.to_filter(cfg.page_size),
                    warn_days=cfg.warn_days,
                    ip=client_ip(request),
                )
            except RegisterError as exc:
                errors.append(exc.message)
        options = filter_options(session)
    accounts.audit(request, "view", target="queue", detail=params.describe())
    masker = Masker(current.full_ids)
    rows = [
        {"clue": r.clue, "deadline": r.deadline, "colour": r.colour, "subjects": subject_line(r.clue, masker)}
        for r in (page.rows if page else [])
    ]
    return render(
        request,
        "queue.html",
        title="线索台账",
        active="queue",
        params=params,
        page=page,
        rows=rows,
        errors=errors,
        options=options,
        sorts=SORTS,
    )


@router.get("/clues/export.{fmt}", name="queue_export")
def queue_export(request: Request, fmt: Literal["csv", "xlsx"]) -> Response:
    current = request.state.user
    params = QueueParams.parse(request.query_params, may_search=current.may_search)
    masker = Masker(current.full_ids)
    data: list[list[object]] = []
    if params.valid:
        with request.app.state.sessions() as session:
            actor = orm_user(session, current)
            if params.q:
                users.audit(
                    session, actor, "search", target="clue", detail=params.q[:200], ip=client_ip(request)
                )
                session.commit()
            try:
                rows = queue_rows(
                    session,
                    actor,
                    params.to_filter(500),
                    limit=EXPORT_LIMIT,
                    warn_days=request.app.state.settings.warn_days,
                )
            except RegisterError as exc:
                raise HTTPException(403, exc.message) from exc
            data = [export_row(r.clue, r.deadline, r.colour, masker) for r in rows]
    accounts.audit(request, "export", target=f"queue.{fmt}", detail=f"{len(data)} 条; {params.describe()}")
    header = [title for title, _key in EXPORT_COLUMNS]
    name = f"线索台账_{dt.date.today().isoformat()}.{fmt}"
    if fmt == "csv":
        return Response(
            exports.to_csv(header, data), media_type=exports.CSV_TYPE, headers=exports.attachment(name)
        )
    body = exports.to_xlsx([("线索台账", header, data)])
    return Response(body, media_type=exports.XLSX_TYPE, headers=exports.attachment(name))
