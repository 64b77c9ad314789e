"""Linking rule clues to campaign projects: at publish (new clues only, by rule and period, never a
筹备 project, never overwriting a project someone set) and afterwards (``link_clues``, idempotent)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_register_support import *  # noqa: F403
from test_register_support import AS_OF, make_clue

from qingfeng.campaigns.config import load
from qingfeng.campaigns.linking import rule_projects
from qingfeng.campaigns.service import CampaignService
from qingfeng.register.models import AccessLog, Clue, Event, Unit
from qingfeng.register.publish import RunInfo, configured_projects, publish

MAPPING = {"S01": "MSZJ", "S02": "MSZJ", "E04": "CJGC", "P01": "CKX"}
NOW = dt.datetime(2026, 4, 10, 9)


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def boss(session, people) -> CampaignService:
    session.add(Unit(name="区民政局", active=True))
    session.commit()
    service = CampaignService(session, people["supervisor"], now=NOW)
    service.create_project("MSZJ", "民生资金专项治理", lead_unit="区民政局", period_start="2026-01-01")
    service.create_project(
        "CJGC", "村级工程专项治理", lead_unit="区民政局", period_start="2026-01-01", period_end="2026-03-30"
    )
    service.create_project(
        "CKX", "吃空饷专项清理", lead_unit="区民政局", period_start="2026-01-01", status="筹备"
    )
    return service


def clue_of(session, rule: str, person: str) -> Clue:
    return session.scalar(select(Clue).where(Clue.rule == rule, Clue.keys["person"].as_string() == person))


def project_code(clue: Clue) -> str | None:
    return clue.project.code if clue.project else None


def test_a_new_clue_links_by_rule_and_period(session, boss):
    batch = [
        make_clue("S01", "330109198001010001", "甲"),
        make_clue("E04", "330109198001010002", "乙"),  # CJGC ended 2026-03-30, before the clue's 03-31
        make_clue("P01", "330109198001010003", "丙"),  # CKX is 筹备
        make_clue("S07", "330109198001010004", "丁"),  # no project for S07
    ]
    summary = publish(session, batch, RunInfo(as_of=AS_OF), projects=MAPPING)
    assert summary.linked == {"MSZJ": 1}
    assert project_code(clue_of(session, "S01", "330109198001010001")) == "MSZJ"
    for rule, person in (
        ("E04", "330109198001010002"),
        ("P01", "330109198001010003"),
        ("S07", "330109198001010004"),
    ):
        assert clue_of(session, rule, person).project_id is None
    early = make_clue("S02", "330109198001010005", "戊", as_of=dt.date(2025, 12, 31))  # before MSZJ began
    assert publish(session, [early], RunInfo(as_of=AS_OF), projects=MAPPING).linked == {}
    assert publish(session, [make_clue("S02", "330109198001010006", "己")], RunInfo(as_of=AS_OF)).linked == {}


def test_publishing_never_moves_an_existing_clue(session, boss, people):
    first = make_clue("S01", "330109198001010001", "甲")
    publish(session, [first], RunInfo(as_of=AS_OF), projects=MAPPING)
    clue = clue_of(session, "S01", "330109198001010001")
    CampaignService(session, people["analyst"], now=NOW).move_clue(clue.id, "CJGC", reason="实为工程问题")
    again = publish(session, [first], RunInfo(as_of=AS_OF + dt.timedelta(days=30)), projects=MAPPING)
    assert again.linked == {} and again.per_rule["S01"]["redetected"] == 1
    session.refresh(clue)
    assert project_code(clue) == "CJGC"


def test_link_attaches_clues_published_before_their_project_once(session, people):
    batch = [make_clue("S01", f"3301091980010100{i:02d}", f"人{i}") for i in range(3)]
    batch.append(make_clue("E04", "330109198001019999", "工"))
    publish(session, batch, RunInfo(as_of=AS_OF), projects=MAPPING)  # no project exists yet
    assert session.scalar(select(func.count()).select_from(Clue).where(Clue.project_id.is_not(None))) == 0
    session.add(Unit(name="区民政局", active=True))
    session.commit()
    boss = CampaignService(session, people["supervisor"], now=NOW)
    boss.create_project("MSZJ", "民生资金专项治理", lead_unit="区民政局", period_start="2026-01-01")
    moved_out = clue_of(session, "S01", "330109198001010000")
    CampaignService(session, people["analyst"], now=NOW).move_clue(moved_out.id, "MSZJ")
    CampaignService(session, people["analyst"], now=NOW).move_clue(moved_out.id, None, reason="不属本项目")

    with pytest.raises(Exception, match="无权管理专项治理项目"):
        CampaignService(session, people["analyst"]).link_clues(MAPPING)
    audits = session.scalar(select(func.count()).select_from(AccessLog))
    assert boss.link_clues(MAPPING, dry_run=True) == {"MSZJ": 2}
    assert session.scalar(select(func.count()).select_from(Clue).where(Clue.project_id.is_not(None))) == 0
    assert session.scalar(select(func.count()).select_from(AccessLog)) == audits

    assert boss.link_clues(MAPPING) == {"MSZJ": 2}
    linked = session.scalars(select(Clue).where(Clue.project_id.is_not(None))).all()
    assert sorted(c.keys["person"] for c in linked) == ["330109198001010001", "330109198001010002"]
    assert linked[0].events[-1].kind == "project" and "按规则 S01 归入" in linked[0].events[-1].text
    assert moved_out.project_id is None  # the analyst's decision stands
    assert boss.link_clues(MAPPING) == {}  # idempotent
    events = session.scalar(select(func.count()).select_from(Event).where(Event.kind == "project"))
    assert events == 4


def test_the_mapping_comes_from_the_configuration(tmp_path: Path, settings):
    config = tmp_path / "campaigns.yml"
    config.write_text(
        "projects:\n  MSZJ:\n    rules: [S01, S03]\n  CKX:\n    rules: [P01]\n", encoding="utf-8"
    )
    assert rule_projects(load(config)) == {"S01": "MSZJ", "S03": "MSZJ", "P01": "CKX"}
    assert configured_projects(settings.model_copy(update={"campaigns_config": config})) == rule_projects(
        load(config)
    )
    assert configured_projects(settings.model_copy(update={"campaigns_config": tmp_path / "none.yml"})) == {}
    shipped = configured_projects(settings)
    assert shipped["S03"] == "MSZJ" and shipped["P01"] == "CKX" and shipped["A01"] == "MSGC"
