"""A few of a shared bucket's tokens taken at once, spent by this process's next calls.

Taking a token from the shared bucket is a round trip to Redis (and, while the bucket is
empty, a wait and often a second trip). A client sending a steady stream of calls at a fast
rate takes `AT_ONCE` tokens in one trip instead and spends them on its next calls: the
bucket's pace is the same (they are taken as they come due), with a quarter of the trips.
Tokens not spent soon lapse — within the time they stand for at the bucket's rate, and at
most `KEEP_SECONDS` — so a purse never hoards what other workers could use, nor sends calls
long after a pause was asked. A slow bucket (under `FAST_RATE` a second) is taken a token at
a time: its round trips cost nothing beside its pace. `empty` drops what is held (a 429).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Final

from domain.sync.rate_limits import BucketSpec, RateLimiter

AT_ONCE: Final = 4
FAST_RATE: Final = 20.0  # tokens a second
KEEP_SECONDS: Final = 0.25


@dataclass
class _Held:
    tokens: int = 0
    until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Purse:
    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter
        self._held: dict[str, _Held] = {}

    async def take(self, key: str, spec: BucketSpec) -> None:
        """One token of the bucket `key`: from the purse, else from the shared bucket."""
        held = self._held.setdefault(key, _Held())
        async with held.lock:
            if held.tokens > 0 and time.monotonic() < held.until:
                held.tokens -= 1
                return
            batch = AT_ONCE if spec.rate >= FAST_RATE else 1
            batch = max(1, min(batch, int(spec.capacity)))
            await self._limiter.acquire(key, spec, float(batch))
            held.tokens = batch - 1
            held.until = time.monotonic() + min(batch / spec.rate, KEEP_SECONDS)

    def empty(self, key: str) -> None:
        held = self._held.get(key)
        if held is not None:
            held.tokens = 0
