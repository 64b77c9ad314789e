"""``qingfeng demo`` (the README's first command) runs the whole pipeline through Airflow and ends
with clues in the register."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.spark]


def test_demo_runs_every_dag_and_leaves_clues_in_the_register(tmp_path: Path) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from qingfeng.register.db import make_engine
    from qingfeng.register.models import CampaignProject, Clue, Event, PipelineRun

    home = tmp_path / "home"
    env = dict(os.environ, QINGFENG_SPARK_MASTER="local[2]", QINGFENG_SPARK_DRIVER_MEMORY="2g", COLUMNS="200")
    cmd = [str(Path(sys.executable).with_name("qingfeng")), "demo", "--households", "60", "--no-serve"]
    proc = subprocess.run([*cmd, "--home", str(home)], env=env, capture_output=True, text=True, timeout=3600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
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
