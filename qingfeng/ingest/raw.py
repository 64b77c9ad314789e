"""The raw zone and the bookkeeping manifests.

``raw/<feed>/<sha256>/<name>`` keeps each delivery byte for byte beside ``manifest.json``;
``_manifests/<table>/<sha256>.json`` holds the reconciliation of one file for one table. A
file whose sha256 already has a manifest for the table is a duplicate delivery.

A manifest records ``period_start``/``period_end`` (ISO dates), the period the file covers by the
``period`` group of its pattern, or null. Manifests written before the field existed read as null.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qingfeng.settings import Settings

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_id(sha: str) -> str:
    # The letter keeps partition discovery from reading hex like "2e0280746959" as a number
    # (Spark then builds 10^280746959 as a decimal and never returns).
    return "f" + sha[:12]


def manifests_dir(settings: Settings, table: str) -> Path:
    return settings.lake / "_manifests" / table


PERIOD_FIELDS = ("period_start", "period_end")


def _manifest(path: Path) -> dict:
    record = json.loads(path.read_text(encoding="utf-8"))
    for key in PERIOD_FIELDS:  # manifests written before periods were recorded
        record.setdefault(key, None)
    return record


def read_manifests(settings: Settings, table: str | None = None) -> list[dict]:
    """The current manifests (of one table): each with ``period_start``/``period_end``, ISO or None."""
    root = settings.lake / "_manifests"
    pattern = f"{table}/*.json" if table else "*/*.json"
    return [_manifest(p) for p in sorted(root.glob(pattern))]


def find_manifest(settings: Settings, table: str, sha: str) -> dict | None:
    path = manifests_dir(settings, table) / f"{sha}.json"
    return _manifest(path) if path.exists() else None


Period = tuple[str, str]  # (period_start, period_end), ISO dates


def earlier_deliveries(
    settings: Settings,
    table: str,
    name: str,
    sha: str,
    *,
    period: Period | None = None,
    period_of: Callable[[str], Period | None] | None = None,
    exclude: Collection[str] = (),
) -> list[dict]:
    """The deliveries this one supersedes: the table's manifests of other content with the same file
    name, or with the same ``period`` (a manifest without a recorded period gets it from its file
    name through ``period_of``). Manifests of the shas in ``exclude`` (this batch's) are left out."""

    def period_of_manifest(m: dict) -> Period | None:
        if m.get("period_start") and m.get("period_end"):
            return m["period_start"], m["period_end"]
        return period_of(m["file"]) if period_of is not None else None

    return [
        m
        for m in read_manifests(settings, table)
        if m["sha256"] != sha
        and m["sha256"] not in exclude
        and (m["file"] == name or (period is not None and period_of_manifest(m) == tuple(period)))
    ]


def write_manifest(settings: Settings, table: str, record: dict) -> None:
    folder = manifests_dir(settings, table)
    folder.mkdir(parents=True, exist_ok=True)
    _write_json_atomic(folder / f"{record['sha256']}.json", record)


def drop_manifest(settings: Settings, table: str, sha: str) -> None:
    (manifests_dir(settings, table) / f"{sha}.json").unlink(missing_ok=True)


def raw_folder(settings: Settings, feed: str, sha: str) -> Path:
    return settings.zone("raw") / feed / sha


def keep_raw(settings: Settings, feed: str, source: Path, sha: str, tables: list[str]) -> Path:
    """Copy the delivery into the raw zone (once per content) and return its path there."""
    folder = raw_folder(settings, feed, sha)
    target = folder / source.name
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        staged = folder / f".{source.name}.tmp"
        shutil.copyfile(source, staged)
        os.replace(staged, target)
    manifest = folder / "manifest.json"
    if manifest.exists():  # a re-delivery of the same content: the raw zone already holds it
        return target
    record = {
        "sha256": sha,
        "size": target.stat().st_size,
        "name": source.name,
        "received": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tables": tables,
    }
    _write_json_atomic(manifest, record)
    return target


def _write_json_atomic(path: Path, data: dict) -> None:
    staged = path.with_name(f".{path.name}.tmp")
    staged.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(staged, path)
