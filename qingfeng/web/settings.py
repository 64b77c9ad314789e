"""Web settings: the project settings plus session and cookie options (prefix ``QINGFENG_``)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field, model_validator

from qingfeng.settings import Settings

SECRET_FILE = "web_secret"


class WebSettings(Settings):
    session_secret: str | None = Field(
        default=None, description="Signs session cookies; default: a random key kept in <home>/web_secret."
    )
    cookie_secure: bool = Field(default=False, description="Send the session cookie over HTTPS only.")
    behind_tls: bool = Field(
        default=False,
        description="Served over HTTPS by a TLS reverse proxy: the cookie is Secure and HSTS is sent.",
    )
    session_max_age: int = Field(
        default=8 * 3600, ge=60, description="Absolute session lifetime in seconds, however active."
    )
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60, description="Idle timeout of a session.")
    lockout_failures: int = Field(
        default=5, ge=1, le=100, description="Failed sign-ins that lock an account."
    )
    lockout_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60, description="How long a lock lasts.")
    throttle_failures: int = Field(
        default=20, ge=1, description="Failed sign-ins from one address that make it wait (any user names)."
    )
    throttle_minutes: int = Field(default=10, ge=1, description="The window of the address throttle.")
    public_burst: int = Field(
        default=30,
        ge=1,
        le=10_000,
        description="Requests one address may make at once to /public (向社会公开).",
    )
    public_per_minute: float = Field(
        default=60,
        gt=0,
        le=60_000,
        description="Requests a minute one address may make to /public after its burst.",
    )
    password_max_age_days: int = Field(
        default=90, ge=0, description="Passwords expire after N days (0: never); then a change is forced."
    )
    page_size: int = Field(default=50, ge=5, le=500)
    warn_days: int = Field(
        default=3, ge=0, le=60, description="Yellow escalation: deadline due within N days."
    )

    def login_policy(self):  # -> qingfeng.register.auth.LoginPolicy
        from qingfeng.register.auth import LoginPolicy

        return LoginPolicy(
            max_failures=self.lockout_failures,
            lockout_minutes=self.lockout_minutes,
            throttle_failures=self.throttle_failures,
            throttle_minutes=self.throttle_minutes,
            idle_minutes=self.session_idle_minutes,
            lifetime_hours=self.session_max_age / 3600,
            password_max_age_days=self.password_max_age_days,
        )

    @model_validator(mode="after")
    def _tls_means_secure_cookies(self) -> WebSettings:
        if self.behind_tls:
            self.cookie_secure = True
        return self

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
