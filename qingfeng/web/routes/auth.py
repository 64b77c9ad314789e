"""Login, logout, the landing redirect and a health check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from qingfeng.web import accounts, permissions
from qingfeng.web.deps import render

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.get("/login", name="login_form")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", title="登录", next_url=_safe_next(next))


@router.post("/login", name="login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    current = accounts.sign_in(request, username.strip(), password)
    if current is None:
        return render(
            request,
            "login.html",
            status_code=401,
            title="登录",
            error="用户名或密码错误,或账号已停用。",
            username=username,
            next_url=_safe_next(next),
        )
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", name="logout")
def logout(request: Request) -> Response:
    accounts.audit(request, "logout")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/", name="home")
def home(request: Request) -> Response:
    target = permissions.landing(request.state.user.role)
    if target is None:
        return render(
            request, "error.html", status_code=403, heading="无可用页面", message="您的角色没有可访问的页面。"
        )
    return RedirectResponse(request.url_for(target).path, status_code=303)


@router.get("/healthz", name="healthz")
def healthz() -> Response:
    return PlainTextResponse("ok")
