"""The periodic order pull: whatever webhooks missed, read from the channel by cursor.

Webhooks are fast but not guaranteed (a channel gives up after its retries; an endpoint
can be down). Each channel is therefore also read by cursor: every order updated since
the last pull is ingested — idempotently, so an order already taken from a webhook is
not taken twice — and the cursor moves on only after the page is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from domain.orders.ingest import ingest
from domain.ports import UnitOfWorkFactory
from domain.sync.channel import ChannelFailure
from domain.sync.ports import ChannelConnector

ALLOCATE_JOB = "allocate_order"
MAX_PAGES = 20


def utcnow() -> datetime:
    return datetime.now(UTC)


async def pull_orders(
    uows: UnitOfWorkFactory,
    connector: ChannelConnector,
    channel_id: uuid.UUID,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Ingest the channel's orders updated since the last pull; returns how many changed."""
    async with uows(readonly=True) as uow:
        channel = await uow.channels.get(channel_id)
        config = await uow.channel_configs.get(channel_id)
        sealed = await uow.channel_configs.credentials(channel_id)
        cursor = await uow.orders.pull_cursor(channel_id)
    if channel is None or config is None or not config.sync_enabled:
        return 0
    try:
        port = connector.connect(channel, config, sealed)
    except ChannelFailure:
        return 0  # reported by the channel's status; nothing to pull from
    actor = f"pull:{channel.name}"[:100]
    changed = 0
    for _ in range(MAX_PAGES):
        try:
            page = await port.fetch_orders(cursor)
        except ChannelFailure:
            break  # the next pull goes on from the same cursor
        taken = [
            await ingest(uows, channel.id, order, actor=actor, clock=clock) for order in page.orders
        ]
        async with uows() as uow:
            await uow.orders.set_pull_cursor(channel.id, page.cursor, clock())
            for result in taken:
                if result.created or result.applied:
                    uow.enqueue_after_commit(ALLOCATE_JOB, str(result.order.id))
            await uow.commit()
        changed += sum(1 for t in taken if t.created or t.applied)
        if not page.orders or page.cursor == cursor:
            break
        cursor = page.cursor
    return changed
