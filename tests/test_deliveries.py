"""A delivery never silently shrinks the data: a re-delivery with far fewer rows, or without a village,
than the one it would replace is held until an operator accepts or rejects it (issue #21, item 3).

One lake for the whole module, built up step by step (each test continues the previous one's lake):
the household registry, then a halved re-delivery (held) beside a new snapshot (lands), accept, then
corrections under another name for the same period (a feed folder that admits ``(更正)``).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from qingfeng.settings import PROJECT_ROOT, Settings, get_settings

pytestmark = pytest.mark.spark

SAMPLE = Path(__file__).parent / "fixtures" / "sample"
NAME = "户籍人口信息_20231231.csv"
NEXT = "户籍人口信息_20240131.csv"
CORRECTED = "户籍人口信息_20240131(更正).csv"
TABLE = "registry_person"
FEED = "household_registry"


# ---- files ---------------------------------------------------------------------------------------


def _lines() -> tuple[str, list[str]]:
    text = (SAMPLE / NAME).read_bytes().decode("gb18030")
    header, *rows = text.split("\r\n")
    return header, [r for r in rows if r]


HEADER, ROWS = _lines()
FIRST, SECOND = ROWS[: len(ROWS) // 2], ROWS[len(ROWS) // 2 :]


def _place(line: str) -> tuple[str, str]:
    fields = next(csv.reader(io.StringIO(line)))
    return fields[8], fields[9]  # 所属镇街, 所属村社


def _write(folder: Path, name: str, rows: list[str]) -> Path:
    """A delivery like the agency's: the same header, GBK, CRLF."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode("gbk"))
    return path


def _fewer_keeping_every_village(rows: list[str], drop: int) -> list[str]:
    left = {}
    for r in rows:
        left[_place(r)] = left.get(_place(r), 0) + 1
    out = []
    for r in rows:
        if drop and left[_place(r)] > 1:
            left[_place(r)] -= 1
            drop -= 1
            continue
        out.append(r)
    return out


# ---- the lake ------------------------------------------------------------------------------------


def _settings(home: Path, **extra: object) -> Settings:
    return get_settings(home=home, spark_master="local[2]", spark_shuffle_partitions=4, **extra)


def _ingest(settings: Settings, folder: Path, spark):
    from qingfeng.ingest import ingest_dir

    return ingest_dir(settings, folder, spark=spark)


def _landed(settings: Settings) -> dict[str, int]:
    """Accepted rows per file of the standardized table (pyarrow: no Spark job)."""
    import pyarrow.parquet as pq

    out: dict[str, int] = {}
    for row in pq.read_table(settings.lake / "standardized" / TABLE, columns=["_file"]).to_pylist():
        out[row["_file"]] = out.get(row["_file"], 0) + 1
    return out


def _manifests(settings: Settings) -> dict[str, dict]:
    folder = settings.lake / "_manifests" / TABLE
    return {m["file"]: m for m in (json.loads(p.read_text()) for p in folder.glob("*.json"))}


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def _one(report, name: str):
    [f] = [f for f in report.files if f.file == name and f.status != "superseded"]
    return f


def _no_spark(monkeypatch) -> None:
    from qingfeng.ingest import engine

    def refuse(*_a, **_k):
        raise AssertionError("this run should do no framing or Spark work")

    monkeypatch.setattr(engine, "frame_file", refuse)
    monkeypatch.setattr(engine, "parse_table", refuse)


@dataclass
class Lake:
    settings: Settings
    held_inbox: Path
    report: object
    before: dict[str, tuple[int, int]]  # the lake before the held run
    full_manifest: dict


@pytest.fixture(scope="module")
def lake(spark, tmp_path_factory) -> Lake:
    root = tmp_path_factory.mktemp("deliveries")
    settings = _settings(root / "home")
    first = _write(root / "in-full", NAME, ROWS)
    assert [f.status for f in _ingest(settings, first.parent, spark).files] == ["ingested"]
    full_manifest = _manifests(settings)[NAME]
    before = _snapshot(settings.lake)
    inbox = root / "inbox"
    _write(inbox, NAME, FIRST)  # the same name, cut to half its rows
    _write(inbox, NEXT, SECOND)  # a sibling: another snapshot, of the other half (ids unique per batch)
    report = _ingest(settings, inbox, spark)
    return Lake(settings, inbox, report, before, full_manifest)


