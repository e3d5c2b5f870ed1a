"""A failed read of a channel (its orders, its listing views), logged as every other
channel call is: the sync log and its `sync` event show it, and a channel's sync status
counts it."""

from __future__ import annotations

import uuid
from datetime import datetime

from domain.channels.port import ChannelFailure
from domain.clock import Clock, utcnow
from domain.ports import UnitOfWorkFactory
from domain.sync.model import SyncCall, outcome_of
from domain.sync.relay import sync_event

PULL_ORDERS = "pull_orders"
READ_VIEWS = "read_views"


async def log_failed_read(
    uows: UnitOfWorkFactory,
    channel_id: uuid.UUID,
    failure: ChannelFailure,
    read_at: datetime,
    *,
    operation: str,
    clock: Clock = utcnow,
) -> None:
    now = clock()
    call = SyncCall(
        id=uuid.uuid4(),
        channel_id=channel_id,
        operation=operation,
        keys=(),
        outcome=outcome_of(failure),
        attempt=1,
        latency_ms=max(0, int((now - read_at).total_seconds() * 1000)),
        message=failure.message[:2000],
        created_at=now,
    )
    async with uows() as uow:
        await uow.sync_log.add([call])
        uow.emit(sync_event(call))
        await uow.commit()
