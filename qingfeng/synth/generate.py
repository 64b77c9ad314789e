"""Orchestration: background first (streamed), then the planted cases and traps, then the truth."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from qingfeng.synth import background
from qingfeng.synth.district import District


def synthesize(
    out_dir: Path, households: int, seed: int, year: int = 2023, progress: Callable[[str], None] | None = None
) -> dict:
    from qingfeng.synth import petitions
    from qingfeng.synth.plants import plant_all

    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    d = District(out_dir, households, seed, year)
    d.pool_cap = background.pool_cap(d)
    background.generate(d)
    if progress:
        progress(f"background households: {households}")
    background.small_feeds(d)
    d.written = {}  # the planted households, for the petitions about them
    plant_all(d)
    petitions.write(d)
    d.close()
    summary = {
        "households": households,
        "seed": seed,
        "year": year,
        "as_of": d.as_of.isoformat(),
        "villages": len(d.villages),
        "rows": {f.name: f.rows for f in d.out.values()},
        "truth": dict(sorted(d.truth.counts.items())),
        "seconds": round(time.perf_counter() - started, 2),
    }
    meta = {k: summary[k] for k in ("households", "seed", "year", "as_of", "villages")}
    meta["note"] = "Evaluate with --as-of set to as_of: A02 (overdue rent) truth depends on it."
    (out_dir / "district.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return summary
