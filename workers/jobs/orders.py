"""Order jobs: reserve an order's stock; sweep for orders whose allocation never ran."""

from __future__ import annotations

import uuid

from adapters.logging import get_logger
from domain.jobs import JobContext
from domain.orders.allocation import allocate, lost_allocations
from domain.orders.pull import pull_orders as pull
from domain.sync.relay import utc_now

log = get_logger(__name__)
ALLOCATE_JOB = "allocate_order"


async def allocate_order(ctx: JobContext, order_id: str) -> str | None:
    """Route and reserve an order's open lines, settling last-unit conflicts by policy."""
    order = await allocate(ctx["uow"], uuid.UUID(order_id), actor="job:allocate_order")
    return order.status.value if order else None


async def allocate_open_orders(ctx: JobContext) -> int:
    """Periodic: orders stored but never reserved (a lost enqueue, a crash) are reserved."""
    async with ctx["uow"](readonly=True) as uow:
        waiting = await lost_allocations(uow, utc_now())
    for order_id in waiting:
        await ctx["queue"].enqueue(ALLOCATE_JOB, str(order_id))
    if waiting:
        log.info("orders.swept", waiting=len(waiting))
    return len(waiting)


PULL_JOB = "pull_orders"


async def pull_orders(ctx: JobContext, channel_id: str) -> int:
    """Read one channel's orders updated since the last pull (what webhooks missed)."""
    return await pull(ctx["uow"], ctx["connector"], uuid.UUID(channel_id))


async def pull_all_orders(ctx: JobContext) -> int:
    """Periodic: every channel with sync on is pulled."""
    async with ctx["uow"](readonly=True) as uow:
        channels = await uow.channels.all()
        configs = await uow.channel_configs.all()
    queued = 0
    for channel in channels:
        config = configs.get(channel.id)
        if config is not None and config.sync_enabled:
            queued += bool(await ctx["queue"].enqueue(PULL_JOB, str(channel.id)))
    return queued
