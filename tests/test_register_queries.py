"""The queue, detail, subject and audit-log helpers the UI builds on; filters are injection-safe."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from test_register_support import *  # noqa: F403
from test_register_support import AS_OF, make_clue

from qingfeng.register.auth import LoginPolicy, authenticate
from qingfeng.register.errors import InvalidInput, PermissionDenied
from qingfeng.register.lifecycle import mask_id
from qingfeng.register.models import AccessLog, Clue
from qingfeng.register.publish import RunInfo, publish
from qingfeng.register.queries import (
    ClueFilter,
    audit_log,
    clue_detail,
    clue_events,
    escalation_colour,
    list_clues,
    subject_clues,
)
from qingfeng.register.service import ClueService
from qingfeng.register.users import create_user

TODAY = dt.date(2026, 4, 10)
NOW = dt.datetime(2026, 4, 10, 9, 0)
CLUES = [
    make_clue(
        "S01", "330109198001011234", "张三", amount=1200, severity="medium", town="城关镇", village="东村"
    ),
    make_clue(
        "S01", "330109198202022345", "李四", amount=9800, severity="high", town="城关镇", village="西村"
    ),
    make_clue("S07", "330109197503033456", "王五", amount=300, severity="low", town="南山镇", village="南村"),
    make_clue(
        "E01", "330109196604044567", "赵六", amount=250000, severity="high", town="南山镇", village="北村"
    ),
    make_clue(
        "S07",
        "330109198001011234",
        "张三",
        amount=500,
        severity="medium",
        town="城关镇",
        village="东村",
        programme="临时救助金",
    ),
]


@pytest.fixture
def loaded(engine, session, people) -> dict[str, int]:
    """The five clues; 李四 (overdue), 赵六 (due soon) and 王五 (due later) are dispatched."""
    publish(engine, CLUES, RunInfo(as_of=AS_OF))
    by_key = {(c.rule, c.keys["person"], c.keys["programme"]): c.id for c in session.scalars(select(Clue))}
    names = ["张三S01", "李四", "王五", "赵六", "张三S07"]
    ids = {
        n: by_key[(c["rule"], c["keys"]["person"], c["keys"]["programme"])]
        for n, c in zip(names, CLUES, strict=True)
    }
    plan = [
        ("李四", "区民政局派驻纪检组", dt.datetime(2026, 3, 1), dt.date(2026, 4, 5)),
        ("赵六", "区住建局派驻纪检组", NOW, dt.date(2026, 4, 12)),
        ("王五", "区民政局派驻纪检组", NOW, dt.date(2026, 5, 30)),
    ]
    for name, unit, sent, deadline in plan:
        svc = ClueService(session, people["analyst"], now=sent)
        svc.transition(ids[name], "核查", reason="核查")
        svc.dispatch(ids[name], unit, deadline)
    return ids


def _names(page) -> list[str]:
    return [next(s["name"] for s in r.clue.subjects if s["kind"] == "person") for r in page.rows]


def test_filters_sorting_and_pagination(session, people, loaded):
    analyst = people["analyst"]
    page = list_clues(session, analyst, ClueFilter(sort="amount"), today=TODAY)
    assert page.total == 5 and _names(page) == ["赵六", "李四", "张三", "张三", "王五"]
    assert _names(list_clues(session, analyst, ClueFilter(sort="amount", descending=False), today=TODAY)) == [
        "王五",
        "张三",
        "张三",
        "李四",
        "赵六",
    ]
    assert _names(list_clues(session, analyst, ClueFilter(sort="severity"), today=TODAY))[:2] == [
        "赵六",
        "李四",
    ]
    assert _names(list_clues(session, analyst, ClueFilter(rule="S07", sort="amount"), today=TODAY)) == [
        "张三",
        "王五",
    ]
    assert list_clues(session, analyst, ClueFilter(domain="engineering"), today=TODAY).total == 1
    assert list_clues(session, analyst, ClueFilter(town="南山镇"), today=TODAY).total == 2
    assert list_clues(session, analyst, ClueFilter(village="东村"), today=TODAY).total == 2
    assert list_clues(session, analyst, ClueFilter(status="处置"), today=TODAY).total == 3
    assert list_clues(session, analyst, ClueFilter(severity="high"), today=TODAY).total == 2
    assert list_clues(session, analyst, ClueFilter(as_of=AS_OF), today=TODAY).total == 5
    assert list_clues(session, analyst, ClueFilter(as_of=dt.date(2020, 1, 1)), today=TODAY).total == 0
    p2 = list_clues(session, analyst, ClueFilter(sort="amount", per_page=2, page=2), today=TODAY)
    assert (p2.total, p2.pages, _names(p2)) == (5, 3, ["张三", "张三"])
    with pytest.raises(InvalidInput):
        list_clues(session, analyst, ClueFilter(sort="amount; DROP TABLE clue"), today=TODAY)


def test_escalation_colour_filter_and_function(session, people, loaded):
    analyst = people["analyst"]
    colours = {r.clue.id: r.colour for r in list_clues(session, analyst, today=TODAY).rows}
    assert colours[loaded["李四"]] == "red"  # deadline 04-05 passed
    assert colours[loaded["赵六"]] == "yellow"  # due in 2 days
    assert colours[loaded["王五"]] == "green"
    assert colours[loaded["张三S01"]] is None
    assert _names(list_clues(session, analyst, ClueFilter(colour="red"), today=TODAY)) == ["李四"]
    assert list_clues(session, analyst, ClueFilter(colour="yellow"), today=TODAY, warn_days=1).total == 0
    assert escalation_colour(dt.date(2026, 4, 9), TODAY) == "red"
    assert escalation_colour(TODAY, TODAY) == "yellow"
    assert escalation_colour(dt.date(2026, 4, 13), TODAY, warn_days=3) == "yellow"
    assert escalation_colour(dt.date(2026, 4, 14), TODAY, warn_days=3) == "green"
    assert escalation_colour(None, TODAY) is None


def test_search_by_name_or_exact_id_is_audited(session, people, loaded):
    analyst = people["analyst"]
    assert list_clues(session, analyst, ClueFilter(q="张"), today=TODAY).total == 2
    assert list_clues(session, analyst, ClueFilter(q="330109198001011234"), today=TODAY).total == 2
    assert (
        list_clues(session, analyst, ClueFilter(q="33010919800101"), today=TODAY).total == 0
    )  # IDs match exactly
    searches = session.scalars(select(AccessLog).where(AccessLog.action == "search")).all()
    assert [s.detail for s in searches] == ["张", "330109198001011234", "33010919800101"]
    with pytest.raises(PermissionDenied):
        list_clues(session, people["liaison"], ClueFilter(q="张三"), today=TODAY)


EVIL = [
    "' OR '1'='1",
    "张三' OR 1=1 --",
    "%",
    "_",
    "\\",
    "'; DROP TABLE clue; --",
    '" OR ""="',
    "1) OR (1=1",
    "%' UNION SELECT id FROM app_user --",
]


def test_sql_injection_in_filters_and_search_returns_nothing(session, people, loaded):
    analyst = people["analyst"]
    for evil in EVIL:
        for field in ("rule", "domain", "town", "village", "status", "severity", "q", "assignee"):
            page = list_clues(session, analyst, ClueFilter(**{field: evil}), today=TODAY)
            assert page.total == 0 and page.rows == [], (field, evil)
    assert session.scalar(select(func.count()).select_from(Clue)) == 5


def test_liaison_sees_only_their_units_clues(session, people, loaded):
    page = list_clues(session, people["liaison"], today=TODAY)
    assert sorted(_names(page)) == ["李四", "王五"]
    assert _names(list_clues(session, people["liaison_other"], today=TODAY)) == ["赵六"]
    with pytest.raises(PermissionDenied):
        list_clues(session, people["auditor"], today=TODAY)
    assert subject_clues(session, people["liaison"], "person", "330109198001011234") == []


def test_detail_subject_page_and_audit_log(session, people, loaded):
    detail = clue_detail(session, people["analyst"], loaded["李四"], today=TODAY, ip="10.0.0.8")
    assert detail["clue"]["status"] == "处置"
    assert detail["evidence"][0] == {
        "feed": "subsidy",
        "table": "subsidy_payment",
        "file": "民生资金发放_202601.csv",
        "line": 2,
        "note": "发放记录",
    }
    assert [e["kind"] for e in detail["events"]] == ["status_change", "dispatch"]
    assert detail["dispatches"][0]["colour"] == "red"
    clues = subject_clues(session, people["analyst"], "person", "330109198001011234")
    assert sorted(c.rule for c in clues) == ["S01", "S07"]
    assert [
        c.id for c in subject_clues(session, people["analyst"], "person", "330109198001011234", limit=1)
    ] == [clues[0].id]
    rows, total = audit_log(session, people["auditor"], action="view")
    assert total == 1 and (rows[0].username, rows[0].target, rows[0].ip) == (
        "fenxi",
        f"clue:{loaded['李四']}",
        "10.0.0.8",
    )
    with pytest.raises(PermissionDenied):
        audit_log(session, people["analyst"])
    events = clue_events(session, people["auditor"])
    assert len(events) == 6 and events[0].id > events[-1].id  # 3 x (status change, dispatch), newest first
    assert [e.id for e in clue_events(session, people["auditor"], per_page=2, page=2)] == [
        e.id for e in events[2:4]
    ]
    assert {e.clue_id for e in clue_events(session, people["auditor"], clue_id=loaded["李四"])} == {
        loaded["李四"]
    }
    with pytest.raises(PermissionDenied):
        clue_events(session, people["analyst"])


def test_login_is_audited_and_passwords_are_argon2(session):
    user = create_user(session, "login-test", "analyst", password="Correct#horse9")
    session.commit()
    assert user.password_hash.startswith("$argon2")
    policy = LoginPolicy()
    assert not authenticate(session, "login-test", "wrong", ip="1.2.3.4", policy=policy).ok
    assert (
        authenticate(session, "login-test", "Correct#horse9", ip=None, policy=policy).user.username
        == "login-test"
    )
    assert not authenticate(session, "nobody", "x", ip=None, policy=policy).ok
    log = [(a.action, a.username) for a in session.scalars(select(AccessLog).order_by(AccessLog.id))]
    assert log == [("login_failed", "login-test"), ("login", "login-test"), ("login_failed", "nobody")]


def test_mask_id():
    assert mask_id("330109198001011234") == "330109********1234"


def test_export_masks_ids_for_roles_without_id_access_and_blocks_formulas(
    engine, session, people, monkeypatch
):
    import csv
    import io
    import json

    from openpyxl import load_workbook

    from qingfeng.register.export import export_clues

    person, cadre = "330109198001011234", "330109196001015678"
    clue = make_clue("S03", person, "张三", town='=HYPERLINK("http://evil.example","点我")')
    clue["keys"]["cadre"] = cadre
    clue["path"] = f"王某({cadre}) —配偶— 张三({person})"
    clue["evidence"][0]["note"] = f"身份证 {person} 领取"
    publish(engine, [clue], RunInfo(as_of=AS_OF))

    def export(user, fmt: str) -> bytes:
        out = io.BytesIO()
        assert export_clues(session, user, fmt, out) == 1
        return out.getvalue()

    with pytest.raises(PermissionDenied):  # 三员分立: the administrator exports no clue
        export(people["admin"], "jsonl")
    from qingfeng.register import lifecycle

    # a role that may export without seeing IDs (none does by default) gets them masked
    monkeypatch.setitem(lifecycle.PERMISSIONS, "export", lifecycle.PERMISSIONS["export"] | {"admin"})
    masked = export(people["admin"], "jsonl").decode()
    assert person not in masked and cadre not in masked
    record = json.loads(masked)
    assert (
        record["keys"]["person"] == "330109********1234" and record["keys"]["cadre"] == "330109********5678"
    )
    assert record["subjects"][0]["id"] == "330109********1234" and record["subjects"][1]["id"] == "东村"
    assert "330109********5678" in record["path"] and "330109********1234" in record["evidence"][0]["note"]
    full = export(people["analyst"], "jsonl").decode()
    assert person in full and cadre in full

    rows = list(csv.DictReader(io.StringIO(export(people["admin"], "csv").decode("utf-8-sig"))))
    assert rows[0]["town"].startswith("'=HYPERLINK") and person not in json.dumps(rows, ensure_ascii=False)
    sheet = load_workbook(io.BytesIO(export(people["analyst"], "xlsx"))).active
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("town") + 1).value.startswith("'=")
