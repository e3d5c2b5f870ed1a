"""Inbound events that arrive together, acted on together.

A flash sale sends hundreds of orders a second. Taken one by one (`inbox.process`, then
`allocation.allocate`) each order costs two jobs and six transactions. `InboxIntake`, one
per worker process, gathers the events its running jobs ask for (see `batching`) and
`process_many` takes the orders among them in with one transaction (stored, their events
settled) and reserves them with a second (`batch_allocation`); then the shop's own stock
updates about those sales, most of which need nothing done, are settled together
(`stock_edit_batch`). Whatever is not the common case goes the one-by-one way, which stays
the reference: any other event, a second version of an order already in the batch, an
order another process inserted meanwhile, an order the stock cannot cover whole (a
last-unit conflict), a stock edit to hold, push back or apply. If a batch fails, each of
its events is run one by one, so one bad event never holds the others back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from adapters.desks.batching import Batcher
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.channels.port import (
    ChannelConnector,
    ChannelFailure,
    ChannelOrder,
    ChannelPort,
    InboundEvent,
    InboundKind,
)
from domain.clock import Clock, utcnow
from domain.jobs import ALLOCATE_JOB
from domain.orders.batch_allocation import allocate_many
from domain.orders.ingest import Arrival, ingest_many
from domain.ports import UnitOfWorkFactory
from domain.sync.inbox import Processed, Read, act_on, process, taken_reason
from domain.sync.inbox_model import InboxEntry, InboxStatus, Settlement
from domain.sync.stock_edit_batch import settle_edits

MAX_BATCH = 100
ALLOCATING_ACTOR = "job:process_inbox"


@dataclass
class Batch:
    """What `process_many` did with its events, and what it left to do one by one: events
    it read (`inbox.act_on`), and events to run from the start (`inbox.process`)."""

    done: dict[uuid.UUID, Processed] = field(default_factory=dict)
    read: list[Read] = field(default_factory=list)
    one_by_one: list[uuid.UUID] = field(default_factory=list)


async def process_many(
    uows: UnitOfWorkFactory,
    connector: ChannelConnector,
    inbox_ids: Sequence[uuid.UUID],
    *,
    clock: Clock = utcnow,
) -> Batch:
    """Take in and reserve the orders among these events; the others are left (read, where
    they could be) to be acted on one by one.

    Orders the stock cannot cover whole are stored, their events settled, and their
    allocation requested (the one-order job settles their conflicts).
    """
    batch = Batch()
    async with uows(readonly=True) as uow:
        entries = {entry.id: entry for entry in await uow.inbox.get_many(inbox_ids)}
        wanted = {entry.channel_id for entry in entries.values()}
        channels = {c.id: c for c in await uow.channels.all() if c.id in wanted}
        configs = await uow.channel_configs.all()
        sealed = {cid: await uow.channel_configs.credentials(cid) for cid in channels}
    readers = _Readers(connector, channels, configs, sealed)
    taking: list[tuple[InboxEntry, Channel, ChannelOrder]] = []
    seen: set[tuple[uuid.UUID, str]] = set()
    for inbox_id in inbox_ids:
        entry = entries.get(inbox_id)
        if entry is None or not entry.open:
            batch.done[inbox_id] = Processed(entry.status if entry else None, skipped=True)
            continue
        event = readers.read(entry)
        if event is None:
            batch.one_by_one.append(inbox_id)  # `process` reads it again and says why
            continue
        channel = channels[entry.channel_id]
        order = event.order if event.kind is InboundKind.ORDER else None
        if order is None or (entry.channel_id, order.external_id) in seen:
            # Not an order, or its second version.
            batch.read.append(Read(entry, channel, readers.config(channel), event))
            continue
        seen.add((entry.channel_id, order.external_id))
        taking.append((entry, channel, order))
    if taking:
        await _take_orders(uows, taking, batch, clock)
    # After the orders: the shop's stock updates about those sales find them taken.
    settled, batch.read = await settle_edits(uows, batch.read, clock())
    batch.done.update(settled)
    return batch


@dataclass
class _Readers:
    """Each channel's port, opened once per batch (opening one decrypts its credentials)."""

    connector: ChannelConnector
    channels: Mapping[uuid.UUID, Channel]
    configs: Mapping[uuid.UUID, ChannelConfig]
    sealed: Mapping[uuid.UUID, bytes | None]
    ports: dict[uuid.UUID, ChannelPort] = field(default_factory=dict)

    def config(self, channel: Channel) -> ChannelConfig:
        return self.configs.get(channel.id) or ChannelConfig(channel.id)

    def read(self, entry: InboxEntry) -> InboundEvent | None:
        """What the event's channel port makes of it; None when anything goes wrong reading
        it (`process` reads it again and records why)."""
        channel = self.channels.get(entry.channel_id)
        if channel is None:
            return None
        try:
            if channel.id not in self.ports:
                self.ports[channel.id] = self.connector.connect(
                    channel, self.config(channel), self.sealed.get(channel.id)
                )
            return self.ports[channel.id].parse_webhook(entry.headers, entry.payload)
        except ChannelFailure:
            return None


