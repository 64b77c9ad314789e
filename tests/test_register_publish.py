"""Idempotent publishing: upsert on the fingerprint, dismissed clues stay dismissed unless the
evidence materially changes, undetected clues are kept and marked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from test_register_support import *  # noqa: F403
from test_register_support import AS_OF, make_clue

from qingfeng.contract import fingerprint
from qingfeng.register.lifecycle import CONCLUDED, FOUND, NOT_FILED, VERIFYING
from qingfeng.register.models import Clue, ClueSubject, Event, Evidence, PipelineRun
from qingfeng.register.publish import RunInfo, publish, publish_from_lake
from qingfeng.register.service import ClueService

BATCH = [
    make_clue("S01", "330109198001011234", "张三"),
    make_clue("S01", "330109198202022345", "李四", amount=800.0, lines=(5, 6)),
    make_clue(
        "S07", "330109197503033456", "王五", amount=52000.0, severity="high", town="南山镇", village="西村"
    ),
]


def on(batch: list[dict], day: int) -> tuple[list[dict], RunInfo]:
    """The batch as the rules stage writes it for the run ``day`` days after AS_OF."""
    as_of = AS_OF + dt.timedelta(days=day)
    return [{**c, "as_of": as_of.isoformat()} for c in batch], RunInfo(as_of=as_of)


def _by_fp(session, c: dict) -> Clue:
    session.expire_all()
    return session.scalars(select(Clue).where(Clue.fingerprint == fingerprint(c["rule"], c["keys"]))).one()


def test_republishing_three_times_keeps_one_row_per_fingerprint_with_status_and_comments(
    session, engine, people
):
    first = publish(engine, BATCH, RunInfo(as_of=AS_OF))
    assert first.totals["new"] == 3
    clue = _by_fp(session, BATCH[0])
    svc = ClueService(session, people["analyst"])
    svc.transition(clue.id, VERIFYING, reason="核实家庭收入")
    svc.comment(clue.id, "已调取银行流水")
    for n in range(3):
        summary = publish(engine, *on(BATCH, n + 1))
        assert summary.totals == {
            "new": 0,
            "redetected": 3,
            "reopened": 0,
            "unchanged_dismissed": 0,
            "not_detected": 0,
        }
    assert session.scalar(select(func.count()).select_from(Clue)) == 3
    assert session.scalar(select(func.count(func.distinct(Clue.fingerprint)))) == 3
    clue = _by_fp(session, BATCH[0])
    assert clue.status == VERIFYING
    assert clue.first_seen == AS_OF and clue.last_seen == AS_OF + dt.timedelta(days=3)
    assert [e.text for e in clue.events if e.kind == "comment"] == ["已调取银行流水"]
    assert [e.kind for e in clue.events].count("status_change") == 1
    assert len(clue.evidence_rows) == 1 and len(clue.subject_links) == 2  # refreshed, not appended
    assert session.scalar(select(func.count()).select_from(Evidence)) == 4
    assert session.scalar(select(func.count()).select_from(ClueSubject)) == 6
    assert session.scalar(select(func.count()).select_from(PipelineRun)) == 4


@pytest.mark.parametrize("dismissal", [CONCLUDED, NOT_FILED])
def test_dismissed_clue_stays_dismissed_until_evidence_materially_changes(session, engine, people, dismissal):
    publish(engine, BATCH, RunInfo(as_of=AS_OF))
    clue = _by_fp(session, BATCH[1])
    ClueService(session, people["analyst"]).transition(clue.id, dismissal, reason="经核实系政策允许")

    same = publish(engine, *on(BATCH, 30))
    assert same.per_rule["S01"]["unchanged_dismissed"] == 1
    clue = _by_fp(session, BATCH[1])
    assert clue.status == dismissal
    assert clue.last_seen == AS_OF + dt.timedelta(days=30)
    assert not [e for e in clue.events if e.kind == "reopen"]

    # the same rows in another order, and a row fewer, are not a material change
    shrunk = [BATCH[0], {**BATCH[1], "evidence": BATCH[1]["evidence"][::-1][:1]}, BATCH[2]]
    publish(engine, *on(shrunk, 31))
    assert _by_fp(session, BATCH[1]).status == dismissal

    new_rows = [
        BATCH[0],
        make_clue("S01", "330109198202022345", "李四", amount=800.0, lines=(5, 6, 9)),
        BATCH[2],
    ]
    reopened = publish(engine, *on(new_rows, 60))
    assert reopened.per_rule["S01"]["reopened"] == 1
    clue = _by_fp(session, BATCH[1])
    assert clue.status == FOUND
    event = [e for e in clue.events if e.kind == "reopen"][-1]
    assert event.from_status == dismissal and event.to_status == FOUND
    assert "新增来源记录 1 条" in event.text and "第9行" in event.text
    assert len(clue.evidence_rows) == 3


def test_dismissed_clue_reopens_on_a_new_amount(session, engine, people):
    publish(engine, BATCH, RunInfo(as_of=AS_OF))
    clue = _by_fp(session, BATCH[0])
    ClueService(session, people["analyst"]).transition(clue.id, NOT_FILED, reason="金额较小")
    changed = [make_clue("S01", "330109198001011234", "张三", amount=2400.0), *BATCH[1:]]
    publish(engine, changed, RunInfo(as_of=AS_OF + dt.timedelta(days=30)))
    clue = _by_fp(session, BATCH[0])
    assert clue.status == FOUND
    assert clue.amount == Decimal("2400.00")
    assert "1200.00 变为 2400.00" in [e for e in clue.events if e.kind == "reopen"][-1].text


def test_clues_not_redetected_are_marked_not_deleted_and_come_back(session, engine, people):
    publish(engine, BATCH, RunInfo(as_of=AS_OF))
    # S01 ran again and found only 张三; S07 did not run this time, so 王五 is untouched
    summary = publish(engine, [BATCH[0]], RunInfo(as_of=AS_OF + dt.timedelta(days=1), rules=["S01"]))
    assert summary.per_rule == {
        "S01": {"new": 0, "redetected": 1, "reopened": 0, "unchanged_dismissed": 0, "not_detected": 1}
    }
    assert session.scalar(select(func.count()).select_from(Clue)) == 3
    assert _by_fp(session, BATCH[1]).detection_state == "not_detected"
    assert _by_fp(session, BATCH[2]).detection_state == "active"
    # a rule that ran and found nothing marks all its clues
    summary = publish(
        engine, [BATCH[0], BATCH[1]], RunInfo(as_of=AS_OF + dt.timedelta(days=2), rules=["S01", "S07"])
    )
    assert summary.per_rule["S07"]["not_detected"] == 1
    back = _by_fp(session, BATCH[1])
    assert back.detection_state == "active"
    assert [e.kind for e in back.events] == ["not_detected", "redetected"]


def test_publish_is_one_transaction(session, engine):
    publish(engine, BATCH[:1], RunInfo(as_of=AS_OF))
    broken = [BATCH[1], {"rule": "S09"}]  # the second clue has no keys
    with pytest.raises(Exception, match="关键字段"):
        publish(engine, broken, RunInfo(as_of=AS_OF))
    assert session.scalar(select(func.count()).select_from(Clue)) == 1
    assert session.scalar(select(func.count()).select_from(PipelineRun)) == 1


def test_publish_with_a_session_and_a_given_fingerprint(session):
    c = {**BATCH[0], "fingerprint": fingerprint("S01", BATCH[0]["keys"])}
    publish(session, [c, BATCH[0]], RunInfo(as_of=AS_OF))  # the same clue twice in one batch is one clue
    assert session.scalar(select(func.count()).select_from(Clue)) == 1
    assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_publish_from_lake_reads_the_rules_parquet(session, settings, register_url):
    settings = settings.model_copy(update={"register_url": register_url})
    folder = settings.lake / "clues"
    folder.mkdir(parents=True)
    subject = pa.struct([("kind", pa.string()), ("id", pa.string()), ("name", pa.string())])
    evidence = pa.struct(
        [
            ("feed", pa.string()),
            ("table", pa.string()),
            ("file", pa.string()),
            ("line", pa.int64()),
            ("note", pa.string()),
        ]
    )
    rows = [
        {
            **c,
            "keys": list(c["keys"].items()),
            "amount": Decimal(str(c["amount"])).quantize(Decimal("0.01")),
            "period_start": dt.date(2026, 1, 1),
            "period_end": dt.date(2026, 1, 31),
            "as_of": AS_OF,
            "fingerprint": fingerprint(c["rule"], c["keys"]),
        }
        for c in BATCH
    ]
    schema = pa.schema(
        [
            ("rule", pa.string()),
            ("rule_name", pa.string()),
            ("keys", pa.map_(pa.string(), pa.string())),
            ("subjects", pa.list_(subject)),
            ("amount", pa.decimal128(18, 2)),
            ("period_start", pa.date32()),
            ("period_end", pa.date32()),
            ("evidence", pa.list_(evidence)),
            ("path", pa.string()),
            ("severity", pa.string()),
            ("town", pa.string()),
            ("fingerprint", pa.string()),
            ("as_of", pa.date32()),
        ]
    )
    pq.write_table(
        pa.Table.from_pylist([{k: r[k] for k in schema.names} for r in rows], schema=schema),
        folder / "part-0000.parquet",
    )
    (folder / "_SUCCESS").touch()
    out = publish_from_lake(settings, run_info=RunInfo(as_of=AS_OF, input_files=["a.csv"]))
    assert out["clues_read"] == 3 and out["totals"]["new"] == 3
    clue = _by_fp(session, BATCH[2])
    assert clue.keys == BATCH[2]["keys"] and clue.amount == Decimal("52000.00") and clue.severity == "high"
    assert clue.evidence[0]["file"] == "民生资金发放_202601.csv" and clue.village == "西村"
    again = publish_from_lake(settings, run_info={"as_of": AS_OF})
    assert again["totals"]["redetected"] == 3


def test_publish_from_lake_without_clues_says_so(settings):
    with pytest.raises(FileNotFoundError, match="没有可发布的线索"):
        publish_from_lake(settings, run_info=RunInfo(as_of=AS_OF))


def test_pipeline_run_info_marks_rules_that_ran_and_found_nothing(session, engine):
    from pathlib import Path

    publish(engine, BATCH, RunInfo(as_of=AS_OF))
    later = (AS_OF + dt.timedelta(days=7)).isoformat()
    run_info = {  # as `qingfeng run` passes it (qingfeng.pipeline.run.run_info)
        "as_of": later,
        "started_at": dt.datetime(2026, 4, 7, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        "input_files": [Path("/data/民生资金发放_202601.csv")],
        "counts": {"stages": {"rules": {"summary": {"per_rule": {"S01": 2, "S07": 0}}}}},
        "trigger": "qingfeng run",
    }
    summary = publish(
        engine,
        [{**c, "as_of": later} for c in BATCH[:2]],
        RunInfo(**{k: v for k, v in run_info.items() if k != "trigger"}),
    )
    assert summary.per_rule["S07"]["not_detected"] == 1 and summary.per_rule["S01"]["redetected"] == 2
    assert _by_fp(session, BATCH[2]).detection_state == "not_detected"
    run = session.scalars(select(PipelineRun).order_by(PipelineRun.id.desc())).first()
    assert run.started_at == dt.datetime(2026, 4, 7, 2, 0)  # stored as naive UTC
    assert run.input_files == ["/data/民生资金发放_202601.csv"] and run.as_of == dt.date(2026, 4, 7)
