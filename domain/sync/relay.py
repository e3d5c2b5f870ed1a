"""The relay: drains one channel's outbox into calls to that channel.

One run claims due rows (several relays share a channel's rows without overlap), reads the
latest intended state of their keys — so a thousand marks of one SKU become one value —
and sends it in batches the channel accepts, under its rate limit. Each call is logged. No
database transaction is held while a channel answers. What the channel confirms is
recorded; a retryable failure reschedules the rows with exponential backoff and jitter (or
the channel's Retry-After); after the retry budget a row is dead-lettered and an alert
raised. A channel's validation error is never retried: the listing goes to `error` with the
channel's own message.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domain.catalog.listings import ListingFormats, render
from domain.catalog.prices import PriceBook, price_on
from domain.channels.config import ChannelConfig
from domain.channels.listing import Listing, ListingItem, ListingStatus, Problem
from domain.channels.model import Channel, ChannelForSku
from domain.channels.outbox import Dirty, OutboxKind, mark_dirty
from domain.channels.policies import StockEditPolicy
from domain.channels.port import (
    ChannelConnector,
    ChannelFailure,
    ChannelLimits,
    ChannelMisconfigured,
    ChannelPort,
    ChannelRejected,
    ChannelThrottled,
    KeyResult,
    LineCancelNotice,
    ListingRefs,
    Outcome,
    PriceUpdate,
    QuantityUpdate,
    ShipmentNotice,
)
from domain.clock import Clock, utcnow
from domain.errors import DomainError
from domain.events import Event
from domain.inventory.alerts import Alert, AlertKind
from domain.inventory.events import alert_raised, availability_on
from domain.jobs import RECHECK_JOB
from domain.orders.model import Conflict, LineStatus, Order, OrderStatus
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.sync.echoes import ECHO_WINDOW
from domain.sync.model import CallOutcome, OutboxEntry, SyncCall, outcome_of

SYNC_TOPIC = "sync"
# Accepting edits, a push the channel refused as stale asks for a read of its SKUs (see
# `drifts`): the figure the channel moved to (an edit or a sale whose report was lost) is
# found and decided, and the next push compares with it. At most one read of the same SKUs
# per channel in this many seconds; the refused rows are retried after it.
STALE_READ_SECONDS = 10
# A row is dead-lettered at its 12th failure: backoff from 1 s doubling to 5 minutes, with
# jitter, rides out about 20 minutes of a channel's outage. Throttles are not failures.
MAX_ATTEMPTS = 12
# A lost compare-and-set is read back and set over this many times in the same run.
STALE_ROUNDS = 3
# A run renews its claim this often (rows claimed longer ago without renewal count as stuck).
KEEP_CLAIM_SECONDS = 20.0
# Listings still unsent this long after their batch was claimed are given back for the next
# batch: a job never outlives its time limit behind a slow channel's rate limit.
BATCH_SECONDS = 60.0
# A run sending without pause starts its rounds at least this far apart.
LINGER_SECONDS = 0.1
# The first batches of a drain with several calls out, as shares of a full one.
RAMP_BATCHES = (0.25, 0.5)
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 300.0


@dataclass(frozen=True)
class Relay:
    """What a relay run needs; one per process, shared by its runs."""

    uow: UnitOfWorkFactory
    connector: ChannelConnector
    formats: ListingFormats
    clock: Clock = utcnow
    monotonic: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random
    max_attempts: int = MAX_ATTEMPTS
    batch: int = 500
    linger_seconds: float = LINGER_SECONDS
    batch_seconds: float = BATCH_SECONDS

    _runs: dict[uuid.UUID, _RunRequest] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Rows a drain claims per channel, once its port said what one call carries: a channel
    # whose bulk call takes more than `batch` (Amazon's feeds) gets batches that fill it.
    _claims: dict[uuid.UUID, int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Calls a drain has out at once per channel, as its port says (`calls_in_flight`).
    _in_flight: dict[uuid.UUID, int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    async def run(self, channel_id: uuid.UUID, *, budget_seconds: float = 30.0) -> Drained:
        """Drain the channel until nothing is due, one run per channel in this process.

        A request that arrives while a run is under way only asks it to go round once more,
        so the marks made while a call was out go together in the next call: the slower the
        channel answers, the bigger its batches, never a queue of runs each sending one key.
        Busy rounds start `linger_seconds` apart.
        After `budget_seconds` the run stops (the caller schedules the rest), so a steady
        stream of changes never holds one job forever.
        """
        request = self._runs.get(channel_id)
        if request is not None:
            request.again = True
            return Drained(0, more=False)
        request = self._runs[channel_id] = _RunRequest()
        deadline = self.monotonic() + budget_seconds
        claimed = 0
        sending: set[asyncio.Task[None]] = set()
        # With several calls out at once, the first batches are smaller (a quarter, a half of
        # a call): the channel starts processing sooner, and has the next one queued by then.
        ramp: tuple[float, ...] = RAMP_BATCHES if self._in_flight.get(channel_id, 1) > 1 else ()
        try:
            while True:
                request.again = False
                started = self.monotonic()
                share, ramp = (ramp[0], ramp[1:]) if ramp else (1.0, ())
                run = await self.claim(channel_id, share)
                if run is not None:
                    claimed += len(run.entries)
                    sending.add(asyncio.create_task(self.execute(run)))
                # A channel whose calls take long (Amazon's feeds) has several out at once: the
                # next batch is claimed and read while the channel processes the last. With
                # nothing new claimed, every call out is waited for (it may give rows back).
                room = self._in_flight.get(channel_id, 1) if run is not None else 1
                waited = bool(sending) and len(sending) >= room
                while sending and len(sending) >= room:
                    done, sending = await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()
                if run is None and not waited and not request.again:
                    return Drained(claimed, more=False)
                if self.monotonic() >= deadline:
                    await self._settle_all(sending)
                    return Drained(claimed, more=True)
                if run is not None:
                    # While a key is hot, let its changes gather for a moment rather than
                    # chase each one with a call; the first change after a quiet spell goes
                    # out at once.
                    await asyncio.sleep(max(0.0, started + self.linger_seconds - self.monotonic()))
        finally:
            for task in sending:
                task.cancel()
            await asyncio.gather(*sending, return_exceptions=True)
            del self._runs[channel_id]

    @staticmethod
    async def _settle_all(sending: set[asyncio.Task[None]]) -> None:
        while sending:
            done, _ = await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                sending.discard(task)
                task.result()

    async def drain(self, channel_id: uuid.UUID) -> int:
        """Drain one batch of the channel's due rows; returns how many were claimed."""
        run = await self.claim(channel_id)
        if run is None:
            return 0
        await self.execute(run)
        return len(run.entries)

    async def claim(self, channel_id: uuid.UUID, share: float = 1.0) -> _Run | None:
        """Claim a batch of the channel's due rows (as many as one call of it carries, or
        `share` of that)."""
        size = max(1, int(self._claims.get(channel_id, self.batch) * share))
        async with self.uow() as uow:
            entries = await uow.outbox.claim(channel_id, self.clock(), size)
            await uow.commit()
        return _Run(self, channel_id, entries) if entries else None

    async def execute(self, run: _Run) -> None:
        await run.execute()
        limits = run.limits
        if limits is not None:
            # A channel taking several calls at once is given batches of one call each, so
            # each call goes out as soon as its batch is read.
            parallel = limits.calls_in_flight > 1
            self._claims[run.channel_id] = (
                limits.quantities_per_call if parallel
                else max(self.batch, limits.quantities_per_call)
            )  # fmt: skip
            self._in_flight[run.channel_id] = max(1, limits.calls_in_flight)

    def backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        if retry_after is not None:
            return timedelta(seconds=retry_after)
        ceiling = min(BACKOFF_BASE_SECONDS * 2**attempts, BACKOFF_MAX_SECONDS)
        return timedelta(seconds=ceiling * (0.5 + self.jitter()))


