"""Inbound events: stored on arrival, acted on once by a job, retried by a sweep.

`reception.receive` stores an event its channel signed (a redelivery is acknowledged and
dropped) and asks for a processing run after commit. `process` reads it with the channel's
port and acts on it: a stock edit follows the channel's stock-edit policy (see
`stock_edits`); an order waits, `received`, for order ingestion; anything else is ignored
with the reason. A payload the port cannot read fails for good (retrying cannot help);
other failures are retried by `sweep` until the attempts run out. When an event fails for
good, an alert says so if it names a SKU. Every status change is conditional on the event
still being open, so a run that comes twice (jobs run at least once) acts once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.channels.config import ChannelConfig
from domain.channels.model import Channel, ChannelForSku
from domain.channels.outbox import Dirty, OutboxKind, mark_dirty
from domain.channels.port import (
    ChannelConnector,
    ChannelFailure,
    ChannelOrder,
    ChannelRejected,
    InboundEvent,
    InboundKind,
    InboundStockEdit,
)
from domain.clock import Clock, utcnow
from domain.errors import DomainError
from domain.inventory import stock
from domain.inventory.alerts import Alert, AlertKind
from domain.inventory.events import alert_raised, availability_on
from domain.jobs import ALLOCATE_JOB, PROCESS_INBOX_JOB
from domain.orders.ingest import Ingested, ingest
from domain.orders.pull import PULL_WAIT_LIMIT, REQUEST_TURN, request_pull
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.sync.echoes import echo_of, shown_after
from domain.sync.inbox_model import InboxEntry, InboxStatus, Settlement
from domain.sync.model import CallOutcome, SyncCall
from domain.sync.relay import sync_event
from domain.sync.stock_edits import (
    EditAction,
    StockEditDecision,
    decide,
    skus_matching,
    sold_since,
)

MAX_ATTEMPTS = 5
# A `received` event this old has lost its run request (the queue was down at commit).
LOST_AFTER = timedelta(minutes=1)
# Concurrent decisions about one SKU take turns; one that keeps losing is retried later.
DECIDE_ATTEMPTS = 3
SWEEP_BATCH = 500
# A lowered figure waits for a pull of the channel's orders that started after it arrived,
# re-checked this often, and at most this long after its arrival (pulls that keep failing).
PULL_RECHECK = REQUEST_TURN


async def sweep(uow: UnitOfWork, now: datetime) -> list[uuid.UUID]:
    """Request runs for events whose request was lost and failed ones with attempts left."""
    due = await uow.inbox.due(
        received_before=now - LOST_AFTER, max_attempts=MAX_ATTEMPTS, limit=SWEEP_BATCH
    )
    for inbox_id in due:
        uow.enqueue_after_commit(PROCESS_INBOX_JOB, str(inbox_id))
    return due


@dataclass(frozen=True, slots=True)
class Processed:
    """What a run did, for the job to log."""

    status: InboxStatus | None  # the event's status after the run; None: no such event
    reason: str | None = None
    sku: str | None = None
    skipped: bool = False  # nothing to do: settled by another run, or an order that waits
    gave_up: bool = False  # failed for good
    alerted: bool = False
    held_until: datetime | None = None  # a stock edit held back: run again at this time


async def process(
    uows: UnitOfWorkFactory,
    connector: ChannelConnector,
    inbox_id: uuid.UUID,
    *,
    clock: Clock = utcnow,
    hold: timedelta = timedelta(0),
) -> Processed:
    """Act on one stored event, once.

    A stock edit that lowers the channel's figure below what the hub publishes is held for
    `hold` after it arrived (the caller runs it again then): a marketplace lowers its own
    figure when it sells, and the sale's order is usually a webhook behind. Acted on at
    once, the edit would be pushed back (hub wins: the sold unit shows again, and the last
    one can sell twice) or taken as stock lost (channel edits accepted: counted twice, once
    more when the order reserves it). Held, it finds the order reserved and the hub
    publishing the same figure: in step. An edit that is still a drop after the hold is
    acted on as the policy says.
    """
    async with uows(readonly=True) as uow:
        entry = await uow.inbox.get(inbox_id)
        if entry is None:
            return Processed(None, skipped=True)
        channel = await uow.channels.get(entry.channel_id)
        config = await uow.channel_configs.get(entry.channel_id)
        sealed = await uow.channel_configs.credentials(entry.channel_id)
    if not entry.open:
        return Processed(entry.status, skipped=True)
    if channel is None:
        return await _fail(uows, entry, "the channel is gone", clock(), final=True)
    config = config or ChannelConfig(channel.id)
    try:
        port = connector.connect(channel, config, sealed)
    except ChannelFailure as failure:  # e.g. credentials removed since: fixable, so retried
        return await _fail(uows, entry, failure.message, clock(), final=False)
    try:
        event = port.parse_webhook(entry.headers, entry.payload)
    except ChannelRejected as failure:
        reason = f"unreadable payload: {failure.message}"
        return await _fail(uows, entry, reason, clock(), final=True)
    except ChannelFailure as failure:
        return await _fail(uows, entry, failure.message, clock(), final=False)
    return await act_on(uows, entry, channel, config, event, clock=clock, hold=hold)


@dataclass(frozen=True, slots=True)
class Read:
    """An event as `act_on` takes it: read, with its channel (a batch reads many at once)."""

    entry: InboxEntry
    channel: Channel
    config: ChannelConfig
    event: InboundEvent


async def act_on(
    uows: UnitOfWorkFactory,
    entry: InboxEntry,
    channel: Channel,
    config: ChannelConfig,
    event: InboundEvent,
    *,
    clock: Clock = utcnow,
    hold: timedelta = timedelta(0),
) -> Processed:
    """`process` once the event is read: what its channel port made of the payload."""
    if event.kind is InboundKind.ORDER and event.order is not None:
        return await _order(uows, entry, channel, event.order, clock)
    if event.kind is InboundKind.ORDER:
        return await _order_named(uows, entry, channel, clock())
    if event.kind is not InboundKind.STOCK_EDIT or event.stock_edit is None:
        settlement = Settlement(
            InboxStatus.IGNORED, f"{event.topic} events are not acted on", event.kind
        )
        return await _settle(uows, entry, settlement, clock())
    if not config.sync_enabled:
        settlement = Settlement(
            InboxStatus.IGNORED, "sync is off for this channel", InboundKind.STOCK_EDIT
        )
        return await _settle(uows, entry, settlement, clock())
    return await _stock_edit(uows, entry, channel, config, event.stock_edit, clock, hold)


async def _order_named(
    uows: UnitOfWorkFactory, entry: InboxEntry, channel: Channel, now: datetime
) -> Processed:
    """A notification that names an order without carrying it (eBay's ORDER_CONFIRMATION:
    "now read it with getOrders") asks for a pull, which reads it; the requests of one turn
    are one pull, however many such notifications arrive together."""
    settlement = Settlement(
        InboxStatus.PROCESSED, "the order is read by a pull of the channel's orders",
        InboundKind.ORDER,
    )  # fmt: skip
    async with uows() as uow:
        settled = await uow.inbox.settle(entry.id, settlement, now)
        if settled:
            request_pull(uow, channel.id, now)
        await uow.commit()
    if not settled:
        return Processed(None, skipped=True)
    return Processed(settlement.status, settlement.reason, settlement.sku)


def taken_reason(order: ChannelOrder, taken: Ingested) -> str:
    """What taking a channel's order in came to, as its event's settlement says."""
    name = order.number or order.external_id
    if taken.created:
        return f"order {name} taken"
    if taken.applied:
        return f"order {name} updated"
    return f"order {name}: not newer than the one applied"


async def _order(
    uows: UnitOfWorkFactory,
    entry: InboxEntry,
    channel: Channel,
    order: ChannelOrder,
    clock: Callable[[], datetime],
) -> Processed:
    """Take the channel's order into the order book (once, newer versions only), then have
    its stock reserved by the allocation job."""
    taken = await ingest(
        uows, channel.id, order, actor=f"channel:{channel.name}"[:100], clock=clock
    )
    reason = taken_reason(order, taken)
    settlement = Settlement(InboxStatus.PROCESSED, reason, InboundKind.ORDER)
    async with uows() as uow:
        await uow.inbox.settle(entry.id, settlement, clock())
        if taken.lease is not None:
            uow.enqueue_after_commit(ALLOCATE_JOB, str(taken.order.id), str(taken.lease))
        await uow.commit()
    return Processed(InboxStatus.PROCESSED, reason)


async def _stock_edit(
    uows: UnitOfWorkFactory,
    entry: InboxEntry,
    channel: Channel,
    config: ChannelConfig,
    edit: InboundStockEdit,
    clock: Callable[[], datetime],
    hold: timedelta,
) -> Processed:
    """Decide the edit once, then (accepting edits) apply it to the hub's stock and close it."""
    if entry.delta is None:
        decided = await _decide(uows, entry, channel, config, edit, clock, hold)
        if isinstance(decided, Processed):
            return decided
        sku, delta = decided
    else:  # decided by a run that stopped before closing the event: apply what it decided
        assert entry.sku is not None
        sku, delta = entry.sku, entry.delta
    failure = await _apply(uows, channel, sku, delta, edit.quantity, entry.id, clock())
    if failure is not None:
        return await _fail(uows, entry, failure, clock(), final=False, edit=edit, sku=sku)
    reason = f"channel showed {edit.quantity}; applied {delta:+d} at the primary location"
    now = clock()
    async with uows() as uow:
        if not await uow.inbox.settle(entry.id, _processed(reason, edit, sku), now):
            return Processed(None, skipped=True)  # another run closed it first
        await _log_stock_edit(uow, channel.id, sku, reason, now)
        await uow.commit()
    return Processed(InboxStatus.PROCESSED, reason, sku)


