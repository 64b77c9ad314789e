"""Ingest of the sample district, and of every quirk and bad input (one shared ingest per module)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from stdnum.cn import ric

from qingfeng.settings import Settings, get_settings

pytestmark = pytest.mark.spark

SAMPLE = Path(__file__).parent / "fixtures" / "sample"
TABLES = 15


def _settings(home: Path, **extra: object) -> Settings:
    return get_settings(home=home, spark_master="local[2]", spark_shuffle_partitions=4, **extra)


def _ingest(settings: Settings, folder: Path, spark):
    from qingfeng.ingest import ingest_dir

    return ingest_dir(settings, folder, spark=spark)


def _results(report) -> dict[tuple[str, str | None], object]:
    return {(f.file, f.table): f for f in report.files if f.status != "superseded"}


def _lake_files(settings: Settings) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(settings.lake)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in settings.lake.rglob("*")
        if p.is_file()
    }


def _rows(spark, settings: Settings, zone: str, table: str, file: str) -> list[dict]:
    """The landed rows of one file, read with pyarrow (Spark wrote them; no need to start a job)."""
    import pyarrow.parquet as pq

    path = settings.lake / zone / table
    if not path.exists():
        return []
    column = "_file" if zone == "standardized" else "file"
    return [r for r in pq.read_table(path).to_pylist() if r[column] == file]


def _data_rows(path: Path) -> int:
    if path.suffix == ".xlsx":
        raise AssertionError("csv only")
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig") if _is_utf8(raw) else raw.decode("gb18030")
    return sum(1 for _ in csv.reader(io.StringIO(text))) - 1


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- the sample district ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(spark, tmp_path_factory):
    settings = _settings(tmp_path_factory.mktemp("sample-home"))
    return settings, _ingest(settings, SAMPLE, spark)


def test_every_sample_file_is_recognised_and_every_row_accounted_for(sample) -> None:
    _, report = sample
    statuses = {f.status for f in report.files}
    assert statuses == {"ingested"}, [
        (f.file, f.status, f.error) for f in report.files if f.status != "ingested"
    ]
    assert {f.file for f in report.files} == {p.name for p in SAMPLE.iterdir()}
    assert len({f.table for f in report.files}) == TABLES
    for f in report.files:
        assert f.rows_read == f.rows_accepted + f.rows_quarantined
        if f.file.endswith(".csv"):
            assert f.rows_read == _data_rows(SAMPLE / f.file), f.file
    book = openpyxl.load_workbook(SAMPLE / "村社干部名册_2023.xlsx", read_only=True)
    for sheet, table in (("干部名册", "cadre"), ("亲属报备", "cadre_relative")):
        rows = [
            r for r in book[sheet].iter_rows(min_row=3, values_only=True) if any(c is not None for c in r)
        ]
        assert _results(report)[("村社干部名册_2023.xlsx", table)].rows_read == len(rows)


def test_landed_counts_match_the_reconciliation(spark, sample) -> None:
    settings, report = sample
    for f in report.files:
        accepted = _rows(spark, settings, "standardized", f.table, f.file)
        assert len(accepted) == f.rows_accepted, f.file
        if f.rows_quarantined:
            quarantined = _rows(spark, settings, "quarantine", f.table, f.file)
            assert len(quarantined) == f.rows_quarantined
    manifests = list((settings.lake / "_manifests").rglob("*.json"))
    assert len(manifests) == len(report.files)
    raw_copies = [p for p in (settings.lake / "raw").rglob("*") if p.is_file() and p.name != "manifest.json"]
    assert {p.name for p in raw_copies} == {p.name for p in SAMPLE.iterdir()}
    for copy in raw_copies:
        assert copy.read_bytes() == (SAMPLE / copy.name).read_bytes()
    assert (settings.home / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()


def test_ingest_leaves_nothing_cached(spark, tmp_path) -> None:
    """GX persists every batch it validates; ingest releases them (a resident server would keep them)."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE / "死亡火化信息_2023.csv", folder)
    spark.catalog.clearCache()
    report = _ingest(_settings(tmp_path / "home"), folder, spark)
    assert [f.status for f in report.files] == ["ingested"]
    assert spark._jsparkSession.sharedState().cacheManager().isEmpty()


