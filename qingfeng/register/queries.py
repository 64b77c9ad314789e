"""Read helpers for the UI and the CLI: the clue queue, detail, subject pages, audit log.

Every filter is a bound parameter through the ORM; no SQL text is built from user input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from qingfeng.register.errors import InvalidInput
from qingfeng.register.lifecycle import SEVERITY_RANK
from qingfeng.register.models import AccessLog, Clue, ClueSubject, Dispatch, Event, User
from qingfeng.register.service import ClueService, require
from qingfeng.register.users import audit

DEFAULT_WARN_DAYS = 3
SORTS = ("severity", "amount", "risk", "first_seen", "last_seen", "id")
COLOURS = ("red", "yellow", "green")


def escalation_colour(deadline: dt.date | None, today: dt.date, warn_days: int = DEFAULT_WARN_DAYS) -> str | None:
    """red: past the deadline; yellow: due within ``warn_days`` days; green: otherwise; None: no open dispatch."""
    if deadline is None:
        return None
    if deadline < today:
        return "red"
    if (deadline - today).days <= warn_days:
        return "yellow"
    return "green"


def open_deadline_subquery() -> Any:
    """Earliest deadline of each clue's open (sent, unanswered) dispatches."""
    return (
        select(Dispatch.clue_id, func.min(Dispatch.deadline).label("deadline"))
        .where(Dispatch.state == "sent")
        .group_by(Dispatch.clue_id)
        .subquery()
    )


def colour_expr(deadline_col: Any, today: dt.date, warn_days: int) -> Any:
    return case(
        (deadline_col.is_(None), None),
        (deadline_col < today, "red"),
        (deadline_col <= today + dt.timedelta(days=warn_days), "yellow"),
        else_="green",
    )


@dataclass
class ClueFilter:
    rule: str | None = None
    domain: str | None = None
    town: str | None = None
    village: str | None = None
    status: str | None = None
    severity: str | None = None
    colour: str | None = None
    as_of: dt.date | None = None
    detection_state: str | None = None
    assignee: str | None = None
    q: str | None = None  # a name (substring) or an exact subject ID
    sort: str = "severity"
    descending: bool = True
    page: int = 1
    per_page: int = 50


@dataclass
class QueueRow:
    clue: Clue
    deadline: dt.date | None
    colour: str | None


@dataclass
class Page:
    rows: list[QueueRow]
    total: int
    page: int
    per_page: int
    filters: ClueFilter = field(repr=False, default_factory=ClueFilter)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered_query(
    f: ClueFilter, today: dt.date, warn_days: int = DEFAULT_WARN_DAYS, *, liaison_unit: int | None = None
) -> Select[Any]:
    """SELECT (Clue, open deadline, colour) with the filter applied; ``liaison_unit`` scopes to a unit."""
    dl = open_deadline_subquery()
    colour = colour_expr(dl.c.deadline, today, warn_days)
    stmt = select(Clue, dl.c.deadline, colour.label("colour")).outerjoin(dl, dl.c.clue_id == Clue.id)
    conds: list[Any] = []
    for name in ("rule", "domain", "town", "village", "status", "severity", "as_of", "detection_state"):
        value = getattr(f, name)
        if value not in (None, ""):
            conds.append(getattr(Clue, name) == value)
    if f.colour:
        if f.colour not in COLOURS:
            raise InvalidInput(f"未知的预警颜色 {f.colour!r}")
        conds.append(colour == f.colour)
    if f.assignee:
        conds.append(Clue.assignee.has(User.username == f.assignee))
    if f.q and f.q.strip():
        term = f.q.strip()
        conds.append(
            exists().where(
                ClueSubject.clue_id == Clue.id,
                or_(ClueSubject.subject_id == term, ClueSubject.name.like(f"%{_like_escape(term)}%", escape="\\")),
            )
        )
    if liaison_unit is not None:
        conds.append(
            exists().where(Dispatch.clue_id == Clue.id, Dispatch.unit_id == liaison_unit, Dispatch.state != "withdrawn")
        )
    if conds:
        stmt = stmt.where(and_(*conds))
    return stmt


