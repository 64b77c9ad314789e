"""A token bucket per client address, in process (one server process serves the UI; docs/ui.md).

Each address may make ``burst`` requests at once and then ``per_minute`` a minute. The table of
addresses is bounded: beyond ``max_clients`` the least recently seen address is forgotten, so a flood
from many addresses costs memory (and time) in proportion to ``max_clients`` only."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    at: float  # clock reading of the last update
    refused: int = 0  # refusals of the current episode
    refused_since: float | None = None


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds until one request is allowed again
    episode_started: bool = False  # the first refusal since the bucket was last full
    episode_ended: tuple[int, float] | None = None  # (refusals, since) of an episode that has ended


class RateLimiter:
    def __init__(
        self,
        burst: int,
        per_minute: float,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or per_minute <= 0:
            raise ValueError("burst must be at least 1 and per_minute positive")
        self.burst = burst
        self.rate = per_minute / 60.0  # tokens a second
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, client: str) -> Verdict:
        """Take one token for ``client``, or refuse with the wait until the next one."""
        with self._lock:
            now = self.clock()
            bucket = self._buckets.pop(client, None) or Bucket(tokens=float(self.burst), at=now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            ended = None
            if bucket.refused and bucket.tokens >= self.burst:  # idle long enough to refill: over
                ended = (bucket.refused, now if bucket.refused_since is None else bucket.refused_since)
                bucket.refused, bucket.refused_since = 0, None
            self._buckets[client] = bucket  # most recently seen last
            self._bound()
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return Verdict(True, episode_ended=ended)
            bucket.refused += 1
            if bucket.refused_since is None:
                bucket.refused_since = now
            wait = math.ceil((1 - bucket.tokens) / self.rate)
            return Verdict(
                False, retry_after=max(wait, 1), episode_started=bucket.refused == 1, episode_ended=ended
            )

    def _bound(self) -> None:
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)  # the least recently seen: most likely refilled anyway

    def __len__(self) -> int:
        return len(self._buckets)
