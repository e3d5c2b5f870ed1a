"""Sync jobs: drain a channel's outbox; sweep for work whose run request was lost."""

from __future__ import annotations

import uuid
from datetime import timedelta

from adapters.logging import get_logger
from domain.clock import utcnow
from domain.jobs import DRAIN_JOB, RECHECK_JOB, RECONCILE_JOB, JobContext
from domain.sync.reconcile import ReconcileReport
from domain.sync.reconcile import reconcile_channel as reconcile
from domain.sync.relay import Relay

log = get_logger(__name__)

# Every channel is read back and repaired at least this often (and on demand).
RECONCILE_EVERY = timedelta(minutes=15)


async def drain_channel(ctx: JobContext, channel_id: str) -> int:
    """Send one channel's due outbox rows until none is due (one run per channel per process)."""
    relay: Relay = ctx["relay"]
    drained = await relay.run(uuid.UUID(channel_id))
    if drained.more:
        await ctx["queue"].enqueue(DRAIN_JOB, channel_id)
    return drained.claimed


async def sweep_outbox(ctx: JobContext) -> int:
    """Find channels with due rows (retries coming due, lost run requests) and drain them."""
    now = utcnow()
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
    await _read_again(ctx, report)
    log.info(
        "channel.reconciled",
        channel=channel_id,
        checked=report.checked,
        drifted=len(report.drifts),
        waiting=len(report.awaiting_orders),
        error=report.error,
    )
    return len(report.drifts)


async def recheck_drifts(ctx: JobContext, channel_id: str, skus: list[str] | None = None) -> int:
    """Read again the channel's lowered figures left waiting for its orders (deciding those
    whose orders are in) and the figures of `skus` (a push refused as stale)."""
    report = await reconcile(ctx["relay"], uuid.UUID(channel_id), only=skus or [])
    await _read_again(ctx, report)
    log.info(
        "channel.rechecked",
        channel=channel_id,
        checked=report.checked,
        waiting=len(report.awaiting_orders),
        error=report.error,
    )
    return len(report.drifts)


async def _read_again(ctx: JobContext, report: ReconcileReport) -> None:
    """Figures left waiting are read again when the report says (lost, this request is made
    again by the next reconciliation: the periodic one, or a push refused as stale)."""
    if report.recheck_at is None:
        return
    channel_id = str(report.channel_id)
    wait = max((report.recheck_at - utcnow()).total_seconds(), 0.01)
    job_id = f"{RECHECK_JOB}:{channel_id}:{int(report.recheck_at.timestamp())}"
    await ctx["queue"].enqueue(RECHECK_JOB, channel_id, job_id=job_id, defer_seconds=wait)


async def reconcile_channels(ctx: JobContext) -> int:
    """Periodic: each channel with sync on is reconciled once per RECONCILE_EVERY."""
    async with ctx["uow"](readonly=True) as uow:
        channels = await uow.channels.all()
        configs = await uow.channel_configs.all()
    slot = int(utcnow().timestamp() // RECONCILE_EVERY.total_seconds())
    queued = 0
    for channel in channels:
        config = configs.get(channel.id)
        if config is None or not config.sync_enabled:
            continue
        job_id = f"reconcile:{channel.id}:{slot}"
        queued += bool(await ctx["queue"].enqueue(RECONCILE_JOB, str(channel.id), job_id=job_id))
    return queued
