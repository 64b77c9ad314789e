"""The lock a backup or restore holds: the pipeline's lake lock of the home, exclusively.

``qingfeng.pipeline.lock.lake_lock`` is an advisory ``flock`` on ``<home>/state/lake.lock``: land
runs (ingest) hold it shared, a cross-match exclusively. Holding it exclusively, a backup waits for
running ingests and cross-matches to finish, and the ones that start meanwhile wait for the backup;
two backups or restores of one home run one after the other. The kernel releases the lock of a
process that dies, so a crash never leaves a home locked.

Only the pipeline tasks take that lock (not, e.g., a bare ``qingfeng run`` or a single stage), so a
backup does not rely on it alone: it also compares the lake's file list (path, size, mtime, inode)
before and after its copy and starts again when a writer changed anything (``archive.backup``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from qingfeng.settings import Settings


def lock_path(home: Path) -> Path:
    from qingfeng.pipeline.lock import lock_file

    return lock_file(home)


@contextmanager
def home_lock(settings: Settings, waiting: Callable[[Path], None] | None = None) -> Iterator[None]:
    """Hold the home's lake lock exclusively; ``waiting(lock file)`` is called first when it is busy."""
    from qingfeng.pipeline.lock import lake_busy, lake_lock

    if waiting is not None and lake_busy(settings.home):
        waiting(lock_path(settings.home))
    with lake_lock(settings, exclusive=True):
        yield
