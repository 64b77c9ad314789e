"""The pluggable sender: a ``Sender`` delivers one message on the channels it names, or raises.

- ``EmailSender``: SMTP through ``qingfeng.mailer`` (the alerts' client), UTF-8 plain text;
- ``SmsGateway``: an HTTP POST (JSON or form) with a bearer token to the configured gateway, whose
  answer decides: a 2xx status and, when ``notify_sms_success_field`` is set, that field of its JSON
  answer equal to ``notify_sms_success_value`` (``{"code": 0, "msg": "ok"}``);
- ``Senders``: several senders as one, by channel. ``from_settings`` builds it from ``QINGFENG_NOTIFY_*``.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from qingfeng.mailer import TIMEOUT_SECONDS, SmtpServer, send_mail
from qingfeng.settings import Settings


class SendError(Exception):
    """The channel refused the message (the gateway's answer, a refused recipient)."""


@dataclass(frozen=True)
class Outgoing:
    channel: str
    address: str
    subject: str
    body: str
    event: str
    notification_id: int | None = None


class Sender(Protocol):
    channels: frozenset[str]

    def send(self, message: Outgoing) -> None:
        """Deliver ``message`` or raise: any exception is a failed attempt."""

    def describe(self) -> str:
        """Where messages go, for the operator: no password, no token."""


class EmailSender:
    channels = frozenset({"email"})

    def __init__(self, server: SmtpServer, sender: str | None = None) -> None:
        self.server = server
        self.sender = server.sender(sender)

    def send(self, message: Outgoing) -> None:
        send_mail(
            self.server,
            sender=self.sender,
            to=[message.address],
            subject=message.subject,
            body=message.body,
            headers={"X-Qingfeng-Event": message.event},
        )

    def describe(self) -> str:
        return f"e-mail via {self.server.target}"


class SmsGateway:
    channels = frozenset({"sms"})

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        form: bool = False,
        success_field: str | None = None,
        success_value: str = "0",
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.url = url
        self.token = token
        self.form = form
        self.success_field = success_field
        self.success_value = success_value
        self.timeout = timeout

    def payload(self, message: Outgoing) -> dict[str, Any]:
        return {
            "phone": message.address,
            "content": message.body,
            "event": message.event,
            "id": "" if message.notification_id is None else str(message.notification_id),
        }

    def send(self, message: Outgoing) -> None:
        headers = {"User-Agent": "qingfeng-notify/1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = self.payload(message)
        kwargs: dict[str, Any] = {"data": body} if self.form else {"json": body}
        response = httpx.post(self.url, headers=headers, timeout=self.timeout, **kwargs)
        text = response.text[:300]
        if not response.is_success:
            raise SendError(f"短信网关答复 HTTP {response.status_code}: {text}")
        if self.success_field:
            try:
                answer = response.json()
            except ValueError:
                raise SendError(f"短信网关的答复不是 JSON: {text}") from None
            value = answer.get(self.success_field) if isinstance(answer, dict) else None
            if str(value) != self.success_value:
                raise SendError(f"短信网关拒绝发送({self.success_field}={value}): {text}")

    def describe(self) -> str:
        parts = urllib.parse.urlsplit(self.url)  # no login, no query string (tokens hide there)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return f"SMS via {urllib.parse.urlunsplit((parts.scheme, host, parts.path, '', ''))}"


class Senders:
    """Several senders as one: each message goes to the sender of its channel."""

    def __init__(self, *senders: Sender) -> None:
        self.by_channel = {channel: s for s in senders for channel in s.channels}
        self.channels = frozenset(self.by_channel)

    def send(self, message: Outgoing) -> None:
        sender = self.by_channel.get(message.channel)
        if sender is None:
            raise SendError(f"未配置 {message.channel} 通道")
        sender.send(message)

    def describe(self) -> str:
        return "; ".join(s.describe() for s in dict.fromkeys(self.by_channel.values())) or "no channel"


def _secret(value: Any) -> str | None:
    raw = value.get_secret_value() if value is not None and hasattr(value, "get_secret_value") else value
    return str(raw) if raw else None


def from_settings(settings: Settings) -> Senders:
    """The channels configured in ``QINGFENG_NOTIFY_*`` (none: an empty ``Senders``)."""
    found: list[Sender] = []
    if settings.notify_smtp_host:
        server = SmtpServer(
            host=settings.notify_smtp_host,
            port=settings.notify_smtp_port,
            starttls=settings.notify_smtp_starttls,
            tls=settings.notify_smtp_ssl,
            user=settings.notify_smtp_user,
            password=_secret(settings.notify_smtp_password),
        )
        found.append(EmailSender(server, settings.notify_email_from))
    if settings.notify_sms_url:
        found.append(
            SmsGateway(
                settings.notify_sms_url,
                token=_secret(settings.notify_sms_token),
                form=settings.notify_sms_format == "form",
                success_field=settings.notify_sms_success_field,
                success_value=settings.notify_sms_success_value,
            )
        )
    return Senders(*found)
