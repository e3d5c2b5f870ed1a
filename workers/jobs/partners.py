"""Partner jobs: deliver fulfilment requests to dropship and 3PL partners' webhooks."""

from __future__ import annotations

from adapters.logging import get_logger
from domain.jobs import JobContext
from domain.partners.delivery import deliver_due

log = get_logger(__name__)
# A run delivers at most this many batches; the next run (or the sweep) takes the rest.
MAX_BATCHES = 20


async def deliver_fulfilment_requests(ctx: JobContext) -> int:
    """Deliver every request due (enqueued after the commit that made one; also periodic,
    for retries coming due, endpoints newly set and runs that died)."""
    delivered = 0
    for _ in range(MAX_BATCHES):
        run = await deliver_due(ctx["uow"], ctx["partner_webhooks"])
        delivered += run.delivered
        if run.retried or run.dead:
            log.warning("partners.delivery_failed", retried=run.retried, dead=run.dead)
        if run.delivered + run.retried + run.dead == 0:
            break
    return delivered
