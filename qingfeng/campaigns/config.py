"""Typed view of ``config/campaigns.yml``. Unknown keys are refused, so a typo fails loudly."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qingfeng.contract import CATALOGUE


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectRules(_Strict):
    rules: tuple[str, ...] = ()


class TaskConfig(_Strict):
    warn_days: int = Field(default=3, ge=0, le=60)


class EvaluationWeights(_Strict):
    overdue_task: float = -5
    late_report: float = -3
    rectified_on_time: float = 2
    recovered_per_10k: float = 0.5
    recovered_cap: float | None = Field(default=20, ge=0)  # most points funds can add; None: no cap


class EvaluationConfig(_Strict):
    base: float = 100
    report_due_day: int = Field(default=5, ge=1, le=28)
    weights: EvaluationWeights = EvaluationWeights()
    remind_below: float = 90


class DisclosureConfig(_Strict):
    min_count: int = Field(default=3, ge=1)


class CampaignsConfig(_Strict):
    projects: dict[str, ProjectRules] = {}
    tasks: TaskConfig = TaskConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    disclosure: DisclosureConfig = DisclosureConfig()

    def model_post_init(self, _context: object) -> None:
        seen: dict[str, str] = {}
        for code, project in self.projects.items():
            for rule in project.rules:
                if rule not in CATALOGUE:
                    raise ValueError(f"projects.{code}.rules: unknown rule {rule!r}")
                if rule in seen:
                    raise ValueError(f"rule {rule} is listed under both {seen[rule]} and {code}")
                seen[rule] = code

    def project_of(self, rule: str) -> str | None:
        """The code of the project a rule's clues belong to, if any."""
        return next((code for code, p in self.projects.items() if rule in p.rules), None)

    def rules_of(self, code: str) -> tuple[str, ...]:
        project = self.projects.get(code)
        return project.rules if project else ()


class CampaignsConfigError(ValueError):
    pass


def load(path: Path) -> CampaignsConfig:
    """Read and check the file; a missing file means no rule is mapped and every default applies."""
    if not path.exists():
        return CampaignsConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return CampaignsConfig.model_validate(data)
    except (yaml.YAMLError, ValidationError, ValueError) as exc:
        raise CampaignsConfigError(f"{path}: {exc}") from exc


@lru_cache(maxsize=8)
def cached(path: Path, mtime: float) -> CampaignsConfig:
    return load(path)


def campaigns_config(path: Path) -> CampaignsConfig:
    """The file's configuration, re-read when it changes (the web app is long-lived)."""
    return cached(path, path.stat().st_mtime if path.exists() else 0.0)
