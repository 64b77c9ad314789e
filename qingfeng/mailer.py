"""One SMTP client for every e-mail qingfeng sends: the operator's alerts (``qingfeng.pipeline.alerts``)
and the notifications to users (``qingfeng.notify``). UTF-8 plain text; STARTTLS, SMTPS and a login
as configured. Light at import: DAG files import the alerts at parse time."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int = 25
    starttls: bool = False  # STARTTLS before the login
    tls: bool = False  # SMTPS: TLS from the first byte (port 465)
    user: str | None = None
    password: str | None = None
    timeout: float = TIMEOUT_SECONDS

    def sender(self, configured: str | None) -> str:
        """From: the configured address, else the login when it is one, else qingfeng@<this host>."""
        if configured:
            return configured
        if self.user and "@" in self.user:
            return self.user
        return f"qingfeng@{socket.getfqdn()}"

    @property
    def target(self) -> str:
        """What an operator may see: no login, no password."""
        return f"{self.host}:{self.port}"


def send_mail(
    server: SmtpServer,
    *,
    sender: str,
    to: list[str],
    subject: str,
    body: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send one message; raises (``smtplib.SMTPException``, ``OSError``) when it is not accepted."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="qingfeng.local")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body, charset="utf-8")
    context = ssl.create_default_context()
    smtp = (
        smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
        if server.tls
        else smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    )
    with smtp:
        smtp.ehlo()
        if server.starttls and not server.tls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if server.user:
            smtp.login(server.user, server.password or "")
        refused = smtp.send_message(message, from_addr=sender, to_addrs=to)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
