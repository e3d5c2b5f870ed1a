"""Reconciliation: read what a channel really shows, compare with what Nexo intends, repair.

Channels drift: a merchant edits stock in the channel's admin, an update was lost before
the outbox existed, a listing was changed by hand. A reconcile run reads the channel's live
quantities and prices of every SKU it lists, records what the channel shows as confirmed,
reports each drift in the sync log, and marks the drifted keys dirty so the relay sets
Nexo's numbers again (the hub wins).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from domain.catalog.channel_config import StockEditPolicy
from domain.catalog.listing import ListingItem
from domain.catalog.money import Money
from domain.catalog.prices import PriceBook, price_on
from domain.errors import DomainError
from domain.inventory import stock
from domain.inventory.channels import Channel, ChannelForSku
from domain.inventory.events import availability_on
from domain.sync.channel import ChannelFailure
from domain.sync.model import CallOutcome, Dirty, OutboxKind, SyncCall
from domain.sync.outbox import mark_dirty
from domain.sync.relay import Relay, sync_event
from domain.sync.stock_edits import EditAction, decide

PAGE = 250


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
    error: str | None = None


async def reconcile_channel(relay: Relay, channel_id: uuid.UUID) -> ReconcileReport:
    report = ReconcileReport(channel_id)
    async with relay.uow(readonly=True) as uow:
        channel = await uow.channels.get(channel_id)
        config = await uow.channel_configs.get(channel_id)
        sealed = await uow.channel_configs.credentials(channel_id)
    if channel is None or config is None or not config.sync_enabled:
        return report
    accepts_edits = config.stock_edit_policy is StockEditPolicy.ACCEPT_CHANNEL_EDITS
    started = relay.monotonic()
    try:
        port = relay.connector.connect(channel, config, sealed)
        after: str | None = None
        while True:
            async with relay.uow(readonly=True) as uow:
                page = await uow.listings.listed_items(channel_id, after_sku=after, first=PAGE)
                skus = [item.sku for _, item in page]
                snapshots = await uow.inventory.snapshots(skus)
                overrides = await uow.channels.overrides_for(skus)
                variants = await uow.catalog.variants_by_sku(skus)
                book = PriceBook(
                    rates=await uow.pricing.rates(),
                    overrides=await uow.pricing.overrides(skus),
                    sales=await uow.pricing.sales(skus),
                    now=relay.clock(),
                )
            if not page:
                break
            after = page[-1][1].sku
            listed: dict[str, ListingItem] = {item.sku: item for _, item in page if item.refs}
            levels = await port.read_levels({sku: item.refs for sku, item in listed.items()})
            now = relay.clock()
            dirty: list[Dirty] = []
            confirmed: list[tuple[str, int | None, Money | None]] = []
            for level in levels:
                if level.sku not in listed:
                    continue
                report.checked += 1
                snapshot = snapshots.get(level.sku)
                hub_quantity = None
                if snapshot is not None:
                    entry = ChannelForSku(channel, overrides.get((channel.id, level.sku)))
                    hub_quantity = availability_on(snapshot, entry).quantity
                hub_price = None
                variant = variants.get(level.sku)
                if variant is not None:
                    try:
                        hub_price = price_on(variant, channel, config, book).price
                    except DomainError:
                        hub_price = None
                drift = Drift(level.sku, level.quantity, hub_quantity)
                quantity_drifted = (
                    level.quantity is not None
                    and hub_quantity is not None
                    and level.quantity != hub_quantity
                )
                if quantity_drifted and accepts_edits:
                    # An edit the channel's webhook never brought: take it into the hub's
                    # stock, as the inbox would have; the change then reaches every channel.
                    item = listed[level.sku]
                    imported = await _import_edit(
                        relay,
                        channel,
                        item,
                        reported=level.quantity or 0,
                        publishes=hub_quantity or 0,
                    )
                    if imported:
                        quantity_drifted = False
                        report.drifts.append(Drift(level.sku, level.quantity, hub_quantity))
                price_drifted = None not in (level.price, hub_price) and level.price != hub_price
                if quantity_drifted:
                    dirty.append(Dirty(channel.id, OutboxKind.QUANTITY, level.sku))
                if price_drifted:
                    drift.channel_price, drift.hub_price = str(level.price), str(hub_price)
                    dirty.append(Dirty(channel.id, OutboxKind.PRICE, level.sku))
                if quantity_drifted or price_drifted:
                    report.drifts.append(drift)
                confirmed.append((level.sku, level.quantity, level.price))
            async with relay.uow() as uow:
                await uow.listings.confirm(channel.id, confirmed, now)
                await mark_dirty(uow, dirty, now)
                await uow.commit()
            if len(page) < PAGE:
                break
    except ChannelFailure as failure:
        report.error = failure.message
    await _log(relay, report, started)
    return report


async def _import_edit(
    relay: Relay, channel: Channel, item: ListingItem, *, reported: int, publishes: int
) -> bool:
    """Whether the channel's figure was taken into the hub's stock."""
    decision = decide(
        StockEditPolicy.ACCEPT_CHANNEL_EDITS,
        reported=reported,
        publishes=publishes,
        confirmed=item.confirmed_quantity,
    )
    if decision.action is not EditAction.APPLY or not channel.location_ids:
        return False
    # One key per observed transition of the channel's figure: a run repeated after a crash
    # replays it instead of applying it twice.
    seen = item.confirmed_at.isoformat() if item.confirmed_at else "never"
    key = f"reconcile:{channel.id}:{item.sku}:{item.confirmed_quantity}@{seen}->{reported}"
    try:
        await stock.channel_edit(
            relay.uow,
            sku=item.sku,
            location_id=channel.location_ids[0],
            delta=decision.delta,
            key=key[:200],
            actor=f"channel:{channel.name}"[:100],
            detail=f"found by reconciliation on {channel.name}: "
            f"{reported - decision.delta} -> {reported}",
            now=relay.clock(),
        )
    except DomainError:
        return False  # e.g. it would take on hand below reserved: the hub's figure goes back
    return True


async def _log(relay: Relay, report: ReconcileReport, started: float) -> None:
    shown = "; ".join(
        f"{d.sku}: channel shows {d.channel_quantity}, hub publishes {d.hub_quantity}"
        + (f" (price {d.channel_price} vs {d.hub_price})" if d.channel_price else "")
        for d in report.drifts[:50]
    )
    if report.error:
        outcome, message = CallOutcome.FAILED, report.error
    else:
        outcome = CallOutcome.OK
        message = f"checked {report.checked}, drifted {len(report.drifts)}" + (
            f": {shown}" if shown else ""
        )
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
