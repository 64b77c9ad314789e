"""The FastAPI application: ``create_app(settings)`` wires sessions, CSRF, roles and the pages."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.exceptions import HTTPException

from qingfeng.register.db import make_engine, session_factory
from qingfeng.settings import Settings
from qingfeng.web import deps, masking, permissions, public_page, public_zone
from qingfeng.web.csrf import csrf_protect
from qingfeng.web.guard import InputGuard
from qingfeng.web.headers import SecurityHeaders
from qingfeng.web.ratelimit import RateLimiter
from qingfeng.web.settings import WebSettings, web_settings

HERE = Path(__file__).parent


async def authorize(request: Request) -> None:
    """App-wide: resume the server-side session and apply the route's role check (default deny).
    Refusals are audited: a cookie whose session has ended, and a route the role may not reach."""
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    if name in permissions.PUBLIC_ROUTES:
        return
    from qingfeng.web import accounts

    had_token = bool(request.session.get(accounts.TOKEN))
    current = accounts.current_from_cookie(request)
    if current is None:
        if had_token or request.method not in ("GET", "HEAD"):
            accounts.audit(request, "denied", target=_target(request), detail="no live session")
        raise deps.NotAuthenticated()
    request.state.user = current
    if current.must_change_password and name not in permissions.PASSWORD_CHANGE_ROUTES:
        raise deps.PasswordChangeRequired()
    if not permissions.allowed(str(name), current.role):
        accounts.audit(request, "denied", target=_target(request), detail=f"role {current.role}")
        raise deps.Forbidden()


def _target(request: Request) -> str:
    """The refused request, for the audit trail: method and path (the masking policy applies on display)."""
    return f"{request.method} {request.url.path}"[:200]


def create_app(settings: Settings | None = None) -> FastAPI:
    cfg: WebSettings = settings if isinstance(settings, WebSettings) else web_settings(settings)
    app = FastAPI(
        title="清风",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(authorize), Depends(csrf_protect)],
    )
    engine = make_engine(cfg.resolved_register_url)
    app.state.settings = cfg
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    _setup_templates(app.state.templates)
    app.add_middleware(
        public_zone.Sessions,  # the signed cookie, except in the public zone (no session there)
        secret_key=cfg.secret(),
        session_cookie="qingfeng_session",
        max_age=cfg.session_max_age,
        same_site="lax",
        https_only=cfg.cookie_secure,
    )
    app.state.public_limiter = RateLimiter(cfg.public_burst, cfg.public_per_minute)
    app.add_middleware(
        public_zone.PublicRateLimit,
        limiter=app.state.public_limiter,
        refusal_page=public_page.render_refusal,
        audit=public_zone.audit_refusal(app.state.sessions),
    )
    app.add_middleware(InputGuard)  # oversized bodies and NUL characters, before any route
    app.add_middleware(SecurityHeaders, hsts=cfg.behind_tls)  # outside the guard: on its refusals too
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _install_handlers(app)
    from qingfeng.web.routes import (
        account,
        admin,
        audit,
        auth,
        campaign_reports,
        campaigns,
        clues,
        public,
        queue,
        reports,
        subjects,
    )

    for module in (
        auth,
        account,
        queue,
        clues,
        subjects,
        reports,
        campaigns,
        campaign_reports,
        public,
        audit,
        admin,
    ):
        app.include_router(module.router)
    return app


def _wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "text/html")


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(deps.NotAuthenticated)
    async def _login_required(request: Request, _exc: deps.NotAuthenticated) -> Response:
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            login = request.url_for("login_form").path  # carries the proxy's --root-path
            return RedirectResponse(f"{login}?next={quote(target, safe='')}", status_code=303)
        return JSONResponse({"detail": "请先登录。"}, status_code=401)

    @app.exception_handler(deps.PasswordChangeRequired)
    async def _change_password(request: Request, _exc: deps.PasswordChangeRequired) -> Response:
        if request.method == "GET":
            return RedirectResponse(request.url_for("password_form").path, status_code=303)
        return JSONResponse({"detail": "请先修改口令。"}, status_code=403)

    @app.exception_handler(deps.Forbidden)
    async def _forbidden(request: Request, exc: deps.Forbidden) -> Response:
        return deps.render(request, "error.html", status_code=403, heading="无权访问", message=exc.message)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        heading = {403: "操作被拒绝", 404: "未找到", 409: "数据已被他人修改"}.get(exc.status_code, "请求有误")
        message = exc.detail if isinstance(exc.detail, str) else "请求有误。"
        if message == HTTPStatus(exc.status_code).phrase:  # Starlette's own English ("Not Found")
            message = {404: "页面不存在。", 405: "不支持此请求方式。"}.get(exc.status_code, "请求有误。")
        if exc.status_code == 403:  # CSRF, another unit's clue, a refused action: audited
            from qingfeng.web import accounts

            accounts.audit(request, "denied", target=_target(request), detail=message[:500])
        if _wants_html(request) or exc.status_code == 403:
            return deps.render(
                request, "error.html", status_code=exc.status_code, heading=heading, message=message
            )
        return JSONResponse({"detail": masking.mask_text(message)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _bad_input(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(err.get("loc", ["", "?"])[-1]) for err in exc.errors()})
        message = "输入有误,请检查这些字段:" + "、".join(fields)
        return deps.render(request, "error.html", status_code=400, heading="输入有误", message=message)


@pass_context
def _path_for(context: dict[str, Any], name: str, /, **params: Any) -> str:
    """Site-relative links (``/clues/1``): right behind any proxy or host name."""
    return str(context["request"].url_for(name, **params).path)


def _setup_templates(templates: Jinja2Templates) -> None:
    from qingfeng.web import formatting

    templates.env.filters.update(formatting.FILTERS)
    templates.env.globals["url_for"] = _path_for
    templates.env.globals.update(
        domain_label=formatting.FILTERS["domain"],
        severity_label=formatting.FILTERS["severity"],
        colour_label=formatting.FILTERS["colour"],
    )
    masking.install(templates.env)  # after the globals: every {{ value }} passes the viewer's masker
