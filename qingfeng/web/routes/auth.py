"""Login, logout, the forced password change, the landing redirect and a health check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from qingfeng.register import users
from qingfeng.register.errors import RegisterError
from qingfeng.web import accounts, permissions
from qingfeng.web.deps import client_ip, flash, render

router = APIRouter()
# one answer for a wrong password, an unknown name, a locked or a deactivated account: no enumeration
REFUSED = "用户名或密码错误,或账号已锁定、停用。连续多次失败将锁定账号。"
THROTTLED = "来自本地址的失败登录过多,请稍后再试。"


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
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    result = accounts.sign_in(request, username, password)
    if not result.ok:
        throttled = result.refusal == "throttled"
        return render(
            request,
            "login.html",
            status_code=429 if throttled else 401,
            title="登录",
            error=THROTTLED if throttled else REFUSED,
            username=username,
            next_url=_safe_next(next),
        )
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", name="logout")
def logout(request: Request) -> Response:
    accounts.audit(request, "logout")
    accounts.sign_out(request)
    return RedirectResponse(request.url_for("login_form").path, status_code=303)


@router.get("/account/password", name="password_form")
def password_form(request: Request) -> Response:
    return render(request, "password.html", title="修改口令", forced=request.state.user.must_change_password)


@router.post("/account/password", name="password_change")
def password_change(
    request: Request,
    current_password: Annotated[str, Form(max_length=500)] = "",
    new_password: Annotated[str, Form(max_length=500)] = "",
    confirm: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    current = request.state.user
    error = None
    if new_password != confirm:
        error = "两次输入的新口令不一致。"
    else:
        with request.app.state.sessions() as session:
            user = users.require_user(session, current.username)
            if not users.hasher_verify(user, current_password):
                error = "当前口令不正确。"
            else:
                try:
                    users.set_password(session, user.username, new_password, keep_session=current.session_id)
                    users.audit(
                        session,
                        user,
                        "password",
                        target=f"user:{user.username}",
                        detail="changed",
                        ip=client_ip(request),
                    )
                    session.commit()
                except RegisterError as exc:
                    session.rollback()
                    error = exc.message
    if error:
        accounts.audit(request, "denied", target="POST /account/password", detail=error)
        return render(
            request,
            "password.html",
            status_code=400,
            title="修改口令",
            forced=current.must_change_password,
            error=error,
        )
    flash(request, "ok", "口令已修改,其他会话均已结束。")
    return RedirectResponse(request.url_for("home").path, status_code=303)


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
