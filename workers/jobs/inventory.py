"""Inventory jobs."""

from __future__ import annotations

from adapters.logging import get_logger
from domain.inventory import reservations
from domain.jobs import JobContext

log = get_logger(__name__)


async def expire_reservations(ctx: JobContext) -> int:
    """Release reservations past their expiry (periodic: every 5 seconds)."""
    released = await reservations.expire_reservations(ctx["uow"])
    if released:
        log.info("reservations.expired", released=released)
    return released