async def _decide(
    uows: UnitOfWorkFactory,
    entry: InboxEntry,
    channel: Channel,
    config: ChannelConfig,
    edit: InboundStockEdit,
    clock: Callable[[], datetime],
    hold: timedelta,
) -> tuple[str, int] | Processed:
    """Which SKU the edit is about and what the hub does: done (in step, pushed back or
    ignored), or the (SKU, change) to apply.

    The decision moves the channel's figure of the SKU from the one it read to the edit's (a
    late echo of the hub's own push leaves it, see `echoes`), in the transaction that records
    it: decisions about one SKU take turns (a concurrent one
    re-reads and decides again), and an edit older than one already decided is ignored. So
    is one from before a sale of the SKU on the channel (or the same second) that the hub
    has taken, unless the channel is in step: the sale lowered the channel's figure after
    it, and sends its own update.
    """
    refs = ", ".join(f"{name}={value}" for name, value in sorted(edit.sku_refs.items()))
    async with uows(readonly=True) as uow:
        listed = await uow.inbox.listed_with_refs(channel.id, [edit.sku_refs])
    skus = skus_matching(edit.sku_refs, listed)
    if len(skus) != 1:
        reason = f"several SKUs have {refs}: {', '.join(skus)}" if skus else f"no SKU has {refs}"
        return await _settle(uows, entry, _ignored(reason, edit), clock())
    sku = skus[0]
    for _ in range(DECIDE_ATTEMPTS):
        async with uows(readonly=True) as uow:
            snapshot = await uow.inventory.snapshot(sku)
            override = (await uow.channels.overrides_for([sku])).get((channel.id, sku))
            listing = (await uow.listings.items_on(channel.id, [sku])).get(sku)
            sold = await uow.orders.last_sold(channel.id, [sku], since=edit.occurred_at)
            sent = (await uow.pushes.unheard(channel.id, [sku])).get(sku, [])
            pulled = await uow.orders.pulled_through(channel.id)
        if snapshot is None or listing is None:
            reason = f"{sku} has no stock record in Nexo" if listing else f"{sku} is not listed"
            return await _settle(uows, entry, _ignored(reason, edit, sku), clock())
        confirmed, echo = listing[1].confirmed_quantity, echo_of(edit.quantity, sent)
        decision = decide(
            config.stock_edit_policy,
            reported=edit.quantity,
            publishes=availability_on(snapshot, ChannelForSku(channel, override)).quantity,
            confirmed=confirmed,
            echo=echo is not None,
        )
        superseded_by = sold_since(decision, channel.name, sku, edit.occurred_at, sold.get(sku))
        if superseded_by is not None:
            return await _settle(uows, entry, _ignored(superseded_by, edit, sku), clock())
        now, superseded = clock(), False
        # Lowered: below what the hub publishes, or, applied, a drop of the hub's stock.
        if (decision.reported < decision.publishes or decision.delta < 0) and not decision.echo:
            waiting = _orders_awaited(entry, now, hold, pulled)
            if waiting is not None:
                return await _hold(uows, entry, channel, sku, decision, waiting, now)
            if pulled is None or pulled < entry.received_at:
                note = f"{decision.drift}; decided without {channel.name}'s orders pulled"
                await _log_unpulled(uows, channel.id, sku, note, now)
        shows = shown_after(edit.quantity, confirmed, listing[1].confirmed_at, echo)
        async with uows() as uow:
            moving = echo is None or shows != confirmed  # a late echo moves nothing
            if moving and not await uow.inbox.move_confirmed(
                channel.id, sku, confirmed, shows, now
            ):
                continue  # another decision (or the relay) moved it: read again
            if echo is not None:
                await uow.pushes.heard([echo.id])
            superseded = await uow.inbox.later_edit_decided(
                channel.id, sku, edit.occurred_at, entry.id
            )
            if not superseded:
                if not await uow.inbox.record_decision(
                    entry.id, sku, edit.occurred_at, decision.delta
                ):
                    return Processed(None, skipped=True)  # another run closed it first
                if decision.action is EditAction.APPLY:
                    await uow.commit()
                    return sku, decision.delta
                return await _close(uow, entry, channel, sku, edit, decision, now)
        if superseded:  # rolled back: the figure stays what the later edit made it
            reason = f"a later edit of {sku} came first"
            return await _settle(uows, entry, _ignored(reason, edit, sku), clock())
    reason = f"the figure of {sku} kept moving while the edit was decided"
    return await _fail(uows, entry, reason, clock(), final=False, edit=edit, sku=sku)


