"""``qingfeng run`` and the stage wrappers: clear stage errors, summaries, idempotent end-to-end runs."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qingfeng.pipeline import stages
from qingfeng.pipeline.run import clues_per_rule, quarantined_per_feed

SAMPLE = Path(__file__).parent / "fixtures" / "sample"
QINGFENG = str(Path(sys.executable).with_name("qingfeng"))


def test_stage_error_names_stage_and_where(settings) -> None:
    class BadRow(ValueError):
        file = "户籍人口信息_20231231.csv"
        line = 17
        column = "身份证号"

    with pytest.raises(stages.StageError) as info, stages.stage_errors(settings, "ingest"):
        raise BadRow("date '2023-13-45' is not a date")
    message = str(info.value)
    assert message.startswith("stage ingest failed: date '2023-13-45' is not a date")
    assert "file 户籍人口信息_20231231.csv, row 17, column 身份证号" in message
    assert info.value.log_path is not None and "Traceback" in info.value.log_path.read_text(encoding="utf-8")


def test_stage_error_keeps_only_the_first_line_of_a_jvm_error(settings) -> None:
    class Py4JJavaError(Exception):
        __module__ = "py4j.protocol"

    with pytest.raises(stages.StageError) as info, stages.stage_errors(settings, "rules"):
        raise Py4JJavaError(
            "An error occurred while calling o123.parquet.\n\tat org.apache.spark.Foo(Foo.java:1)"
        )
    assert info.value.message == "An error occurred while calling o123.parquet."


def test_summaries_from_the_real_stage_reports() -> None:
    from qingfeng.ingest.report import FileResult, IngestReport
    from qingfeng.register.publish import PublishSummary

    report = IngestReport(
        input_dir="x",
        files=[
            FileResult(
                file="a.csv",
                status="ingested",
                feed="subsidy",
                rows_read=10,
                rows_accepted=8,
                rows_quarantined=2,
            ),
            FileResult(
                file="b.csv",
                status="ingested",
                feed="subsidy",
                rows_read=5,
                rows_accepted=4,
                rows_quarantined=1,
            ),
            FileResult(file="c.csv", status="ingested", feed="death", rows_read=3, rows_accepted=3),
        ],
    )
    summary = stages.jsonable(report)
    assert summary["totals"]["ingested"] == 3
    assert quarantined_per_feed(summary) == {"death": 0, "subsidy": 3}

    publish = PublishSummary(run_id=7, per_rule={"S01": {"new": 2, "redetected": 1, "reopened": 1}})
    assert clues_per_rule(stages.jsonable(publish.as_dict())) == {
        "S01": {"new": 2, "re-detected": 1, "re-opened": 1}
    }


def test_run_info_is_what_the_register_records() -> None:
    from qingfeng.pipeline.inputs import FILE_KEYS
    from qingfeng.pipeline.run import RunOutcome, run_info
    from qingfeng.register.publish import RunInfo

    landed = {"file": "a.csv", "sha256": "0" * 64, "feed": "subsidy", "table": "subsidy_payment"}
    outcome = RunOutcome(dt.date(2023, 12, 31), None, input_files=[{k: landed.get(k) for k in FILE_KEYS}])
    outcome.results.append(stages.StageResult("ingest", 1.5, {"files": []}))
    info = RunInfo(**run_info(outcome))
    assert info.as_of == dt.date(2023, 12, 31)
    assert info.input_files[0]["file"] == "a.csv" and len(info.input_files[0]["sha256"]) == 64
    assert info.counts["stages"]["ingest"]["seconds"] == 1.5


def _totals(counts: dict) -> dict[str, int]:
    """Outcomes summed over rules; the register stores ``counts["publish"]`` per rule."""
    totals: dict[str, int] = {}
    for per_rule in counts["publish"].values():
        for outcome, n in per_rule.items():
            totals[outcome] = totals.get(outcome, 0) + n
    return totals


def _qingfeng(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        QINGFENG_SPARK_MASTER="local[2]",
        QINGFENG_SPARK_DRIVER_MEMORY="2g",
        QINGFENG_SPARK_SHUFFLE_PARTITIONS="4",
        COLUMNS="160",
    )
    return subprocess.run(
        [QINGFENG, *args, "--home", str(home)], env=env, capture_output=True, text=True, timeout=3600
    )


def test_run_requires_an_input_folder(tmp_path: Path) -> None:
    proc = _qingfeng("run", "--input", str(tmp_path / "nope"), "--as-of", "2023-12-31", home=tmp_path)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


@pytest.mark.slow
@pytest.mark.spark
def test_corrupt_input_ends_with_a_message_naming_stage_file_and_line(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    lines = (SAMPLE / "民生补助发放明细_202301.csv").read_bytes().split(b"\n")
    lines[4] = lines[4][:12] + b"\xff\xff" + lines[4][12:]
    (inbox / "民生补助发放明细_202301.csv").write_bytes(b"\n".join(lines))
    proc = _qingfeng("run", "--input", str(inbox), "--as-of", "2023-12-31", home=tmp_path / "home")
    assert proc.returncode == 1
    assert "Error: stage ingest failed" in proc.stderr
    assert "民生补助发放明细_202301.csv: line 5" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.spark
def test_run_end_to_end_twice_changes_nothing(tmp_path: Path) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from qingfeng.pipeline.inputs import FILE_KEYS
    from qingfeng.register.db import make_engine
    from qingfeng.register.models import Clue, PipelineRun
    from qingfeng.synth.generate import synthesize

    # The shared sample has no planted anomaly, so a generated district is what puts clues in the register.
    district = tmp_path / "district"
    synthesize(district, 40, 5, progress=lambda _msg: None)
    home = tmp_path / "home"
    first = _qingfeng("run", "--input", str(district), "--as-of", "2024-01-31", home=home)
    assert first.returncode == 0, (first.stdout + first.stderr)[-5000:]
    for title in ("Clues per rule", "Quarantined rows per feed", "Time per stage"):
        assert title in first.stdout

    def register() -> tuple[dict[str, str], list[PipelineRun]]:
        engine = make_engine(f"sqlite:///{home / 'register.db'}")
        try:
            with Session(engine) as session:
                clues = {c.fingerprint: c.status for c in session.scalars(select(Clue))}
                runs = list(session.scalars(select(PipelineRun).order_by(PipelineRun.id)))
        finally:
            engine.dispose()
        return clues, runs

    clues, runs = register()
    assert clues and len(runs) == 1
    exports = {p.name for p in district.iterdir()} - {"truth.jsonl", "district.json"}
    assert {f["file"] for f in runs[0].input_files} >= exports
    assert all(set(f) == set(FILE_KEYS) for f in runs[0].input_files)  # as the cross-match DAG records them
    assert _totals(runs[0].counts)["new"] == len(clues)

    second = _qingfeng("run", "--input", str(district), "--as-of", "2024-01-31", home=home)
    assert second.returncode == 0, (second.stdout + second.stderr)[-5000:]
    again, runs = register()
    assert again == clues
    totals = _totals(runs[-1].counts)
    assert (totals["new"], totals["reopened"], totals["redetected"]) == (0, 0, len(clues))
