"""Peak resident memory of this process and its children (the Spark JVM is a child of the driver)."""

from __future__ import annotations

import threading
from types import TracebackType

import psutil


class PeakRss:
    """Samples RSS of the process tree in a background thread; use as a context manager.

    A child that has not exec'd yet is skipped. The JVM starts a helper for every file it writes
    (Hadoop runs ``chmod`` when it has no native library) with ``posix_spawn``, whose child
    shares the JVM's memory until it execs, and ``/proc`` reports the JVM's whole RSS for it: a
    sample that caught one counted the JVM twice (18 GiB "peaks" at L that the JVM never had).

    RSS also counts pages of files the JVM maps (Spark memory-maps shuffle and spilled cache
    blocks over 2 MiB), which the kernel can drop at any time. ``peak_anon`` is the peak of the
    anonymous part alone (``RssAnon``): the memory the run really holds.
    """

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.peak_driver = 0
        self.peak_children = 0
        self.peak_total = 0
        self.peak_anon = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        me = psutil.Process()
        try:
            driver = me.memory_info().rss
            anon = _anonymous_rss(me.pid)
            children = 0
            for child in me.children(recursive=True):
                try:
                    if _not_yet_execed(child):
                        continue
                    children += child.memory_info().rss
                    anon += _anonymous_rss(child.pid)
                except psutil.Error:
                    continue
        except psutil.Error:
            return
        self.peak_driver = max(self.peak_driver, driver)
        self.peak_children = max(self.peak_children, children)
        self.peak_total = max(self.peak_total, driver + children)
        self.peak_anon = max(self.peak_anon, anon)

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


def _not_yet_execed(child: psutil.Process) -> bool:
    """True while ``child`` still runs its parent's program (a fork or vfork before its exec).

    Checked before its memory is read: exec is one-way, so a child seen exec'd is measured as itself.
    """
    parent = child.parent()
    if parent is None:
        return False
    return child.exe() == parent.exe() and child.cmdline() == parent.cmdline()


def _anonymous_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError as exc:
        raise psutil.NoSuchProcess(pid) from exc
    return 0


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
