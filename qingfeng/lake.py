"""The data lake: zones, table paths, and atomic Parquet writes.

Layout under ``<home>/lake``:

- ``raw/<feed>/<sha256>/<file name>``: each delivered file byte for byte, with ``manifest.json``.
- ``standardized/<table>/file_id=f<sha12>/``: the accepted rows of one delivered file.
- ``quarantine/<table>/file_id=f<sha12>/``: the rejected rows, with file, line, raw content and reason.
- ``curated/<name>/``: resolved, cross-feed tables written by the resolve and graph stages.
- ``clues/``: the clue rows of the last rules run, before publishing.

A write goes to a hidden temporary folder beside its target and is renamed into place, so a
reader never sees a partial table, and a killed job leaves only a temporary folder that the
next write of the same target removes.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from qingfeng.settings import Settings

ZONES = ("raw", "standardized", "quarantine", "curated", "clues")


def table_path(settings: Settings, zone: str, table: str) -> Path:
    if zone not in ZONES:
        raise ValueError(f"unknown lake zone {zone!r}; expected one of {ZONES}")
    path = settings.zone(zone) / table
    recover_interrupted_replace(path)
    return path


def recover_interrupted_replace(target: Path) -> None:
    """A kill between the two renames of ``replace_dir_atomically`` leaves only ``.name.old-*``:
    put the old table back, so the table is never missing."""
    if target.exists() or not target.parent.exists():
        return
    orphans = sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if orphans:
        orphans[-1].rename(target)


def replace_dir_atomically(staged: Path, target: Path) -> None:
    """Move a fully written folder into place; the old content disappears in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        trash = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        target.rename(trash)
        staged.rename(target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        staged.rename(target)


def staging_path(target: Path) -> Path:
    """A hidden sibling of ``target``: Spark and Parquet readers skip names starting with '.'."""
    recover_interrupted_replace(target)
    leftovers = [f".{target.name}.tmp-*", f".{target.name}.old-*"] if target.parent.exists() else []
    for pattern in leftovers:
        for stale in target.parent.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)
    return target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")


def write_parquet_atomic(df: DataFrame, target: Path, partition_by: list[str] | None = None) -> Path:
    staged = staging_path(target)
    writer = df.write.mode("overwrite")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.parquet(str(staged))
    replace_dir_atomically(staged, target)
    return target


def exists(settings: Settings, zone: str, table: str) -> bool:
    path = table_path(settings, zone, table)
    return path.exists() and any(p for p in path.iterdir() if not p.name.startswith((".", "_")))


TableSnapshot = tuple[tuple[str, int, int, int], ...]


def table_snapshot(path: Path) -> TableSnapshot:
    """What a table holds, told without reading it: each data file's path, inode, size and modification time
    (names starting with '.' or '_' skipped, as readers do). Empty when the table has not been written.
    A write replaces the folder (``replace_dir_atomically``), so every write gives a new snapshot."""
    files = []
    for folder, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        for name in names:
            if not name.startswith((".", "_")):
                file = Path(folder, name)
                stat = file.stat()
                files.append((str(file.relative_to(path)), stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(files))


def read_table(spark: SparkSession, settings: Settings, zone: str, table: str) -> DataFrame:
    path = table_path(settings, zone, table)
    if not exists(settings, zone, table):
        raise FileNotFoundError(f"lake table {zone}/{table} has not been written under {settings.lake}")
    return spark.read.parquet(str(path))


def write_table(
    df: DataFrame, settings: Settings, zone: str, table: str, partition_by: list[str] | None = None
) -> Path:
    return write_parquet_atomic(df, table_path(settings, zone, table), partition_by)