async def _take_orders(
    uows: UnitOfWorkFactory,
    taking: Sequence[tuple[InboxEntry, Channel, ChannelOrder]],
    batch: Batch,
    clock: Clock,
) -> None:
    now = clock()
    arrivals = [Arrival(ch.id, order, f"channel:{ch.name}"[:100]) for _, ch, order in taking]
    reserve: dict[uuid.UUID, uuid.UUID] = {}  # order -> the lease of its allocation
    async with uows() as uow:
        outcomes = await ingest_many(uow, arrivals, now)
        settled: list[tuple[uuid.UUID, Settlement]] = []
        for (entry, _, order), taken in zip(taking, outcomes, strict=True):
            if taken is None:  # inserted by another process meanwhile
                batch.one_by_one.append(entry.id)
                continue
            reason = taken_reason(order, taken)
            settled.append((entry.id, Settlement(InboxStatus.PROCESSED, reason, InboundKind.ORDER)))
            batch.done[entry.id] = Processed(InboxStatus.PROCESSED, reason)
            if taken.lease is not None:
                reserve[taken.order.id] = taken.lease
        await uow.inbox.settle_many(settled, now)
        await uow.commit()
    try:
        left = await allocate_many(
            uows, list(reserve), leases=reserve, actor=ALLOCATING_ACTOR, clock=clock
        )
    except Exception:
        await _request_allocation(uows, reserve)  # stored: the one-order job reserves them
        raise
    await _request_allocation(uows, {order_id: reserve[order_id] for order_id in left})


async def _request_allocation(
    uows: UnitOfWorkFactory, leases: Mapping[uuid.UUID, uuid.UUID]
) -> None:
    if not leases:
        return
    async with uows() as uow:
        for order_id, lease in leases.items():
            uow.enqueue_after_commit(ALLOCATE_JOB, str(order_id), str(lease))
        await uow.commit()


class InboxIntake:
    """One per process: `process` calls arriving together are served by one batch."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        connector: ChannelConnector,
        *,
        max_batch: int = MAX_BATCH,
        on_batch_failure: Callable[[Exception], None] | None = None,
        clock: Clock = utcnow,
    ):
        self._uows = uows
        self._connector = connector
        self._max_batch = max_batch
        self._on_batch_failure = on_batch_failure
        self._clock = clock
        self._batchers: dict[timedelta, Batcher[uuid.UUID, Processed]] = {}

    def batcher(self, hold: timedelta) -> Batcher[uuid.UUID, Processed]:
        found = self._batchers.get(hold)
        if found is None:

            async def run(ids: list[uuid.UUID]) -> dict[uuid.UUID, Processed | Exception]:
                return await self._run(ids, hold)

            found = self._batchers[hold] = Batcher(run, max_size=self._max_batch)
        return found

    async def process(self, inbox_id: uuid.UUID, *, hold: timedelta) -> Processed:
        """Act on one stored event, once (see `inbox.process`), batched with its neighbours."""
        return await self.batcher(hold).submit(inbox_id)

    async def _run(
        self, ids: list[uuid.UUID], hold: timedelta
    ) -> dict[uuid.UUID, Processed | Exception]:
        outcomes: dict[uuid.UUID, Processed | Exception] = {}
        try:
            batch = await process_many(self._uows, self._connector, ids, clock=self._clock)
            outcomes.update(batch.done)
            read, rest = batch.read, batch.one_by_one
        except Exception as error:
            if self._on_batch_failure is not None:
                self._on_batch_failure(error)
            read, rest = [], list(ids)
        # One after the other: stock edits of one SKU run at once only keep re-reading.
        for one in read:
            await self._one(outcomes, one.entry.id, act_on(
                self._uows, one.entry, one.channel, one.config, one.event,
                clock=self._clock, hold=hold,
            ))  # fmt: skip
        for inbox_id in rest:
            await self._one(outcomes, inbox_id, process(
                self._uows, self._connector, inbox_id, clock=self._clock, hold=hold
            ))  # fmt: skip
        return outcomes

    @staticmethod
    async def _one(
        outcomes: dict[uuid.UUID, Processed | Exception],
        inbox_id: uuid.UUID,
        run: Coroutine[Any, Any, Processed],
    ) -> None:
        try:
            outcomes[inbox_id] = await run
        except Exception as error:  # this event's job fails (and is retried) alone
            outcomes[inbox_id] = error
