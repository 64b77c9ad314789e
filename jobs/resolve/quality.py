"""Resolution precision and recall against the synthetic truth file (docs/architecture.md "Truth file").

A ``resolution`` line is a planted mention whose person is known: it counts as correct when one of the
row's person columns holds that person, wrong when the row resolved to someone else, missed when
unresolved. A ``resolution_trap`` line must not resolve to ``must_not_be`` (with ``nobody``: to anyone,
as for a recipient who is not in the registry): doing so is a wrong merge. A trap line with ``review``
(a petition that names a person without an ID) is a review item: it must stay unresolved *and* offer
that person among its candidates in ``curated/resolution_quarantine``; not offering them is a failure.
precision = correct / (correct + wrong + trap merges); recall = correct / planted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jobs.resolve.specs import MentionSpec, person_columns
from qingfeng.settings import Settings

Row = Mapping[str, Any]


@dataclass
class ResolutionQuality:
    planted: int = 0
    correct: int = 0
    wrong: int = 0
    missed: int = 0
    traps: int = 0
    trap_merges: int = 0
    reviews: int = 0  # trap lines with ``review``: unresolved, the person offered among the candidates
    not_offered: int = 0  # ... whose person was not among the candidates
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        decided = self.correct + self.wrong + self.trap_merges
        return self.correct / decided if decided else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.planted if self.planted else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "precision": round(self.precision, 4), "recall": round(self.recall, 4)}


def read_truth(path: Path) -> list[dict[str, Any]]:
    lines = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}, line {number}: not JSON ({exc.msg})") from exc
        if item.get("type") in ("resolution", "resolution_trap"):
            lines.append(item)
    return lines


def curated_name(table: str) -> str:
    """The resolved company rows live in curated/company_registration (curated/company is the master)."""
    return "company_registration" if table == "company" else table


Key = tuple[str, str, int]


def score(
    truth: Iterable[Row],
    rows: Mapping[Key, Mapping[str, str | None]],
    candidates: Mapping[Key, set[str]] | None = None,
) -> ResolutionQuality:
    """``rows``: (table, file, line) → {person column: person_id or None} of the curated mention rows;
    ``candidates``: (table, file, line) → the person ids its quarantine rows offer for review."""
    q = ResolutionQuality()
    candidates = candidates or {}
    for item in truth:
        key = (item["table"], item["file"], int(item["line"]))
        persons = {v for v in (rows.get(key) or {}).values() if v}
        if item["type"] == "resolution":
            q.planted += 1
            if item["person_id"] in persons:
                q.correct += 1
            elif persons:
                q.wrong += 1
                q.failures.append({**item, "got": sorted(persons)})
            else:
                q.missed += 1
                q.failures.append({**item, "got": []})
        else:
            q.traps += 1
            if item["must_not_be"] in persons or (item.get("nobody") and persons):
                q.trap_merges += 1
                q.failures.append({**item, "got": sorted(persons)})
            elif item.get("review"):
                q.reviews += 1
                offered = candidates.get(key, set())
                if item["review"] not in offered:
                    q.not_offered += 1
                    q.failures.append({**item, "got": [], "candidates": sorted(offered)})
    return q


def mention_persons(
    settings: Settings, truth: Iterable[Row], mentions: Iterable[MentionSpec] | None = None
) -> dict[Key, dict[str, Any]]:
    """The person columns of exactly the curated rows the truth lines name (pyarrow; no Spark).
    ``mentions``: default, those the feed files of ``settings`` declare."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from qingfeng import lake

    if mentions is None:
        from jobs.resolve.specs import mention_specs
        from qingfeng.feeds.model import load_feeds

        mentions = mention_specs(load_feeds(settings.feeds_dir))
    specs = list(mentions)
    truth = list(truth)
    rows: dict[Key, dict[str, Any]] = {}
    for table in sorted({t["table"] for t in truth}):
        name, columns = curated_name(table), person_columns(specs, table)
        if not columns or not lake.exists(settings, "curated", name):
            continue
        files = sorted({t["file"] for t in truth if t["table"] == table})
        data = ds.dataset(str(lake.table_path(settings, "curated", name)), format="parquet")
        picked = data.to_table(columns=["_file", "_line", *columns], filter=pc.field("_file").isin(files))
        for r in picked.to_pylist():
            rows[(table, r["_file"], int(r["_line"]))] = {c: r[c] for c in columns}
    return rows


def review_candidates(settings: Settings, truth: Iterable[Row]) -> dict[Key, set[str]]:
    """The candidates ``curated/resolution_quarantine`` offers for the rows of the truth's review
    lines (pyarrow; no Spark)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from qingfeng import lake

    wanted = [t for t in truth if t.get("review")]
    if not wanted or not lake.exists(settings, "curated", "resolution_quarantine"):
        return {}
    data = ds.dataset(str(lake.table_path(settings, "curated", "resolution_quarantine")), format="parquet")
    files = sorted({t["file"] for t in wanted})
    picked = data.to_table(
        columns=["table", "_file", "_line", "candidates"], filter=pc.field("_file").isin(files)
    )
    out: dict[Key, set[str]] = {}
    for r in picked.to_pylist():
        key = (r["table"], r["_file"], int(r["_line"]))
        out.setdefault(key, set()).update(c["person_id"] for c in r["candidates"] or [])
    return out


def quality_from_lake(settings: Settings, truth_path: Path) -> ResolutionQuality:
    """Resolution quality of the curated zone against a truth file (ValueError: no resolution lines)."""
    truth = read_truth(truth_path)
    if not truth:
        raise ValueError(f"{truth_path}: no 'resolution' or 'resolution_trap' lines")
    return score(truth, mention_persons(settings, truth), review_candidates(settings, truth))