def test_sample_quirks_are_parsed(spark, sample) -> None:
    settings, _ = sample
    by_line = {
        r["_line"]: r
        for r in _rows(spark, settings, "standardized", "subsidy_payment", "民生补助发放明细_202301.csv")
    }
    legacy = by_line[14]  # 330109990220364: a 15-digit ID
    assert legacy["id_no_raw"] == "330109990220364"
    body = "33010919990220364"
    assert (legacy["id_no"], legacy["id_no_status"]) == (body + ric.calc_check_digit(body + "0"), "legacy15")
    assert (by_line[7]["id_no"], by_line[7]["id_no_status"], by_line[7]["id_no_raw"]) == (None, "blank", None)
    assert by_line[2]["pay_date"] == dt.date(2023, 1, 10)  # 2023/1/10
    may = {
        r["_line"]: r
        for r in _rows(spark, settings, "standardized", "subsidy_payment", "民生补助发放明细_202305.csv")
    }
    assert may[4]["amount"] == Decimal("3549.00")  # "3,549.00"
    assert may[4]["pay_date"] == dt.date(2023, 5, 10)  # 2023年5月10日
    person = {
        r["_line"]: r
        for r in _rows(spark, settings, "standardized", "registry_person", "户籍人口信息_20231231.csv")
    }
    assert person[778]["id_no_raw"] == "33010920000919897x"
    assert person[778]["id_no"] == "33010920000919897X" and person[778]["id_no_status"] == "valid"
    assert person[778]["birth_date"] == dt.date(2000, 9, 19)  # 20000919
    cadre = {r["_line"]: r for r in _rows(spark, settings, "standardized", "cadre", "村社干部名册_2023.xlsx")}
    assert cadre[3]["name"] == "侯英浩" and cadre[3]["start_date"] == dt.date(
        2021, 1, 20
    )  # a real Excel date
    payroll = _rows(spark, settings, "standardized", "payroll", "财政供养人员工资_2023.csv")
    assert {r["pay_month"].day for r in payroll} == {1}
    sha = next(iter(cadre.values()))["_file_sha"]
    assert cadre[3]["_feed"] == "cadre" and len(sha) == 64


