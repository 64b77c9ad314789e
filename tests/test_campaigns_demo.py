"""The demo's campaign year (qingfeng.campaigns.demo_seed) on the sample register, without the
pipeline: the projects, tasks, reports, inspections and outcomes it promises, the clues landing in
their projects (linked afterwards, or at publish when the projects come first), and idempotence."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from qingfeng.campaigns.config import load
from qingfeng.campaigns.demo_seed import seed_demo_campaigns
from qingfeng.campaigns.linking import rule_projects
from qingfeng.campaigns.tasks import task_colour
from qingfeng.register import models as m
from qingfeng.register.db import make_engine, session_factory
from qingfeng.register.publish import RunInfo, publish
from qingfeng.settings import PROJECT_ROOT
from qingfeng.synth.sample_register import sample_clues, seed

YEAR = 2023
AS_OF = dt.date(YEAR + 1, 1, 31)  # the sample district's cut-off for a 2023 district
MAPPING = rule_projects(load(PROJECT_ROOT / "config" / "campaigns.yml"))
TABLES = (
    m.Unit,
    m.CampaignProject,
    m.CampaignTask,
    m.TaskNote,
    m.ProjectReport,
    m.Inspection,
    m.Institution,
    m.Clue,
    m.Event,
    m.Dispatch,
    m.Rectification,
    m.AccessLog,
)


def sizes(session: Session) -> dict[str, int]:
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


def supervisor(session: Session) -> m.User:
    user = session.scalar(select(m.User).where(m.User.username == "super1"))
    assert user is not None
    return user


@pytest.fixture(scope="module")
def users_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample register's users and units, no clue (argon2 hashing is slow by design: made once)."""
    path = tmp_path_factory.mktemp("register") / "register.db"
    seed(f"sqlite:///{path}", as_of=AS_OF, clues=[]).dispose()
    return path


@pytest.fixture
def engine(users_only: Path, tmp_path: Path) -> Iterator[Engine]:
    shutil.copyfile(users_only, tmp_path / "register.db")
    eng = make_engine(f"sqlite:///{tmp_path / 'register.db'}")
    yield eng
    eng.dispose()


def test_the_demo_campaign_year_is_complete_and_idempotent(engine: Engine):
    publish(engine, sample_clues(AS_OF), RunInfo(as_of=AS_OF))  # clues before any project
    with session_factory(engine)() as session:
        added = seed_demo_campaigns(session, supervisor(session), year=YEAR, mapping=MAPPING)
        assert added["projects"] == 6 and added["linked"] == 4
        assert (added["tasks"], added["reports"], added["inspections"], added["institutions"]) == (
            13,
            15,
            7,
            5,
        )

        projects = {p.code: p for p in session.scalars(select(m.CampaignProject))}
        assert set(projects) == {"MSZJ", "CJGC", "MSGC", "NMGGZ", "CKX", "XWPX"}
        assert {c for c, p in projects.items() if not p.public} == {"CKX"}
        assert not MAPPING.keys() & {
            r for r, c in MAPPING.items() if c == "XWPX"
        }  # the project no rule feeds
        for p in projects.values():
            assert p.lead_unit and p.liaison_unit and p.hotline and p.status == "进行中"
            assert p.period_start <= AS_OF and (p.period_end is None or p.period_end >= AS_OF)
        today = dt.date.today()
        colours = [task_colour(t, today, 3) for p in projects.values() for t in p.tasks]
        assert colours.count(None) == 7 and colours.count("red") == 6  # done, and overdue
        late = [r for r in projects["MSZJ"].reports if r.submitted_at.day > 5]
        assert [r.month for r in late] == ["2023-05"]

        linked = {
            c.rule: c.project.code for c in session.scalars(select(m.Clue).where(m.Clue.source == "rule"))
        }
        assert linked == {"S03": "MSZJ", "S01": "MSZJ", "E04": "CJGC", "A03": "MSGC"}
        findings = list(session.scalars(select(m.Clue).where(m.Clue.source == "inspection")))
        assert len(findings) == 11 and {f.rule for f in findings} == {"JC"}
        status = {
            s: n for s, n in session.execute(select(m.Clue.status, func.count()).group_by(m.Clue.status))
        }
        assert status == {"销号": 12, "整改": 2, "处置": 1}  # 8 findings and the 4 rule clues closed
        totals = session.execute(
            select(
                func.sum(m.Rectification.recovered_amount),
                func.sum(m.Rectification.sanction_count),
                func.sum(m.Rectification.org_handling_count),
                func.sum(m.Rectification.accountability_count),
                func.sum(m.Rectification.exposure_count),
            )
        ).one()
        assert tuple(totals) == (Decimal("692060.00"), 5, 6, 3, 7)
        assert {c.project.code for c in findings if c.status == "处置"} == {"MSGC"}

        before = sizes(session)
        again = seed_demo_campaigns(session, supervisor(session), year=YEAR, mapping=MAPPING)
        assert again == {} and sizes(session) == before


def test_projects_seeded_first_take_their_clues_at_publish(engine: Engine):
    with session_factory(engine)() as session:
        first = seed_demo_campaigns(session, supervisor(session), year=YEAR, mapping=MAPPING)
        assert first["projects"] == 6 and "linked" not in first
        summary = publish(session, sample_clues(AS_OF), RunInfo(as_of=AS_OF), projects=MAPPING)
        assert summary.linked == {"CJGC": 1, "MSGC": 1, "MSZJ": 2}
        then = seed_demo_campaigns(session, supervisor(session), year=YEAR, mapping=MAPPING)
        assert then == {"steps": 16}  # the four rule clues, 核查 → 处置 → 整改 → 销号
        closed = session.scalar(
            select(func.count()).select_from(m.Clue).where(m.Clue.source == "rule", m.Clue.status == "销号")
        )
        assert closed == 4
