"""The periodic order pull: whatever webhooks missed, read from the channel by cursor.

Webhooks are fast but not guaranteed (a channel gives up after its retries; an endpoint
can be down). Each channel is therefore also read by cursor: every order updated since
the last pull is ingested — idempotently, so an order already taken from a webhook is
not taken twice — and the cursor moves on only after the page is stored. A pull that reads
to the channel's last page records when it started (`pulled_through`): the channel's orders
from before then are in Nexo, which deciding a lowered stock figure waits for. An order the
channel says it shipped itself is recorded shipped (`shipped_on_channel`) before the cursor
moves on, so a failure reads it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from domain.channels.port import ChannelConnector, ChannelFailure
from domain.clock import Clock, utcnow
from domain.jobs import ALLOCATE_JOB, PULL_JOB, IfTaken
from domain.orders import shipped_on_channel
from domain.orders.ingest import ingest
from domain.ports import UnitOfWork, UnitOfWorkFactory

MAX_PAGES = 20
# Pulls asked for within one such turn (by every pointer and edit waiting for them) are at
# most two jobs: the turn's first, and one at its end for those the first may have missed.
REQUEST_TURN = timedelta(seconds=2)
# Pulls failing this long: a lowered figure is decided without the orders it waited for.
PULL_WAIT_LIMIT = timedelta(minutes=10)


# Told of a page read that failed (the channel, the failure, when the read began), e.g. to log
# it beside every other channel call: the pull itself goes on from the same cursor next time.
FailedRead = Callable[[uuid.UUID, ChannelFailure, datetime], Awaitable[None]]


def request_pull(uow: UnitOfWork, channel_id: uuid.UUID, now: datetime) -> None:
    """Ask, once `uow` commits, for a pull of the channel's orders that starts after `now`
    (after what asked for it: a pointer to an order, a figure waiting for its orders).

    The requests of one turn share the turn's pull, started at once. A request finding it
    already known cannot tell whether it has started (a queue refuses an id while the job
    waits, runs, and as long as it keeps its result): it may have read the channel before
    the order the request is about, so the request asks for the turn's second pull, which
    starts when the turn ends (after every request of the turn) and is shared by all of
    them. So many requests together cost at most two pulls a turn, and none is lost.
    """
    turn = int(now.timestamp() // REQUEST_TURN.total_seconds())
    ends = (turn + 1) * REQUEST_TURN.total_seconds() - now.timestamp()
    uow.enqueue_after_commit(
        PULL_JOB, str(channel_id), job_id=f"pull:{channel_id}:{turn}",
        if_taken=IfTaken(f"pull:{channel_id}:{turn}:end", ends),
    )  # fmt: skip


async def pull_orders(
    uows: UnitOfWorkFactory,
    connector: ChannelConnector,
    channel_id: uuid.UUID,
    *,
    clock: Clock = utcnow,
    on_failure: FailedRead | None = None,
) -> int:
    """Ingest the channel's orders updated since the last pull; returns how many changed."""
    started = clock()  # before the first read: orders the channel had by now are read
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
        read_at = clock()
        try:
            page = await port.fetch_orders(cursor)
        except ChannelFailure as failure:
            if on_failure is not None:
                await on_failure(channel.id, failure, read_at)
            break  # the next pull goes on from the same cursor
        taken = [
            await ingest(uows, channel.id, order, actor=actor, clock=clock) for order in page.orders
        ]
        for order, result in zip(page.orders, taken, strict=True):
            if order.shipped_by_channel is not None:  # before the cursor moves past it
                await shipped_on_channel.follow(
                    uows, result.order.id, order.shipped_by_channel, actor=actor, clock=clock
                )
        at_end = not page.orders or page.cursor == cursor
        async with uows() as uow:
            await uow.orders.set_pull_cursor(channel.id, page.cursor, clock())
            if at_end:
                await uow.orders.set_pulled_through(channel.id, started)
            for result in taken:
                if result.lease is not None:
                    uow.enqueue_after_commit(ALLOCATE_JOB, str(result.order.id), str(result.lease))
            await uow.commit()
        changed += sum(1 for t in taken if t.created or t.applied)
        if at_end:
            break
        cursor = page.cursor
    return changed
