"""``qingfeng evaluate``: scoring against a truth file, and the command on a real lake/clues Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from qingfeng.evaluate import TruthFileError, clue_id, evaluate, parse_truth, render_table, score

TRUTH = [
    {
        "type": "clue",
        "rule": "S01",
        "keys": {"person": "A", "programme": "最低生活保障金"},
        "note": "planted",
    },
    {"type": "clue", "rule": "S01", "keys": {"person": "B", "programme": "最低生活保障金"}},
    {
        "type": "trap",
        "rule": "S01",
        "keys": {"person": "C", "programme": "最低生活保障金"},
        "note": "30 days",
    },
    {"type": "clue", "rule": "P05", "keys": {"account": "X"}},
    {
        "type": "resolution",
        "table": "subsidy_payment",
        "file": "f.csv",
        "line": 3,
        "person_id": "A",
        "case": "typo",
    },
]
FOUND = [
    ("S01", {"programme": "最低生活保障金", "person": "A"}),  # key order does not matter
    ("S01", {"person": "C", "programme": "最低生活保障金"}),  # the trap
    ("S04", {"person": "A", "programme": "最低生活保障金", "month": "2023-03"}),  # no truth for S04
    ("P05", {"account": "X"}),
]


def truth_lines() -> list[str]:
    return [json.dumps(t, ensure_ascii=False) for t in TRUTH]


def test_score_per_rule_recall_precision_and_traps():
    result = score([clue_id(r, k) for r, k in FOUND], parse_truth(truth_lines()))
    by_rule = {r.rule: r for r in result.rules}
    assert set(by_rule) == {"S01", "S04", "P05"}
    s01 = by_rule["S01"]
    assert (s01.expected, s01.found, s01.true_positives, s01.false_positives, s01.missed, s01.traps_hit) == (
        2,
        2,
        1,
        1,
        1,
        1,
    )
    assert (s01.recall, s01.precision) == (0.5, 0.5)
    assert (by_rule["S04"].recall, by_rule["S04"].precision) == (None, 0.0)
    assert (by_rule["P05"].recall, by_rule["P05"].precision) == (1.0, 1.0)
    assert result.traps_hit == [clue_id("S01", {"person": "C", "programme": "最低生活保障金"})]
    assert result.missed == [clue_id("S01", {"person": "B", "programme": "最低生活保障金"})]
    assert result.totals["recall"] == pytest.approx(2 / 3, abs=1e-4) and result.totals["traps_hit"] == 1


def test_perfect_run_and_table_rendering():
    truth = parse_truth(truth_lines())
    result = score(sorted(truth.clues), truth)
    assert all(r.recall == 1.0 and r.precision == 1.0 and r.traps_hit == 0 for r in result.rules)
    text = render_table(result)
    assert "100.0%" in text and "traps hit:" not in text and "missed:" not in text


def test_bad_truth_line_names_file_and_line():
    with pytest.raises(TruthFileError, match=r"t.jsonl line 2"):
        parse_truth(['{"type": "clue", "rule": "S01", "keys": {}}', "{not json"], "t.jsonl")
    with pytest.raises(TruthFileError, match="line 1"):
        parse_truth(['{"type": "trap", "keys": {}}'], "t.jsonl")


def _write_clues(home: Path, found: list[tuple[str, dict[str, str]]]) -> None:
    folder = home / "lake" / "clues"
    folder.mkdir(parents=True)
    table = pa.table(
        {
            "rule": pa.array([r for r, _ in found]),
            "keys": pa.array([list(k.items()) for _, k in found], type=pa.map_(pa.string(), pa.string())),
        }
    )
    pq.write_table(table, folder / "part-0.parquet")


def test_command_reads_lake_clues_and_prints_json(tmp_path: Path, home: Path):
    _write_clues(home, FOUND)
    truth = tmp_path / "truth.jsonl"
    truth.write_text("\n".join(truth_lines()) + "\n", encoding="utf-8")
    result = CliRunner().invoke(evaluate, ["--truth", str(truth), "--home", str(home), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {r["rule"]: r["recall"] for r in data["rules"]} == {"P05": 1.0, "S01": 0.5, "S04": None}
    assert data["traps_hit"] == [{"rule": "S01", "keys": {"person": "C", "programme": "最低生活保障金"}}]
    table = CliRunner().invoke(evaluate, ["--truth", str(truth), "--home", str(home)])
    assert table.exit_code == 0 and "S01" in table.output and "traps hit:" in table.output


def test_command_without_clues_fails_cleanly(tmp_path: Path, home: Path):
    truth = tmp_path / "truth.jsonl"
    truth.write_text("\n".join(truth_lines()), encoding="utf-8")
    result = CliRunner().invoke(evaluate, ["--truth", str(truth), "--home", str(home)])
    assert result.exit_code == 1
    assert "run the rules stage first" in result.output and "Traceback" not in result.output


def test_command_scores_resolution_of_the_rows_the_truth_names(tmp_path: Path, home: Path):
    """Resolution precision and recall come from the curated rows: a planted mention resolved to its
    person is correct; a row that must resolve to nobody but did is a wrong merge."""
    _write_clues(home, FOUND)
    curated = home / "lake" / "curated" / "subsidy_payment"
    curated.mkdir(parents=True)
    rows = {"_file": ["f.csv", "f.csv", "f.csv"], "_line": [3, 4, 5], "person_id": ["A", "D", None]}
    pq.write_table(pa.table(rows), curated / "part-0.parquet")
    trap = {"type": "resolution_trap", "table": "subsidy_payment", "file": "f.csv", "case": "newborn"}
    truth = tmp_path / "truth.jsonl"
    lines = [
        *truth_lines(),
        json.dumps({**trap, "line": 4, "must_not_be": "E", "nobody": True}),
        json.dumps({**trap, "line": 5, "must_not_be": "E", "nobody": True}),
    ]
    truth.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(evaluate, ["--truth", str(truth), "--home", str(home), "--format", "json"])
    assert result.exit_code == 0, result.output
    res = json.loads(result.output)["resolution"]
    assert (res["planted"], res["correct"], res["traps"], res["trap_merges"]) == (1, 1, 2, 1)
    assert (res["recall"], res["precision"]) == (1.0, 0.5)
    table = CliRunner().invoke(evaluate, ["--truth", str(truth), "--home", str(home)])
    assert "resolution precision 50.0%  recall 100.0%" in table.output
