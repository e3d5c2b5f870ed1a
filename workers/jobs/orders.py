"""Order jobs: reserve an order's stock; hand allocations whose run died to new runs; fill
backorders from stock that arrived; alert manual conflicts left waiting."""

from __future__ import annotations

import uuid
from datetime import timedelta

from adapters.logging import get_logger
from domain.clock import utcnow
from domain.jobs import PULL_JOB, JobContext
from domain.orders import allocation_due, backorders, manual_conflicts
from domain.orders.allocation import allocate
from domain.orders.pull import pull_orders as pull
from domain.sync.read_log import PULL_ORDERS, log_failed_read

log = get_logger(__name__)


async def allocate_order(ctx: JobContext, order_id: str, lease: str | None = None) -> str | None:
    """Route and reserve an order's open lines, settling last-unit conflicts by policy; with
    the lease of its allocation it was handed, only while that lease is still the order's."""
    order = await allocate(
        ctx["uow"],
        uuid.UUID(order_id),
        actor="job:allocate_order",
        lease=uuid.UUID(lease) if lease else None,
    )
    return order.status.value if order else None


async def allocate_open_orders(ctx: JobContext) -> int:
    """Periodic (every second): allocations whose lease lapsed (their run died, or its
    request was lost) are handed to new runs."""
    lease = timedelta(seconds=ctx["settings"].allocation_lease_seconds)
    taken = await allocation_due.sweep(ctx["uow"], lease=lease, clock=utcnow)
    if taken:
        log.info("orders.swept", waiting=len(taken))
    return len(taken)


async def fill_backorders(ctx: JobContext, sku: str) -> int:
    """After a commit that brought stock of the SKU: its short lines that the stock can fill,
    in the order their channels' conflict policy says."""
    filled = await backorders.fill(
        ctx["uow"], sku, actor="job:fill_backorders", why="stock arrived"
    )
    if filled:
        log.info("orders.backorders_filled", sku=sku, lines=len(filled))
    return len(filled)


async def sweep_backorders(ctx: JobContext) -> int:
    """Periodic: short lines of SKUs with stock available (arrivals no job saw, releases)."""
    filled = await backorders.sweep(ctx["uow"], actor="job:sweep_backorders")
    if filled:
        log.info("orders.backorders_swept", lines=len(filled))
    return len(filled)


async def alert_aged_conflicts(ctx: JobContext) -> int:
    """Periodic: one alert per manual conflict left unresolved longer than the setting."""
    older_than = timedelta(seconds=ctx["settings"].manual_conflict_alert_seconds)
    aged = await manual_conflicts.alert_aged(ctx["uow"], older_than=older_than)
    return len(aged)


async def pull_orders(ctx: JobContext, channel_id: str) -> int:
    """Read one channel's orders updated since the last pull (what webhooks missed)."""
    uows = ctx["uow"]
    return await pull(
        uows,
        ctx["connector"],
        uuid.UUID(channel_id),
        on_failure=lambda channel, failure, at: log_failed_read(
            uows, channel, failure, at, operation=PULL_ORDERS
        ),
    )


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
