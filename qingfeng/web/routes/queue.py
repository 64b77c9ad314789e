"""The clue queue (线索台账) and its CSV/XLSX export."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from qingfeng.register import users
from qingfeng.register.errors import RegisterError
from qingfeng.register.queries import Page, list_clues, queue_rows
from qingfeng.web import accounts, exports
from qingfeng.web.deps import client_ip, orm_user, render
from qingfeng.web.masking import Masker
from qingfeng.web.opaque import sealer
from qingfeng.web.queries import SORTS, QueueParams, filter_options
from qingfeng.web.rows import EXPORT_COLUMNS, export_row, subject_line

router = APIRouter()
EXPORT_LIMIT = 200_000


def _params(request: Request, source: Any) -> QueueParams:
    return QueueParams.parse(source, may_search=request.state.user.may_search, sealer=sealer(request))


def _at(request: Request, name: str, params: QueueParams, **path: Any) -> RedirectResponse:
    query = params.query_string()
    return RedirectResponse(request.url_for(name, **path).path + (f"?{query}" if query else ""), 303)


def _typed_search(request: Request, name: str, **path: Any) -> Response | None:
    """A search term in the URL as typed (an old link, a hand-written address): the same page at the
    address with the term sealed, so that no result page or link names the person searched for."""
    if request.state.user.may_search and (request.query_params.get("q") or "").strip():
        return _at(request, name, _params(request, request.query_params), **path)
    return None


@router.post("/clues", name="queue")
async def queue_search(request: Request) -> Response:
    """The filter form posts (a search term may be an ID: it must not travel in a URL), and is answered
    with the queue's address, the term sealed (``qt``): Post/Redirect/Get, so that paging, sorting,
    the exports and the back button work as with any link."""
    return _at(request, "queue", _params(request, await request.form()))


@router.get("/clues", name="queue")
def queue(request: Request) -> Response:
    current = request.state.user
    typed = _typed_search(request, "queue")
    if typed is not None:
        return typed
    params = _params(request, request.query_params)
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
    masker = Masker(current.full_ids)
    accounts.audit(request, "view", target="queue", detail=masker.audit_detail(params.describe()))
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
    typed = _typed_search(request, "queue_export", fmt=fmt)
    if typed is not None:
        return typed
    params = _params(request, request.query_params)
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
    accounts.audit(
        request,
        "export",
        target=f"queue.{fmt}",
        detail=masker.audit_detail(f"{len(data)} 条; {params.describe()}"),
    )
    header = [title for title, _key in EXPORT_COLUMNS]
    name = f"线索台账_{dt.date.today().isoformat()}.{fmt}"
    if fmt == "csv":
        return Response(
            exports.to_csv(header, data, masker=masker),
            media_type=exports.CSV_TYPE,
            headers=exports.attachment(name),
        )
    body = exports.to_xlsx([("线索台账", header, data)], masker=masker)
    return Response(body, media_type=exports.XLSX_TYPE, headers=exports.attachment(name))
