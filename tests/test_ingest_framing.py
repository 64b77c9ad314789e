"""CSV framing: Arrow's reader and the line-by-line reader stage exactly the same rows."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from qingfeng.feeds.model import FileSpec, load_feeds
from qingfeng.ingest import framing
from qingfeng.settings import get_settings
from qingfeng.synth.generate import synthesize

SAMPLE = Path(__file__).parent / "fixtures" / "sample"
ARROW = framing._stage_with_arrow


def _spec_for(path: Path) -> FileSpec:
    feeds = load_feeds(get_settings().feeds_dir)
    return next(spec for feed in feeds for spec in feed.files if spec.matches(path.name))


def _frame(path: Path, out: Path, *, arrow: bool, monkeypatch: pytest.MonkeyPatch) -> tuple:
    used: list[bool] = []
    stage = _recording(ARROW, used) if arrow else lambda *args, **kwargs: None
    monkeypatch.setattr(framing, "_stage_with_arrow", stage)
    staged, rejects = out / "staged.parquet", out / "rejects.parquet"
    result = framing.frame_file(path, _spec_for(path), staged, rejects)
    rows = pq.read_table(staged).to_pylist()
    bad = pq.read_table(rejects).to_pylist() if rejects.exists() else []
    return result, rows, bad, any(used)


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("district")
    synthesize(folder, 60, seed=5)
    return folder


def _csv_files(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.glob("*.csv"))


def test_arrow_and_line_by_line_stage_the_same_rows(district, tmp_path, monkeypatch) -> None:
    files = _csv_files(SAMPLE, district)
    assert len(files) > 15
    fast_files = 0
    for path in files:
        fast = _frame(path, tmp_path / "fast" / path.stem, arrow=True, monkeypatch=monkeypatch)
        slow = _frame(path, tmp_path / "slow" / path.stem, arrow=False, monkeypatch=monkeypatch)
        assert fast[:3] == slow[:3], path.name
        fast_files += fast[3]
    assert fast_files >= len(files) // 2  # most deliveries are regular files and take the fast path


@pytest.mark.parametrize(
    ("body", "lines", "fast"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", [2, 3], True),
        ("a,b,c\n1,2,3\n4,5,6", [2, 3], True),  # no newline after the last row
        ('a,b,c\n1,"x\ny",3\n4,5,6\n', [2, 4], False),  # a quoted line break: lines shift
        ("a,b,c\n1,2,3\n\n4,5,6\n", [2, 4], False),  # a blank line is skipped and reported
        ("a,b,c\n1,2\n4,5,6\n", [3], False),  # a short row is quarantined by the line-by-line reader
    ],
)
def test_line_numbers_survive_irregular_files(tmp_path, monkeypatch, body, lines, fast) -> None:
    spec = FileSpec.model_validate(
        {
            "table": "toy",
            "pattern": r"toy\.csv",
            "encoding": "utf-8",
            "columns": {"a": {"name": "a"}, "b": {"name": "b"}, "c": {"name": "c"}},
        }
    )
    path = tmp_path / "toy.csv"
    path.write_text(body, encoding="utf-8")
    monkeypatch.setattr(framing, "_stage_with_arrow", _recording(ARROW, used := []))
    framing.frame_file(path, spec, tmp_path / "s.parquet", tmp_path / "r.parquet")
    assert [r["_line"] for r in pq.read_table(tmp_path / "s.parquet").to_pylist()] == lines
    assert used == [fast]


def _recording(real, used: list[bool]):
    def wrapper(*args, **kwargs):
        rows = real(*args, **kwargs)
        used.append(rows is not None)
        return rows

    return wrapper


# --- a file cut off mid-transfer lands its complete lines (issue #21) --------------------------------

DEATHS = "死亡火化信息_2023.csv"  # declared utf-8; 6 columns
DEATH_LINES = (SAMPLE / DEATHS).read_bytes().decode("utf-8").splitlines()  # header + 10 rows


def _deaths(folder: Path, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / DEATHS
    path.write_bytes(data)
    return path


def _death_bytes(encoding: str, last: str | None = None) -> bytes:
    """The sample death registry in ``encoding``, its last row replaced by ``last``, no final newline."""
    lines = [*DEATH_LINES[:-1], DEATH_LINES[-1] if last is None else last]
    return "\r\n".join(lines).encode(encoding)


def _both_paths(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple:
    """Frame with and without Arrow's reader: they must agree; returns (Framed, rows, rejects)."""
    fast = _frame(path, tmp_path / "fast", arrow=True, monkeypatch=monkeypatch)
    slow = _frame(path, tmp_path / "slow", arrow=False, monkeypatch=monkeypatch)
    assert fast[:3] == slow[:3]
    return fast[:3]