@dataclass(frozen=True, slots=True)
class _Waiting:
    until: datetime
    pull: bool  # the channel's orders from before the edit are not all in: ask for a pull


def _orders_awaited(
    entry: InboxEntry, now: datetime, hold: timedelta, pulled: datetime | None
) -> _Waiting | None:
    """How long a lowered figure still waits: at least `hold` after it arrived, and until a
    pull of the channel's orders that started after it arrived (an order whose webhook was
    lost comes only by the pull) has read to the end, up to `PULL_WAIT_LIMIT`."""
    through = pulled is not None and pulled >= entry.received_at
    held = entry.received_at + hold
    if now < held:
        return _Waiting(held, pull=not through)
    limit = entry.received_at + PULL_WAIT_LIMIT
    if through or now >= limit:
        return None
    return _Waiting(min(now + PULL_RECHECK, limit), pull=True)


async def _hold(
    uows: UnitOfWorkFactory,
    entry: InboxEntry,
    channel: Channel,
    sku: str,
    decision: StockEditDecision,
    waiting: _Waiting,
    now: datetime,
) -> Processed:
    """Leave the edit `received` to run again later; ask for a pull of the channel's orders
    if it waits for them (one request per channel per re-check, however many edits wait)."""
    reason = f"held until {waiting.until.isoformat()}: {decision.drift}; its order may be coming"
    if waiting.pull:
        reason += f" (waiting for {channel.name}'s orders to be pulled)"
        async with uows() as uow:
            request_pull(uow, channel.id, now)
            await uow.commit()
    return Processed(InboxStatus.RECEIVED, reason, sku, skipped=True, held_until=waiting.until)


