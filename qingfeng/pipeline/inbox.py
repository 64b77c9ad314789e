"""The inboxes: which delivered files are complete, and which a land run has already taken
(the event trigger that watches them is :mod:`qingfeng.pipeline.watch`).

A file is complete when its name is not a transfer name (``.part``, ``.tmp``, ``.filepart``,
``.crdownload``, a leading dot or a trailing ``~``) and it has not changed for ``settle_seconds``.
A land run records every file it took (whatever the outcome) in ``<home>/state/inbox/<feed>.json``
by its signature (path, size, mtime), so that neither the trigger nor the cross-match's quiet wait
counts it as pending again; a file replaced under the same name has a new signature.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qingfeng.settings import Settings

TRANSFER_SUFFIXES = (".part", ".tmp", ".filepart", ".crdownload", ".partial", ".uploading")


@dataclass(frozen=True)
class Delivered:
    path: Path
    relpath: str
    size: int
    mtime_ns: int

    @property
    def signature(self) -> str:
        return f"{self.relpath}|{self.size}|{self.mtime_ns}"


def inbox_dir(settings: Settings, feed: str) -> Path:
    """Where operators drop a feed's files: ``<home>/inbox/<feed>/``."""
    return settings.home.resolve() / "inbox" / feed


def ledger_path(settings: Settings, feed: str) -> Path:
    return settings.home.resolve() / "state" / "inbox" / f"{feed}.json"


def is_transfer_name(name: str) -> bool:
    return name.startswith(".") or name.endswith("~") or name.lower().endswith(TRANSFER_SUFFIXES)


def delivered(folder: Path) -> list[Delivered]:
    """Every file in the inbox that is not a transfer name, complete or not."""
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(is_transfer_name(part) for part in rel.parts):
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:  # moved away between listing and stat
            continue
        if path.is_file():
            out.append(Delivered(path, rel.as_posix(), stat.st_size, stat.st_mtime_ns))
    return out


def is_settled(item: Delivered, settle_seconds: float, now: float | None = None) -> bool:
    return ((now or time.time()) - item.mtime_ns / 1e9) >= settle_seconds


def read_ledger(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def record_seen(path: Path, outcomes: dict[str, Any], present: Iterable[Delivered]) -> None:
    """Add ``{signature: outcome}``; signatures of files no longer in the inbox are forgotten."""
    keep = {d.signature for d in present}
    ledger = {k: v for k, v in read_ledger(path).items() if k in keep}
    ledger.update(outcomes)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staged.write_text(json.dumps(ledger, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(staged, path)


def unseen(folder: Path, ledger_file: Path) -> list[Delivered]:
    """Files no land run has taken yet, settled or still arriving."""
    ledger = read_ledger(ledger_file)
    return [d for d in delivered(folder) if d.signature not in ledger]


def pending_everywhere(settings: Settings, feeds: Iterable[str]) -> dict[str, list[str]]:
    """Per feed, the files delivered but not yet taken by a land run (what a cross-match waits for)."""
    out = {}
    for feed in feeds:
        files = unseen(inbox_dir(settings, feed), ledger_path(settings, feed))
        if files:
            out[feed] = [d.relpath for d in files]
    return out


def forget(settings: Settings, feed: str, sha: str) -> int:
    """Let the watch take the inbox's files of this content again (after ``deliveries accept``):
    the next land run finds them landed and announces them to the cross-match."""
    path = ledger_path(settings, feed)
    ledger = read_ledger(path)
    kept = {k: v for k, v in ledger.items() if (v or {}).get("sha256") != sha}
    if len(kept) != len(ledger):
        path.write_text(json.dumps(kept, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(ledger) - len(kept)
