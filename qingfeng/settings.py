"""One typed settings object for every command, DAG and job.

Precedence: explicit arguments (``--home``) > environment (``QINGFENG_*``) > defaults.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QINGFENG_", extra="ignore")

    home: Path = Field(default=Path("./var"), description="Root of the lake, register and logs.")
    spark_master: str = Field(default="local[*]", description="local[*], or spark://host:7077 for a cluster.")
    spark_shuffle_partitions: int = Field(default=8, ge=1)
    spark_driver_memory: str = "4g"
    spark_remote: str | None = Field(
        default=None, description="sc://host:port of a resident Spark Connect server (qingfeng spark-server)."
    )
    spark_concurrent_jobs: int = Field(
        default=4, ge=1, description="independent Spark actions (tables, rules) run side by side"
    )
    register_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the clue register; default SQLite under home."
    )
    as_of: dt.date | None = Field(
        default=None, description="Data cut-off date of a run. Rules never read the clock."
    )
    data_docs_after_ingest: bool = Field(
        default=True,
        description="rebuild GX Data Docs after each ingest (scheduled land runs leave it to the cross-match)",
    )
    inbox_settle_seconds: float = Field(
        default=30, ge=0, description="a delivered file unchanged this long is complete and is ingested"
    )
    inbox_poll_seconds: float = Field(default=10, gt=0, description="how often the inbox watch looks")
    cross_match_quiet_seconds: float = Field(
        default=300,
        ge=0,
        description="the cross-match waits until no land run has finished for this long (one delivery, one run)",
    )
    cross_match_cron: str = Field(
        default="0 2 * * *", description="nightly cross-match, run only when the landed data changed"
    )
    cross_match_deadline_minutes: float = Field(
        default=180,
        ge=0,
        description="alert when a cross-match run is not done this long after it was queued (0: never)",
    )
    spark_pool_slots: int | None = Field(
        default=None, ge=1, description="Spark tasks at once (pool qingfeng_spark); default from memory"
    )
    escalation_warn_days: int = Field(
        default=3, ge=0, description="a dispatch due within this many days is yellow"
    )
    audit_retention_days: int = Field(
        default=183,
        ge=183,
        description="audit records are kept at least this long (网络安全法 第二十一条: six months)",
    )
    feeds_dir: Path = Field(
        default=PROJECT_ROOT / "feeds",
        description="The feed files (<feed>.yml): deployment configuration, e.g. /etc/qingfeng/feeds.",
    )
    # Failure and deadline notices (qingfeng/pipeline/alerts.py, docs/alerts.md); no channel = log only.
    alert_smtp_host: str | None = Field(default=None, description="SMTP server of the alert e-mails.")
    alert_smtp_port: int = Field(default=25, ge=1, le=65535, description="587 with STARTTLS; 465 is SMTPS.")
    alert_smtp_starttls: bool = Field(default=False, description="STARTTLS before the login.")
    alert_smtp_user: str | None = Field(default=None, description="SMTP login, if the server wants one.")
    alert_smtp_password: SecretStr | None = None
    alert_email_from: str | None = Field(default=None, description="From:, default qingfeng@<host>.")
    alert_email_to: list[str] | str = Field(
        default_factory=list, description="Recipients: a@x.cn,b@y.cn (or a JSON list)."
    )
    alert_webhook_url: str | None = Field(default=None, description="Each notice is POSTed here as JSON.")
    alert_webhook_token: SecretStr | None = Field(default=None, description="Sent as a bearer token.")

    # Notifications to the people who must act (qingfeng/notify, docs/notifications.md).
    notify_base_url: str = Field(
        default="http://localhost:8000", description="The web UI's address, for the links in messages."
    )
    notify_due_soon_days: int = Field(
        default=3, ge=0, le=60, description="tell the responsible unit when a deadline is this many days away"
    )
    notify_red_after_days: int = Field(
        default=7, ge=0, le=365, description="overdue: yellow when passed, red when passed by more days"
    )
    notify_max_attempts: int = Field(default=5, ge=1, le=50, description="then a message is failed")
    notify_retry_minutes: float = Field(
        default=10, gt=0, description="the wait before the 2nd attempt; doubles each time, at most a day"
    )
    notify_cron: str = Field(
        default="0 8 * * *", description="the deadline sweep and delivery DAG (Asia/Shanghai)"
    )
    notify_deliver_from_web: bool = Field(
        default=True, description="the web tries to send an action's messages right after it (best effort)"
    )
    notify_smtp_host: str | None = Field(default=None, description="SMTP server of the e-mail messages.")
    notify_smtp_port: int = Field(default=25, ge=1, le=65535)
    notify_smtp_starttls: bool = Field(default=False, description="STARTTLS before the login.")
    notify_smtp_ssl: bool = Field(default=False, description="SMTPS: TLS from the first byte (port 465).")
    notify_smtp_user: str | None = None
    notify_smtp_password: SecretStr | None = None
    notify_email_from: str | None = Field(default=None, description="From:, default qingfeng@<host>.")
    notify_sms_url: str | None = Field(
        default=None, description="The SMS gateway: each message is POSTed here."
    )
    notify_sms_token: SecretStr | None = Field(default=None, description="Sent as a bearer token.")
    notify_sms_format: Literal["json", "form"] = "json"
    notify_sms_success_field: str | None = Field(
        default=None, description="a field of the gateway's JSON answer that must equal ..._success_value"
    )
    notify_sms_success_value: str = "0"

    @field_validator("alert_email_to", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        if isinstance(value, str):
            return [a.strip() for a in value.replace(";", ",").split(",") if a.strip()]
        return value

    rules_config: Path = PROJECT_ROOT / "config" / "rules.yml"
    divisions_config: Path = PROJECT_ROOT / "config" / "divisions.yml"  # optional: codes and aliases
    campaigns_config: Path = PROJECT_ROOT / "config" / "campaigns.yml"  # 专项治理: rule → project, weights

    @cached_property
    def lake(self) -> Path:
        return self.home.resolve() / "lake"

    @property
    def resolved_register_url(self) -> str:
        return self.register_url or f"sqlite:///{self.home.resolve() / 'register.db'}"

    def zone(self, name: str) -> Path:
        """A lake zone: raw, standardized, quarantine, curated, or a bookkeeping folder."""
        return self.lake / name


def get_settings(**overrides: object) -> Settings:
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
