"""``qingfeng evaluate``: detection quality of ``lake/clues`` against a generator's ``truth.jsonl``.

A clue is a true positive when its rule and keys equal a truth ``clue`` line, a false positive
otherwise; a clue equal to a ``trap`` line is also counted as a trap hit. Recall and precision
are per rule. Pure functions here; the command only reads files and prints.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click

from qingfeng.clikit import fail, with_settings
from qingfeng.settings import Settings

ClueId = tuple[str, tuple[tuple[str, str], ...]]


class TruthFileError(ValueError):
    pass


def clue_id(rule: str, keys: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> ClueId:
    """A clue's identity: rule plus sorted keys, values as trimmed strings."""
    items = keys.items() if isinstance(keys, Mapping) else keys
    return str(rule).strip().upper(), tuple(sorted((str(k), str(v).strip()) for k, v in items))


@dataclass
class Truth:
    clues: set[ClueId] = field(default_factory=set)
    traps: set[ClueId] = field(default_factory=set)


def parse_truth(lines: Iterable[str], source: str = "truth.jsonl") -> Truth:
    """The ``clue`` and ``trap`` lines of a truth file (resolution lines are not about rules)."""
    truth = Truth()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            kind = obj.get("type")
            if kind in ("clue", "trap"):
                target = truth.clues if kind == "clue" else truth.traps
                target.add(clue_id(obj["rule"], obj["keys"]))
        except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as exc:
            raise TruthFileError(
                f"{source} line {number}: not a truth record ({exc.__class__.__name__}: {exc})"
            ) from exc
    return truth


@dataclass
class RuleScore:
    rule: str
    expected: int
    found: int
    true_positives: int
    false_positives: int
    missed: int
    traps_hit: int
    recall: float | None
    precision: float | None


@dataclass
class Evaluation:
    rules: list[RuleScore]
    missed: list[ClueId]
    false_positives: list[ClueId]
    traps_hit: list[ClueId]

    @property
    def totals(self) -> dict[str, Any]:
        expected = sum(r.expected for r in self.rules)
        found = sum(r.found for r in self.rules)
        tp = sum(r.true_positives for r in self.rules)
        return {
            "expected": expected,
            "found": found,
            "true_positives": tp,
            "false_positives": found - tp,
            "missed": expected - tp,
            "traps_hit": len(self.traps_hit),
            "recall": _ratio(tp, expected),
            "precision": _ratio(tp, found),
        }

    def as_dict(self) -> dict[str, Any]:
        def ids(items: list[ClueId]) -> list[dict[str, Any]]:
            return [{"rule": r, "keys": dict(k)} for r, k in items]

        return {
            "rules": [asdict(r) for r in self.rules],
            "totals": self.totals,
            "missed": ids(self.missed),
            "false_positives": ids(self.false_positives),
            "traps_hit": ids(self.traps_hit),
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def score(found: Iterable[ClueId], truth: Truth) -> Evaluation:
    found_set = set(found)
    rules = sorted({r for r, _ in found_set | truth.clues | truth.traps})
    scores = []
    for rule in rules:
        expected = {c for c in truth.clues if c[0] == rule}
        mine = {c for c in found_set if c[0] == rule}
        tp = len(mine & expected)
        scores.append(
            RuleScore(
                rule=rule,
                expected=len(expected),
                found=len(mine),
                true_positives=tp,
                false_positives=len(mine) - tp,
                missed=len(expected) - tp,
                traps_hit=len(mine & truth.traps),
                recall=_ratio(tp, len(expected)),
                precision=_ratio(tp, len(mine)),
            )
        )
    return Evaluation(
        scores,
        sorted(truth.clues - found_set),
        sorted(found_set - truth.clues),
        sorted(found_set & truth.traps),
    )


def read_lake_clue_ids(settings: Settings) -> list[ClueId]:
    """``(rule, keys)`` of every clue in ``lake/clues`` (pyarrow; no Spark)."""
    import pyarrow.dataset as ds

    from qingfeng.lake import exists, table_path

    if not exists(settings, "clues", ""):
        raise FileNotFoundError(
            f"no clues at {settings.lake / 'clues'}: run the rules stage first (qingfeng run)"
        )
    table = ds.dataset(str(table_path(settings, "clues", "")), format="parquet", exclude_invalid_files=True)
    rows = table.to_table(columns=["rule", "keys"]).to_pylist()
    return [clue_id(r["rule"], r["keys"] or []) for r in rows]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def render_table(result: Evaluation) -> str:
    header = f"{'rule':<6}{'expected':>9}{'found':>7}{'TP':>5}{'FP':>5}{'missed':>8}{'traps':>7}{'recall':>9}{'precision':>11}"
    lines = [header, "-" * len(header)]
    for r in result.rules:
        lines.append(
            f"{r.rule:<6}{r.expected:>9}{r.found:>7}{r.true_positives:>5}{r.false_positives:>5}"
            f"{r.missed:>8}{r.traps_hit:>7}{_pct(r.recall):>9}{_pct(r.precision):>11}"
        )
    t = result.totals
    lines += [
        "-" * len(header),
        f"{'all':<6}{t['expected']:>9}{t['found']:>7}{t['true_positives']:>5}{t['false_positives']:>5}"
        f"{t['missed']:>8}{t['traps_hit']:>7}{_pct(t['recall']):>9}{_pct(t['precision']):>11}",
    ]
    for title, items in (
        ("missed", result.missed),
        ("false positives", result.false_positives),
        ("traps hit", result.traps_hit),
    ):
        if items:
            lines.append(f"{title}:")
            lines += [f"  {rule} {dict(keys)}" for rule, keys in items]
    return "\n".join(lines)


@click.command("evaluate")
@click.option(
    "--truth",
    "truth_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The generator's truth.jsonl.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@with_settings
def evaluate(truth_file: Path, fmt: str, settings: Settings) -> None:
    """Recall and precision per rule of lake/clues against a truth file, plus traps hit, and the
    resolution precision and recall of the rows the truth file names."""
    try:
        truth = parse_truth(truth_file.read_text(encoding="utf-8").splitlines(), str(truth_file))
        found = read_lake_clue_ids(settings)
    except (TruthFileError, FileNotFoundError, UnicodeDecodeError) as exc:
        fail(str(exc))
        return
    result = score(found, truth)
    resolution = _resolution_quality(settings, truth_file)
    if fmt == "json":
        out = result.as_dict()
        if resolution is not None:
            out["resolution"] = resolution.as_dict()
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    click.echo(render_table(result))
    if resolution is not None:
        click.echo(render_resolution(resolution))


def _resolution_quality(settings: Settings, truth_file: Path):
    """Resolution quality of the curated rows the truth names; None when the truth has no such lines."""
    from jobs.resolve.quality import quality_from_lake

    try:
        return quality_from_lake(settings, truth_file)
    except ValueError:
        return None


def render_resolution(q) -> str:
    lines = [
        f"resolution: planted {q.planted}, correct {q.correct}, wrong {q.wrong}, missed {q.missed}; "
        f"traps {q.traps}, wrongly merged {q.trap_merges}; review items {q.reviews}, "
        f"person not offered {q.not_offered}",
        f"resolution precision {_pct(q.precision)}  recall {_pct(q.recall)}",
    ]
    lines += [f"  {json.dumps(f, ensure_ascii=False)}" for f in q.failures[:20]]
    return "\n".join(lines)


commands = [evaluate]
