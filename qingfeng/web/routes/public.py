"""向社会公开: the public page, served without a session (``web.public_zone``), and its stylesheet.
Not audited per view: it holds no personal data (``campaigns.disclosure``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from qingfeng.campaigns.config import campaigns_config
from qingfeng.campaigns.disclosure import public_disclosure
from qingfeng.web.public_page import STYLESHEET, render_disclosure

router = APIRouter()


@router.get("/public", name="public_projects", response_class=HTMLResponse)
def public_projects(request: Request) -> Response:
    settings = request.app.state.settings
    min_count = campaigns_config(settings.campaigns_config).disclosure.min_count
    with request.app.state.sessions() as session:
        disclosure = public_disclosure(session, min_count=min_count)
    stylesheet = request.url_for("public_stylesheet").path  # carries the proxy's --root-path
    return HTMLResponse(render_disclosure(disclosure, stylesheet=stylesheet))


@router.get("/public/style.css", name="public_stylesheet")
def public_stylesheet() -> Response:
    return Response(STYLESHEET.read_bytes(), media_type="text/css")