@pytest.mark.parametrize(
    ("encoding", "last", "keep", "expected"),
    [
        # GBK: the lead byte of 仪 (2 bytes) is the last byte delivered
        ("gbk", "任英丽,330109193907230369,2023-10-14,2023-10-17,萧山区殡仪馆", "萧山区殡仪", "gb18030"),
        # UTF-8: 2 of the 3 bytes of 明
        ("utf-8", DEATH_LINES[-1], "卫健死亡医学证明", "utf-8"),
        # GB18030: 2 of the 4 bytes of 㐀 (outside GBK)
        ("gb18030", DEATH_LINES[-1] + "㐀", "卫健死亡医学证明㐀", "gb18030"),
    ],
)
def test_cut_mid_character_lands_the_complete_lines(
    tmp_path, monkeypatch, encoding, last, keep, expected
) -> None:
    data = _death_bytes(encoding, last)
    keep_at = data.rfind(keep.encode(encoding)) + len(keep.encode(encoding))
    char = keep[-1].encode(encoding)
    cut_bytes = 1 if len(char) == 2 else 2
    data = data[: keep_at - len(char) + cut_bytes]  # the transfer stops inside the character
    path = _deaths(tmp_path / "in", data)
    last_line_bytes = len(data) - data.rfind(b"\n") - 1

    result, rows, bad = _both_paths(path, tmp_path, monkeypatch)

    assert result.encoding == expected  # the cut does not change the encoding of the whole file
    assert (result.rows_read, result.rows_staged, result.rejected) == (10, 9, {"truncated_line": 1})
    assert [r["_line"] for r in rows] == list(range(2, 11))
    assert [r["name"] for r in rows] == [line.split(",")[0] for line in DEATH_LINES[1:10]]
    [reject] = bad
    assert (reject["_line"], reject["reason"], reject["column"]) == (11, "truncated_line", None)
    assert reject["detail"].startswith(
        f"the last line ends without a newline after {last_line_bytes} bytes, mid-character "
        f"({cut_bytes} byte{'s' if cut_bytes > 1 else ''} of an incomplete {expected} character"
    )
    complete = keep[:-1]  # the text up to the cut character, then its bytes as escapes
    escapes = "".join(f"\\x{b:02x}" for b in char[:cut_bytes])
    assert reject["raw"].startswith("任英丽,33010919390723036") and reject["raw"].endswith(complete + escapes)
    assert any("line 11, the last, is cut off" in w for w in result.warnings)


def test_detection_ignores_a_character_cut_at_the_very_end(tmp_path) -> None:
    """UTF-8 cut 2 bytes short, inside its last character, would decode whole as GB18030 gibberish."""
    text = "姓名,备注\r\n张三,你好\r\n李四,再见"
    data = text.encode("utf-8")[:-2]
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("gb18030").startswith("濮撳悕")  # the trap: GB18030 reads every byte
    path = tmp_path / "toy.csv"
    path.write_bytes(data)
    assert framing.detect_encoding(path, "gbk") == (
        "utf-8",
        ["toy.csv: declared encoding gbk, but the file is utf-8; read as utf-8"],
        1,
    )
    spec = FileSpec.model_validate(
        {
            "table": "toy",
            "pattern": r"toy\.csv",
            "encoding": "gbk",
            "columns": {"姓名": {"name": "name"}, "备注": {"name": "note"}},
        }
    )
    result = framing.frame_file(path, spec, tmp_path / "s.parquet", tmp_path / "r.parquet")
    assert (result.encoding, result.rejected) == ("utf-8", {"truncated_line": 1})
    assert pq.read_table(tmp_path / "s.parquet").to_pylist() == [{"name": "张三", "note": "你好", "_line": 2}]
    [reject] = pq.read_table(tmp_path / "r.parquet").to_pylist()
    assert (reject["_line"], reject["raw"]) == (3, "李四,再\\xe8")


