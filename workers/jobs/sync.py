"""Sync jobs: drain a channel's outbox; sweep for work whose run request was lost."""

from __future__ import annotations

import uuid
from datetime import timedelta

from adapters.logging import get_logger
from domain.jobs import JobContext
from domain.sync.outbox import DRAIN_JOB
from domain.sync.reconcile import reconcile_channel as reconcile
from domain.sync.relay import Relay, utc_now

log = get_logger(__name__)

# Every channel is read back and repaired at least this often (and on demand).
RECONCILE_EVERY = timedelta(minutes=15)
RECONCILE_JOB = "reconcile_channel"


async def drain_channel(ctx: JobContext, channel_id: str) -> int:
    """Send one channel's due outbox rows until none is due (one run per channel per process)."""
    relay: Relay = ctx["relay"]
    drained = await relay.run(uuid.UUID(channel_id))
    if drained.more:
        await ctx["queue"].enqueue(DRAIN_JOB, channel_id)
    return drained.claimed


async def sweep_outbox(ctx: JobContext) -> int:
    """Find channels with due rows (retries coming due, lost run requests) and drain them."""
    now = utc_now()
    stuck_after = timedelta(seconds=ctx["settings"].outbox_stuck_seconds)
    async with ctx["uow"]() as uow:
        due = await uow.outbox.due_channels(now, now - stuck_after)
        await uow.commit()
    for channel_id in due:
        await ctx["queue"].enqueue(DRAIN_JOB, str(channel_id))
    if due:
        log.info("outbox.swept", channels=len(due))
    return len(due)


async def reconcile_channel(ctx: JobContext, channel_id: str) -> int:
    """Read the channel's live quantities and prices, report drift, mark it for repair."""
    report = await reconcile(ctx["relay"], uuid.UUID(channel_id))
    log.info(
        "channel.reconciled",
        channel=channel_id,
        checked=report.checked,
        drifted=len(report.drifts),
        error=report.error,
    )
    return len(report.drifts)


async def reconcile_channels(ctx: JobContext) -> int:
    """Periodic: each channel with sync on is reconciled once per RECONCILE_EVERY."""
    async with ctx["uow"](readonly=True) as uow:
        channels = await uow.channels.all()
        configs = await uow.channel_configs.all()
    slot = int(utc_now().timestamp() // RECONCILE_EVERY.total_seconds())
    queued = 0
    for channel in channels:
        config = configs.get(channel.id)
        if config is None or not config.sync_enabled:
            continue
        job_id = f"reconcile:{channel.id}:{slot}"
        queued += bool(await ctx["queue"].enqueue(RECONCILE_JOB, str(channel.id), job_id=job_id))
    return queued
