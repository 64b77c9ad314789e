"""Peak resident memory of this process and its children (the Spark JVM is a child of the driver)."""

from __future__ import annotations

import threading
from types import TracebackType

import psutil


class PeakRss:
    """Samples RSS of the process tree in a background thread; use as a context manager."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak_driver = 0
        self.peak_children = 0
        self.peak_total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        me = psutil.Process()
        try:
            driver = me.memory_info().rss
            children = 0
            for child in me.children(recursive=True):
                try:
                    children += child.memory_info().rss
                except psutil.Error:
                    continue
        except psutil.Error:
            return
        self.peak_driver = max(self.peak_driver, driver)
        self.peak_children = max(self.peak_children, children)
        self.peak_total = max(self.peak_total, driver + children)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakRss:
        self.sample()
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def tree_cpu_seconds() -> float:
    """User + system CPU seconds used so far by this process and its live children (the JVM)."""
    total = 0.0
    for proc in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total
