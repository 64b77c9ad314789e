"""Run independent Spark actions side by side from one driver.

On a small machine most of a small job's time is scheduling and planning, not computing; a few
concurrent jobs keep the cores busy. Results come back in submission order, and the first
failure is raised after the others have finished (so no job is left writing behind our back).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_all(tasks: Sequence[Callable[[], T]], *, workers: int) -> list[T]:
    if workers <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=min(workers, len(tasks)), thread_name_prefix="spark-job") as pool:
        futures = [pool.submit(task) for task in tasks]
        errors = [f.exception() for f in futures]
    first = next((e for e in errors if e is not None), None)
    if first is not None:
        raise first
    return [f.result() for f in futures]