QUOTE_CUT = '任英丽,330109193907230369,2023-10-14,2023-10-17,萧山区殡仪馆,"卫健'


@pytest.mark.parametrize(
    ("last", "newline", "detail"),
    [
        # cut after a field: 3 of 6 fields, no newline
        (
            "任英丽,330109193907230369,2023-10-14",
            False,
            "ends without a newline after {size} bytes, with 3 of 6 fields",
        ),
        # cut inside a quoted field: the csv readers would close it silently at the end of the input
        (
            QUOTE_CUT,
            False,
            "ends without a newline after {size} bytes inside a quoted field that is never closed",
        ),
        # the same, the cut right after a line break inside the quotes
        (QUOTE_CUT, True, "the last line ({size} bytes) ends inside a quoted field that is never closed"),
    ],
)
def test_cut_record_without_its_fields_or_closing_quote(tmp_path, monkeypatch, last, newline, detail) -> None:
    data = _death_bytes("utf-8", last) + (b"\r\n" if newline else b"")
    path = _deaths(tmp_path / "in", data)
    result, rows, bad = _both_paths(path, tmp_path, monkeypatch)
    assert (result.rows_read, result.rows_staged, result.rejected) == (10, 9, {"truncated_line": 1})
    assert [r["_line"] for r in rows] == list(range(2, 11))
    [reject] = bad
    assert (reject["_line"], reject["reason"], reject["column"], reject["raw"]) == (
        11,
        "truncated_line",
        None,
        last,
    )
    assert detail.format(size=len(last.encode())) in reject["detail"]


def test_unterminated_quote_spanning_lines_at_the_end(tmp_path, monkeypatch) -> None:
    last = '任英丽,330109193907230369,2023-10-14,2023-10-17,"萧山区\r\n殡仪馆,卫健'
    path = _deaths(tmp_path / "in", _death_bytes("utf-8", last))
    result, _, bad = _both_paths(path, tmp_path, monkeypatch)
    assert (result.rows_read, result.rows_staged, result.rejected) == (10, 9, {"truncated_line": 1})
    [reject] = bad
    assert (reject["_line"], reject["reason"], reject["raw"]) == (11, "truncated_line", last)
    assert "never closed (the record starts on line 11)" in reject["detail"]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize(
    "last",
    [
        DEATH_LINES[-1],
        '任英丽,330109193907230369,2023-10-14,2023-10-17,萧山区殡仪馆,"卫健死亡医学证明"',
        '任英丽,330109193907230369,2023-10-14,2023-10-17,萧山区殡仪馆,""',
        "任英丽,330109193907230369,2023-10-14,,,",  # blank trailing cells, all 6 fields
    ],
)
def test_complete_last_line_without_newline_is_an_ordinary_row(tmp_path, monkeypatch, encoding, last) -> None:
    path = _deaths(tmp_path / "in", _death_bytes(encoding, last))
    used: list[bool] = []
    monkeypatch.setattr(framing, "_stage_with_arrow", _recording(ARROW, used))
    staged, rejects = tmp_path / "s.parquet", tmp_path / "r.parquet"
    result = framing.frame_file(path, _spec_for(path), staged, rejects)
    assert (result.rows_read, result.rows_staged, result.rejected) == (10, 10, {})
    assert not rejects.exists()
    assert used == [True]  # the fast path keeps such files
    assert pq.read_table(staged).to_pylist()[-1]["_line"] == 11


def test_short_last_line_with_a_newline_is_still_a_wrong_field_count(tmp_path, monkeypatch) -> None:
    data = _death_bytes("utf-8", "任英丽,330109193907230369") + b"\r\n"
    _, _, bad = _both_paths(_deaths(tmp_path / "in", data), tmp_path, monkeypatch)
    assert [(b["_line"], b["reason"]) for b in bad] == [(11, "wrong_field_count")]


@pytest.mark.parametrize("cut_too", [False, True])
def test_undecodable_bytes_in_the_middle_still_refuse_the_file(tmp_path, cut_too) -> None:
    lines = _death_bytes("utf-8").split(b"\n")
    lines[4] = lines[4][:6] + b"\xff\xfe" + lines[4][6:]
    data = b"\n".join(lines)[: -1 if cut_too else None]  # also cut inside the last character
    path = _deaths(tmp_path, data)
    offset = data.index(b"\xff\xfe")
    with pytest.raises(framing.FramingError) as failure:
        framing.frame_file(path, _spec_for(path), tmp_path / "s.parquet", tmp_path / "r.parquet")
    message = str(failure.value)
    assert f"{DEATHS}: line 5: bytes at offset {offset} (ff fe" in message
    assert "do not decode as UTF-8" in message and "the file was not ingested" in message


