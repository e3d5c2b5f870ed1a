"""Rate limits per channel account: a token bucket every worker process shares.

Marketplaces meter calls per account: Amazon, eBay and MercadoLibre by requests (a
bucket of `capacity` tokens refilled at `rate` per second), Shopify by query cost (the
same bucket, each call taking its cost, and every answer saying what is really left).
Callers take tokens before a call and, when the channel reports its own figure, correct
the shared estimate with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BucketSpec:
    capacity: float
    rate: float  # tokens restored per second


class RateLimiter(Protocol):
    async def acquire(self, key: str, spec: BucketSpec, tokens: float = 1.0) -> None:
        """Wait until `tokens` are available in the bucket `key`, then take them."""
        ...

    async def try_acquire(
        self, key: str, spec: BucketSpec, tokens: float = 1.0, *, keep: float = 0.0
    ) -> float:
        """Take `tokens` if they are there now (returns 0.0); else take nothing and return
        the seconds until they would be (a budget spent for a while: eBay's 250 listing
        revisions a day, say, where waiting in line would hold everything behind it).
        `keep`: take only if that many more are left behind, for callers that do not pass
        it (a budget's last tokens kept for what matters most)."""
        ...

    async def observe(self, key: str, spec: BucketSpec, available: float) -> None:
        """The channel says `available` tokens are left: trust it over the estimate."""
        ...

    async def pause(self, key: str, spec: BucketSpec, seconds: float) -> None:
        """The channel said "slow down" (429, Retry-After): empty the bucket for a while."""
        ...
