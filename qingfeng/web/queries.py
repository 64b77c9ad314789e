"""Query-string parsing for the clue queue, and the choices of its filter selects.

The queue itself, clue detail, subject pages, audit log and monthly report come from
``qingfeng.register.queries`` / ``qingfeng.register.report``; this module turns request parameters
into the register's ``ClueFilter`` (bound parameters, never SQL text) and lists the filter choices.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from qingfeng.register.bounds import parse_day, parse_page
from qingfeng.register.errors import RegisterError
from qingfeng.register.lifecycle import SEVERITY_RANK, STATUSES
from qingfeng.register.models import Clue, PipelineRun
from qingfeng.register.queries import COLOURS, ClueFilter
from qingfeng.web.opaque import SEARCH, Sealer

SORTS = {"severity": "严重程度", "amount": "涉及金额", "risk": "风险评分", "first_seen": "最早发现"}
SEVERITIES = tuple(SEVERITY_RANK)


@dataclass
class QueueParams:
    rule: str = ""
    domain: str = ""
    town: str = ""
    village: str = ""
    status: str = ""
    severity: str = ""
    colour: str = ""
    as_of: str = ""
    q: str = ""
    sort: str = "severity"
    page: int = 1
    errors: list[str] = field(default_factory=list)
    sealed_q: str = field(default="", repr=False)  # ``q`` as links carry it (``qt``): never the term itself

    @classmethod
    def parse(cls, params: Any, *, may_search: bool, sealer: Sealer | None = None) -> QueueParams:
        """From query parameters (or the filter form). Malformed values are reported and match nothing
        (never an error page). The search term comes sealed in links (``qt``, opened with ``sealer``)."""
        names = {f.name for f in fields(cls)} - {"errors", "page", "sealed_q"}
        text: dict[str, Any] = {n: str(params.get(n, "") or "").strip()[:100] for n in names}
        p = cls(**text)
        sealed = str(params.get("qt", "") or "")
        if not p.q and sealed and may_search and sealer is not None:
            opened = sealer.open(SEARCH, sealed)
            if opened is None:
                p.errors.append("搜索条件已失效,请重新输入")
            p.q = (opened or "").strip()[:100]
        try:
            p.page = parse_page(str(params.get("page", "") or ""))
        except RegisterError as exc:
            p.errors.append(f"{exc.message},已显示第 1 页")
        if p.sort not in SORTS:
            p.sort = "severity"
        if not may_search:
            p.q = ""
        if p.q and sealer is not None:
            p.sealed_q = sealer.seal(SEARCH, p.q)
        checks = (
            (p.status, STATUSES, "状态"),
            (p.severity, SEVERITIES, "严重程度"),
            (p.colour, COLOURS, "预警颜色"),
        )
        for value, allowed, title in checks:
            if value and value not in allowed:
                p.errors.append(f"未知{title}「{value}」")
        if p.as_of:
            try:
                parse_day(p.as_of)
            except RegisterError as exc:
                p.errors.append(exc.message)
        return p

    @property
    def valid(self) -> bool:
        return not [e for e in self.errors if not e.startswith("页码")]

    def to_filter(self, per_page: int) -> ClueFilter:
        return ClueFilter(
            rule=self.rule or None,
            domain=self.domain or None,
            town=self.town or None,
            village=self.village or None,
            status=self.status or None,
            severity=self.severity or None,
            colour=self.colour or None,
            as_of=dt.date.fromisoformat(self.as_of) if self.as_of else None,
            q=self.q or None,
            sort=self.sort,
            page=self.page,
            per_page=per_page,
        )

    def query_string(self, **override: Any) -> str:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("errors", "sealed_q")}
        values.update(override)
        if values.pop("q", ""):  # the search term travels sealed, never as typed (it may be an ID)
            values["qt"] = self.sealed_q
        return urlencode(
            {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}
        )

    def describe(self) -> str:
        """The filters in words (export headers, audit detail)."""
        parts = [
            f"{f.name}={getattr(self, f.name)}"
            for f in fields(self)
            if f.name not in ("errors", "page", "sealed_q") and getattr(self, f.name)
        ]
        return "; ".join(parts) or "全部"


def filter_options(session: Session) -> dict[str, list[str]]:
    """Choices for the filter selects (distinct values of indexed columns)."""

    def distinct(column: Any) -> list[str]:
        return [
            str(v)
            for v in session.scalars(select(column).where(column.is_not(None)).distinct().order_by(column))
        ]

    as_of = [
        str(v)
        for v in session.scalars(select(PipelineRun.as_of).distinct().order_by(PipelineRun.as_of.desc()))
    ]
    return {
        "rule": distinct(Clue.rule),
        "domain": distinct(Clue.domain),
        "town": distinct(Clue.town),
        "village": distinct(Clue.village),
        "as_of": as_of,
        "status": list(STATUSES),
        "severity": list(SEVERITIES),
        "colour": list(COLOURS),
    }
