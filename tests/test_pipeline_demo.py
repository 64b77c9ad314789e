"""``qingfeng demo`` (the README's first command) runs the whole pipeline through Airflow and ends
with clues in the register; its campaign report reads like the commission's, and its public page, in
headless Chromium, names nobody of the demo district."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.spark]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    """One ``qingfeng demo`` for the module: its home and its output."""
    home = tmp_path_factory.mktemp("demo") / "home"
    env = dict(os.environ, QINGFENG_SPARK_MASTER="local[2]", QINGFENG_SPARK_DRIVER_MEMORY="2g", COLUMNS="200")
    cmd = [str(Path(sys.executable).with_name("qingfeng")), "demo", "--households", "60", "--no-serve"]
    proc = subprocess.run([*cmd, "--home", str(home)], env=env, capture_output=True, text=True, timeout=3600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return home, out


def test_demo_runs_every_dag_and_leaves_clues_in_the_register(demo: tuple[Path, str]) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from qingfeng.register.db import make_engine
    from qingfeng.register.models import CampaignProject, Clue, Event, PipelineRun

    home, out = demo
    for feed in ("subsidy", "household_registry", "cadre"):
        assert f"ingest_{feed}" in out
    assert "cross_match" in out and "monthly_report" in out
    assert "Where to look" in out and "login demo" in out

    engine = make_engine(f"sqlite:///{home / 'register.db'}")
    try:
        with Session(engine) as session:
            clues = session.scalar(select(func.count()).select_from(Clue))
            runs = list(session.scalars(select(PipelineRun)))
            projects = session.scalar(select(func.count()).select_from(CampaignProject))
            rule_clues = select(func.count()).select_from(Clue).where(Clue.source == "rule")
            unlinked = session.scalar(rule_clues.where(Clue.project_id.is_(None)))
            linked_later = session.scalar(
                select(func.count()).select_from(Event).where(Event.kind == "project")
            )
            closed = session.scalar(rule_clues.where(Clue.status == "销号"))
    finally:
        engine.dispose()
    assert clues and clues > 0
    # the campaign projects were seeded before the pipeline: every rule clue linked as it was published
    assert projects == 6 and unlinked == 0 and linked_later == 0
    assert closed and closed > 0, "the demo works the first rule clues of each project to 销号"
    assert "in campaign projects" in out
    assert len(runs) == 1 and runs[0].input_files, "the Airflow run is recorded with the files it read"
    assert (home / "airflow" / "airflow.db").exists()
    assert list((home / "reports").glob("monthly-*.json"))


def test_the_demo_campaign_report_and_its_public_page(demo: tuple[Path, str]) -> None:
    """The default campaign report of the demo reads like the commission's headline, every figure of it
    there; the public page shows the published projects and, searched for every ID, name, account,
    village and town of the demo district's files and register, names nobody."""
    from liveapp import serving
    from privacy import district_identifiers, public_page_leaks, register_identifiers
    from test_browser_ui import ARGS, CHROMIUM

    from qingfeng.campaigns.disclosure import public_disclosure
    from qingfeng.campaigns.periods import beijing_today
    from qingfeng.campaigns.report import campaign_report, default_period
    from qingfeng.register.db import make_engine, session_factory
    from qingfeng.web import create_app
    from qingfeng.web.settings import web_settings

    home, _ = demo
    cfg = web_settings(home=home)
    engine = make_engine(cfg.resolved_register_url)
    with session_factory(engine)() as session:
        report = campaign_report(session, *default_period(session, beijing_today()))
        identifiers = district_identifiers(home / "district")
        identifiers |= register_identifiers(session)
        disclosure = public_disclosure(session, min_count=3)
    engine.dispose()
    headline = report.headline
    assert all(getattr(headline, name) > 0 for name in ("inspections", "places", "problems_rectified"))
    assert headline.clues_found > 0 and headline.institutions > 0 and headline.recovered > 0
    assert report.sentence.startswith("共开展检查") and "追缴或挽回资金" in report.sentence
    assert len(disclosure.projects) == 5  # CKX is not published

    from playwright.sync_api import sync_playwright

    with serving(create_app(cfg)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(locale="zh-CN")
        page.goto(f"{base}/public")
        html = page.content()
        titles = page.locator("section.project h2").all_inner_texts()
        browser.close()
    assert sorted(titles) == sorted(p.title for p in disclosure.projects)
    assert identifiers.ids and identifiers.names and identifiers.accounts, identifiers.counts()
    assert public_page_leaks(html, identifiers, disclosure) == []
