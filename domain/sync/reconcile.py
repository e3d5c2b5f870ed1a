"""Reconciliation: read what a channel really shows, compare with what Nexo intends, repair.

Channels drift: a merchant edits stock in the channel's admin, an update was lost before
the outbox existed, a listing was changed by hand. A reconcile run reads the channel's live
quantities and prices of every SKU it lists, records what the channel shows as confirmed,
reports each drift in the sync log, and marks the drifted keys dirty so the relay sets
Nexo's numbers again (the hub wins). Accepting the channel's edits, a drift is taken into
the hub's stock instead. A lowered figure may be a sale whose order has not come in yet: the
run that first sees it records the sighting (see `drifts`) and asks for a pull of the
channel's orders; a later run decides it once a pull that started after the sighting has
read to the end, counting the sales since the figure it drifted from.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from domain.catalog.prices import PriceBook, price_on
from domain.channels.config import ChannelConfig
from domain.channels.listing import DriftSighting, ListingItem, ListingStatus
from domain.channels.model import Channel, ChannelForSku
from domain.channels.outbox import Dirty, OutboxKind, mark_dirty
from domain.channels.policies import StockEditPolicy
from domain.channels.port import ChannelFailure, ChannelLevel, ChannelPort
from domain.errors import DomainError
from domain.inventory import stock
from domain.inventory.events import availability_on
from domain.money import Money
from domain.orders.pull import request_pull
from domain.sync.drifts import (
    decidable,
    read_again_at,
    sales_since,
    sighted,
    unexplained,
)
from domain.sync.echoes import Sent, echo_of
from domain.sync.model import CallOutcome, SyncCall, outcome_of
from domain.sync.relay import Relay, sync_event
from domain.sync.stock_edits import EditAction, decide

PAGE = 250
Imported = Literal["imported", "not_imported", "awaiting_orders"]


@dataclass
class Drift:
    sku: str
    channel_quantity: int | None
    hub_quantity: int | None
    channel_price: str | None = None
    hub_price: str | None = None


@dataclass
class ReconcileReport:
    channel_id: uuid.UUID
    checked: int = 0
    drifts: list[Drift] = field(default_factory=list)
    awaiting_orders: list[str] = field(default_factory=list)  # lowered figures left as they are
    unpulled: list[str] = field(default_factory=list)  # decided without the orders they waited for
    recheck_at: datetime | None = None  # when the figures left waiting are to be read again
    failure: ChannelFailure | None = None  # the channel call that ended the run

    @property
    def error(self) -> str | None:
        return self.failure.message if self.failure is not None else None

    def wait(self, sku: str, sighting: DriftSighting, now: datetime) -> None:
        self.awaiting_orders.append(sku)
        due = read_again_at(sighting, now)
        self.recheck_at = due if self.recheck_at is None else min(self.recheck_at, due)


async def reconcile_channel(
    relay: Relay, channel_id: uuid.UUID, *, only: Sequence[str] | None = None
) -> ReconcileReport:
    """Read the channel's SKUs and repair, import or record each drift; `only`: just these
    and those whose lowered figure waits for the channel's orders (see `drifts`)."""
    report = ReconcileReport(channel_id)
    async with relay.uow(readonly=True) as uow:
        channel = await uow.channels.get(channel_id)
        config = await uow.channel_configs.get(channel_id)
        sealed = await uow.channel_configs.credentials(channel_id)
    if channel is None or config is None or not config.sync_enabled:
        return report
    started = relay.monotonic()
    try:
        port = relay.connector.connect(channel, config, sealed)
        run = _Run(relay, port, channel, config, report)
        after: str | None = None
        while True:
            listed = await run.read_listed(after, only)
            if not listed:
                break
            after = listed[-1].sku
            await run.reconcile(listed)
            if len(listed) < PAGE:
                break
    except ChannelFailure as failure:
        report.failure = failure
    await _log(relay, report, started)
    return report


@dataclass
class _Page:
    """What the hub knows of one page of the channel's listed SKUs, read after the channel:
    a figure the channel showed that Nexo sent was recorded as sent before it went out, so
    it is among the figures not heard back yet, or confirmed, by then. (Read before, a push
    made between the two reads came back from the channel as an edit of the stock.)"""

    items: dict[str, ListingItem]
    publishes: dict[str, int]
    prices: dict[str, Money]
    unheard: dict[str, list[Sent]]
    pulled: datetime | None


@dataclass
class _Verdicts:
    """What one page's run decided, written in one unit of work."""

    prices: list[tuple[str, int | None, Money | None]] = field(default_factory=list)
    # (SKU, the confirmed figure read after the channel, the figure the channel showed): set
    # only where no newer figure was confirmed since (a push's, settled meanwhile)
    quantities: list[tuple[str, int | None, int]] = field(default_factory=list)
    dirty: list[Dirty] = field(default_factory=list)
    sightings: list[tuple[str, DriftSighting]] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    waiting: bool = False  # a figure waits for the channel's orders: a pull is asked for


