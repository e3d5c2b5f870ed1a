"""The shop's own stock updates after its sales, settled together.

A shop that sells sends its new figure for each line it sold (Shopify's
`inventory_levels/update`). Once the hub has taken the sales in, most of those updates need
nothing done: the channel shows what the hub publishes (in step), or the update is from
before a later sale the hub has taken, which sends its own (see `inbox._decide`). One by
one, each costs three transactions and a scan of the channel's listings; here a batch of
them is read in a few queries and settled in one transaction, with the same outcome as
`inbox.act_on` gives each: an in-step edit records its decision (no change) and moves the
figure the channel confirmed, an edit a sale superseded is ignored with the reason.
Anything else (a drop to hold, a push-back, an edit to apply, an edit some later edit was
decided after, a SKU that cannot be told) is left to `inbox.act_on`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.channels.model import ChannelForSku
from domain.channels.port import InboundKind, InboundStockEdit
from domain.inventory.events import availability_on
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.sync.echoes import Sent, echo_of, shown_after
from domain.sync.inbox import Processed, Read
from domain.sync.inbox_model import InboxStatus, Settlement
from domain.sync.stock_edits import EditAction, decide, skus_matching, sold_since


@dataclass(frozen=True, slots=True)
class _Edit:
    read: Read
    edit: InboundStockEdit
    sku: str
    confirmed: int | None
    shows: int  # the channel's figure once settled (see `echoes.shown_after`)
    echo: Sent | None
    settlement: Settlement


def _stock_edit(read: Read) -> InboundStockEdit | None:
    event, entry = read.event, read.entry
    if event.kind is not InboundKind.STOCK_EDIT or event.stock_edit is None:
        return None
    if entry.delta is not None or not read.config.sync_enabled:
        return None  # decided by an earlier run, or sync is off: `act_on` says so
    return event.stock_edit


async def settle_edits(
    uows: UnitOfWorkFactory, reads: Sequence[Read], now: datetime
) -> tuple[dict[uuid.UUID, Processed], list[Read]]:
    """Settle the stock edits among `reads` that need nothing done; the rest, in order."""
    edits = [(read, edit) for read in reads if (edit := _stock_edit(read)) is not None]
    if not edits:
        return {}, list(reads)
    async with uows(readonly=True) as uow:
        settling = await _decide(uow, edits)
    done: dict[uuid.UUID, Processed] = {}
    if settling:
        async with uows() as uow:
            done = await _settle(uow, settling, now)
            await uow.commit()
    return done, [read for read in reads if read.entry.id not in done]


async def _decide(uow: UnitOfWork, edits: Sequence[tuple[Read, InboundStockEdit]]) -> list[_Edit]:
    """The edits settled without a change, read in a few queries per channel."""
    by_channel: dict[uuid.UUID, list[tuple[Read, InboundStockEdit]]] = {}
    for read, edit in edits:
        by_channel.setdefault(read.channel.id, []).append((read, edit))
    settling: list[_Edit] = []
    for channel_id, found in by_channel.items():
        listed = await uow.inbox.listed_with_refs(channel_id, [e.sku_refs for _, e in found])
        matched = [(read, edit, skus_matching(edit.sku_refs, listed)) for read, edit in found]
        skus = sorted({skus[0] for _, _, skus in matched if len(skus) == 1})
        if not skus:
            continue
        snapshots = await uow.inventory.snapshots(skus)
        overrides = await uow.channels.overrides_for(skus)
        items = await uow.listings.items_on(channel_id, skus)
        since = min(edit.occurred_at for _, edit in found)
        sold = await uow.orders.last_sold(channel_id, skus, since=since)
        decided = await uow.inbox.last_decided(channel_id, skus)
        unheard = await uow.pushes.unheard(channel_id, skus)
        for read, edit, candidates in matched:
            if len(candidates) != 1:
                continue
            sku = candidates[0]
            snapshot, item = snapshots.get(sku), items.get(sku)
            if snapshot is None or item is None:
                continue
            later = decided.get(sku)
            if later is not None and later > edit.occurred_at:
                continue  # `act_on` finds the later edit and says so
            override = overrides.get((channel_id, sku))
            publishes = availability_on(snapshot, ChannelForSku(read.channel, override)).quantity
            confirmed = item[1].confirmed_quantity
            echo = echo_of(edit.quantity, unheard.get(sku, []))
            decision = decide(
                read.config.stock_edit_policy,
                reported=edit.quantity,
                publishes=publishes,
                confirmed=confirmed,
                echo=echo is not None,
            )
            superseded_by = sold_since(
                decision, read.channel.name, sku, edit.occurred_at, sold.get(sku)
            )
            if decision.action is EditAction.IN_STEP:  # decided: no change
                settlement = Settlement(
                    InboxStatus.PROCESSED, None, InboundKind.STOCK_EDIT, sku, edit.occurred_at, 0
                )
            elif superseded_by is not None:
                settlement = Settlement(
                    InboxStatus.IGNORED,
                    superseded_by,
                    InboundKind.STOCK_EDIT,
                    sku,
                    edit.occurred_at,
                )
            else:
                continue
            shows = shown_after(edit.quantity, confirmed, item[1].confirmed_at, echo)
            settling.append(_Edit(read, edit, sku, confirmed, shows, echo, settlement))
    return settling


async def _settle(
    uow: UnitOfWork, settling: Sequence[_Edit], now: datetime
) -> dict[uuid.UUID, Processed]:
    """In-step edits move the figure the channel confirmed (one move per SKU: they all
    report what the hub publishes; a late echo moves nothing); then all are settled, the
    in-step ones with their decision (no change), and the pushes they echo are heard. A SKU
    whose figure another decision moved meanwhile leaves its edits to `act_on`."""
    moves: dict[tuple[uuid.UUID, str], _Edit] = {}
    for one in settling:
        if one.settlement.status is InboxStatus.PROCESSED and (
            one.echo is None or one.shows != one.confirmed
        ):
            moves.setdefault((one.read.channel.id, one.sku), one)
    moved: set[tuple[uuid.UUID, str]] = set()
    for (channel_id, sku), one in sorted(moves.items(), key=lambda m: (str(m[0][0]), m[0][1])):
        if await uow.inbox.move_confirmed(channel_id, sku, one.confirmed, one.shows, now):
            moved.add((channel_id, sku))
    settled: list[tuple[uuid.UUID, Settlement]] = []
    heard: list[uuid.UUID] = []
    done: dict[uuid.UUID, Processed] = {}
    for one in settling:
        entry = one.read.entry
        if one.settlement.status is InboxStatus.PROCESSED and (
            (one.read.channel.id, one.sku) in moves and (one.read.channel.id, one.sku) not in moved
        ):
            continue
        settled.append((entry.id, one.settlement))
        if one.echo is not None and one.settlement.status is InboxStatus.PROCESSED:
            heard.append(one.echo.id)
        done[entry.id] = Processed(one.settlement.status, one.settlement.reason, one.sku)
    await uow.pushes.heard(heard)
    await uow.inbox.settle_many(settled, now)
    return done
