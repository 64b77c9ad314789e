"""Read helpers for the UI and the CLI: the clue queue, detail, subject pages, audit log.

Every filter is a bound parameter through the ORM; no SQL text is built from user input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from qingfeng.register.errors import InvalidInput
from qingfeng.register.lifecycle import SEVERITY_RANK
from qingfeng.register.models import AccessLog, Clue, ClueSubject, Dispatch, Event, SubjectRisk, User
from qingfeng.register.service import ClueService, require
from qingfeng.register.users import audit

DEFAULT_WARN_DAYS = 3
SORTS = ("severity", "amount", "risk", "first_seen", "last_seen", "id")
COLOURS = ("red", "yellow", "green")
COUNT_CAP = 10_000


def escalation_colour(
    deadline: dt.date | None, today: dt.date, warn_days: int = DEFAULT_WARN_DAYS
) -> str | None:
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
    capped: bool = False  # more than the counted cap matched: show "total+"

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def unit_clue_ids(unit_id: int | None) -> Select[Any]:
    """Clues dispatched (not withdrawn) to a unit: a liaison's scope. Used as an uncorrelated ``IN``: a
    correlated EXISTS made SQLite scan the unit's dispatches once per clue (minutes at 100k)."""
    return select(Dispatch.clue_id).where(Dispatch.unit_id == (unit_id or -1), Dispatch.state != "withdrawn")


def filtered_ids(
    f: ClueFilter, today: dt.date, warn_days: int = DEFAULT_WARN_DAYS, *, liaison_unit: int | None = None
) -> Select[Any]:
    """SELECT clue.id with the filter applied, on ``clue`` alone (every other table through an uncorrelated
    ``id IN (...)``); ``liaison_unit`` scopes to a unit's dispatched clues."""
    conds: list[Any] = []
    for name in ("rule", "domain", "town", "village", "status", "severity", "as_of", "detection_state"):
        value = getattr(f, name)
        if value not in (None, ""):
            conds.append(getattr(Clue, name) == value)
    if f.colour:
        if f.colour not in COLOURS:
            raise InvalidInput(f"未知的预警颜色 {f.colour!r}")
        dl = open_deadline_subquery()
        conds.append(
            Clue.id.in_(select(dl.c.clue_id).where(colour_expr(dl.c.deadline, today, warn_days) == f.colour))
        )
    if f.assignee:
        conds.append(Clue.assignee_id.in_(select(User.id).where(User.username == f.assignee)))
    if f.q and f.q.strip():
        term = f.q.strip()
        conds.append(
            Clue.id.in_(
                select(ClueSubject.clue_id).where(
                    or_(
                        ClueSubject.subject_id == term,
                        ClueSubject.name.like(f"%{_like_escape(term)}%", escape="\\"),
                    )
                )
            )
        )
    if liaison_unit is not None:
        conds.append(Clue.id.in_(unit_clue_ids(liaison_unit)))
    stmt = select(Clue.id)
    return stmt.where(and_(*conds)) if conds else stmt


def sort_order(sort: str, descending: bool = True) -> list[Any]:
    if sort not in SORTS:
        raise InvalidInput(f"未知的排序字段 {sort!r}，可选：{', '.join(SORTS)}")
    key = {
        "severity": case(*[(Clue.severity == s, r) for s, r in SEVERITY_RANK.items()], else_=0),
        "amount": Clue.amount,
        "risk": Clue.risk_score,
        "first_seen": Clue.first_seen,
        "last_seen": Clue.last_seen,
        "id": Clue.id,
    }[sort]
    return [
        key.desc().nulls_last() if descending else key.asc().nulls_last(),
        Clue.amount.desc().nulls_last(),
        Clue.id,
    ]


def rows_for_ids(
    session: Session, ids: list[int], today: dt.date, warn_days: int = DEFAULT_WARN_DAYS
) -> list[QueueRow]:
    """Full rows, open deadlines and colours for a page of ids, in the order given."""
    if not ids:
        return []
    clues = {
        c.id: c
        for c in session.scalars(select(Clue).options(selectinload(Clue.assignee)).where(Clue.id.in_(ids)))
    }
    dl = open_deadline_subquery()
    deadlines = {
        cid: (d, col)
        for cid, d, col in session.execute(
            select(dl.c.clue_id, dl.c.deadline, colour_expr(dl.c.deadline, today, warn_days)).where(
                dl.c.clue_id.in_(ids)
            )
        )
    }
    return [QueueRow(clues[i], *deadlines.get(i, (None, None))) for i in ids if i in clues]