async def _log_unpulled(
    uows: UnitOfWorkFactory, channel_id: uuid.UUID, sku: str, note: str, now: datetime
) -> None:
    """The sync log says a lowered figure was decided without the orders it waited for."""
    async with uows() as uow:
        await _log_stock_edit(uow, channel_id, sku, note, now)
        await uow.commit()


async def _close(
    uow: UnitOfWork,
    entry: InboxEntry,
    channel: Channel,
    sku: str,
    edit: InboundStockEdit,
    decision: StockEditDecision,
    now: datetime,
) -> Processed:
    """Close an edit the hub does not apply (in step, or pushed back) in `uow`; commits."""
    reason = None
    if decision.action is EditAction.PUSH_BACK:
        reason = f"{decision.drift}; pushed back"
        await _log_stock_edit(uow, channel.id, sku, reason, now)
        await mark_dirty(uow, [Dirty(channel.id, OutboxKind.QUANTITY, sku)], now)
    await uow.inbox.settle(entry.id, _processed(reason, edit, sku), now)
    await uow.commit()
    return Processed(InboxStatus.PROCESSED, reason, sku)


async def _apply(
    uows: UnitOfWorkFactory,
    channel: Channel,
    sku: str,
    delta: int,
    reported: int,
    inbox_id: uuid.UUID,
    now: datetime,
) -> str | None:
    """Change the hub's stock at the channel's primary location; the reason it could not.

    Idempotent by the event: a run repeating it replays the first one's result.
    """
    if not delta:
        return None
    if not channel.location_ids:
        return f"{channel.name} has no location to take the edit"
    try:
        await stock.channel_edit(
            uows,
            sku=sku,
            location_id=channel.location_ids[0],
            delta=delta,
            key=f"inbox:{inbox_id}",
            actor=f"channel:{channel.name}"[:100],
            detail=f"edited on {channel.name}: {reported - delta} -> {reported}",
            now=now,
        )
    except DomainError as error:
        return error.message
    return None


