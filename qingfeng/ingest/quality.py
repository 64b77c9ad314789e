"""The reconciliation of everything ingested, from the bookkeeping manifests (no Spark)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qingfeng.ingest.raw import read_manifests

if TYPE_CHECKING:
    from qingfeng.settings import Settings

FIELDS = (
    "feed",
    "table",
    "file",
    "sha256",
    "rows_read",
    "rows_accepted",
    "rows_quarantined",
    "reasons",
    "warnings",
)


def reconciliation(settings: Settings) -> list[dict]:
    """One entry per ingested file and table: {feed, table, file, rows_read, rows_accepted, rows_quarantined, reasons}."""
    rows = [{k: m.get(k) for k in FIELDS} for m in read_manifests(settings)]
    return sorted(rows, key=lambda r: (r["feed"], r["table"], r["file"]))
