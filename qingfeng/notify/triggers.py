"""The immediate events: called by the code that performs the action, inside its transaction (after a
flush, so that the new rows have ids). They only queue; delivery happens later (``delivery``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.orm import Session

from qingfeng.notify.queue import WORKING_ROLES, Policy, queue, role_users, unit_users
from qingfeng.register.models import Clue, Dispatch, User


def clue_item(clue: Clue) -> str:
    """How a message names a clue: its number and rule, never its subjects."""
    rule = f"{clue.rule} {clue.rule_name}" if clue.rule_name else clue.rule
    return f"线索 #{clue.id}({rule})"


def dispatch_received(
    session: Session, dispatch: Dispatch, *, policy: Policy | None = None, now: dt.datetime | None = None
) -> int:
    """派件: to the liaisons of the unit the clue was dispatched to."""
    return queue(
        session,
        "dispatch_received",
        unit_users(session, dispatch.unit_id),
        key=f"dispatch:{dispatch.id}",
        target=f"dispatch:{dispatch.id}",
        path=f"/clues/{dispatch.clue_id}",
        path_action="view_clue",
        context={
            "item": clue_item(dispatch.clue),
            "unit": dispatch.unit.name,
            "deadline": dispatch.deadline.isoformat(),
        },
        policy=policy or Policy.from_settings(),
        now=now,
    )


def clue_assigned(
    session: Session,
    clue: Clue,
    assignee: User,
    *,
    by: User,
    occurrence: int,
    policy: Policy | None = None,
    now: dt.datetime | None = None,
) -> int:
    """分派承办: to the new assignee (not when they assigned it to themselves). ``occurrence`` is the
    assignment event's id: assigned away and back is a second message."""
    if assignee.id == by.id:
        return 0
    return queue(
        session,
        "clue_assigned",
        [assignee],
        key=f"clue:{clue.id}|assignment:{occurrence}",
        target=f"clue:{clue.id}",
        path=f"/clues/{clue.id}",
        path_action="view_clue",
        context={"item": clue_item(clue), "assigner": by.display_name},
        policy=policy or Policy.from_settings(),
        now=now,
    )


def supervision_listed(
    session: Session,
    *,
    listing_id: int,
    target: str,
    item: str,
    path: str,
    unit_id: int | None,
    unit_name: str,
    leader: str,
    deadline: dt.date,
    reports: str,
    path_action: str | None = "view_clue",
    leader_user: User | None = None,
    policy: Policy | None = None,
    now: dt.datetime | None = None,
) -> int:
    """挂牌督办: to the working users of the responsible unit and the supervising leader's account, if
    any. For the listing code (issue #17): ``target`` is the listed item (``clue:12``), ``item`` how the
    message names it, ``path`` its page (for users whose role may do ``path_action``)."""
    users = unit_users(session, unit_id, WORKING_ROLES) + ([leader_user] if leader_user else [])
    return queue(
        session,
        "supervision_listed",
        users,
        key=f"listing:{listing_id}",
        target=target,
        path=path,
        path_action=path_action,
        context={
            "item": item,
            "unit": unit_name,
            "leader": leader,
            "deadline": deadline.isoformat(),
            "reports": reports,
        },
        policy=policy or Policy.from_settings(),
        now=now,
    )


def monthly_report_ready(
    session: Session,
    month: str,
    *,
    recipients: Iterable[User] | None = None,
    policy: Policy | None = None,
    now: dt.datetime | None = None,
) -> int:
    """进度月报 of ``month`` (YYYY-MM) written: to the supervisors and analysts, once per month."""
    return queue(
        session,
        "monthly_report_ready",
        role_users(session, ("supervisor", "analyst")) if recipients is None else recipients,
        key=f"report:{month}",
        target=f"report:{month}",
        path=f"/reports/monthly?month={month}",
        path_action="view_report",
        context={"month": month},
        policy=policy or Policy.from_settings(),
        now=now,
    )
