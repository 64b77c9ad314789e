"""The daily deadline sweep: open dispatches and open campaign task items due within
``notify_due_soon_days`` (临近), past their deadline (黄牌) or past it by more than
``notify_red_after_days`` (红牌). Each state of each deadline is one message per recipient and
channel (the dedupe key carries the deadline and the state), so the sweep can run any number of times
a day; a yellow item turning red is one new message, and a changed deadline starts afresh."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from qingfeng.notify.queue import WORKING_ROLES, Policy, queue, unit_users
from qingfeng.notify.render import shorten
from qingfeng.notify.triggers import clue_item
from qingfeng.register.lifecycle import OPEN_STATUSES, PROJECT_CLOSED, TASK_OPEN
from qingfeng.register.models import CampaignProject, CampaignTask, Clue, Dispatch, User, utcnow

CARDS = {"yellow": "黄牌预警", "red": "红牌预警"}


@dataclass(frozen=True)
class DeadlineState:
    event: str  # deadline_soon | deadline_passed
    colour: str | None  # yellow | red when passed
    days: int  # days left (soon) or days over (passed)

    @property
    def name(self) -> str:
        return self.colour or "soon"


def deadline_state(deadline: dt.date, today: dt.date, policy: Policy) -> DeadlineState | None:
    left = (deadline - today).days
    if left < 0:
        colour = "red" if -left > policy.red_after_days else "yellow"
        return DeadlineState("deadline_passed", colour, -left)
    if left <= policy.due_soon_days:
        return DeadlineState("deadline_soon", None, left)
    return None


def _days_phrase(left: int) -> str:
    return "今天到期" if left == 0 else f"还有 {left} 天"


def sweep(session: Session, today: dt.date, policy: Policy, now: dt.datetime | None = None) -> Counter[str]:
    """Queue what is due on ``today`` (the commission's day) and commit; returns counts by event (and
    ``no_recipient``: items whose unit has no active user to tell)."""
    now = now or utcnow()
    counts: Counter[str] = Counter()
    members: dict[tuple[int | None, tuple[str, ...]], list[User]] = {}

    def unit(unit_id: int | None, roles: tuple[str, ...] = ("liaison",)) -> list[User]:
        if (unit_id, roles) not in members:
            members[unit_id, roles] = unit_users(session, unit_id, roles)
        return members[unit_id, roles]

    horizon = today + dt.timedelta(days=policy.due_soon_days)
    dispatches = session.scalars(
        select(Dispatch)
        .join(Clue, Clue.id == Dispatch.clue_id)
        .where(Dispatch.state == "sent", Dispatch.deadline <= horizon, Clue.status.in_(OPEN_STATUSES))
        .options(selectinload(Dispatch.clue), selectinload(Dispatch.unit))
        .order_by(Dispatch.id)
    )
    for d in dispatches:
        state = deadline_state(d.deadline, today, policy)
        if state is None:
            continue
        _deadline(
            session,
            state,
            unit(d.unit_id),
            counts,
            what=f"dispatch:{d.id}",
            deadline=d.deadline,
            item=clue_item(d.clue) + "派件",
            unit=d.unit.name,
            path=f"/clues/{d.clue_id}",
            path_action="view_clue",
            policy=policy,
            now=now,
        )
    tasks = session.scalars(
        select(CampaignTask)
        .join(CampaignProject, CampaignProject.id == CampaignTask.project_id)
        .where(
            CampaignTask.status == TASK_OPEN,
            CampaignTask.deadline <= horizon,
            CampaignProject.status != PROJECT_CLOSED,
        )
        .options(selectinload(CampaignTask.project), selectinload(CampaignTask.responsible_unit))
        .order_by(CampaignTask.id)
    )
    for t in tasks:
        state = deadline_state(t.deadline, today, policy)
        if state is None:
            continue
        users = unit(t.responsible_unit_id) + unit(t.project.lead_unit_id, WORKING_ROLES)
        _deadline(
            session,
            state,
            users,
            counts,
            what=f"task:{t.id}",
            deadline=t.deadline,
            item=f"专项治理「{shorten(t.project.title, 20)}」任务:{shorten(t.title, 30)}",
            unit=t.responsible_unit.name if t.responsible_unit else "(未指定)",
            path=f"/campaigns/{t.project_id}#task-{t.id}",
            path_action="view_campaign",
            policy=policy,
            now=now,
        )
    session.commit()
    return counts


def _deadline(
    session: Session,
    state: DeadlineState,
    users: Iterable[User],
    counts: Counter[str],
    *,
    what: str,
    deadline: dt.date,
    item: str,
    unit: str,
    path: str,
    path_action: str,
    policy: Policy,
    now: dt.datetime,
) -> None:
    users = list(users)
    if not users:
        counts["no_recipient"] += 1
        return
    counts[state.event] += queue(
        session,
        state.event,
        users,
        key=f"{what}|{deadline.isoformat()}|{state.name}",
        target=what,
        path=path,
        path_action=path_action,
        context={
            "item": item,
            "unit": unit,
            "deadline": deadline.isoformat(),
            "days_phrase": _days_phrase(state.days),
            "days_over": state.days,
            "colour": state.colour or "",
            "card": CARDS.get(state.colour or "", ""),
            "red_after_days": policy.red_after_days,
        },
        policy=policy,
        now=now,
    )
