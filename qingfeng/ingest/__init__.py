"""Ingest: delivered files -> lake raw, standardized, quarantine, with per-file reconciliation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qingfeng.ingest.engine import ingest_dir
    from qingfeng.ingest.report import FileResult, IngestReport

__all__ = ["FileResult", "IngestReport", "ingest_dir"]


def __getattr__(name: str) -> Any:
    if name == "ingest_dir":
        from qingfeng.ingest.engine import ingest_dir

        return ingest_dir
    if name in ("FileResult", "IngestReport"):
        from qingfeng.ingest import report

        return getattr(report, name)
    raise AttributeError(name)