def test_quality_command_prints_the_reconciliation(sample) -> None:
    from qingfeng.cli import main

    settings, report = sample
    result = CliRunner().invoke(main, ["quality", "--format", "json", "--home", str(settings.home)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == len(report.files)
    by_key = {(r["file"], r["table"]): r for r in rows}
    for f in report.files:
        row = by_key[(f.file, f.table)]
        assert row["feed"] == f.feed
        assert (row["rows_read"], row["rows_accepted"], row["rows_quarantined"]) == (
            f.rows_read, f.rows_accepted, f.rows_quarantined,
        )  # fmt: skip
        assert row["reasons"] == f.reasons


def test_duplicate_delivery_changes_nothing(spark, sample) -> None:
    settings, first = sample
    before = _lake_files(settings)
    again = _ingest(settings, SAMPLE, spark)
    assert {f.status for f in again.files} == {"duplicate"}
    assert [(f.file, f.table, f.rows_read, f.rows_accepted) for f in again.files] == [
        (f.file, f.table, f.rows_read, f.rows_accepted) for f in first.files
    ]
    assert _lake_files(settings) == before


# --- bad inputs ----------------------------------------------------------------------------------------


def _csv_text(name: str) -> tuple[str, str]:
    raw = (SAMPLE / name).read_bytes()
    return (raw.decode("utf-8"), "utf-8") if _is_utf8(raw) else (raw.decode("gb18030"), "gbk")


def _edit_lines(name: str, edit) -> tuple[list[list[str]], str]:
    text, encoding = _csv_text(name)
    rows = list(csv.reader(io.StringIO(text)))
    edit(rows)
    return rows, encoding


def _write_rows(path: Path, rows: list[list[str]], encoding: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def _bad_values(rows: list[list[str]]) -> None:
    header = rows[0]
    rows[1][header.index("发放日期")] = "2023-13-45"
    rows[2][header.index("发放金额(元)")] = "-50.00"
    rows[3][header.index("发放金额(元)")] = "五十元"
    rows[4][header.index("补助项目")] = "旅游补贴"
    rows[5][header.index("姓名")] = "  "


def _reordered(rows: list[list[str]]) -> None:
    for row in rows:
        row.reverse()
        row.append("备注" if row is rows[0] else "note")


def _blank_unit_codes(rows: list[list[str]]) -> None:
    for row in rows[1:4]:
        row[1] = ""


@pytest.fixture(scope="module")
def bad(spark, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-input")
    # a UTF-8 file where GBK is declared
    (folder / "民生补助发放明细_202301.csv").write_text(
        _csv_text("民生补助发放明细_202301.csv")[0], encoding="utf-8"
    )
    # a truncated last line
    raw = (SAMPLE / "民生补助发放明细_202302.csv").read_bytes().rstrip(b"\r\n")
    cut = raw.rfind(b"\n") + 40
    (folder / "民生补助发放明细_202302.csv").write_bytes(raw[: raw.rfind(b",", 0, cut)])
    _write_rows(
        folder / "民生补助发放明细_202303.csv", *_edit_lines("民生补助发放明细_202303.csv", _bad_values)
    )
    _write_rows(
        folder / "民生补助发放明细_202304.csv", *_edit_lines("民生补助发放明细_202304.csv", _reordered)
    )
    # undecodable bytes on line 5
    lines = (SAMPLE / "死亡火化信息_2023.csv").read_bytes().split(b"\n")
    lines[4] = lines[4][:6] + b"\xff\xfe" + lines[4][6:]
    (folder / "死亡火化信息_2023.csv").write_bytes(b"\n".join(lines))
    # a missing required column
    rows, enc = _edit_lines("企业基本信息.csv", lambda rows: [r.pop(1) for r in rows])
    _write_rows(folder / "企业基本信息.csv", rows, enc)
    # an empty file, and a file with only its header
    (folder / "不动产车辆登记_empty.csv").write_bytes(b"")
    header = (SAMPLE / "不动产车辆登记.csv").read_bytes().split(b"\n")[0]
    (folder / "不动产车辆登记_header_only.csv").write_bytes(header + b"\n")
    # an Excel workbook without its title rows
    book = openpyxl.load_workbook(SAMPLE / "村社干部名册_2023.xlsx")
    for sheet in book.worksheets:
        sheet.delete_rows(1)
    book.save(folder / "村社干部名册_2023.xlsx")
    (folder / "readme.txt").write_text("not an export", encoding="utf-8")
    # a unit that leaves 单位代码 blank (issue #20.6): P02 then tells employers apart by 单位名称
    _write_rows(
        folder / "财政供养人员工资_2023.csv", *_edit_lines("财政供养人员工资_2023.csv", _blank_unit_codes)
    )
    settings = _settings(tmp_path_factory.mktemp("bad-home"))
    return settings, folder, _ingest(settings, folder, spark)


def _one(report, file: str, table: str | None = None):
    found = [f for f in report.files if f.file == file and (table is None or f.table == table)]
    assert len(found) == 1, found
    return found[0]


def test_wrong_encoding_is_detected_and_ingested_with_a_warning(bad) -> None:
    _, _, report = bad
    f = _one(report, "民生补助发放明细_202301.csv")
    assert f.status == "ingested" and f.rows_accepted == 98 and f.rows_quarantined == 0
    assert any("declared encoding gbk, but the file is utf-8" in w for w in f.warnings)


def test_undecodable_bytes_fail_the_file_naming_file_and_line(bad) -> None:
    _, _, report = bad
    f = _one(report, "死亡火化信息_2023.csv")
    assert f.status == "failed"
    assert "死亡火化信息_2023.csv: line 5: bytes at offset" in f.error
    assert "(ff fe" in f.error and "do not decode as UTF-8" in f.error


def test_missing_required_column_fails_the_file(bad) -> None:
    _, _, report = bad
    f = _one(report, "企业基本信息.csv")
    assert f.status == "failed"
    assert "企业基本信息.csv" in f.error and "missing required column '企业名称'" in f.error


def test_extra_and_reordered_columns(spark, bad) -> None:
    settings, _, report = bad
    f = _one(report, "民生补助发放明细_202304.csv")
    assert f.status == "ingested" and f.rows_accepted == 98
    assert any("extra columns not loaded: ['备注']" in w for w in f.warnings)
    rows = {r["_line"]: r for r in _rows(spark, settings, "standardized", "subsidy_payment", f.file)}
    assert rows[2]["batch"] == "202304-00" and rows[2]["amount"] == Decimal("2449.00")
    assert rows[2]["name"] == "武凤康" and rows[2]["id_no"] == "330109197510152073"


def test_truncated_last_line_is_quarantined_with_its_text(spark, bad) -> None:
    settings, folder, report = bad
    f = _one(report, "民生补助发放明细_202302.csv")
    assert (f.rows_read, f.rows_accepted, f.reasons) == (98, 97, {"truncated_line": 1})
    [row] = _rows(spark, settings, "quarantine", "subsidy_payment", f.file)
    last = (folder / f.file).read_bytes().decode("gb18030").splitlines()[-1]
    assert (row["line"], row["reason"], row["raw"]) == (99, "truncated_line", last)
    assert "with 4 of 13 fields" in row["detail"]


def test_bad_values_are_quarantined_with_reason_column_and_raw(spark, bad) -> None:
    settings, _, report = bad
    f = _one(report, "民生补助发放明细_202303.csv")
    assert f.reasons == {
        "missing_value": 1, "negative_amount": 1, "unparseable_amount": 1, "unparseable_date": 1, "value_not_allowed": 1,
    }  # fmt: skip
    assert f.rows_accepted == f.rows_read - 5
    rows = {r["line"]: r for r in _rows(spark, settings, "quarantine", "subsidy_payment", f.file)}
    assert (rows[2]["reason"], rows[2]["column"]) == ("unparseable_date", "pay_date")
    assert json.loads(rows[2]["raw"])["发放日期"] == "2023-13-45"
    assert (rows[3]["reason"], rows[3]["column"]) == ("negative_amount", "amount")
    assert (rows[4]["reason"], rows[5]["reason"], rows[6]["reason"]) == (
        "unparseable_amount", "value_not_allowed", "missing_value",
    )  # fmt: skip
    assert (
        "五十元" in rows[4]["detail"]
        and rows[6]["feed"] == "subsidy"
        and rows[6]["table"] == "subsidy_payment"
    )


def test_empty_and_header_only_files(bad) -> None:
    _, _, report = bad
    empty = _one(report, "不动产车辆登记_empty.csv")
    assert empty.status == "failed" and "the file is empty (0 bytes" in empty.error
    header_only = _one(report, "不动产车辆登记_header_only.csv")
    assert header_only.status == "ingested" and header_only.rows_read == 0
    assert any("no data rows" in w for w in header_only.warnings)
    assert any("expect_table_row_count_to_be_between" in w for w in header_only.warnings)


def test_excel_without_its_title_row_still_ingests(spark, bad) -> None:
    settings, _, report = bad
    for table, rows in (("cadre", 144), ("cadre_relative", 54)):
        f = _one(report, "村社干部名册_2023.xlsx", table)
        assert f.status == "ingested" and f.rows_read == rows == f.rows_accepted
        assert any("header found on row 1, declared row 2" in w for w in f.warnings)
    cadre = {r["_line"]: r for r in _rows(spark, settings, "standardized", "cadre", "村社干部名册_2023.xlsx")}
    assert cadre[2]["name"] == "侯英浩" and cadre[2]["start_date"] == dt.date(2021, 1, 20)


def test_a_blank_unit_code_is_accepted_with_its_unit_name(spark, bad) -> None:
    settings, _folder, report = bad
    f = _one(report, "财政供养人员工资_2023.csv")
    assert f.status == "ingested" and f.rows_quarantined == 0
    rows = _rows(spark, settings, "standardized", "payroll", f.file)
    blank = [r for r in rows if r["employer_code"] is None]
    assert len(blank) == 3 and all(r["employer_name"] for r in blank)


def test_unrecognised_file_is_reported(bad) -> None:
    _, _, report = bad
    f = _one(report, "readme.txt")
    assert f.status == "unrecognised" and "no feed file pattern matches" in f.error


def test_same_name_new_content_supersedes_the_earlier_delivery(spark, bad, tmp_path) -> None:
    settings, _, _ = bad
    name = "民生补助发放明细_202303.csv"
    shutil.copy(SAMPLE / name, tmp_path / name)
    report = _ingest(settings, tmp_path, spark)
    assert sorted(f.status for f in report.files) == ["ingested", "superseded"]
    new = next(f for f in report.files if f.status == "ingested")
    old = next(f for f in report.files if f.status == "superseded")
    assert old.file == name and old.rows_quarantined == 5 and old.sha256 != new.sha256
    assert new.rows_quarantined == 0 and any("supersedes the earlier delivery" in w for w in new.warnings)
    assert len(_rows(spark, settings, "standardized", "subsidy_payment", name)) == new.rows_accepted == 98
    assert _rows(spark, settings, "quarantine", "subsidy_payment", name) == []
    manifests = [
        json.loads(p.read_text()) for p in (settings.lake / "_manifests" / "subsidy_payment").glob("*.json")
    ]
    assert [m["sha256"] for m in manifests if m["file"] == name] == [new.sha256]


def test_cli_reports_a_folder_without_any_recognised_file(bad, tmp_path) -> None:
    from qingfeng.cli import main

    settings, _, _ = bad
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", "--input", str(tmp_path), "--home", str(settings.home)])
    assert result.exit_code == 1
    assert "notes.txt" in result.output and "no recognised file" in result.output
    assert "Traceback" not in result.output


def test_cli_broken_feed_file_gives_a_clear_error(tmp_path, monkeypatch) -> None:
    from qingfeng.cli import main

    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "toy.yml").write_text("feed: toy\ntitle: toy\nfiles: []\n", encoding="utf-8")
    monkeypatch.setenv("QINGFENG_FEEDS_DIR", str(feeds))
    result = CliRunner().invoke(main, ["ingest", "--input", str(tmp_path), "--home", str(tmp_path / "home")])
    assert result.exit_code == 1
    assert "broken feed file, not ingested" in result.output and "toy.yml: files:" in result.output
    assert "Traceback" not in result.output
