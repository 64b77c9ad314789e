"""The monthly report against hand-computed figures, and the register commands."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select
from test_register_support import *  # noqa: F403
from test_register_support import make_clue

from qingfeng.cli import main
from qingfeng.register.models import AccessLog, Clue, User
from qingfeng.register.publish import RunInfo, publish
from qingfeng.register.report import monthly_report, monthly_trend, months_back, open_clue_counts
from qingfeng.register.service import ClueService

MZ, ZJ = "区民政局派驻纪检组", "区住建局派驻纪检组"


def at(y: int, m: int, d: int) -> dt.datetime:
    return dt.datetime(y, m, d, 10, 0)


@pytest.fixture
def history(engine, session, people) -> dict[str, int]:
    """Five clues and their case history over February to May 2026 (see the expected figures below)."""
    plan = {  # name: (clue, first seen)
        "E": (make_clue("S01", "330109190000000005", "E", town="城关镇"), dt.date(2026, 2, 1)),
        "B": (make_clue("S01", "330109190000000002", "B", town="南山镇"), dt.date(2026, 3, 31)),
        "A": (make_clue("S01", "330109190000000001", "A", town="城关镇"), dt.date(2026, 4, 5)),
        "C": (make_clue("S07", "330109190000000003", "C", town="城关镇"), dt.date(2026, 4, 30)),
        "D": (make_clue("E01", "330109190000000004", "D", town="南山镇"), dt.date(2026, 5, 1)),
    }
    for clue, seen in plan.values():
        publish(engine, [{**clue, "as_of": seen.isoformat()}], RunInfo(as_of=seen, rules=[]))
    ids = {
        next(s["name"] for s in c.subjects if s["kind"] == "person"): c.id
        for c in session.scalars(select(Clue))
    }

    def svc(role: str, when: dt.datetime) -> ClueService:
        return ClueService(session, people[role], now=when)

    svc("analyst", at(2026, 2, 5)).transition(ids["E"], "核查", reason="核查")
    svc("analyst", at(2026, 2, 10)).dispatch(ids["E"], MZ, dt.date(2026, 3, 1))  # never answered
    svc("analyst", at(2026, 4, 1)).transition(ids["B"], "核查", reason="核查")
    svc("analyst", at(2026, 4, 2)).dispatch(ids["B"], ZJ, dt.date(2026, 4, 15))
    svc("analyst", at(2026, 4, 20)).record_rectification(
        ids["B"], measures="退回多领资金", recovered_amount="1000.50", sanction_count=1, org_handling_count=2
    )
    svc("supervisor", at(2026, 4, 25)).close(ids["B"], reason="整改到位")
    svc("analyst", at(2026, 4, 6)).transition(ids["A"], "核查", reason="核查")
    svc("analyst", at(2026, 4, 7)).dispatch(ids["A"], MZ, dt.date(2026, 4, 20))  # never answered
    svc("analyst", at(2026, 4, 30)).transition(ids["C"], "核查", reason="核查")
    svc("analyst", at(2026, 4, 30)).dispatch(ids["C"], MZ, dt.date(2026, 5, 10))  # never answered
    svc("analyst", at(2026, 5, 1)).transition(ids["D"], "核查", reason="核查")
    svc("analyst", at(2026, 5, 2)).dispatch(ids["D"], ZJ, dt.date(2026, 5, 3))
    svc("analyst", at(2026, 5, 4)).record_rectification(ids["D"], measures="追缴", recovered_amount=999)
    return ids


def fig(
    found=0, dispatched=0, rectified=0, closed=0, recovered="0.00", sanctioned=0, org_handled=0, overdue=0
):
    return {
        "found": found,
        "dispatched": dispatched,
        "rectified": rectified,
        "closed": closed,
        "recovered": recovered,
        "sanctioned": sanctioned,
        "org_handled": org_handled,
        "overdue": overdue,
    }


def test_monthly_report_matches_hand_computed_figures(session, history):
    april = monthly_report(session, "2026-04")
    assert april["by_rule"] == {
        "S01": fig(
            found=1,
            dispatched=2,
            rectified=1,
            closed=1,
            recovered="1000.50",
            sanctioned=1,
            org_handled=2,
            overdue=2,
        ),  # found A; dispatched A, B; overdue A (due 04-20) and E (due 03-01)
        "S07": fig(found=1, dispatched=1),  # C, due in May
    }
    assert april["by_town"] == {
        "南山镇": fig(dispatched=1, rectified=1, closed=1, recovered="1000.50", sanctioned=1, org_handled=2),
        "城关镇": fig(found=2, dispatched=2, overdue=2),
    }
    assert april["total"] == fig(
        found=2,
        dispatched=3,
        rectified=1,
        closed=1,
        recovered="1000.50",
        sanctioned=1,
        org_handled=2,
        overdue=2,
    )
    may = monthly_report(session, "2026-05")
    assert may["total"] == fig(found=1, dispatched=1, rectified=1, recovered="999.00", overdue=3)
    assert may["by_rule"]["E01"] == fig(found=1, dispatched=1, rectified=1, recovered="999.00")
    march = monthly_report(session, "2026-03")
    assert march["total"] == fig(found=1, overdue=1)  # B found; E overdue since 03-01
    assert monthly_report(session, "2025-12")["total"] == fig()


def test_monthly_trend_matches_the_hand_computed_months(session, history):
    """The dashboard trend (one GROUP BY month per figure, strftime / to_char per backend)."""
    months = months_back("2026-05", 5)
    assert months == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    assert monthly_trend(session, months) == {
        "found": [0, 1, 1, 2, 1],  # E; B; A, C; D
        "dispatched": [0, 1, 0, 3, 1],
        "rectified": [0, 0, 0, 1, 1],
        "closed": [0, 0, 0, 1, 0],
    }


def test_open_clue_counts(session, history):
    counts = open_clue_counts(session)  # B is closed; A, C, D, E open
    assert counts == {
        "by_rule": [("S01", 2), ("E01", 1), ("S07", 1)],
        "by_town": [("城关镇", 3), ("南山镇", 1)],
    }


def _cli(monkeypatch, register_url, tmp_path, *args, input=None):
    monkeypatch.setenv("QINGFENG_REGISTER_URL", register_url)
    return CliRunner().invoke(main, [*args, "--home", str(tmp_path / "home")], input=input)


def test_report_command_formats(monkeypatch, register_url, tmp_path, session, history):
    out = _cli(
        monkeypatch, register_url, tmp_path, "report", "monthly", "--month", "2026-04", "--format", "json"
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == json.loads(
        json.dumps(monthly_report(session, "2026-04"), ensure_ascii=False)
    )
    table = _cli(monkeypatch, register_url, tmp_path, "report", "monthly", "--month", "2026-04")
    assert table.exit_code == 0 and "城关镇" in table.output and "1000.50" in table.output
    xlsx = tmp_path / "m.xlsx"
    res = _cli(
        monkeypatch,
        register_url,
        tmp_path,
        "report",
        "monthly",
        "--month",
        "2026-04",
        "--format",
        "xlsx",
        "--out",
        str(xlsx),
    )
    assert res.exit_code == 0, res.output
    rows = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    assert rows[-1] == ("合计", None, 2, 3, 1, 1, 1000.5, 1, 2, 2)
    bad = _cli(monkeypatch, register_url, tmp_path, "report", "monthly", "--month", "2026-13")
    assert bad.exit_code == 1 and "格式应为 YYYY-MM" in bad.output


def test_clues_export_list_and_users_add(monkeypatch, register_url, tmp_path, session, history):
    res = _cli(monkeypatch, register_url, tmp_path, "clues", "export", "--format", "jsonl")
    assert res.exit_code == 0, res.output
    records = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(records) == 5
    b = next(r for r in records if r["subjects"][0]["name"] == "B")
    assert b["keys"] == {"person": "330109190000000002", "programme": "最低生活保障金", "month": "2026-01"}
    assert (b["rule"], b["status"], b["severity"], b["amount"]) == ("S01", "销号", "medium", 1200.0)
    assert (b["first_seen"], b["last_seen"]) == ("2026-03-31", "2026-03-31")
    assert b["evidence"][0]["file"] == "民生资金发放_202601.csv" and b["evidence"][0]["line"] == 2
    for fmt in ("csv", "xlsx"):
        path = tmp_path / f"clues.{fmt}"
        res = _cli(
            monkeypatch, register_url, tmp_path, "clues", "export", "--format", fmt, "--out", str(path)
        )
        assert res.exit_code == 0, res.output
    assert path.exists() and len(list(load_workbook(path).active.iter_rows())) == 6
    assert (tmp_path / "clues.csv").read_text(encoding="utf-8-sig").count("\n") == 6
    session.expire_all()
    exports = session.scalars(select(AccessLog).where(AccessLog.action == "export")).all()
    assert [e.detail for e in exports] == ["jsonl 5 条", "csv 5 条", "xlsx 5 条"]

    listing = _cli(monkeypatch, register_url, tmp_path, "clues", "list", "--rule", "S01")
    assert listing.exit_code == 0 and "线索 3 / 3" in listing.output

    res = _cli(
        monkeypatch,
        register_url,
        tmp_path,
        "users",
        "add",
        "wang",
        "--role",
        "liaison",
        "--unit",
        MZ,
        "--password-stdin",
        input="s3cret-passw0rd\n",
    )
    assert res.exit_code == 0, res.output
    session.expire_all()
    user = session.scalars(select(User).where(User.username == "wang")).one()
    assert user.unit.name == MZ and user.password_hash.startswith("$argon2")
    res = _cli(
        monkeypatch,
        register_url,
        tmp_path,
        "users",
        "add",
        "li",
        "--role",
        "liaison",
        "--password-stdin",
        input="s3cret-passw0rd\n",
    )
    assert res.exit_code == 1 and "必须指定所属单位" in res.output
    res = _cli(
        monkeypatch,
        register_url,
        tmp_path,
        "users",
        "add",
        "wang",
        "--role",
        "analyst",
        "--password-stdin",
        input="s3cret-passw0rd\n",
    )
    assert res.exit_code == 1 and "已存在" in res.output


def test_commands_on_an_uninitialised_register_say_so(tmp_path):
    res = CliRunner().invoke(main, ["clues", "list", "--home", str(tmp_path)])
    assert res.exit_code == 1 and "qingfeng db upgrade" in res.output