@dataclass(frozen=True)
class Drained:
    claimed: int
    more: bool  # the run stopped on its time budget with work possibly left


@dataclass
class _RunRequest:
    again: bool = False


@dataclass
class _Keyed:
    """The claimed rows of one key (several marks of it may have been claimed together)."""

    kind: OutboxKind
    key: str
    entries: list[OutboxEntry] = field(default_factory=list)

    @property
    def ids(self) -> list[uuid.UUID]:
        return [e.id for e in self.entries]

    @property
    def attempts(self) -> int:
        return max(e.attempts for e in self.entries)


class _Run:
    def __init__(self, relay: Relay, channel_id: uuid.UUID, entries: Sequence[OutboxEntry]):
        self.relay = relay
        self.channel_id = channel_id
        self.keyed: dict[tuple[OutboxKind, str], _Keyed] = {}
        # Hub wins a lost compare-and-set unless the channel's edits are accepted: then the
        # edit is on its way through the inbox, and the row is retried after it.
        self.accepts_edits = False
        # SKUs whose listing this run (re)published: their quantities were marked afresh.
        self.republished: set[str] = set()
        self.limits: ChannelLimits | None = None  # what one call of the channel's port takes
        self.entries = entries
        self.kept_at = relay.monotonic()
        self.deadline = self.kept_at + relay.batch_seconds
        for entry in entries:
            slot = self.keyed.setdefault((entry.kind, entry.key), _Keyed(entry.kind, entry.key))
            slot.entries.append(entry)

    def of(self, kind: OutboxKind) -> list[_Keyed]:
        return [k for k in self.keyed.values() if k.kind is kind]

    async def execute(self) -> None:
        async with self.relay.uow(readonly=True) as uow:
            channel = await uow.channels.get(self.channel_id)
            config = await uow.channel_configs.get(self.channel_id)
            sealed = await uow.channel_configs.credentials(self.channel_id)
        everything = list(self.keyed.values())
        self.accepts_edits = (
            config is not None and config.stock_edit_policy is StockEditPolicy.ACCEPT_CHANNEL_EDITS
        )
        if channel is None or config is None or not config.sync_enabled:
            # Nothing is sent while sync is off; turning it on marks everything again.
            await self.finish(everything)
            return
        try:
            port = self.relay.connector.connect(channel, config, sealed)
        except ChannelMisconfigured as failure:
            await self.failed(everything, "connect", failure, 0)
            return
        self.limits = port.limits
        listings = self.of(OutboxKind.LISTING)
        for n, listing in enumerate(listings):
            if n and self.relay.monotonic() >= self.deadline:  # one at least, however slow
                await self.release(listings[n:])
                break
            await self.keep_claim()
            await self.publish(port, channel, listing)
        await self.push_quantities(port, channel, self.of(OutboxKind.QUANTITY))
        await self.push_prices(port, channel, config, self.of(OutboxKind.PRICE))
        for shipment in self.of(OutboxKind.SHIPMENT):
            await self.ship(port, shipment)
        await self.cancel_lines(port, self.of(OutboxKind.LINE_CANCEL))

    async def release(self, keyed: Sequence[_Keyed]) -> None:
        async with self.relay.uow() as uow:
            await uow.outbox.release([i for k in keyed for i in k.ids], self.relay.clock())
            await uow.commit()

    async def keep_claim(self) -> None:
        """A run held up by the channel's rate limit renews its claim now and then, so the
        sweep never takes its rows for stuck and hands them to another relay."""
        if self.relay.monotonic() - self.kept_at < KEEP_CLAIM_SECONDS:
            return
        async with self.relay.uow() as uow:
            await uow.outbox.keep(
                [i for k in self.keyed.values() for i in k.ids], self.relay.clock()
            )
            await uow.commit()
        self.kept_at = self.relay.monotonic()

    # Shipments -------------------------------------------------------------------------------

    async def ship(self, port: ChannelPort, keyed: _Keyed) -> None:
        async with self.relay.uow(readonly=True) as uow:
            shipment = await uow.orders.get_shipment(uuid.UUID(keyed.key))
            order = await uow.orders.get(shipment.order_id) if shipment else None
        if shipment is None or order is None or shipment.channel_shipment_id is not None:
            await self.finish([keyed])  # gone, or already told
            return
        by_id = {line.id: line for line in order.lines}
        notice = ShipmentNotice(
            order_refs={"order_id": order.external_id},
            lines=tuple(
                (by_id[line_id].channel_line_id, quantity)
                for line_id, quantity in shipment.lines
                if line_id in by_id
            ),
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
        )
        started = self.relay.monotonic()
        try:
            channel_id = await port.confirm_shipment(notice)
        except ChannelFailure as failure:
            await self.failed([keyed], "confirm_shipment", failure, self.elapsed(started))
            return
        async with self.relay.uow() as uow:
            await uow.orders.set_channel_shipment(shipment.id, channel_id)
            await self.done(uow, [keyed], "confirm_shipment", CallOutcome.OK, started)
            await uow.commit()

    # Line cancellations ----------------------------------------------------------------------

    async def cancel_lines(self, port: ChannelPort, keyed: Sequence[_Keyed]) -> None:
        """Tell the channel order lines the hub cancelled will not ship (key: a line id),
        one call per order: an order cancelled whole is cancelled whole on the channel."""
        groups: dict[uuid.UUID, tuple[Order, list[_Keyed]]] = {}
        gone: list[_Keyed] = []
        async with self.relay.uow(readonly=True) as uow:
            for one in keyed:
                order = await uow.orders.by_line(uuid.UUID(one.key))
                line = (
                    next((ln for ln in order.lines if str(ln.id) == one.key), None)
                    if order
                    else None
                )
                if order is None or line is None or line.status is not LineStatus.CANCELLED:
                    gone.append(one)  # gone, or not cancelled after all: nothing to tell
                    continue
                groups.setdefault(order.id, (order, []))[1].append(one)
            conflicts = {o: await uow.orders.conflicts(o) for o in groups}
        await self.finish(gone)
        for order_id, (order, told) in groups.items():
            await self.cancel_order_lines(port, order, told, conflicts[order_id])

    async def cancel_order_lines(
        self,
        port: ChannelPort,
        order: Order,
        keyed: Sequence[_Keyed],
        conflicts: Sequence[Conflict],
    ) -> None:
        wanted = {k.key for k in keyed}
        lines = [ln for ln in order.lines if str(ln.id) in wanted]
        why = [c.resolution for c in conflicts if str(c.line_id) in wanted]
        whole = all(
            ln.status is LineStatus.CANCELLED and not ln.shipped_quantity for ln in order.lines
        )
        notice = LineCancelNotice(
            order_refs={"order_id": order.external_id},
            lines=tuple(ln.channel_line_id for ln in lines),
            reason=(why[-1] if why else "cancelled in Nexo")[:255],
            whole_order=whole and order.status is OrderStatus.CANCELLED,
        )
        started = self.relay.monotonic()
        try:
            await port.cancel_lines(notice)
        except ChannelFailure as failure:
            await self.failed(keyed, "cancel_lines", failure, self.elapsed(started))
            return
        async with self.relay.uow() as uow:
            await self.done(uow, keyed, "cancel_lines", CallOutcome.OK, started)
            await uow.commit()

    # Listings --------------------------------------------------------------------------------

    async def publish(self, port: ChannelPort, channel: Channel, keyed: _Keyed) -> None:
        now = self.relay.clock()
        async with self.relay.uow(readonly=True) as uow:
            listing = await uow.listings.get(uuid.UUID(keyed.key))
            rendered = None
            if listing is not None and listing.status is not ListingStatus.ENDED:
                try:
                    rendered = await render(
                        uow, listing.product_id, channel.id, self.relay.formats, now=now
                    )
                except DomainError:
                    rendered = None
        if listing is None or listing.status is ListingStatus.ERROR:
            await self.finish([keyed])
            return
        known = ListingRefs(listing.external_id, {i.sku: i.refs for i in listing.items})
        started = self.relay.monotonic()
        if listing.status is ListingStatus.ENDED or rendered is None:
            try:
                await port.end_listing(known)
            except ChannelFailure as failure:
                await self.failed([keyed], "end_listing", failure, self.elapsed(started))
                return
            async with self.relay.uow() as uow:
                await uow.listings.record_published(
                    listing.id, status=ListingStatus.ENDED, external_id=listing.external_id,
                    content_hash=listing.confirmed_content_hash, refs={}, at=now,
                )  # fmt: skip
                await self.done(uow, [keyed], "end_listing", CallOutcome.OK, started)
                await uow.commit()
            return
        if rendered.listing.problems:
            async with self.relay.uow() as uow:
                await uow.listings.set_status(
                    listing.id, ListingStatus.ERROR, rendered.listing.problems, now
                )
                await uow.outbox.finish(keyed.ids)
                await uow.commit()
            return
        try:
            refs = await port.upsert_listing(rendered.draft, rendered.requests, known)
        except ChannelRejected as failure:
            problem = Problem("channel", failure.message, "CHANNEL_REJECTED")
            async with self.relay.uow() as uow:
                await uow.listings.set_status(listing.id, ListingStatus.ERROR, [problem], now)
                await self.done(
                    uow, [keyed], "upsert_listing", CallOutcome.REJECTED, started, failure.message
                )
                await uow.commit()
            return
        except ChannelFailure as failure:
            await self.failed([keyed], "upsert_listing", failure, self.elapsed(started))
            return
        async with self.relay.uow() as uow:
            await uow.listings.record_published(
                listing.id, status=ListingStatus.ACTIVE, external_id=refs.listing_id,
                content_hash=rendered.listing.content_hash, refs=refs.sku_ids, at=now,
            )  # fmt: skip
            confirmed = [(v.sku, None, v.price) for v in rendered.draft.variants]
            await uow.listings.confirm(channel.id, confirmed, now)
            await self.done(uow, [keyed], "upsert_listing", CallOutcome.OK, started)
            # Quantities go out through the channel's stock call, now that the SKUs have ids.
            skus = [v.sku for v in rendered.draft.variants]
            await mark_dirty(uow, [Dirty(channel.id, OutboxKind.QUANTITY, s) for s in skus], now)
            await uow.commit()
        self.republished.update(skus)

    # Quantities ------------------------------------------------------------------------------

    async def push_quantities(
        self, port: ChannelPort, channel: Channel, keyed: list[_Keyed]
    ) -> None:
        await self.finish([k for k in keyed if k.key in self.republished])
        keyed = [k for k in keyed if k.key not in self.republished]
        if not keyed:
            return
        intended = await self.intended_quantities(channel, [k.key for k in keyed])
        updates: list[tuple[_Keyed, QuantityUpdate]] = []
        idle: list[_Keyed] = []
        for slot in keyed:
            update = intended.get(slot.key)
            if update is None:
                idle.append(slot)  # not on the channel (yet): its publication sends it
                continue
            updates.append((slot, update))
        await self.finish(idle)
        size = port.limits.quantities_per_call
        for start in range(0, len(updates), size):
            await self.keep_claim()
            await self.send_quantities(port, channel, updates[start : start + size])

    async def intended_quantities(
        self, channel: Channel, skus: list[str]
    ) -> dict[str, QuantityUpdate]:
        """What the channel should show now for each SKU it lists, read fresh from the hub."""
        async with self.relay.uow(readonly=True) as uow:
            items = await uow.listings.items_on(channel.id, skus)
            snapshots = await uow.inventory.snapshots(skus)
            overrides = await uow.channels.overrides_for(skus)
        intended: dict[str, QuantityUpdate] = {}
        for sku in skus:
            found = items.get(sku)
            snapshot = snapshots.get(sku)
            if found is None or snapshot is None or not _sendable(*found):
                continue
            entry = ChannelForSku(channel, overrides.get((channel.id, sku)))
            item = found[1]
            quantity = availability_on(snapshot, entry).quantity
            intended[sku] = QuantityUpdate(sku, quantity, item.refs, item.confirmed_quantity)
        return intended

    async def send_quantities(
        self, port: ChannelPort, channel: Channel, batch: list[tuple[_Keyed, QuantityUpdate]]
    ) -> None:
        slots = {u.sku: s for s, u in batch}
        sent = {u.sku: u for _, u in batch}
        await self.record_pushes([u for _, u in batch])
        started = self.relay.monotonic()
        try:
            results = await port.push_quantities([u for _, u in batch])
        except ChannelFailure as failure:
            await self.failed(
                list(slots.values()), "push_quantities", failure, self.elapsed(started)
            )
            return
        if not self.accepts_edits:
            results = await self.set_over(port, channel, results, sent)
        results = [
            r if r.confirmed_quantity is not None or r.outcome is not Outcome.CONFIRMED
            else KeyResult(r.sku, r.outcome, r.message, sent[r.sku].quantity, r.confirmed_price)
            for r in results
        ]  # fmt: skip
        # Accepting edits, a figure the channel reported while the call was out is newer
        # than the call's own confirmation (see `echoes`); it stays.
        expected = {sku: u.previous for sku, u in sent.items()} if self.accepts_edits else None
        await self.settle(
            slots, results, "push_quantities", started, quantities=True, expected=expected
        )

    async def record_pushes(self, updates: Sequence[QuantityUpdate]) -> None:
        """Each figure is recorded before it goes out: a crash during the call loses its
        outcome, never the fact that Nexo sent it, so the shop's echo of it is known."""
        now = self.relay.clock()
        async with self.relay.uow() as uow:
            pushed = [(u.sku, u.quantity) for u in updates]
            await uow.pushes.record(self.channel_id, pushed, now, now - ECHO_WINDOW)
            await uow.commit()

    async def set_over(
        self,
        port: ChannelPort,
        channel: Channel,
        results: list[KeyResult],
        sent: dict[str, QuantityUpdate],
    ) -> list[KeyResult]:
        """Hub wins a lost compare-and-set: the channel's number moved under us (its own edit,
        or another relay's push of a newer value). Read the channel's number first and the
        hub's *current* one after it — never reuse the value read before the call, which may
        be older than what another relay has set since — and set it over the channel's."""
        by_sku = {r.sku: r for r in results}
        for _ in range(STALE_ROUNDS):
            stale = [sku for sku, r in by_sku.items() if r.outcome is Outcome.STALE]
            if not stale:
                break
            try:
                levels = await port.read_levels({sku: sent[sku].refs for sku in stale})
                intended = await self.intended_quantities(channel, stale)
                again = [
                    replace(intended[lv.sku], previous=lv.quantity)
                    for lv in levels
                    if lv.sku in intended
                ]
                await self.record_pushes(again)
                retried = await port.push_quantities(again)
            except ChannelFailure:
                break
            sent.update((u.sku, u) for u in again)
            by_sku.update((r.sku, r) for r in retried)
        return list(by_sku.values())

    # Prices ----------------------------------------------------------------------------------

    async def push_prices(
        self, port: ChannelPort, channel: Channel, config: ChannelConfig, keyed: list[_Keyed]
    ) -> None:
        if not keyed:
            return
        skus = [k.key for k in keyed]
        now = self.relay.clock()
        async with self.relay.uow(readonly=True) as uow:
            items = await uow.listings.items_on(channel.id, skus)
            variants = await uow.catalog.variants_by_sku(skus)
            book = PriceBook(
                rates=await uow.pricing.rates(),
                overrides=await uow.pricing.overrides(skus),
                sales=await uow.pricing.sales(skus),
                now=now,
            )
        updates: list[tuple[_Keyed, PriceUpdate]] = []
        idle: list[_Keyed] = []
        for slot in keyed:
            found = items.get(slot.key)
            variant = variants.get(slot.key)
            if found is None or variant is None or not _sendable(*found):
                idle.append(slot)
                continue
            try:
                price = price_on(variant, channel, config, book)
            except DomainError:
                idle.append(slot)  # the listing shows the problem; nothing valid to send
                continue
            listing, item = found
            listing_refs = {"listing_id": listing.external_id} if listing.external_id else {}
            updates.append(
                (
                    slot,
                    PriceUpdate(slot.key, price.price, price.compare_at, item.refs, listing_refs),
                )
            )
        await self.finish(idle)
        size = port.limits.prices_per_call
        for start in range(0, len(updates), size):
            await self.keep_claim()
            batch = updates[start : start + size]
            slots = {u.sku: s for s, u in batch}
            started = self.relay.monotonic()
            try:
                results = await port.push_prices([u for _, u in batch])
            except ChannelFailure as failure:
                await self.failed(
                    list(slots.values()), "push_prices", failure, self.elapsed(started)
                )
                continue
            prices = {u.sku: u.price for _, u in batch}
            results = [
                r if r.confirmed_price or r.outcome is not Outcome.CONFIRMED
                else KeyResult(r.sku, r.outcome, r.message, None, prices[r.sku])
                for r in results
            ]  # fmt: skip
            await self.settle(slots, results, "push_prices", started, quantities=False)

    # Outcomes --------------------------------------------------------------------------------

    async def settle(
        self,
        slots: dict[str, _Keyed],
        results: list[KeyResult],
        operation: str,
        started: float,
        *,
        quantities: bool,
        expected: dict[str, int | None] | None = None,
    ) -> None:
        now = self.relay.clock()
        confirmed = [r for r in results if r.outcome is Outcome.CONFIRMED]
        rejected = [r for r in results if r.outcome is Outcome.REJECTED]
        stale = [r for r in results if r.outcome is Outcome.STALE]
        deferred = [r for r in results if r.outcome is Outcome.DEFERRED]
        answered = {r.sku for r in results}
        unanswered = [s for sku, s in slots.items() if sku not in answered]
        outcome = CallOutcome.OK if not rejected else CallOutcome.PARTIAL
        message = "; ".join(f"{r.sku}: {r.message}" for r in rejected)[:2000] or None
        async with self.relay.uow() as uow:
            if expected is None:
                await uow.listings.confirm(
                    self.channel_id,
                    [
                        (r.sku, r.confirmed_quantity if quantities else None, r.confirmed_price)
                        for r in confirmed
                    ],
                    now,
                )
            else:
                moves = [
                    (r.sku, expected.get(r.sku), r.confirmed_quantity)
                    for r in confirmed
                    if r.confirmed_quantity is not None
                ]
                await uow.listings.confirm_quantities_from(self.channel_id, moves, now)
            await uow.outbox.finish([i for r in confirmed + rejected for i in slots[r.sku].ids])
            for r in deferred:
                # Not a failure, no attempt spent: the key waits out the channel's budget and
                # its latest figure is sent then (marks made meanwhile join it).
                at = now + timedelta(seconds=max(r.retry_after or 0.0, 1.0))
                await uow.outbox.release(slots[r.sku].ids, at)
            # Older marks of a key waiting out a retry are settled by this confirmation too:
            # left, a busy key's rows would gather refusals from later episodes and be buried.
            kind = OutboxKind.QUANTITY if quantities else OutboxKind.PRICE
            await uow.outbox.finish_waiting(self.channel_id, kind, [r.sku for r in confirmed])
            await self.log(uow, operation, list(slots), outcome, started, message)
            for r in rejected:
                await self.alert(uow, slots[r.sku], r.message or "rejected", now)
            if stale and quantities and self.accepts_edits:
                # One read per refused set of SKUs per slot: another set's read covers none
                # of these.
                refused = sorted(r.sku for r in stale)
                slot = int(now.timestamp() // STALE_READ_SECONDS)
                which = hashlib.sha1("\n".join(refused).encode()).hexdigest()[:16]
                job_id = f"{RECHECK_JOB}:{self.channel_id}:stale:{slot}:{which}"
                uow.enqueue_after_commit(RECHECK_JOB, str(self.channel_id), refused, job_id=job_id)
            await uow.commit()
        if unanswered:
            failure = ChannelFailure("the channel did not answer for these; retrying")
            await self.failed(unanswered, operation, failure, 0, log=False)
        if stale:
            retry = [slots[r.sku] for r in stale]
            # Accepting edits, not the channel failing: the figure compared with is behind,
            # and the read the refusal asked for brings it up to date (a drop may wait there
            # for the channel's orders). The retry follows that read, not a back-off; one
            # still stale after every attempt is dead-lettered and alerted, never looped on.
            reads = quantities and self.accepts_edits
            failure = ChannelFailure(
                "the channel's value kept moving; retrying",
                retry_after=STALE_READ_SECONDS if reads else None,
            )
            await self.failed(retry, operation, failure, 0, log=False)

    async def finish(self, keyed: Sequence[_Keyed]) -> None:
        if not keyed:
            return
        async with self.relay.uow() as uow:
            await uow.outbox.finish([i for k in keyed for i in k.ids])
            await uow.commit()

    async def done(
        self,
        uow: UnitOfWork,
        keyed: Sequence[_Keyed],
        operation: str,
        outcome: CallOutcome,
        started: float,
        message: str | None = None,
    ) -> None:
        await uow.outbox.finish([i for k in keyed for i in k.ids])
        await self.log(uow, operation, [k.key for k in keyed], outcome, started, message)

    async def failed(
        self,
        keyed: Sequence[_Keyed],
        operation: str,
        failure: ChannelFailure,
        latency_ms: int,
        *,
        log: bool = True,
    ) -> None:
        now = self.relay.clock()
        outcome = outcome_of(failure)
        # A throttle is the channel asking to wait, not a failure of the call: it takes none
        # of a row's attempts, whatever the time the channel asks for (the fault harness saw a
        # shipment's confirmation dead-lettered by throttles after a minute's outage).
        throttled = isinstance(failure, ChannelThrottled)
        async with self.relay.uow() as uow:
            buried: list[_Keyed] = []
            for slot in keyed:
                attempts = slot.attempts + (0 if throttled else 1)
                if isinstance(failure, ChannelRejected) or (
                    not throttled and attempts >= self.relay.max_attempts
                ):
                    buried.append(slot)
                    continue
                at = now + self.relay.backoff(max(attempts, 1), failure.retry_after)
                await uow.outbox.retry(slot.ids, failure.message, at, counted=not throttled)
            for slot in buried:
                await uow.outbox.bury(slot.ids, failure.message)
                await self.alert(uow, slot, failure.message, now)
            if log:
                attempt = max((k.attempts for k in keyed), default=0) + 1
                await self.log(
                    uow, operation, [k.key for k in keyed], outcome, None, failure.message,
                    attempt=attempt, latency_ms=latency_ms,
                )  # fmt: skip
            if buried:
                dead = [k.key for k in buried]
                await self.log(
                    uow, operation, dead, CallOutcome.DEAD, None, failure.message,
                    attempt=self.relay.max_attempts, latency_ms=0,
                )  # fmt: skip
            await uow.commit()

    async def alert(self, uow: UnitOfWork, slot: _Keyed, message: str, now: datetime) -> None:
        sku = await self.sku_of(uow, slot)
        alert = Alert(
            id=uuid.uuid4(), kind=AlertKind.SYNC_FAILED, sku=sku, available=0, threshold=None,
            created_at=now, channel_id=self.channel_id,
            message=f"{slot.kind.value} {slot.key}: {message}"[:2000],
        )  # fmt: skip
        await uow.alerts.add(alert)
        uow.emit(alert_raised(alert))

    async def sku_of(self, uow: UnitOfWork, slot: _Keyed) -> str | None:
        """The SKU an alert about a row names: its key, or the SKU its listing, shipment or
        order line is about."""
        if slot.kind in (OutboxKind.QUANTITY, OutboxKind.PRICE):
            return slot.key
        if slot.kind is OutboxKind.LISTING:
            listing = await uow.listings.get(uuid.UUID(slot.key))
            return listing.items[0].sku if listing is not None and listing.items else None
        if slot.kind is OutboxKind.SHIPMENT:
            shipment = await uow.orders.get_shipment(uuid.UUID(slot.key))
            order = await uow.orders.get(shipment.order_id) if shipment else None
            if shipment is None or order is None:
                return None
            lines = {line.id: line for line in order.lines}
            shipped = [lines[line_id].sku for line_id, _ in shipment.lines if line_id in lines]
            return next((sku for sku in shipped if sku), None)
        order = await uow.orders.by_line(uuid.UUID(slot.key))
        line = next((ln for ln in order.lines if str(ln.id) == slot.key), None) if order else None
        return line.sku if line is not None else None

    # Sync log --------------------------------------------------------------------------------

    def elapsed(self, started: float) -> int:
        return int((self.relay.monotonic() - started) * 1000)

    async def log(
        self,
        uow: UnitOfWork,
        operation: str,
        keys: list[str],
        outcome: CallOutcome,
        started: float | None,
        message: str | None = None,
        *,
        attempt: int | None = None,
        latency_ms: int | None = None,
    ) -> None:
        wanted = set(keys)
        attempts = [k.attempts for k in self.keyed.values() if k.key in wanted]
        call = SyncCall(
            id=uuid.uuid4(),
            channel_id=self.channel_id,
            operation=operation,
            keys=tuple(keys[:100]),
            outcome=outcome,
            attempt=attempt if attempt is not None else max(attempts, default=0) + 1,
            latency_ms=latency_ms if latency_ms is not None else self.elapsed(started or 0.0),
            message=message,
            created_at=self.relay.clock(),
        )
        await uow.sync_log.add([call])
        uow.emit(sync_event(call))


def _sendable(listing: Listing, item: ListingItem) -> bool:
    """A SKU goes out once its listing is on the channel (the channel gave it ids)."""
    return bool(item.refs) and listing.status in (ListingStatus.ACTIVE, ListingStatus.PENDING)


def sync_event(call: SyncCall) -> Event:
    return Event(
        SYNC_TOPIC,
        {
            "id": str(call.id),
            "channelId": str(call.channel_id),
            "operation": call.operation,
            "keys": list(call.keys[:20]),
            "outcome": call.outcome.value,
            "attempt": call.attempt,
            "latencyMs": call.latency_ms,
            "message": call.message,
            "createdAt": call.created_at.isoformat(),
        },
    )
