"""The lake lock of a home: ingests share it, a cross-match holds it alone.

A cross-match reads every standardized table and writes the curated zone and the register; an
ingest replacing a partition in the middle of it would give rules a mix of two deliveries. So
land runs take the lock shared (they run side by side), and a cross-match takes it exclusive and
waits for running ingests to finish; an ingest that starts during a cross-match waits for it.
``flock`` locks are released by the kernel when the holder dies, so a killed task strands nothing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qingfeng.settings import Settings


def lock_file(home: Path) -> Path:
    return home.resolve() / "state" / "lake.lock"


@contextmanager
def lake_lock(settings: Settings, *, exclusive: bool) -> Iterator[None]:
    path = lock_file(settings.home)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def lake_busy(home: Path) -> bool:
    """Whether an ingest or a cross-match holds the lake lock now (never waits)."""
    path = lock_file(home)
    if not path.exists():
        return False
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False
