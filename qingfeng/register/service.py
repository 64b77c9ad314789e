"""The clue lifecycle service: every change goes through here, whoever calls (UI, CLI, tests).

Each action checks the role, the lifecycle and the clue's version, writes an event and an
access-log row, and commits. A stale version raises ``ConflictError``; nothing is overwritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from qingfeng.register.bounds import AHEAD_DAYS, parse_money, valid_id
from qingfeng.register.errors import (
    ConflictError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RectificationRequired,
)
from qingfeng.register.lifecycle import (
    CLOSED,
    HANDLING,
    RECTIFYING,
    ROLE_TITLES,
    TERMINAL,
    TRANSITIONS,
    VERIFYING,
    allowed,
    transition_action,
)
from qingfeng.register.models import Clue, Dispatch, Event, Rectification, Unit, User, utcnow
from qingfeng.register.users import audit

ACTION_TITLES = {
    "view_clue": "查看线索",
    "comment": "评论",
    "assign": "分派承办人",
    "transition": "变更状态",
    "close": "销号",
    "reopen": "重新开启",
    "dispatch": "派件",
    "rectify": "登记整改",
    "export": "导出",
    "search": "检索",
    "view_audit": "查看审计日志",
    "view_report": "查看月报",
    "manage_users": "管理用户",
    "view_campaign": "查看专项治理项目",
    "manage_campaigns": "管理专项治理项目",
    "edit_tasks": "维护任务清单",
    "record_inspection": "登记检查",
    "publish": "向社会公开",
}


MAX_COUNT = 10_000  # persons sanctioned or handled in one rectification


def require(user: User, action: str) -> None:
    if not user.active:
        raise PermissionDenied(f"用户 {user.username} 已停用")
    if not allowed(user.role, action):
        raise PermissionDenied(
            f"角色「{ROLE_TITLES.get(user.role, user.role)}」无权{ACTION_TITLES.get(action, action)}"
        )


def liaison_can_see(session: Session, user: User, clue_id: int) -> bool:
    """A liaison sees a clue only while it has a (not withdrawn) dispatch to their unit."""
    if user.unit_id is None:
        return False
    hit = session.scalar(
        select(Dispatch.id)
        .where(Dispatch.clue_id == clue_id, Dispatch.unit_id == user.unit_id, Dispatch.state != "withdrawn")
        .limit(1)
    )
    return hit is not None


class ClueService:
    """Actions on clues by one acting user. ``now`` (naive UTC) is injectable for tests and backfills.

    ``require_version`` (the web UI): every change must name the version the user saw, so that no change
    skips the optimistic lock; comments only add, and need none."""

    def __init__(
        self,
        session: Session,
        user: User,
        *,
        now: dt.datetime | None = None,
        require_version: bool = False,
        ip: str | None = None,
    ) -> None:
        self.session = session
        self.user = user
        self._now = now
        self.require_version = require_version
        self.ip = ip  # the client's address, for the audit trail

    @property
    def now(self) -> dt.datetime:
        return self._now or utcnow()

    # -- loading and bookkeeping -------------------------------------------------------------

    def load(self, clue_id: int, action: str = "view_clue", expected_version: int | None = None) -> Clue:
        require(self.user, action)
        clue = self.session.get(Clue, clue_id) if valid_id(clue_id) else None  # no row beyond int4
        if clue is None:
            raise NotFound(f"线索 {clue_id} 不存在")
        if self.user.role == "liaison" and not liaison_can_see(self.session, self.user, clue_id):
            raise PermissionDenied("该线索未派至您所在单位，无权访问")
        if expected_version is not None and clue.version != expected_version:
            raise ConflictError(
                f"线索 {clue_id} 已被他人修改（您看到的是第 {expected_version} 版，当前为第 {clue.version} 版），请刷新后重试"
            )
        return clue

    def load_for_change(self, clue_id: int, action: str, expected_version: int | None) -> Clue:
        if self.require_version and expected_version is None:
            raise InvalidInput("缺少线索版本号,更改未保存:请刷新页面后重试")
        return self.load(clue_id, action, expected_version)

    def _event(
        self,
        clue: Clue,
        kind: str,
        *,
        text: str | None = None,
        from_status: str | None = None,
        to_status: str | None = None,
    ) -> Event:
        ev = Event(
            clue=clue,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            actor=self.user.username,
            text=text,
            at=self.now,
        )
        self.session.add(ev)
        return ev

    def _commit(self, clue: Clue, what: str, *, notify: Callable[[], int] | None = None) -> Clue:
        """``notify`` queues the action's notifications after a flush (so new rows have ids), in the same
        transaction; it never fails the action (``qingfeng.notify.queue.safely``) and sends nothing."""
        clue.updated_at = self.now  # every change bumps the version, even when only child rows change
        audit(self.session, self.user, "change", target=f"clue:{clue.id}", detail=what, ip=self.ip)
        try:
            if notify is not None:
                from qingfeng.notify.queue import safely

                self.session.flush()
                safely(self.session, what, notify)
            self.session.commit()
        except StaleDataError as exc:
            self.session.rollback()
            raise ConflictError(f"线索 {clue.id} 已被他人修改，您的更改未保存，请刷新后重试") from exc
        return clue

    # -- actions -------------------------------------------------------------------------------

    def transition(
        self, clue_id: int, to_status: str, *, reason: str, expected_version: int | None = None
    ) -> Clue:
        clue = self.load_for_change(clue_id, "view_clue", expected_version)
        src = clue.status
        if to_status not in TRANSITIONS.get(src, ()):
            raise InvalidTransition(f"不允许的状态变更：{src} → {to_status}")
        action = transition_action(src, to_status)
        require(self.user, action)
        if not (reason or "").strip():
            raise InvalidInput("状态变更必须填写理由")
        if to_status == CLOSED and not clue.rectifications:
            raise RectificationRequired("销号前必须登记整改情况")
        clue.status = to_status
        self._event(
            clue,
            "reopen" if action == "reopen" else "status_change",
            from_status=src,
            to_status=to_status,
            text=reason.strip(),
        )
        return self._commit(clue, f"{src} → {to_status}")

    def close(self, clue_id: int, *, reason: str, expected_version: int | None = None) -> Clue:
        return self.transition(clue_id, CLOSED, reason=reason, expected_version=expected_version)

    def comment(self, clue_id: int, text: str) -> Event:
        clue = self.load(clue_id, "comment")
        if not (text or "").strip():
            raise InvalidInput("评论内容不能为空")
        ev = self._event(clue, "comment", text=text.strip())
        self._commit(clue, "评论")
        return ev

    def assign(self, clue_id: int, assignee: str | None, *, expected_version: int | None = None) -> Clue:
        clue = self.load_for_change(clue_id, "assign", expected_version)
        target = None
        if assignee:
            target = self.session.scalar(select(User).where(User.username == assignee))
            if target is None or not target.active:
                raise NotFound(f"用户 {assignee} 不存在或已停用")
            if target.role not in ("supervisor", "analyst"):  # 三员分立: an administrator works no clue
                raise InvalidInput(f"用户 {assignee} 的角色不能承办线索")
        clue.assignee = target
        ev = self._event(clue, "assignment", text=f"承办人：{target.display_name if target else '（无）'}")

        def notify() -> int:
            from qingfeng.notify.triggers import clue_assigned

            assert target is not None
            return clue_assigned(self.session, clue, target, by=self.user, occurrence=ev.id, now=self.now)

        return self._commit(clue, f"assign {assignee or '-'}", notify=notify if target else None)

    def dispatch(
        self,
        clue_id: int,
        unit: str,
        deadline: dt.date,
        *,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> Dispatch:
        """派件: send to a unit with a deadline; a clue in 核查 moves to 处置."""
        clue = self.load_for_change(clue_id, "dispatch", expected_version)
        if clue.status not in (VERIFYING, HANDLING):
            raise InvalidTransition(f"状态为「{clue.status}」的线索不能派件（须处于核查或处置）")
        target = self.session.scalar(select(Unit).where(Unit.name == unit))
        if target is None:
            raise NotFound(f"单位「{unit}」不存在")
        if not target.active:
            raise InvalidInput(f"单位「{unit}」已停用,不再接收派件")
        if deadline < self.now.date():
            raise InvalidInput(f"办理期限 {deadline} 早于今天")
        if deadline > self.now.date() + dt.timedelta(days=AHEAD_DAYS):
            raise InvalidInput(f"办理期限 {deadline} 超出范围:最迟为一年之内")
        d = Dispatch(
            clue=clue,
            unit=target,
            deadline=deadline,
            state="sent",
            note=note,
            sent_by=self.user.username,
            sent_at=self.now,
        )
        self.session.add(d)
        src = clue.status
        clue.status = HANDLING
        moved = src != HANDLING
        self._event(
            clue,
            "dispatch",
            from_status=src if moved else None,
            to_status=HANDLING if moved else None,
            text=f"派至{target.name}，办理期限 {deadline.isoformat()}" + (f"；{note}" if note else ""),
        )

        def notify() -> int:
            from qingfeng.notify.triggers import dispatch_received

            return dispatch_received(self.session, d, now=self.now)

        self._commit(clue, f"dispatch {target.name} {deadline}", notify=notify)
        return d

    def record_rectification(
        self,
        clue_id: int,
        *,
        measures: str,
        recovered_amount: Decimal | float | str = 0,
        sanction_count: int = 0,
        sanction_text: str | None = None,
        org_handling_count: int = 0,
        org_handling_text: str | None = None,
        accountability_count: int = 0,
        accountability_text: str | None = None,
        exposure_count: int = 0,
        expected_version: int | None = None,
    ) -> Rectification:
        """整改: a clue in 处置 moves to 整改; the liaison's open dispatch counts as answered. The outcomes:
        persons given 党纪政务处分, 组织处理 or 问责, and cases publicly exposed (通报曝光)."""
        clue = self.load_for_change(clue_id, "rectify", expected_version)
        if clue.status not in (HANDLING, RECTIFYING):
            raise InvalidTransition(f"状态为「{clue.status}」的线索不能登记整改（须处于处置或整改）")
        if not (measures or "").strip():
            raise InvalidInput("整改措施不能为空")
        blank = recovered_amount is None or (
            isinstance(recovered_amount, str) and not recovered_amount.strip()
        )
        amount = parse_money(0 if blank else recovered_amount, label="追缴/挽回资金")
        counts = {
            "党纪政务处分人数": sanction_count,
            "组织处理人数": org_handling_count,
            "问责人数": accountability_count,
            "通报曝光起数": exposure_count,
        }
        for label, count in counts.items():
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
                raise InvalidInput(f"{label}应为 0 至 {MAX_COUNT} 之间的整数")
        rect = Rectification(
            clue=clue,
            measures=measures.strip(),
            recovered_amount=amount,
            sanction_count=sanction_count,
            sanction_text=sanction_text,
            org_handling_count=org_handling_count,
            org_handling_text=org_handling_text,
            accountability_count=accountability_count,
            accountability_text=accountability_text,
            exposure_count=exposure_count,
            recorded_by=self.user.username,
            recorded_at=self.now,
        )
        self.session.add(rect)
        for d in clue.dispatches:
            if d.state == "sent" and (self.user.role != "liaison" or d.unit_id == self.user.unit_id):
                d.state, d.answered_at = "answered", self.now
        src = clue.status
        clue.status = RECTIFYING
        moved = src != RECTIFYING
        self._event(
            clue,
            "rectification",
            from_status=src if moved else None,
            to_status=RECTIFYING if moved else None,
            text=f"整改措施：{rect.measures}；追缴/挽回资金 {amount} 元；党纪政务处分 {sanction_count} 人；"
            f"组织处理 {org_handling_count} 人；问责 {accountability_count} 人；通报曝光 {exposure_count} 起",
        )
        self._commit(clue, f"rectification {amount}")
        return rect

    def withdraw_dispatch(self, dispatch_id: int, *, reason: str) -> Dispatch:
        d = self.session.get(Dispatch, dispatch_id) if valid_id(dispatch_id) else None
        if d is None:
            raise NotFound(f"派件 {dispatch_id} 不存在")
        clue = self.load(d.clue_id, "dispatch")
        if d.state != "sent":
            raise InvalidInput("只能撤回尚未答复的派件")
        d.state = "withdrawn"
        self._event(clue, "dispatch", text=f"撤回派件（{d.unit.name}）：{reason}")
        self._commit(clue, f"withdraw dispatch {d.id}")
        return d


def describe(clue: Clue) -> dict[str, Any]:
    """The facts of a clue as JSON-able data (exports, CLI and the UI's detail page)."""
    return {
        "id": clue.id,
        "rule": clue.rule,
        "rule_name": clue.rule_name,
        "domain": clue.domain,
        "fingerprint": clue.fingerprint,
        "keys": clue.keys,
        "subjects": clue.subjects,
        "amount": None if clue.amount is None else float(clue.amount),
        "period_start": clue.period_start.isoformat() if clue.period_start else None,
        "period_end": clue.period_end.isoformat() if clue.period_end else None,
        "severity": clue.severity,
        "status": clue.status,
        "detection_state": clue.detection_state,
        "town": clue.town,
        "village": clue.village,
        "path": clue.path,
        "risk_score": clue.risk_score,
        "evidence": clue.evidence,
        "first_seen": clue.first_seen.isoformat(),
        "last_seen": clue.last_seen.isoformat(),
        "as_of": clue.as_of.isoformat(),
        "assignee": clue.assignee.username if clue.assignee else None,
        "version": clue.version,
    }


__all__ = ["TERMINAL", "ClueService", "describe", "liaison_can_see", "require"]