class _Run:
    def __init__(
        self,
        relay: Relay,
        port: ChannelPort,
        channel: Channel,
        config: ChannelConfig,
        report: ReconcileReport,
    ):
        self.relay, self.port, self.channel, self.report = relay, port, channel, report
        self.accepts_edits = config.stock_edit_policy is StockEditPolicy.ACCEPT_CHANNEL_EDITS
        self.config = config

    async def read_listed(self, after: str | None, only: Sequence[str] | None) -> list[ListingItem]:
        """The next page of the channel's listed SKUs, with the ids to read them by."""
        async with self.relay.uow(readonly=True) as uow:
            page = await uow.listings.listed_items(
                self.channel.id, after_sku=after, first=PAGE, sighted_or=only
            )
        return [item for _, item in page]

    async def read_hub(self, skus: list[str]) -> _Page:
        channel_id = self.channel.id
        async with self.relay.uow(readonly=True) as uow:
            items = await uow.listings.items_on(channel_id, skus)
            snapshots = await uow.inventory.snapshots(skus)
            overrides = await uow.channels.overrides_for(skus)
            variants = await uow.catalog.variants_by_sku(skus)
            unheard = await uow.pushes.unheard(channel_id, skus)
            pulled = await uow.orders.pulled_through(channel_id)
            book = PriceBook(
                rates=await uow.pricing.rates(),
                overrides=await uow.pricing.overrides(skus),
                sales=await uow.pricing.sales(skus),
                now=self.relay.clock(),
            )
        publishes: dict[str, int] = {}
        prices: dict[str, Money] = {}
        for sku in skus:
            snapshot = snapshots.get(sku)
            if snapshot is not None:
                entry = ChannelForSku(self.channel, overrides.get((channel_id, sku)))
                publishes[sku] = availability_on(snapshot, entry).quantity
            variant = variants.get(sku)
            if variant is not None:
                with suppress(DomainError):  # the listing shows the problem: no price
                    prices[sku] = price_on(variant, self.channel, self.config, book).price
        listed = {
            sku: item
            for sku, (listing, item) in items.items()
            if listing.status in (ListingStatus.ACTIVE, ListingStatus.PENDING)
        }
        return _Page(listed, publishes, prices, unheard, pulled)

    async def reconcile(self, listed: list[ListingItem]) -> None:
        refs = {item.sku: item.refs for item in listed if item.refs}
        read_at = self.relay.clock()
        levels = await self.port.read_levels(refs)
        # After the read: a pull that started after this saw every order behind these figures.
        seen_at = self.relay.clock()
        page = await self.read_hub(sorted(refs))
        verdicts = _Verdicts()
        for level in levels:
            item = page.items.get(level.sku)
            if item is not None and item.refs:  # (one unlisted since is left alone)
                self.report.checked += 1
                if item.confirmed_at is not None and item.confirmed_at > read_at:
                    continue  # the hub heard a newer figure while the channel was read
                await self.compare(page, item, level, seen_at, verdicts)
        now = self.relay.clock()
        async with self.relay.uow() as uow:
            await uow.listings.confirm(self.channel.id, verdicts.prices, now)
            await uow.listings.confirm_quantities_from(self.channel.id, verdicts.quantities, now)
            await uow.listings.sight(self.channel.id, verdicts.sightings)
            await uow.listings.forget_sightings(self.channel.id, verdicts.forgotten)
            await mark_dirty(uow, verdicts.dirty, now)
            if verdicts.waiting:
                request_pull(uow, self.channel.id, now)
            await uow.commit()

    async def compare(
        self,
        page: _Page,
        item: ListingItem,
        level: ChannelLevel,
        seen_at: datetime,
        verdicts: _Verdicts,
    ) -> None:
        sku = level.sku
        hub_quantity, hub_price = page.publishes.get(sku), page.prices.get(sku)
        drift = Drift(sku, level.quantity, hub_quantity)
        quantity_drifted = None not in (level.quantity, hub_quantity) and (
            level.quantity != hub_quantity
        )
        price_drifted = None not in (level.price, hub_price) and level.price != hub_price
        imported: Imported = "not_imported"
        if quantity_drifted and self.accepts_edits:
            # An edit the channel's webhook never brought: take it into the hub's stock, as
            # the inbox would have; the change then reaches every channel.
            imported = await self.import_edit(
                item, level.quantity or 0, hub_quantity or 0, page, seen_at
            )
        if imported == "awaiting_orders":
            self.wait(item, level.quantity or 0, seen_at, verdicts)
            quantity_drifted = False  # left as it is, unconfirmed: it is still to decide
        elif item.sighting is not None:
            verdicts.forgotten.append(sku)
        # An imported edit is pushed too: the relay may have sent the hub's new figure before
        # this run recorded what the channel shows, and been refused as stale.
        if quantity_drifted:
            verdicts.dirty.append(Dirty(self.channel.id, OutboxKind.QUANTITY, sku))
        if price_drifted:
            drift.channel_price, drift.hub_price = str(level.price), str(hub_price)
            verdicts.dirty.append(Dirty(self.channel.id, OutboxKind.PRICE, sku))
        if quantity_drifted or price_drifted:
            self.report.drifts.append(drift)
        verdicts.prices.append((sku, None, level.price))
        if imported != "awaiting_orders" and level.quantity is not None:
            verdicts.quantities.append((sku, item.confirmed_quantity, level.quantity))

    def wait(
        self, item: ListingItem, reported: int, seen_at: datetime, verdicts: _Verdicts
    ) -> None:
        """Leave a lowered figure for a later run: recorded the first time it is seen."""
        sighting = sighted(item, reported, seen_at)
        if sighting != item.sighting:
            verdicts.sightings.append((item.sku, sighting))
        verdicts.waiting = True
        self.report.wait(item.sku, sighting, seen_at)

    async def import_edit(
        self, item: ListingItem, reported: int, publishes: int, page: _Page, seen_at: datetime
    ) -> Imported:
        """Whether the channel's figure was taken into the hub's stock: never a figure the hub
        sent (its push, whose outcome may have been lost), only one it never sent; a lowered
        one only once the channel's orders from before it was first seen are in, less the
        sales since the figure it drifted from (they explain the drop, and are in already)."""
        decision = decide(
            StockEditPolicy.ACCEPT_CHANNEL_EDITS,
            reported=reported,
            publishes=publishes,
            confirmed=item.confirmed_quantity,
            echo=echo_of(reported, page.unheard.get(item.sku, [])) is not None,
        )
        if decision.action is not EditAction.APPLY or not self.channel.location_ids:
            return "not_imported"
        # One key per observed transition of the channel's figure: a run repeated after a
        # crash, or running beside this one, replays it instead of applying it twice.
        seen = item.confirmed_at.isoformat() if item.confirmed_at else "never"
        transition = f"{item.confirmed_quantity}@{seen}->{reported}"
        if not (reported < publishes or decision.delta < 0):
            return await self.apply(item, transition, reported, decision.delta)
        sighting = sighted(item, reported, seen_at)
        verdict = decidable(sighting, page.pulled, seen_at)
        if verdict == "waiting":
            return "awaiting_orders"
        if verdict == "unpulled":
            self.report.unpulled.append(item.sku)
        sold = 0
        if sighting.drifted_from is not None and sighting.drifted_at is not None:
            # (Never confirmed, the change is from what the hub publishes, which counts every
            # sale it has taken in already.)
            since = {item.sku: sales_since(sighting.drifted_at)}
            async with self.relay.uow(readonly=True) as uow:
                sold = (await uow.orders.units_sold(self.channel.id, since)).get(item.sku, 0)
        delta = unexplained(decision.delta, sold)
        if not delta:
            return "not_imported"  # the sales took it there: the hub's figure goes out
        transition = f"{sighting.drifted_from}->{reported}@{sighting.seen_at.isoformat()}"
        return await self.apply(item, transition, reported, delta, sold)

    async def apply(
        self, item: ListingItem, transition: str, reported: int, delta: int, sold: int = 0
    ) -> Imported:
        channel = self.channel
        key = f"reconcile:{channel.id}:{item.sku}:{transition}"
        before = reported - delta - sold
        try:
            await stock.channel_edit(
                self.relay.uow,
                sku=item.sku,
                location_id=channel.location_ids[0],
                delta=delta,
                key=key[:200],
                actor=f"channel:{channel.name}"[:100],
                detail=f"found by reconciliation on {channel.name}: {before} -> {reported}"
                + (f", {sold} sold on it since" if sold else ""),
                now=self.relay.clock(),
            )
        except DomainError:
            return "not_imported"  # e.g. on hand would go below reserved: the hub's goes back
        return "imported"


