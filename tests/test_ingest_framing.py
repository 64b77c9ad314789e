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
