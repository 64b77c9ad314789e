"""The event trigger of an inbox: Airflow 3 event-driven scheduling (``AssetWatcher``) starts a
feed's ingest when a new complete file arrives, with no worker slot held while waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from qingfeng.pipeline.inbox import Delivered, is_settled, read_ledger, unseen


class InboxTrigger(BaseEventTrigger):
    """Fires once for each new complete file (or group of files found together) in one inbox.

    It runs in the triggerer for as long as the ingest DAG is scheduled on the inbox asset, so no
    worker slot waits. A file it fired for is not fired for again while its signature is
    unchanged and until a land run has taken it; after a triggerer restart the land run's ledger
    keeps taken files from firing again.
    """

    def __init__(
        self,
        *,
        feed: str,
        folder: str,
        ledger: str,
        settle_seconds: float = 30.0,
        poke_interval: float = 10.0,
    ) -> None:
        super().__init__()
        self.feed = feed
        self.folder = folder
        self.ledger = ledger
        self.settle_seconds = settle_seconds
        self.poke_interval = poke_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "feed": self.feed,
                "folder": self.folder,
                "ledger": self.ledger,
                "settle_seconds": self.settle_seconds,
                "poke_interval": self.poke_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        fired: set[str] = set()
        while True:
            ready = await asyncio.to_thread(self._ready, fired)
            if ready:
                fired |= {d.signature for d in ready}
                self.log.info("inbox %s: %d new complete file(s)", self.feed, len(ready))
                yield TriggerEvent({"feed": self.feed, "files": [d.relpath for d in ready]})
            await asyncio.sleep(self.poke_interval)

    def _ready(self, fired: set[str]) -> list[Delivered]:
        # once a land run has taken a file the ledger governs; an accepted hold leaves it again
        fired.intersection_update(s for s in fired if s not in read_ledger(Path(self.ledger)))
        now = time.time()
        return [
            d
            for d in unseen(Path(self.folder), Path(self.ledger))
            if d.signature not in fired and is_settled(d, self.settle_seconds, now)
        ]