def list_clues(
    session: Session, user: User, filters: ClueFilter | None = None, *, today: dt.date | None = None,
    warn_days: int = DEFAULT_WARN_DAYS, ip: str | None = None,
) -> Page:
    """The clue queue: filtered, sorted, paginated; a liaison sees only clues dispatched to their unit."""
    f = filters or ClueFilter()
    require(user, "view_clue")
    if f.q and f.q.strip():
        require(user, "search")
        audit(session, user, "search", target="clue", detail=f.q.strip()[:200], ip=ip)
    if f.sort not in SORTS:
        raise InvalidInput(f"未知的排序字段 {f.sort!r}，可选：{', '.join(SORTS)}")
    page = max(1, int(f.page))
    per_page = min(max(1, int(f.per_page)), 500)
    today = today or dt.date.today()
    stmt = filtered_query(f, today, warn_days, liaison_unit=(user.unit_id or -1) if user.role == "liaison" else None)
    total = session.scalar(select(func.count()).select_from(stmt.with_only_columns(Clue.id).subquery())) or 0
    key = {
        "severity": case(*[(Clue.severity == s, r) for s, r in SEVERITY_RANK.items()], else_=0),
        "amount": Clue.amount,
        "risk": Clue.risk_score,
        "first_seen": Clue.first_seen,
        "last_seen": Clue.last_seen,
        "id": Clue.id,
    }[f.sort]
    order = [key.desc().nulls_last() if f.descending else key.asc().nulls_last(), Clue.amount.desc().nulls_last(),
             Clue.id]
    rows = session.execute(
        stmt.options(selectinload(Clue.assignee)).order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    if f.q:
        session.commit()  # the search audit row
    return Page([QueueRow(c, d, col) for c, d, col in rows], total, page, per_page, f)


def clue_detail(session: Session, user: User, clue_id: int, *, today: dt.date | None = None,
                warn_days: int = DEFAULT_WARN_DAYS, ip: str | None = None) -> dict[str, Any]:
    """Facts, evidence rows, timeline, dispatches (with colour) and rectifications; logs the view."""
    from qingfeng.register.service import describe

    clue = ClueService(session, user).load(clue_id)
    today = today or dt.date.today()
    audit(session, user, "view", target=f"clue:{clue.id}", ip=ip)
    session.commit()
    return {
        "clue": describe(clue),
        "evidence": [{"feed": e.feed, "table": e.table_name, "file": e.file, "line": e.line, "note": e.note}
                     for e in clue.evidence_rows],
        "events": [{"kind": e.kind, "from": e.from_status, "to": e.to_status, "actor": e.actor, "text": e.text,
                    "at": e.at} for e in clue.events],
        "dispatches": [{"id": d.id, "unit": d.unit.name, "deadline": d.deadline, "state": d.state,
                        "sent_at": d.sent_at, "answered_at": d.answered_at,
                        "colour": escalation_colour(d.deadline, today, warn_days) if d.state == "sent" else None}
                       for d in clue.dispatches],
        "rectifications": [{"measures": r.measures, "recovered_amount": r.recovered_amount,
                            "sanction_count": r.sanction_count, "sanction_text": r.sanction_text,
                            "org_handling_count": r.org_handling_count, "org_handling_text": r.org_handling_text,
                            "recorded_by": r.recorded_by, "recorded_at": r.recorded_at} for r in clue.rectifications],
    }


def subject_clues(session: Session, user: User, kind: str, subject_id: str) -> list[Clue]:
    """All clues naming one subject (person, company, village...), visible to the user."""
    require(user, "view_clue")
    stmt = (
        select(Clue)
        .where(exists().where(ClueSubject.clue_id == Clue.id, ClueSubject.kind == kind,
                              ClueSubject.subject_id == subject_id))
        .order_by(Clue.first_seen.desc(), Clue.id)
    )
    if user.role == "liaison":
        stmt = stmt.where(exists().where(Dispatch.clue_id == Clue.id, Dispatch.unit_id == (user.unit_id or -1),
                                         Dispatch.state != "withdrawn"))
    return list(session.scalars(stmt))


def combined_risk(clues: list[Clue]) -> float | None:
    """A subject's combined risk: 1 - prod(1 - r) over its clues' risk scores (None when none scored)."""
    scores = [min(max(c.risk_score, 0.0), 1.0) for c in clues if c.risk_score is not None]
    if not scores:
        return None
    rest = 1.0
    for s in scores:
        rest *= 1.0 - s
    return round(1.0 - rest, 4)


def audit_log(
    session: Session, user: User, *, username: str | None = None, action: str | None = None,
    since: dt.datetime | None = None, until: dt.datetime | None = None, page: int = 1, per_page: int = 100,
) -> tuple[list[AccessLog], int]:
    """The access log, newest first (admin and auditor only)."""
    require(user, "view_audit")
    stmt = select(AccessLog)
    if username:
        stmt = stmt.where(AccessLog.username == username)
    if action:
        stmt = stmt.where(AccessLog.action == action)
    if since:
        stmt = stmt.where(AccessLog.at >= since)
    if until:
        stmt = stmt.where(AccessLog.at < until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    per_page = min(max(1, per_page), 1000)
    rows = session.scalars(stmt.order_by(AccessLog.id.desc()).limit(per_page).offset((max(1, page) - 1) * per_page))
    return list(rows), total


def clue_events(session: Session, user: User, *, kind: str | None = None) -> list[Event]:
    """Every clue event (the auditor's view of who changed what), newest first."""
    require(user, "view_audit")
    stmt = select(Event).order_by(Event.id.desc())
    if kind:
        stmt = stmt.where(Event.kind == kind)
    return list(session.scalars(stmt))