def _scope(user: User) -> int | None:
    return (user.unit_id or -1) if user.role == "liaison" else None


def list_clues(
    session: Session,
    user: User,
    filters: ClueFilter | None = None,
    *,
    today: dt.date | None = None,
    warn_days: int = DEFAULT_WARN_DAYS,
    ip: str | None = None,
    count_cap: int = COUNT_CAP,
) -> Page:
    """The clue queue: filtered, sorted, paginated; a liaison sees only clues dispatched to their unit.

    Sorted on the narrow id query (LIMIT/OFFSET), then full rows for the page's ids only. The total is
    counted up to ``count_cap`` (``Page.capped`` beyond: "10000+")."""
    f = filters or ClueFilter()
    require(user, "view_clue")
    order = sort_order(f.sort, f.descending)
    if f.q and f.q.strip():
        require(user, "search")
        audit(session, user, "search", target="clue", detail=f.q.strip()[:200], ip=ip)
        session.commit()
    page = max(1, int(f.page))
    per_page = min(max(1, int(f.per_page)), 500)
    today = today or dt.date.today()
    ids_stmt = filtered_ids(f, today, warn_days, liaison_unit=_scope(user))
    total = session.scalar(select(func.count()).select_from(ids_stmt.limit(count_cap + 1).subquery())) or 0
    ids = list(session.scalars(ids_stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)))
    return Page(
        rows_for_ids(session, ids, today, warn_days),
        min(total, count_cap),
        page,
        per_page,
        f,
        capped=total > count_cap,
    )


def queue_rows(
    session: Session,
    user: User,
    filters: ClueFilter,
    *,
    limit: int,
    today: dt.date | None = None,
    warn_days: int = DEFAULT_WARN_DAYS,
) -> list[QueueRow]:
    """Every row of the filtered queue in queue order, up to ``limit`` (exports: needs ``export``)."""
    require(user, "export")
    today = today or dt.date.today()
    ids = list(
        session.scalars(
            filtered_ids(filters, today, warn_days, liaison_unit=_scope(user))
            .order_by(*sort_order(filters.sort, filters.descending))
            .limit(limit)
        )
    )
    out: list[QueueRow] = []
    for start in range(0, len(ids), 500):
        out.extend(rows_for_ids(session, ids[start : start + 500], today, warn_days))
        session.expunge_all()  # keep memory flat on large exports
    return out


def clue_detail(
    session: Session,
    user: User,
    clue_id: int,
    *,
    today: dt.date | None = None,
    warn_days: int = DEFAULT_WARN_DAYS,
    ip: str | None = None,
    detail: str | None = None,
) -> dict[str, Any]:
    """Facts, evidence rows, timeline, dispatches (with colour) and rectifications; logs the view (with
    ``detail``: the web UI notes there that full numbers were shown)."""
    from qingfeng.register.service import describe

    clue = ClueService(session, user).load(clue_id)
    today = today or dt.date.today()
    audit(session, user, "view", target=f"clue:{clue.id}", detail=detail, ip=ip)
    session.commit()
    return {
        "clue": describe(clue),
        "campaign": _campaign_facts(clue),
        "evidence": [
            {"feed": e.feed, "table": e.table_name, "file": e.file, "line": e.line, "note": e.note}
            for e in clue.evidence_rows
        ],
        "events": [
            {
                "kind": e.kind,
                "from": e.from_status,
                "to": e.to_status,
                "actor": e.actor,
                "text": e.text,
                "at": e.at,
            }
            for e in clue.events
        ],
        "dispatches": [
            {
                "id": d.id,
                "unit": d.unit.name,
                "deadline": d.deadline,
                "state": d.state,
                "sent_at": d.sent_at,
                "answered_at": d.answered_at,
                "colour": escalation_colour(d.deadline, today, warn_days) if d.state == "sent" else None,
            }
            for d in clue.dispatches
        ],
        "rectifications": [
            {
                "measures": r.measures,
                "recovered_amount": r.recovered_amount,
                "sanction_count": r.sanction_count,
                "sanction_text": r.sanction_text,
                "org_handling_count": r.org_handling_count,
                "org_handling_text": r.org_handling_text,
                "accountability_count": r.accountability_count,
                "accountability_text": r.accountability_text,
                "exposure_count": r.exposure_count,
                "recorded_by": r.recorded_by,
                "recorded_at": r.recorded_at,
            }
            for r in clue.rectifications
        ],
    }


