"""Stock a channel holds and ships itself (FBA), read into its `channel_managed` location.

The channel is the record of what it holds: its figure of each SKU becomes the location's on
hand through `stock.count`, a batch of one over the inventory's one writer of on hand (a
`count` ledger row each, channel-managed stock staying out of what the hub sells elsewhere).
A SKU the hub does not know, or a figure below what the hub holds reserved there, is left as
it is and reported; the next read tries again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from domain.channels.port import ChannelConnector, ManagedStock
from domain.errors import DomainError
from domain.inventory import stock
from domain.inventory.model import LocationKind
from domain.ports import UnitOfWorkFactory


@dataclass
class ManagedRead:
    counted: int = 0  # SKUs whose on hand moved to the channel's figure
    left: dict[str, str] = field(default_factory=dict)  # SKU -> why it was not counted


async def read_managed_stock(
    uows: UnitOfWorkFactory, connector: ChannelConnector, channel_id: uuid.UUID, now: datetime
) -> ManagedRead:
    """Count the channel's own stock into its first `channel_managed` location."""
    read = ManagedRead()
    async with uows(readonly=True) as uow:
        channel = await uow.channels.get(channel_id)
        config = await uow.channel_configs.get(channel_id)
        sealed = await uow.channel_configs.credentials(channel_id)
        places = (
            [await uow.inventory.get_location(i) for i in channel.location_ids] if channel else []
        )
    managed = [p for p in places if p is not None and p.kind is LocationKind.CHANNEL_MANAGED]
    if channel is None or config is None or not config.sync_enabled or not managed:
        return read
    port = connector.connect(channel, config, sealed)
    if not isinstance(port, ManagedStock):
        return read
    held = await port.read_managed_stock()
    location = managed[0]
    skus = sorted(held)
    async with uows(readonly=True) as uow:
        snapshots = await uow.inventory.snapshots(skus)
    stamp = now.strftime("%Y%m%dT%H%M%S.%f")
    for sku in skus:
        snapshot = snapshots.get(sku)
        if snapshot is None:
            read.left[sku] = "not a SKU of the hub"
            continue
        level = snapshot.level_at(location.id)
        if level is not None and level.on_hand == held[sku]:
            continue
        try:
            await stock.count(
                uows, sku=sku, location_id=location.id, on_hand=held[sku], expected_on_hand=None,
                key=f"managed:{channel_id}:{sku}:{stamp}", actor=f"channel:{channel.name}",
            )  # fmt: skip
        except DomainError as refused:
            read.left[sku] = refused.message
            continue
        read.counted += 1
    return read
