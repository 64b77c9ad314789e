"""Real receivers for the notification tests, on 127.0.0.1: an SMTP server (aiosmtpd, optionally with
STARTTLS and a login) and an SMS gateway (stdlib HTTP server) that record what reached them; and a
small register with a dispatch and a campaign task item to notify about."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import socket
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mail:
    mail_from: str
    rcpt_to: list[str]
    message: EmailMessage
    login: str | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        # decoded from base64 / quoted-printable, with the wire's CRLF line ends, as a reader sees it
        return str(part.get_content()).replace("\r\n", "\n")


class SmtpCatcher:
    """aiosmtpd on loopback. ``login``: (user, password) the server demands; ``tls``: STARTTLS offered
    and required before the login."""

    def __init__(self, *, login: tuple[str, str] | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.mails: list[Mail] = []
        catcher = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
                who = session.auth_data.login.decode() if session.auth_data else None
                catcher.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message, who))  # type: ignore[arg-type]
                return "250 OK"

        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == login
            return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

        self.port = free_port()
        options: dict[str, Any] = {}
        if login:
            options.update(auth_required=True, auth_require_tls=tls is not None, authenticator=check)
        if tls:
            options.update(tls_context=tls, require_starttls=True)
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> SmtpCatcher:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass
class SmsRequest:
    path: str
    headers: dict[str, str]
    content_type: str
    payload: dict[str, Any]


@dataclass
class SmsGatewayStub:
    """An SMS gateway that records every request. ``answers``: what it says to the next requests (status,
    JSON body), then ``(200, {"code": 0, "msg": "ok"})``."""

    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    requests: list[SmsRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                kind = self.headers.get("Content-Type", "")
                payload = (
                    json.loads(raw)
                    if kind.startswith("application/json")
                    else dict(urllib.parse.parse_qsl(raw))
                )
                stub.requests.append(SmsRequest(self.path, dict(self.headers), kind, payload))
                status, answer = stub.answers.pop(0) if stub.answers else (200, {"code": 0, "msg": "ok"})
                body = json.dumps(answer, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"

    def __enter__(self) -> SmsGatewayStub:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- a small register: one clue dispatched to a unit, one campaign task item ----

UNIT = "区农业农村局派驻纪检组"
LEAD_UNIT = "区农业农村局"
DISPATCHED = dt.datetime(2026, 4, 1, 9, 0)  # when the clue was dispatched (naive UTC)
DEADLINE = dt.date(2026, 4, 20)
TASK_DEADLINE = dt.date(2026, 4, 10)


def seed_register(session: Any) -> dict[str, Any]:
    """Users with contact details, clue 1 dispatched to UNIT (deadline DEADLINE), and project MSZJ
    with one open task of UNIT (deadline TASK_DEADLINE). Returns the ids."""
    from test_register_support import AS_OF, make_clue

    from qingfeng.register.models import CampaignProject, CampaignTask
    from qingfeng.register.publish import RunInfo, publish
    from qingfeng.register.service import ClueService
    from qingfeng.register.users import create_user, get_or_create_unit

    publish(session.get_bind(), [make_clue("S01", "330109198001011234", "张三")], RunInfo(as_of=AS_OF))
    unit = get_or_create_unit(session, UNIT)
    lead = get_or_create_unit(session, LEAD_UNIT)
    analyst = create_user(session, "an1", "analyst", display_name="李分析")
    analyst.email = "an1@district.example"
    liaison = create_user(session, "lo1", "liaison", unit=UNIT, display_name="赵联络")
    liaison.email, liaison.phone = "zhao@district.example", "13912345678"
    quiet = create_user(session, "lo2", "liaison", unit=UNIT, display_name="钱联络")  # no address
    lead_user = create_user(session, "lead1", "analyst", unit=LEAD_UNIT, display_name="孙科长")
    lead_user.phone = "13800001111"
    project = CampaignProject(
        code="MSZJ",
        title="民生资金专项治理",
        lead_unit=lead,
        period_start=dt.date(2026, 1, 1),
        status="进行中",
        created_by="an1",
    )
    task = CampaignTask(
        project=project,
        title="全面排查低保资金发放",
        responsible_unit=unit,
        deadline=TASK_DEADLINE,
        status="进行中",
        created_by="an1",
    )
    session.add_all([project, task])
    session.commit()
    service = ClueService(session, analyst, now=DISPATCHED)
    service.transition(1, "核查", reason="初步核实")
    dispatch = service.dispatch(1, UNIT, DEADLINE)
    return {
        "analyst": analyst.id,
        "liaison": liaison.id,
        "quiet": quiet.id,
        "lead": lead_user.id,
        "dispatch": dispatch.id,
        "task": task.id,
        "project": project.id,
    }
