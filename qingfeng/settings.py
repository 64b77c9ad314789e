"""One typed settings object for every command, DAG and job.

Precedence: explicit arguments (``--home``) > environment (``QINGFENG_*``) > defaults.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

from pydantic import Field
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
    expectations_dir: Path = Field(
        default=PROJECT_ROOT / "expectations",
        description="The GX suites (<table>.json) of the feeds' tables, e.g. /etc/qingfeng/expectations.",
    )
    rules_config: Path = PROJECT_ROOT / "config" / "rules.yml"

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
