"""What a cross-match runs on: the files in the lake now, their fingerprint, and the as-of date
they support.

The as-of date follows the data, never the clock: for every table whose file names carry a
period (``民生补助发放明细_202312.csv``, ``户籍人口信息_20231231.csv``), the end of the latest period
delivered; across tables, the earliest of these. A rule then never judges a date some input has
not reached yet: A02 (rent overdue as of the as-of date) cannot call a rent unpaid that was paid
in a month whose collection file has not arrived. Tables without periods in their names
(registries delivered whole) do not bound it, nor do tables whose file kind says
``bounds_as_of: false`` (petitions: a late 信访 delivery holds back no rule).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qingfeng.settings import Settings

FILE_KEYS = ("file", "sha256", "feed", "table", "ingested_at", "period_end")


def lake_files(settings: Settings) -> list[dict[str, Any]]:
    """One record per landed file and table, as the register's pipeline run keeps them."""
    from qingfeng.ingest.raw import read_manifests

    manifests = sorted(read_manifests(settings), key=lambda m: (m.get("table") or "", m.get("file") or ""))
    return [{k: m.get(k) for k in FILE_KEYS} for m in manifests]


def unbounding_tables(settings: Settings) -> frozenset[str]:
    """The tables whose file kind declares ``bounds_as_of: false``."""
    from qingfeng.feeds.model import load_feeds

    feeds = load_feeds(settings.feeds_dir, log_problems=False)
    return frozenset(f.table for feed in feeds for f in feed.files if not f.bounds_as_of)


def as_of_from_data(
    files: list[dict[str, Any]], unbounding: frozenset[str] = frozenset()
) -> tuple[dt.date | None, str]:
    """The as-of date the landed files support, and how it was found (recorded with the run);
    ``unbounding``: tables that do not bound it (:func:`unbounding_tables`)."""
    latest: dict[str, dt.date] = {}
    for f in files:
        if f.get("period_end") and f.get("table") not in unbounding:
            end = dt.date.fromisoformat(str(f["period_end"])[:10])
            latest[f["table"]] = max(end, latest.get(f["table"], end))
    if not latest:
        return None, "no landed file names a period"
    as_of = min(latest.values())
    bounded_by = sorted(t for t, end in latest.items() if end == as_of)
    return as_of, f"data: the earliest latest period across {len(latest)} tables ({', '.join(bounded_by)})"


def fingerprint(files: list[dict[str, Any]], as_of: dt.date, settings: Settings) -> str:
    """Same landed files, as-of date, rules and divisions configuration: the same clues, so no new run is needed."""
    digest = hashlib.sha256()
    digest.update(json.dumps(sorted((f["table"], f["sha256"]) for f in files)).encode())
    digest.update(as_of.isoformat().encode())
    if settings.rules_config.exists():
        digest.update(settings.rules_config.read_bytes())
    if settings.divisions_config.exists():
        digest.update(b"divisions\0" + settings.divisions_config.read_bytes())
    return digest.hexdigest()


def last_fingerprint(settings: Settings) -> str | None:
    """The input fingerprint of the register's latest published run, if it recorded one."""
    from sqlalchemy import inspect, select

    from qingfeng.register.db import make_engine
    from qingfeng.register.models import PipelineRun

    engine = make_engine(settings.resolved_register_url)
    try:
        if not inspect(engine).has_table(PipelineRun.__tablename__):
            return None
        with engine.connect() as conn:
            counts = conn.execute(
                select(PipelineRun.counts)
                .where(PipelineRun.status == "published")
                .order_by(PipelineRun.id.desc())
                .limit(1)
            ).scalar()
    finally:
        engine.dispose()
    return (counts or {}).get("inputs_fingerprint")