def test_a_halved_redelivery_is_held_and_the_lake_keeps_the_full_file(lake) -> None:
    settings, report = lake.settings, lake.report
    held = _one(report, NAME)
    assert held.status == "held" and held.rows_accepted == len(FIRST) == 698
    assert held.error == (
        f"{NAME}: held: 698 rows accepted against 1,396 in the delivery it would replace (-50.0%, more than the "
        f"feed's 10%). Confirm with: qingfeng deliveries accept {NAME}, or reject it."
    )
    assert held.held["old_rows"] == 1396 and held.held["new_rows"] == 698 and held.held["lost"] == []
    assert report.failed == [held] and report.held == [held]
    # the sibling of the same table and delivery landed; nothing of the held file did
    assert _one(report, NEXT).status == "ingested"
    assert not [f for f in report.files if f.status == "superseded"]
    assert _landed(settings) == {NAME: 1396, NEXT: 698}
    manifests = _manifests(settings)
    assert manifests[NAME] == lake.full_manifest
    assert (manifests[NAME]["period_start"], manifests[NAME]["period_end"]) == ("2023-12-31", "2023-12-31")
    assert manifests[NEXT]["period_end"] == "2024-01-31"
    after = _snapshot(settings.lake)
    assert {k: v for k, v in after.items() if k in lake.before} == lake.before  # nothing changed or went
    assert not [k for k in after if held.sha256 in k or held.sha256[:12] in k]  # no raw copy, no partition
    # the held area: the file byte for byte, and the record with both counts
    folder = settings.home / "held" / FEED / held.sha256
    assert (folder / NAME).read_bytes() == (lake.held_inbox / NAME).read_bytes()
    record = json.loads((folder / "held.json").read_text(encoding="utf-8"))
    assert {k: record[k] for k in ("feed", "table", "file", "sha256", "old_rows", "new_rows", "lost")} == {
        "feed": FEED,
        "table": TABLE,
        "file": NAME,
        "sha256": held.sha256,
        "old_rows": 1396,
        "new_rows": 698,
        "lost": [],
    }
    assert record["reason"].startswith("698 rows accepted against 1,396") and record["held_at"]
    assert record["replaces"][0]["sha256"] == lake.full_manifest["sha256"]


def test_the_next_run_reports_it_held_again_and_changes_nothing(lake, spark, monkeypatch) -> None:
    settings = lake.settings
    before, held_before = _snapshot(settings.lake), _snapshot(settings.home / "held")
    _no_spark(monkeypatch)
    report = _ingest(settings, lake.held_inbox, spark)
    assert {f.file: f.status for f in report.files} == {NAME: "held", NEXT: "duplicate"}
    assert _one(report, NAME).error == _one(lake.report, NAME).error
    assert _snapshot(settings.lake) == before and _snapshot(settings.home / "held") == held_before


def test_ingest_cli_and_pipeline_stage_fail_naming_the_held_file(lake, monkeypatch) -> None:
    from qingfeng.cli import main
    from qingfeng.pipeline import stages

    _no_spark(monkeypatch)
    home = str(lake.settings.home)
    result = CliRunner().invoke(main, ["ingest", "--input", str(lake.held_inbox), "--home", home])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "1 file(s) held" in result.output and "698 rows accepted against 1,396" in result.output
    assert stages.ingest_failures(_ingest(lake.settings, lake.held_inbox, None)) == [
        _one(lake.report, NAME).error
    ]
    listed = CliRunner().invoke(main, ["deliveries", "list", "--json", "--home", home])
    assert listed.exit_code == 0
    [record] = json.loads(listed.output)
    assert (record["file"], record["old_rows"], record["new_rows"]) == (NAME, 1396, 698)


def test_reject_moves_it_away_and_the_lake_is_unchanged(lake, tmp_path, monkeypatch) -> None:
    from qingfeng.cli import main

    home = tmp_path / "home"
    shutil.copytree(lake.settings.home, home, symlinks=True)
    settings = _settings(home)
    sha = _one(lake.report, NAME).sha256
    before = _snapshot(settings.lake)
    result = CliRunner().invoke(
        main, ["deliveries", "reject", sha[:8], "--reason", "公安: 导出中断", "--home", str(home)]
    )
    assert result.exit_code == 0, result.output
    assert "rejected" in result.output and "no audit line" in result.output  # no register in this home
    assert not (home / "held" / FEED / sha).exists()
    moved = home / "held" / "rejected" / FEED / sha
    assert (moved / NAME).read_bytes() == (lake.held_inbox / NAME).read_bytes()
    assert (
        json.loads((moved / "held.json").read_text(encoding="utf-8"))["rejected"]["reason"]
        == "公安: 导出中断"
    )
    assert _snapshot(settings.lake) == before
    # the file is still in the inbox: it is skipped, not held again and not a failure
    _no_spark(monkeypatch)
    again = CliRunner().invoke(
        main, ["ingest", "--input", str(lake.held_inbox), "--home", str(home), "--json"]
    )
    assert again.exit_code == 0, again.output
    statuses = {f["file"]: f["status"] for f in json.loads(again.stdout)["files"]}
    assert statuses == {NAME: "rejected", NEXT: "duplicate"}
    assert _snapshot(settings.lake) == before and not (home / "held" / FEED / sha).exists()
    nothing = CliRunner().invoke(main, ["deliveries", "accept", NAME, "--home", str(home)])
    assert (
        nothing.exit_code == 1 and "nothing is held" in nothing.output and "Traceback" not in nothing.output
    )


