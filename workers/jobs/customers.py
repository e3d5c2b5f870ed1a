"""Customer jobs: the buyers of new orders matched into customers."""

from __future__ import annotations

from adapters.logging import get_logger
from domain.clock import utcnow
from domain.customers.linking import BATCH, match_buyers
from domain.jobs import JobContext

log = get_logger(__name__)

# Batches one run takes at most: the rest waits for the next run (a few seconds later).
MAX_BATCHES = 25


async def match_customers(ctx: JobContext) -> int:
    """Periodic: orders whose buyer is not matched yet, oldest first, batch by batch."""
    matched = 0
    for _ in range(MAX_BATCHES):
        done = await match_buyers(ctx["uow"], limit=BATCH, clock=utcnow)
        matched += done
        if done < BATCH:
            break
    if matched:
        log.info("customers.matched", orders=matched)
    return matched