def _campaign_facts(clue: Clue) -> dict[str, Any]:
    """Where a problem came from and where it belongs: its source, its 专项治理 project, the inspection
    that found it, and the systems built (制度) on it."""
    project, inspection = clue.project, clue.inspection
    return {
        "source": clue.source,
        "project": {"id": project.id, "code": project.code, "title": project.title} if project else None,
        "inspection": (
            {
                "id": inspection.id,
                "inspected_on": inspection.inspected_on,
                "inspecting_unit": inspection.inspecting_unit,
            }
            if inspection
            else None
        ),
        "institutions": [
            {"title": i.title, "issued_on": i.issued_on, "issuer": i.issuer, "recorded_by": i.recorded_by}
            for i in clue.institutions
        ],
    }


def _subject_ids(user: User, kind: str, subject_id: str) -> Select[Any]:
    stmt = select(ClueSubject.clue_id).where(ClueSubject.kind == kind, ClueSubject.subject_id == subject_id)
    if user.role == "liaison":
        stmt = stmt.where(ClueSubject.clue_id.in_(unit_clue_ids(user.unit_id)))
    return stmt


def subject_clues(
    session: Session, user: User, kind: str, subject_id: str, *, limit: int = 200
) -> list[Clue]:
    """The most recent ``limit`` clues naming one subject (person, company, village...), visible to the user.
    An uncorrelated ``id IN (the subject's clues)``: reads the subject's few index rows, not every clue."""
    require(user, "view_clue")
    stmt = (
        select(Clue)
        .where(Clue.id.in_(_subject_ids(user, kind, subject_id)))
        .order_by(Clue.first_seen.desc(), Clue.id)
        .limit(max(1, min(limit, 5000)))
    )
    return list(session.scalars(stmt))


def subject_totals(session: Session, user: User, kind: str, subject_id: str) -> tuple[int, Decimal]:
    """(number of clues, their summed amount) of one subject, over all of its visible clues."""
    require(user, "view_clue")
    count, amount = session.execute(
        select(func.count(), func.coalesce(func.sum(Clue.amount), 0)).where(
            Clue.id.in_(_subject_ids(user, kind, subject_id))
        )
    ).one()
    return int(count), Decimal(amount)


def subject_risk(session: Session, user: User, kind: str, subject_id: str) -> SubjectRisk | None:
    """The stored risk profile of a subject (computed at publishing over active clues), or None."""
    require(user, "view_clue")
    return session.scalar(
        select(SubjectRisk).where(SubjectRisk.kind == kind, SubjectRisk.subject_id == subject_id)
    )


def audit_log(
    session: Session,
    user: User,
    *,
    username: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    page: int = 1,
    per_page: int = 100,
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
    per_page = min(max(1, per_page), 200_000)  # the auditor's export reads one big page
    rows = session.scalars(
        stmt.order_by(AccessLog.id.desc()).limit(per_page).offset((max(1, page) - 1) * per_page)
    )
    return list(rows), total


def clue_events(
    session: Session,
    user: User,
    *,
    kind: str | None = None,
    clue_id: int | None = None,
    page: int = 1,
    per_page: int = 200,
) -> list[Event]:
    """Clue events (the auditor's view of who changed what), newest first, one page (at most 1000)."""
    require(user, "view_audit")
    stmt = select(Event).order_by(Event.id.desc())
    if kind:
        stmt = stmt.where(Event.kind == kind)
    if clue_id is not None:
        stmt = stmt.where(Event.clue_id == clue_id)
    per_page = min(max(1, per_page), 1000)
    return list(session.scalars(stmt.limit(per_page).offset((max(1, page) - 1) * per_page)))