def test_accept_lands_the_held_file_and_writes_an_audit_line(lake) -> None:
    from sqlalchemy import select

    from qingfeng.cli import main
    from qingfeng.register.db import make_engine, session_factory
    from qingfeng.register.models import AccessLog

    settings, home = lake.settings, str(lake.settings.home)
    sha = _one(lake.report, NAME).sha256
    assert CliRunner().invoke(main, ["db", "upgrade", "--home", home]).exit_code == 0
    result = CliRunner().invoke(main, ["deliveries", "accept", NAME, "--home", home])
    assert result.exit_code == 0, result.output
    assert f"{NAME}: ingested into {TABLE}: 698 rows accepted" in result.output
    assert _landed(settings) == {NAME: 698, NEXT: 698}
    manifest = _manifests(settings)[NAME]
    assert manifest["sha256"] == sha and manifest["rows_accepted"] == 698
    assert manifest["accepted_from_hold"]["old_rows"] == 1396
    assert manifest["supersedes"] == [lake.full_manifest["sha256"]]
    assert not (settings.home / "held" / FEED / sha).exists()
    assert (settings.lake / "raw" / FEED / sha / NAME).exists()
    engine = make_engine(settings.resolved_register_url)
    with session_factory(engine)() as session:
        [line] = session.scalars(select(AccessLog).where(AccessLog.target == f"delivery:{sha[:12]}")).all()
    engine.dispose()
    assert line.action == "change" and line.username.startswith("cli:") and "deliveries accept" in line.detail
    # the folder again: the accepted file is now a duplicate, the run is green
    assert {f.status for f in _ingest(settings, lake.held_inbox, None).files} == {"duplicate"}


# ---- corrections: same period, another name (a feed folder whose pattern admits "(更正)") -----------


@pytest.fixture(scope="module")
def corrections(lake, tmp_path_factory) -> Settings:
    feeds = tmp_path_factory.mktemp("feeds")
    text = (PROJECT_ROOT / "feeds" / f"{FEED}.yml").read_text(encoding="utf-8")
    pattern = r"'户籍人口信息_(?P<period>\d{8})\.csv'"
    assert pattern in text
    (feeds / f"{FEED}.yml").write_text(
        text.replace(pattern, r"'户籍人口信息_(?P<period>\d{8})(?:\(更正\))?\.csv'"), encoding="utf-8"
    )
    return _settings(lake.settings.home, feeds_dir=feeds)


def test_a_correction_of_the_same_period_within_the_threshold_supersedes(
    lake, corrections, spark, tmp_path
) -> None:
    rows = _fewer_keeping_every_village(SECOND, 20)  # -2.9%, every village still there
    report = _ingest(corrections, _write(tmp_path, CORRECTED, rows).parent, spark)
    new, [old] = _one(report, CORRECTED), [f for f in report.files if f.status == "superseded"]
    assert new.status == "ingested" and new.rows_accepted == 678
    assert (new.period_start, new.period_end) == ("2024-01-31", "2024-01-31")
    assert old.file == NEXT and old.rows_accepted == 698
    assert any(f"({NEXT}) of the same period" in w for w in new.warnings)
    assert _landed(corrections) == {NAME: 698, CORRECTED: 678}
    assert set(_manifests(corrections)) == {NAME, CORRECTED}


def test_an_old_version_beside_its_correction_changes_nothing(
    lake, corrections, spark, tmp_path, monkeypatch
) -> None:
    _write(tmp_path / "both", NEXT, SECOND)
    _write(tmp_path / "both", CORRECTED, _fewer_keeping_every_village(SECOND, 20))
    before = _snapshot(corrections.lake)
    _no_spark(monkeypatch)
    report = _ingest(corrections, tmp_path / "both", spark)
    assert {f.file: f.status for f in report.files} == {NEXT: "duplicate", CORRECTED: "duplicate"}
    assert any("which is in this folder too" in w for w in _one(report, NEXT).warnings)
    assert _snapshot(corrections.lake) == before
    # two new files for one period in one delivery: which is right is not knowable, both fail
    _write(tmp_path / "two", "户籍人口信息_20240229.csv", SECOND[:100])
    _write(tmp_path / "two", "户籍人口信息_20240229(更正).csv", SECOND[:99])
    two = _ingest(corrections, tmp_path / "two", spark)
    assert {f.status for f in two.files} == {"failed"}
    assert all("several new files for the period 2024-02-29" in f.error for f in two.files)
    after = _snapshot(corrections.lake)  # a failed file is kept in the raw zone, as always; nothing lands
    assert {k: v for k, v in after.items() if not k.startswith("raw/")} == {
        k: v for k, v in before.items() if not k.startswith("raw/")
    }


