"""Periodic: the stock channels hold and ship themselves (FBA), counted into the hub."""

from __future__ import annotations

from adapters.logging import get_logger
from domain.channels.port import ChannelFailure
from domain.inventory.managed_stock import read_managed_stock
from domain.jobs import JobContext

log = get_logger(__name__)


async def read_channels_managed_stock(ctx: JobContext) -> int:
    """Every channel's own stock, counted into its channel-managed location; a channel that
    fails is logged and read again at the next run. Returns how many SKUs moved."""
    now = ctx["relay"].clock()
    async with ctx["uow"](readonly=True) as uow:
        channels = await uow.channels.all()
    counted = 0
    for channel in channels:
        try:
            read = await read_managed_stock(ctx["uow"], ctx["relay"].connector, channel.id, now)
        except ChannelFailure as failure:
            log.warning("managed_stock.read_failed", channel=str(channel.id), error=failure.message)
            continue
        counted += read.counted
        for sku, why in sorted(read.left.items()):
            log.warning("managed_stock.left", channel=str(channel.id), sku=sku, why=why)
    return counted