def _processed(reason: str | None, edit: InboundStockEdit, sku: str) -> Settlement:
    return Settlement(InboxStatus.PROCESSED, reason, InboundKind.STOCK_EDIT, sku, edit.occurred_at)


def _ignored(reason: str, edit: InboundStockEdit, sku: str | None = None) -> Settlement:
    return Settlement(InboxStatus.IGNORED, reason, InboundKind.STOCK_EDIT, sku, edit.occurred_at)


async def _log_stock_edit(
    uow: UnitOfWork, channel_id: uuid.UUID, sku: str, message: str, now: datetime
) -> None:
    """The sync log shows what the hub did about a channel's edit."""
    call = SyncCall(
        id=uuid.uuid4(), channel_id=channel_id, operation="stock_edit", keys=(sku,),
        outcome=CallOutcome.OK, attempt=1, latency_ms=0, message=message, created_at=now,
    )  # fmt: skip
    await uow.sync_log.add([call])
    uow.emit(sync_event(call))


async def _settle(
    uows: UnitOfWorkFactory, entry: InboxEntry, settlement: Settlement, now: datetime
) -> Processed:
    async with uows() as uow:
        settled = await uow.inbox.settle(entry.id, settlement, now)
        await uow.commit()
    if not settled:
        return Processed(None, skipped=True)
    return Processed(settlement.status, settlement.reason, settlement.sku)


async def _fail(
    uows: UnitOfWorkFactory,
    entry: InboxEntry,
    reason: str,
    now: datetime,
    *,
    final: bool,
    edit: InboundStockEdit | None = None,
    sku: str | None = None,
) -> Processed:
    kind = InboundKind.STOCK_EDIT if edit else None
    failure = Settlement(
        InboxStatus.FAILED, reason[:2000], kind, sku, edit.occurred_at if edit else None
    )
    async with uows() as uow:
        # A failure retrying cannot fix uses every attempt up: the sweep leaves it alone.
        attempts = await uow.inbox.fail(
            entry.id, failure, now, attempts_at_least=MAX_ATTEMPTS if final else 0
        )
        if attempts is None:
            return Processed(None, skipped=True)  # another run closed it first
        gave_up = final or attempts >= MAX_ATTEMPTS
        alerted = gave_up
        if alerted:
            alert = Alert(
                id=uuid.uuid4(), kind=AlertKind.INBOUND_FAILED, sku=sku, available=0,
                threshold=None, created_at=now, channel_id=entry.channel_id,
                message=f"{entry.topic} event {entry.event_id}: {reason}"[:2000],
            )  # fmt: skip
            await uow.alerts.add(alert)
            uow.emit(alert_raised(alert))
        if gave_up and edit is not None and sku is not None:
            # The edit will not be taken: the channel gets the hub's number back.
            await mark_dirty(uow, [Dirty(entry.channel_id, OutboxKind.QUANTITY, sku)], now)
        await uow.commit()
    return Processed(InboxStatus.FAILED, failure.reason, sku, gave_up=gave_up, alerted=alerted)
