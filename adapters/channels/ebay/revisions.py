"""eBay's cap on revisions: a listing is revised at most 250 times a calendar day.

Each price or quantity call that changes a listing revises it once (however many of its
variants the call carries), and so does republishing it. Past the cap eBay refuses every
change to the listing until the next day, so a SKU selling all day long would freeze at a
stale figure by noon. So revisions are budgeted per listing in the shared rate limiter: a
bucket of 20 refilled at 210 a day can never grant more than 230 in any 24 hours (20 left for
listing content revisions). A SKU whose listing has no revision left now is not sent: it is
deferred until the bucket has one, and its latest figure goes out then, so a hot SKU's many
changes coalesce into one revision each quarter of an hour or so, and the last one always
reaches eBay.

Not every revision is worth the same. One that lowers a quantity eBay shows (a sale
elsewhere, a sell-out) keeps eBay from selling units the merchant no longer has; one that
raises a quantity or changes a price only keeps a figure fresh. So the last `KEPT` revisions
of a listing's bucket are for lowering quantities only: when restocks and price changes have
spent the rest, the next sell-out still goes out at once.
"""

from __future__ import annotations

from typing import Final

from domain.sync.rate_limits import BucketSpec, RateLimiter

REVISIONS_PER_DAY: Final = 250
BUDGET: Final = BucketSpec(capacity=20.0, rate=210.0 / 86_400)
KEPT: Final = 6.0  # revisions left for lowering a quantity only


class Revisions:
    def __init__(self, limiter: RateLimiter, seller: str) -> None:
        self._limiter = limiter
        self._seller = seller

    async def take(self, listing_id: str, *, lowers: bool) -> float:
        """One revision of the listing: 0.0 when granted, else the seconds until one is.
        `lowers`: it lowers a quantity eBay shows, and may use the revisions kept for that."""
        return await self._limiter.try_acquire(
            f"ebay:{self._seller}:revisions:{listing_id}", BUDGET, keep=0.0 if lowers else KEPT
        )
