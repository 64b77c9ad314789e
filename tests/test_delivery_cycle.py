"""The parts of the delivery cycle that need no scheduler: what the inbox watch fires for, when
the lake is quiet, and the as-of date the landed data supports. tests/test_scheduler.py runs
them under a real Airflow."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import os
import time
from pathlib import Path

import pytest

from qingfeng.pipeline import inbox, inputs
from qingfeng.pipeline.lock import lake_busy, lake_lock
from qingfeng.pipeline.quiet import lake_state
from qingfeng.pipeline.watch import InboxTrigger
from qingfeng.settings import get_settings


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _trigger(settings, feed: str = "death") -> InboxTrigger:
    return InboxTrigger(
        feed=feed,
        folder=str(inbox.inbox_dir(settings, feed)),
        ledger=str(inbox.ledger_path(settings, feed)),
        settle_seconds=30,
        poke_interval=0.05,
    )


async def _events(trigger: InboxTrigger, seconds: float) -> list[dict]:
    got: list[dict] = []

    async def collect() -> None:
        async for event in trigger.run():
            got.append(event.payload)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(collect(), seconds)
    return got


def test_the_watch_fires_once_for_complete_files_and_never_for_transfers(tmp_path: Path) -> None:
    settings = get_settings(home=tmp_path)
    folder = inbox.inbox_dir(settings, "death")
    folder.mkdir(parents=True)
    for name in (
        "死亡火化信息_2023.csv.part",
        ".死亡火化信息_2023.csv",
        "死亡火化信息_2023.csv~",
        "x.crdownload",
    ):
        (folder / name).write_text("partial")
        _age(folder / name, 3600)
    (folder / "still_writing.csv").write_text("changed a second ago")
    (folder / "死亡火化信息_2023.csv").write_text("complete")
    _age(folder / "死亡火化信息_2023.csv", 60)

    trigger = _trigger(settings)
    events = asyncio.run(_events(trigger, 0.5))
    assert events == [{"feed": "death", "files": ["死亡火化信息_2023.csv"]}]

    # a land run takes it: a restarted watch does not fire again; a replaced file does fire
    inbox.record_seen(
        inbox.ledger_path(settings, "death"),
        {
            d.signature: {"status": "ingested", "sha256": "a"}
            for d in inbox.delivered(folder)
            if d.relpath.startswith("死亡")
        },
        inbox.delivered(folder),
    )
    assert asyncio.run(_events(_trigger(settings), 0.3)) == []
    (folder / "死亡火化信息_2023.csv").write_text("complete, corrected")
    _age(folder / "死亡火化信息_2023.csv", 60)
    assert asyncio.run(_events(_trigger(settings), 0.3))[0]["files"] == ["死亡火化信息_2023.csv"]


def test_an_accepted_hold_is_handed_to_the_watch_again(tmp_path: Path) -> None:
    settings = get_settings(home=tmp_path)
    folder = inbox.inbox_dir(settings, "household_registry")
    folder.mkdir(parents=True)
    (folder / "户籍人口信息_20231231.csv").write_text("half")
    _age(folder / "户籍人口信息_20231231.csv", 60)
    ledger = inbox.ledger_path(settings, "household_registry")
    present = inbox.delivered(folder)
    inbox.record_seen(ledger, {present[0].signature: {"status": "held", "sha256": "abc"}}, present)
    assert inbox.unseen(folder, ledger) == []
    assert inbox.forget(settings, "household_registry", "abc") == 1
    assert [d.relpath for d in inbox.unseen(folder, ledger)] == ["户籍人口信息_20231231.csv"]


def test_the_lake_is_quiet_only_with_nothing_pending_no_ingest_and_a_quiet_period(tmp_path: Path) -> None:
    settings = get_settings(home=tmp_path)
    folder = inbox.inbox_dir(settings, "subsidy")
    folder.mkdir(parents=True)
    assert lake_state(tmp_path, ["subsidy"], 60)["quiet"]  # nothing ever delivered

    (folder / "民生补助发放明细_202301.csv").write_text("x")
    state = lake_state(tmp_path, ["subsidy"], 60)
    assert not state["quiet"] and state["pending"] == {"subsidy": ["民生补助发放明细_202301.csv"]}

    present = inbox.delivered(folder)
    inbox.record_seen(
        inbox.ledger_path(settings, "subsidy"), {present[0].signature: {"status": "ingested"}}, present
    )
    assert not lake_state(tmp_path, ["subsidy"], 60)["quiet"]  # a land run just finished
    assert lake_state(tmp_path, ["subsidy"], 0)["quiet"]

    with lake_lock(settings, exclusive=False):
        assert lake_busy(tmp_path)
        assert lake_state(tmp_path, ["subsidy"], 0)["ingest_running"]
    assert not lake_busy(tmp_path)


def test_an_ingest_waits_for_a_cross_match_holding_the_lake(tmp_path: Path) -> None:
    settings = get_settings(home=tmp_path)
    with (
        lake_lock(settings, exclusive=True),
        open(tmp_path / "state" / "lake.lock", "a+b") as other,
        pytest.raises(BlockingIOError),
    ):
        fcntl.flock(other.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)


def test_the_as_of_date_is_the_earliest_latest_period_across_tables() -> None:
    files = [
        {"table": "subsidy_payment", "sha256": "1", "period_end": "2023-11-30"},
        {"table": "subsidy_payment", "sha256": "2", "period_end": "2023-12-31"},
        {"table": "registry_person", "sha256": "3", "period_end": "2023-12-31"},
        {"table": "rent_payment", "sha256": "4", "period_end": "2023-10-31"},
        {"table": "company", "sha256": "5", "period_end": None},  # no period in its name: no bound
    ]
    as_of, source = inputs.as_of_from_data(files)
    assert as_of == dt.date(2023, 10, 31) and "rent_payment" in source and "3 tables" in source
    assert inputs.as_of_from_data(files[-1:])[0] is None
    unbounded, _ = inputs.as_of_from_data(files, frozenset({"rent_payment"}))
    assert unbounded == dt.date(2023, 12, 31)


def test_petitions_do_not_bound_the_as_of_date() -> None:
    from qingfeng.settings import get_settings

    assert inputs.unbounding_tables(get_settings()) == frozenset({"petition"})


def test_the_fingerprint_changes_with_files_as_of_and_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("s07: {cap: 1}\n")
    settings = get_settings(home=tmp_path).model_copy(update={"rules_config": rules})
    files = [{"table": "t", "sha256": "a"}, {"table": "u", "sha256": "b"}]
    day = dt.date(2023, 12, 31)
    same = inputs.fingerprint(list(reversed(files)), day, settings)
    assert inputs.fingerprint(files, day, settings) == same
    assert inputs.fingerprint(files[:1], day, settings) != same
    assert inputs.fingerprint(files, day - dt.timedelta(days=1), settings) != same
    rules.write_text("s07: {cap: 2}\n")
    assert inputs.fingerprint(files, day, settings) != same


def test_the_spark_pool_fits_memory_and_cores(tmp_path: Path) -> None:
    from qingfeng.pipeline.dagkit import spark_pool_slots

    settings = get_settings(home=tmp_path)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    slots = spark_pool_slots(settings.model_copy(update={"spark_driver_memory": "4g"}))
    assert 1 <= slots <= 2 * (os.cpu_count() or 1) and slots * 4 * 2**30 <= max(total - 2 * 2**30, 4 * 2**30)
    assert spark_pool_slots(settings.model_copy(update={"spark_driver_memory": "1024g"})) == 1
    assert spark_pool_slots(settings.model_copy(update={"spark_pool_slots": 7})) == 7