def test_a_file_cut_inside_its_header_is_refused(tmp_path) -> None:
    path = _deaths(tmp_path, DEATH_LINES[0].encode("gbk")[:-1])  # inside 源
    with pytest.raises(framing.FramingError, match=r"line 1: the file ends in its header, cut off inside a"):
        framing.frame_file(path, _spec_for(path), tmp_path / "s.parquet", tmp_path / "r.parquet")


def test_a_cut_xlsx_is_still_refused_as_a_broken_workbook(tmp_path) -> None:
    data = (SAMPLE / "村社干部名册_2023.xlsx").read_bytes()
    path = tmp_path / "村社干部名册_2023.xlsx"
    path.write_bytes(data[: len(data) - 2])  # a zip without the end of its central directory
    with pytest.raises(framing.FramingError, match=r"村社干部名册_2023.xlsx: not a readable Excel workbook"):
        framing.frame_file(path, _spec_for(path), tmp_path / "s.parquet", tmp_path / "r.parquet")


def test_last_lines_reads_back_across_chunks(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(framing, "CHUNK", 3)
    path = tmp_path / "t.csv"
    for data, n, expected in [
        (b"ab\ncdefg\nhi\r\njk", 1, b"jk"),
        (b"ab\ncdefg\nhi\r\njk", 2, b"hi\r\njk"),
        (b"ab\ncdefg\nhi\r\njk\n", 2, b"hi\r\njk\n"),
        (b"ab\ncdefg\nhi\r\njk\n", 9, b"ab\ncdefg\nhi\r\njk\n"),
        (b"abcdefgh", 1, b"abcdefgh"),
    ]:
        path.write_bytes(data)
        assert framing._last_lines(path, n) == expected, (data, n)


@pytest.mark.spark
def test_ingest_of_a_cut_gbk_death_registry_lands_its_complete_rows(spark, settings, tmp_path) -> None:
    """End to end: a GBK death registry whose transfer stopped inside a character of its last row."""
    import json

    from qingfeng.ingest import ingest_dir

    whole = _death_bytes("gbk") + b"\r\n"
    cut_at = whole.rfind("萧山区殡仪".encode("gbk")) + len("萧山区殡仪".encode("gbk")) - 1
    path = _deaths(tmp_path / "in", whole[:cut_at])  # ends with the lead byte of 仪
    last_line_bytes = cut_at - whole.rfind(b"\n", 0, cut_at) - 1

    report = ingest_dir(settings, path.parent, spark=spark)

    [f] = report.files
    assert (f.status, f.table, f.error) == ("ingested", "death_record", None)
    assert (f.rows_read, f.rows_accepted, f.rows_quarantined, f.reasons) == (10, 9, 1, {"truncated_line": 1})
    accepted = pq.read_table(settings.lake / "standardized" / "death_record").to_pylist()
    assert sorted((r["_line"], r["name"]) for r in accepted) == [
        (n, line.split(",")[0]) for n, line in enumerate(DEATH_LINES[1:10], start=2)
    ]
    [row] = pq.read_table(settings.lake / "quarantine" / "death_record").to_pylist()
    assert (row["file"], row["line"], row["reason"], row["column"]) == (DEATHS, 11, "truncated_line", None)
    assert row["raw"] == "任英丽,330109193907230369,2023-10-14,2023-10-17,萧山区殡\\xd2"
    assert f"ends without a newline after {last_line_bytes} bytes, mid-character" in row["detail"]
    assert "5 of 6 fields" in row["detail"]
    [manifest_path] = (settings.lake / "_manifests" / "death_record").glob("*.json")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert (manifest["rows_read"], manifest["rows_accepted"], manifest["rows_quarantined"]) == (10, 9, 1)
    assert manifest["reasons"] == {"truncated_line": 1} and manifest["encoding"] == "gb18030"
    assert any("line 11, the last, is cut off" in w for w in f.warnings)