def test_a_lost_village_holds_even_when_the_row_count_barely_changes(
    lake, corrections, spark, tmp_path
) -> None:
    current = _fewer_keeping_every_village(SECOND, 20)
    town, village = _place(current[0])
    rows = [r for r in current if _place(r) != (town, village)]
    assert 0 < 1 - len(rows) / len(current) < 0.05
    report = _ingest(corrections, _write(tmp_path, CORRECTED, rows).parent, spark)
    held = _one(report, CORRECTED)
    assert held.status == "held", (held.status, held.error)
    assert f"{len(rows)} rows accepted against 678 in the delivery it would replace (-" in held.error
    assert "more than" not in held.error
    assert (
        f"; lost 所属镇街/所属村社: {town}/{village}. Confirm with: qingfeng deliveries accept" in held.error
    )
    assert held.held["lost"] == [f"{town}/{village}"] and held.held["coverage"] == ["town", "village"]
    assert _landed(corrections) == {NAME: 698, CORRECTED: 678}


# ---- no Spark ------------------------------------------------------------------------------------


def test_a_name_shared_by_two_held_deliveries_is_ambiguous(tmp_path) -> None:
    from qingfeng.cli import main
    from qingfeng.ingest import deliveries

    settings = _settings(tmp_path / "home")
    source = _write(tmp_path / "in", NAME, FIRST)
    for sha in ("ab" * 32, "ac" * 32):
        entry = {
            "feed": FEED,
            "table": TABLE,
            "file": NAME,
            "sha256": sha,
            "held_at": "2024-01-01T00:00:00+00:00",
        }
        deliveries.hold(
            settings, source, {**entry, "old_rows": 10, "new_rows": 5, "reason": "test", "lost": []}
        )
    assert deliveries.command_token(settings, FEED, NAME, "ab" * 32) == ("ab" * 32)[:12]
    with pytest.raises(deliveries.DeliveryError, match="2 held deliveries match") as err:
        deliveries.resolve(settings, NAME)
    assert "abababababab" in str(err.value) and "acacacacacac" in str(err.value)
    assert deliveries.resolve(settings, "abab")["sha256"] == "ab" * 32
    result = CliRunner().invoke(main, ["deliveries", "reject", NAME, "--home", str(settings.home)])
    assert (
        result.exit_code == 1
        and "2 held deliveries match" in result.output
        and "Traceback" not in result.output
    )
    result = CliRunner().invoke(main, ["deliveries", "accept", "nope.csv", "--home", str(settings.home)])
    assert result.exit_code == 1 and f"held: {NAME}" in result.output
    listed = CliRunner().invoke(main, ["deliveries", "list", "--home", str(settings.home)])
    assert listed.exit_code == 0 and "abababababab" in listed.output and "acacacacacac" in listed.output


def test_old_manifests_without_a_period_read_as_null_and_still_supersede_by_period(tmp_path) -> None:
    from qingfeng.feeds.model import load_feed
    from qingfeng.ingest import raw

    settings = _settings(tmp_path / "home")
    old = {
        "file": "民生补助发放明细_202301.csv",
        "sha256": "a" * 64,
        "feed": "subsidy",
        "table": "subsidy_payment",
    }
    raw.write_manifest(settings, "subsidy_payment", old)
    [m] = raw.read_manifests(settings)
    assert (m["period_start"], m["period_end"]) == (None, None)
    spec = load_feed(PROJECT_ROOT / "feeds" / "subsidy.yml").files[0]

    def iso(name: str):
        period = spec.period_of(name)
        return (period[0].isoformat(), period[1].isoformat()) if period else None

    same = raw.earlier_deliveries(
        settings, "subsidy_payment", "x.csv", "b" * 64, period=("2023-01-01", "2023-01-31"), period_of=iso
    )
    assert [m["sha256"] for m in same] == ["a" * 64]
    other = raw.earlier_deliveries(
        settings, "subsidy_payment", "x.csv", "b" * 64, period=("2023-02-01", "2023-02-28"), period_of=iso
    )
    assert other == []
