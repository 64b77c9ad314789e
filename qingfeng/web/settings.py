"""Web settings: the project settings plus session and cookie options (prefix ``QINGFENG_``)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field

from qingfeng.settings import Settings

SECRET_FILE = "web_secret"


class WebSettings(Settings):
    session_secret: str | None = Field(
        default=None, description="Signs session cookies; default: a random key kept in <home>/web_secret."
    )
    cookie_secure: bool = Field(default=False, description="Send the session cookie over HTTPS only.")
    session_max_age: int = Field(default=8 * 3600, ge=60, description="Session lifetime in seconds.")
    page_size: int = Field(default=50, ge=5, le=500)
    warn_days: int = Field(
        default=3, ge=0, le=60, description="Yellow escalation: deadline due within N days."
    )

    def secret(self) -> str:
        """The configured secret, else one generated once and kept (mode 600) under home."""
        if self.session_secret:
            return self.session_secret
        path = Path(self.home).resolve() / SECRET_FILE
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value)
        return value


def web_settings(base: Settings | None = None, **overrides: object) -> WebSettings:
    """Web settings built from project settings (so ``--home`` and env both apply)."""
    values = base.model_dump() if base is not None else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return WebSettings(**values)
