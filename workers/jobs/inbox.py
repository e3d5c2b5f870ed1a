"""Inbox jobs: act on one stored event; sweep for events whose run was lost or failed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from adapters.desks.inbox import InboxIntake
from adapters.desks.queue_reading import read_queues
from adapters.logging import get_logger
from domain.clock import utcnow
from domain.jobs import PROCESS_INBOX_JOB, JobContext
from domain.sync import inbox
from domain.sync.inbox_model import InboxStatus

log = get_logger(__name__)


async def process_inbox(ctx: JobContext, inbox_id: str) -> str | None:
    """Act on one inbound event (a second run of the same event changes nothing)."""
    hold = timedelta(seconds=ctx["settings"].stock_edit_hold_seconds)
    # Events whose jobs run together are taken in together (see `adapters/desks/inbox.py`).
    intake: InboxIntake = ctx["inbox_intake"]
    done = await intake.process(uuid.UUID(inbox_id), hold=hold)
    fields = {"inbox_id": inbox_id, "sku": done.sku, "reason": done.reason}
    if done.held_until is not None:
        # Lost, this request is made again by the sweep (an event left `received`).
        wait = (done.held_until - utcnow()).total_seconds()
        await ctx["queue"].enqueue(PROCESS_INBOX_JOB, inbox_id, defer_seconds=max(wait, 0.01))
        log.info("inbox.held", **fields)
    elif done.skipped:
        log.debug("inbox.skipped", status=done.status, **fields)
    elif done.status is InboxStatus.FAILED and done.gave_up:
        # Without a SKU no alert can name it: this line (and the failed row) is the trace.
        log.error("inbox.failed", alerted=done.alerted, **fields)
    elif done.status is InboxStatus.FAILED:
        log.warning("inbox.retrying", **fields)
    else:
        log.info("inbox.processed", status=done.status, **fields)
    return done.status.value if done.status else None


async def process_inbox_many(ctx: JobContext, inbox_ids: list[str]) -> list[str | None]:
    """Act on events stored together: one job, not one each (each job costs the queue a few
    round trips); in the worker they join the batch of whatever else is running."""
    return list(await asyncio.gather(*(process_inbox(ctx, inbox_id) for inbox_id in inbox_ids)))


async def retry_inbox(ctx: JobContext) -> int:
    """Request runs for received events whose request was lost and failed ones with tries left."""
    async with ctx["uow"]() as uow:
        due = await inbox.sweep(uow, utcnow())
        await uow.commit()
    if due:
        log.info("inbox.swept", events=len(due))
    return len(due)


async def read_notification_queues(ctx: JobContext) -> int:
    """Periodic: the queues channels put their notifications in (Amazon's SQS, MercadoLibre's
    missed pointers) are read into the inbox; returns how many new events were stored."""
    stored = await read_queues(ctx["uow"], ctx["connector"], ctx["reception"], utcnow())
    if stored:
        log.info("queue.read", stored=stored)
    return stored