async def _log(relay: Relay, report: ReconcileReport, started: float) -> None:
    shown = "; ".join(
        f"{d.sku}: channel shows {d.channel_quantity}, hub publishes {d.hub_quantity}"
        + (f" (price {d.channel_price} vs {d.hub_price})" if d.channel_price else "")
        for d in report.drifts[:50]
    )
    if report.failure is not None:
        outcome, message = outcome_of(report.failure), report.failure.message
    else:
        outcome = CallOutcome.OK
        message = f"checked {report.checked}, drifted {len(report.drifts)}" + (
            f": {shown}" if shown else ""
        )
        if report.awaiting_orders:
            waiting = ", ".join(report.awaiting_orders[:50])
            message += f"; lowered, left until the channel's orders are pulled: {waiting}"
        if report.unpulled:
            unpulled = ", ".join(report.unpulled[:50])
            message += f"; decided without the channel's orders pulled: {unpulled}"
    call = SyncCall(
        id=uuid.uuid4(),
        channel_id=report.channel_id,
        operation="reconcile",
        keys=tuple(d.sku for d in report.drifts[:100]),
        outcome=outcome,
        attempt=1,
        latency_ms=int((relay.monotonic() - started) * 1000),
        message=message[:2000],
        created_at=relay.clock(),
    )
    async with relay.uow() as uow:
        await uow.sync_log.add([call])
        uow.emit(sync_event(call))
        await uow.commit()
