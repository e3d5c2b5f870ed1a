"""In-process token buckets: the embedded default, for one process serving every channel.

Same rules as the Redis limiter (see `adapters.ratelimit`); the clock and the sleep are
injected so tests drive time by hand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from domain.sync.rate_limits import BucketSpec

# Float slack when comparing tokens: a sleep of exactly the computed wait must be enough.
EPSILON = 1e-9


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float  # when `tokens` was last brought up to date
    paused_until: float = 0.0

    def refill(self, spec: BucketSpec, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(spec.capacity, self.tokens + (now - self.stamp) * spec.rate)
            self.stamp = now


def wait_for(bucket: _Bucket, spec: BucketSpec, tokens: float, now: float) -> float:
    """Seconds until `tokens` can be granted from `bucket` (refilled to `now`); 0 if now."""
    needed = min(tokens, spec.capacity)
    pause = max(0.0, bucket.paused_until - now)
    at_resume = min(spec.capacity, bucket.tokens + pause * spec.rate)
    if pause == 0.0 and bucket.tokens >= needed - EPSILON:
        return 0.0
    return pause + max(0.0, needed - at_resume) / spec.rate + EPSILON


class MemoryRateLimiter:
    """Token buckets per key, in this process only."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str, spec: BucketSpec) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=spec.capacity, stamp=now)
        bucket.refill(spec, now)
        return bucket

    async def acquire(self, key: str, spec: BucketSpec, tokens: float = 1.0) -> None:
        # Re-checked after every sleep: another task may have taken the tokens meanwhile,
        # or an observe/pause may have moved the bucket.
        while True:
            bucket = self._bucket(key, spec)
            wait = wait_for(bucket, spec, tokens, self._clock())
            if wait == 0.0:
                bucket.tokens -= tokens
                return
            await self._sleep(wait)

    async def try_acquire(
        self, key: str, spec: BucketSpec, tokens: float = 1.0, *, keep: float = 0.0
    ) -> float:
        """Take `tokens` if they are there now, with `keep` more left (0.0); else take
        nothing and return the seconds until they would be."""
        bucket = self._bucket(key, spec)
        wait = wait_for(bucket, spec, tokens + keep, self._clock())
        if wait == 0.0:
            bucket.tokens -= tokens
        return wait

    async def observe(self, key: str, spec: BucketSpec, available: float) -> None:
        bucket = self._bucket(key, spec)
        bucket.tokens = min(spec.capacity, available)

    async def pause(self, key: str, spec: BucketSpec, seconds: float) -> None:
        bucket = self._bucket(key, spec)
        bucket.tokens = min(bucket.tokens, 0.0)
        bucket.paused_until = max(bucket.paused_until, self._clock() + seconds)

    def available(self, key: str, spec: BucketSpec) -> float:
        """The bucket's tokens now (for tests and diagnostics)."""
        return self._bucket(key, spec).tokens
