"""The cross-match's wait for a quiet lake: deliveries of one cycle are matched once, complete.

The cross-match DAG is scheduled on the ingest DAGs' table assets, so the first landed table of
a delivery queues a run. That run first waits, deferred in the triggerer (no worker slot held),
until the lake is quiet:

- no inbox holds a file that no land run has taken yet (settled or still arriving);
- no ingest holds the lake lock;
- the last land run finished at least ``quiet_seconds`` ago.

Files of one delivery dropped together are then matched in one run, after their ingests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent

from qingfeng.pipeline.inbox import pending_everywhere
from qingfeng.pipeline.lock import lake_busy


def last_land(home: Path) -> float | None:
    """When a land run last recorded what it took (epoch seconds), if ever."""
    ledgers = list((home.resolve() / "state" / "inbox").glob("*.json"))
    return max((p.stat().st_mtime for p in ledgers), default=None)


def lake_state(home: Path, feeds: list[str], quiet_seconds: float) -> dict[str, Any]:
    from qingfeng.settings import Settings

    settings = Settings(home=home)
    pending = pending_everywhere(settings, feeds)
    busy = lake_busy(home)
    last = last_land(home)
    idle = None if last is None else time.time() - last
    quiet = not pending and not busy and (idle is None or idle >= quiet_seconds)
    return {"quiet": quiet, "pending": pending, "ingest_running": busy, "idle_seconds": idle}


class QuietTrigger(BaseTrigger):
    def __init__(
        self, *, home: str, feeds: list[str], quiet_seconds: float, poke_interval: float = 5.0
    ) -> None:
        super().__init__()
        self.home, self.feeds = home, list(feeds)
        self.quiet_seconds, self.poke_interval = quiet_seconds, poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "home": self.home,
                "feeds": self.feeds,
                "quiet_seconds": self.quiet_seconds,
                "poke_interval": self.poke_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            state = await asyncio.to_thread(lake_state, Path(self.home), self.feeds, self.quiet_seconds)
            if state["quiet"]:
                yield TriggerEvent(state)
                return
            await asyncio.sleep(self.poke_interval)


class WaitForQuietLake(BaseOperator):
    """Defers to :class:`QuietTrigger`; returns at once when the lake is already quiet."""

    def __init__(self, *, home: str, feeds: list[str], quiet_seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.home, self.feeds, self.quiet_seconds = home, feeds, quiet_seconds

    def execute(self, context: Any) -> dict[str, Any]:
        from qingfeng.pipeline.dagkit import run_type

        if run_type(context) == "manual":
            # Whoever triggered it by hand says the data is ready; the lake lock still keeps
            # the match from running beside an ingest.
            return {"quiet": None, "manual": True}
        state = lake_state(Path(self.home), self.feeds, self.quiet_seconds)
        if state["quiet"]:
            return state
        self.log.info("waiting for a quiet lake: %s", state)
        self.defer(
            trigger=QuietTrigger(home=self.home, feeds=self.feeds, quiet_seconds=self.quiet_seconds),
            method_name="resume",
        )

    def resume(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        return event or {}
