"""The lifecycle state machine, role permissions, dispatch, rectification and optimistic locking,
enforced in the service layer for every caller."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from test_register_support import *  # noqa: F403
from test_register_support import AS_OF, make_clue

from qingfeng.register.db import session_factory
from qingfeng.register.errors import (
    ConflictError,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
    RectificationRequired,
)
from qingfeng.register.lifecycle import STATUSES
from qingfeng.register.models import AccessLog, Clue, Event, Rectification
from qingfeng.register.publish import RunInfo, publish
from qingfeng.register.service import ClueService

NOW = dt.datetime(2026, 4, 10, 9, 30)

# The lifecycle written out by hand (docs/register.md): everything not listed is forbidden.
ALLOWED = {
    ("发现", "核查"),
    ("发现", "了结"),
    ("发现", "不予立案"),
    ("核查", "处置"),
    ("核查", "发现"),
    ("核查", "了结"),
    ("核查", "不予立案"),
    ("处置", "整改"),
    ("处置", "核查"),
    ("处置", "了结"),
    ("整改", "销号"),
    ("整改", "处置"),
    ("销号", "核查"),
    ("了结", "核查"),
    ("不予立案", "核查"),
}
FORBIDDEN = [(a, b) for a in STATUSES for b in STATUSES if (a, b) not in ALLOWED]
# Who may make an allowed transition: closing and re-opening are for supervisors (and admins).
SUPERVISOR_ONLY = {("整改", "销号"), ("销号", "核查"), ("了结", "核查"), ("不予立案", "核查")}


def _seed(engine, n: int) -> list[int]:
    clues = [make_clue("S01", f"3301091980010{i:05d}", f"人员{i}") for i in range(n)]
    publish(engine, clues, RunInfo(as_of=AS_OF))
    with session_factory(engine)() as s:
        return list(s.scalars(select(Clue.id).order_by(Clue.id)))


def _force(session, clue_id: int, status: str, *, rectified: bool = False) -> None:
    """Test setup only: put a clue in a status directly."""
    clue = session.get(Clue, clue_id)
    clue.status = status
    if rectified:
        session.add(Rectification(clue=clue, measures="退回资金", recorded_by="setup"))
    session.commit()


def test_every_forbidden_transition_is_refused_for_every_role(engine, session, people):
    assert len(FORBIDDEN) == 49 - len(ALLOWED)
    ids = _seed(engine, len(STATUSES))
    for status, clue_id in zip(STATUSES, ids, strict=True):
        _force(session, clue_id, status, rectified=True)
    for role in ("supervisor", "analyst"):
        svc = ClueService(session, people[role], now=NOW)
        for src, dst in FORBIDDEN:
            clue_id = ids[STATUSES.index(src)]
            before = session.get(Clue, clue_id).version
            with pytest.raises(InvalidTransition, match=f"不允许的状态变更：{src} → {dst}"):
                svc.transition(clue_id, dst, reason="试图越级")
            session.expire_all()
            clue = session.get(Clue, clue_id)
            assert (clue.status, clue.version) == (src, before), (role, src, dst)
    assert not session.scalars(select(Event).where(Event.kind == "status_change")).all()


@pytest.mark.parametrize("role", ["admin", "supervisor", "analyst", "liaison", "auditor"])
def test_allowed_transitions_by_role(engine, session, people, role):
    pairs = sorted(ALLOWED)
    ids = _seed(engine, len(pairs))
    user = people[role]
    for (src, _dst), clue_id in zip(pairs, ids, strict=True):
        _force(session, clue_id, src, rectified=True)
        if role == "liaison":  # even on a clue dispatched to their own unit
            from qingfeng.register.models import Dispatch, Unit

            unit = session.scalars(select(Unit).where(Unit.id == user.unit_id)).one()
            session.add(Dispatch(clue_id=clue_id, unit=unit, deadline=dt.date(2026, 5, 1), sent_by="setup"))
    session.commit()
    svc = ClueService(session, user, now=NOW)
    for (src, dst), clue_id in zip(pairs, ids, strict=True):
        may = role == "supervisor" or (role == "analyst" and (src, dst) not in SUPERVISOR_ONLY)
        if may:
            clue = svc.transition(clue_id, dst, reason=f"{src}转{dst}")
            assert clue.status == dst
            event = clue.events[-1]
            assert (event.from_status, event.to_status, event.actor, event.at) == (
                src,
                dst,
                user.username,
                NOW,
            )
            assert event.kind == ("reopen" if src in ("销号", "了结", "不予立案") else "status_change")
        else:
            with pytest.raises(PermissionDenied):
                svc.transition(clue_id, dst, reason="无权")
            session.expire_all()
            assert session.get(Clue, clue_id).status == src


def test_closing_requires_a_recorded_rectification(engine, session, people):
    [clue_id] = _seed(engine, 1)
    _force(session, clue_id, "整改")
    boss = ClueService(session, people["supervisor"], now=NOW)
    with pytest.raises(RectificationRequired, match="销号前必须登记整改情况"):
        boss.close(clue_id, reason="已整改")
    session.expire_all()
    assert session.get(Clue, clue_id).status == "整改"
    boss.record_rectification(clue_id, measures="追回多发低保金", recovered_amount="1200")
    assert boss.close(clue_id, reason="整改到位").status == "销号"


def test_analyst_cannot_close(engine, session, people):
    [clue_id] = _seed(engine, 1)
    _force(session, clue_id, "整改", rectified=True)
    with pytest.raises(PermissionDenied, match="无权销号"):
        ClueService(session, people["analyst"]).close(clue_id, reason="想销号")


def test_a_status_change_needs_a_reason(engine, session, people):
    [clue_id] = _seed(engine, 1)
    with pytest.raises(InvalidInput):
        ClueService(session, people["analyst"]).transition(clue_id, "核查", reason="  ")


def test_full_case_dispatch_rectify_close_with_liaison_scope(engine, session, people):
    ids = _seed(engine, 2)
    clue_id, other_id = ids
    analyst = ClueService(session, people["analyst"], now=NOW)
    analyst.assign(clue_id, "fenxi")
    analyst.transition(clue_id, "核查", reason="初核")
    with pytest.raises(InvalidInput, match="早于今天"):
        analyst.dispatch(clue_id, "区民政局派驻纪检组", dt.date(2026, 4, 1))
    d = analyst.dispatch(clue_id, "区民政局派驻纪检组", dt.date(2026, 4, 20), note="请核实")
    assert d.state == "sent" and session.get(Clue, clue_id).status == "处置"

    liaison = ClueService(session, people["liaison"], now=NOW + dt.timedelta(days=5))
    for forbidden in (other_id,):  # not dispatched to the unit
        with pytest.raises(PermissionDenied, match="未派至您所在单位"):
            liaison.load(forbidden)
    with pytest.raises(PermissionDenied):
        ClueService(session, people["liaison_other"]).comment(clue_id, "别的单位")
    with pytest.raises(PermissionDenied):
        liaison.dispatch(clue_id, "区民政局派驻纪检组", dt.date(2026, 5, 1))
    liaison.comment(clue_id, "已收到，正在核查")
    rect = liaison.record_rectification(
        clue_id,
        measures="追回多发资金，责令村委会整改",
        recovered_amount=Decimal("1200.50"),
        sanction_count=1,
        sanction_text="村会计党内警告",
        org_handling_count=2,
        org_handling_text="诫勉谈话2人",
    )
    assert rect.recovered_amount == Decimal("1200.50")
    session.expire_all()
    clue = session.get(Clue, clue_id)
    assert clue.status == "整改" and clue.dispatches[0].state == "answered"
    with pytest.raises(PermissionDenied):
        liaison.close(clue_id, reason="联络员不能销号")
    ClueService(session, people["supervisor"], now=NOW + dt.timedelta(days=6)).close(
        clue_id, reason="整改到位"
    )
    session.expire_all()
    clue = session.get(Clue, clue_id)
    assert clue.status == "销号"
    assert [(e.kind, e.actor) for e in clue.events] == [
        ("assignment", "fenxi"),
        ("status_change", "fenxi"),
        ("dispatch", "fenxi"),
        ("comment", "minzheng"),
        ("rectification", "minzheng"),
        ("status_change", "zhuren"),
    ]
    changes = session.scalars(select(AccessLog).where(AccessLog.action == "change")).all()
    assert len(changes) == 6 and {a.target for a in changes} == {f"clue:{clue_id}"}
    with pytest.raises(PermissionDenied):
        ClueService(session, people["auditor"]).load(clue_id)


def test_two_analysts_updating_the_same_clue_conflict_without_lost_update(engine, people):
    [clue_id] = _seed(engine, 1)
    factory = session_factory(engine)
    with factory() as s1, factory() as s2:
        a1 = ClueService(s1, s1.get(type(people["analyst"]), people["analyst"].id))
        a2 = ClueService(s2, s2.get(type(people["analyst2"]), people["analyst2"].id))
        seen1, seen2 = a1.load(clue_id), a2.load(clue_id)  # both read version 1
        assert seen1.version == seen2.version == 1
        a1.transition(clue_id, "核查", reason="甲：进入核查")
        with pytest.raises(ConflictError, match="已被他人修改"):
            a2.transition(clue_id, "不予立案", reason="乙：不予立案")
        with pytest.raises(ConflictError):  # a form carrying the old version is refused too
            ClueService(s2, a2.user).assign(clue_id, "fenxi2", expected_version=1)
    with factory() as s3:
        clue = s3.get(Clue, clue_id)
        assert clue.status == "核查" and clue.version == 2
        assert [(e.to_status, e.actor) for e in clue.events] == [("核查", "fenxi")]
        # after a refresh the second analyst's change goes through, on top of the first
        ClueService(s3, s3.get(type(people["analyst2"]), people["analyst2"].id)).assign(
            clue_id, "fenxi2", expected_version=2
        )
        s3.expire_all()
        clue = s3.get(Clue, clue_id)
        assert (clue.status, clue.assignee.username, clue.version) == ("核查", "fenxi2", 3)


def test_dispatch_only_from_verification_or_handling(engine, session, people):
    [clue_id] = _seed(engine, 1)
    with pytest.raises(InvalidTransition, match="不能派件"):
        ClueService(session, people["analyst"], now=NOW).dispatch(
            clue_id, "区民政局派驻纪检组", dt.date(2026, 5, 1)
        )
