"""Reading the notification queues of channels whose events the hub fetches (Amazon's SQS).

Each message is stored in the inbox exactly as a verified webhook is (`reception.store`,
under the event id the channel gives it: a message delivered twice, or two copies of one
notification, is one event) and deleted from the queue once stored. A message that cannot
be stored now stays in the queue and comes back after its visibility timeout; one the port
cannot read is stored under a digest of its bytes and fails when processed, never lost.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from adapters.channel_kit.connector import ChannelConnector
from adapters.desks.reception import Reception, identify
from adapters.logging import get_logger
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.channels.port import ChannelFailure
from domain.ports import UnitOfWorkFactory
from domain.sync.inbox_model import InboxEntry, InboxStatus, Intake, payload_text

log = get_logger(__name__)

# Receives per channel per run at most (each takes a few messages): a busy queue is read on.
MAX_ROUNDS = 50


async def read_queues(
    uows: UnitOfWorkFactory, connector: ChannelConnector, reception: Reception, now: datetime
) -> int:
    """Read every channel's queue that has one; returns how many new events were stored."""
    async with uows(readonly=True) as uow:
        channels = await uow.channels.all()
        configs = await uow.channel_configs.all()
        sealed = {c.id: await uow.channel_configs.credentials(c.id) for c in channels}
    stored = 0
    for channel in channels:
        config = configs.get(channel.id) or ChannelConfig(channel.id)
        try:
            stored += await _read(connector, reception, channel, config, sealed[channel.id], now)
        except ChannelFailure as failure:
            log.warning("queue.read_failed", channel_id=str(channel.id), error=failure.message)
    return stored


async def _read(
    connector: ChannelConnector,
    reception: Reception,
    channel: Channel,
    config: ChannelConfig,
    sealed: bytes | None,
    now: datetime,
) -> int:
    queue = connector.queue(channel, config, sealed)
    if queue is None or sealed is None:
        return 0
    port = connector.connect(channel, config, sealed)
    kept = connector.kept_headers(channel.kind.value)
    stored = 0
    for _ in range(MAX_ROUNDS):
        messages = await queue.receive()
        if not messages:
            break
        done = []
        for message in messages:
            identity = identify(port, message.headers, message.body)
            entry = InboxEntry(
                id=uuid.uuid4(),
                channel_id=channel.id,
                event_id=identity.event_id,
                topic=identity.topic,
                kind=identity.kind,
                headers={k: v for k, v in message.headers.items() if k.startswith(kept)},
                body=payload_text(message.body),
                status=InboxStatus.RECEIVED,
                attempts=0,
                received_at=now,
            )
            intake = await reception.store(entry, sealed)
            if intake in (Intake.STORED, Intake.DUPLICATE):
                done.append(message.receipt)
                stored += intake is Intake.STORED
        if done:
            await queue.delete(done)
    return stored
