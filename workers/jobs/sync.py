"""Sync jobs: drain a channel's outbox; sweep for work whose run request was lost."""

from __future__ import annotations

import uuid
from datetime import timedelta

from adapters.logging import get_logger
from domain.jobs import JobContext
from domain.sync.outbox import DRAIN_JOB
from domain.sync.relay import Relay, utc_now

log = get_logger(__name__)

# A relay that has held rows this long without finishing is presumed dead.
STUCK_AFTER = timedelta(minutes=5)


async def drain_channel(ctx: JobContext, channel_id: str) -> int:
    """Send one channel's due outbox rows; runs again at once while more are due."""
    relay: Relay = ctx["relay"]
    claimed = await relay.drain(uuid.UUID(channel_id))
    if claimed >= relay.batch:
        await ctx["queue"].enqueue(DRAIN_JOB, channel_id)
    return claimed


async def sweep_outbox(ctx: JobContext) -> int:
    """Find channels with due rows (retries coming due, lost run requests) and drain them."""
    now = utc_now()
    async with ctx["uow"]() as uow:
        due = await uow.outbox.due_channels(now, now - STUCK_AFTER)
        await uow.commit()
    for channel_id in due:
        await ctx["queue"].enqueue(DRAIN_JOB, str(channel_id))
    if due:
        log.info("outbox.swept", channels=len(due))
    return len(due)
