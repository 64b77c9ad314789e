"""The signed-in user's notification settings: e-mail, mobile number, and which events they receive
(mandatory ones are always received). Changes go through ``qingfeng.notify.preferences`` (audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from qingfeng.notify.events import EVENT_KINDS
from qingfeng.notify.preferences import current, set_preferences
from qingfeng.register.errors import RegisterError
from qingfeng.register.models import Notification
from qingfeng.web.deps import client_ip, flash, orm_user, render
from qingfeng.web.masking import Unmasked

router = APIRouter()
RECENT = 10
STATE_TITLES = {"pending": "待发送", "sent": "已发送", "failed": "发送失败", "skipped": "未发送"}


def _page(
    request: Request, *, status_code: int = 200, error: str | None = None, typed: dict | None = None
) -> Response:
    with request.app.state.sessions() as session:
        user = orm_user(session, request.state.user)
        prefs = current(user)
        recent = list(
            session.scalars(
                select(Notification)
                .where(Notification.recipient_id == user.id)
                .order_by(Notification.id.desc())
                .limit(RECENT)
            )
        )
    shown = typed or {"email": prefs.email or "", "phone": prefs.phone or ""}
    return render(
        request,
        "notifications.html",
        status_code=status_code,
        title="通知设置",
        # the user's own address, written back into the form as it is (the masking policy would
        # turn a mobile number into 139****5678 and the next save would refuse it)
        email=Unmasked(shown["email"]),
        phone=Unmasked(shown["phone"]),
        muted=set(prefs.muted),
        kinds=EVENT_KINDS,
        recent=recent,
        state_titles=STATE_TITLES,
        error=error,
    )


@router.get("/account/notifications", name="notification_settings")
def notification_settings(request: Request) -> Response:
    return _page(request)


@router.post("/account/notifications", name="notification_settings_save")
def notification_settings_save(
    request: Request,
    email: Annotated[str, Form(max_length=300)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    receive: Annotated[list[str] | None, Form(max_length=50)] = None,
) -> Response:
    with request.app.state.sessions() as session:
        user = orm_user(session, request.state.user)
        try:
            changes = set_preferences(
                session, user, user, email=email, phone=phone, receive=receive or [], ip=client_ip(request)
            )
        except RegisterError as exc:
            session.rollback()
            return _page(request, status_code=400, error=exc.message, typed={"email": email, "phone": phone})
    flash(request, "ok", "通知设置已保存。" if changes else "通知设置未改变。")
    return RedirectResponse(request.url_for("notification_settings").path, status_code=303)
