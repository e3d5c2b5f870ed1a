"""Marking what channels must hear about, in the transaction that changed it.

A mark says "this key is dirty on this channel"; the relay later sends the latest intended
state. A key already waiting is not marked twice, so a burst of changes to one SKU costs
one row and one channel call. A relay run is requested after commit only when a mark is
new: a waiting mark already has one coming (and the periodic sweep catches lost requests).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.channels.listing import Listing, ListingStatus
from domain.jobs import DRAIN_JOB
from domain.ports import UnitOfWork


class OutboxKind(StrEnum):
    QUANTITY = "quantity"  # key: a SKU
    PRICE = "price"  # key: a SKU
    LISTING = "listing"  # key: a listing id (create, replace or end it)
    SHIPMENT = "shipment"  # key: a shipment id (tell the channel it shipped, with tracking)
    LINE_CANCEL = "line_cancel"  # key: an order line id (tell the channel it will not ship)


@dataclass(frozen=True, slots=True)
class Dirty:
    """Mark one key dirty on one channel."""

    channel_id: uuid.UUID
    kind: OutboxKind
    key: str


async def mark_dirty(uow: UnitOfWork, dirty: Sequence[Dirty], now: datetime) -> None:
    if not dirty:
        return
    for channel_id in sorted(await uow.outbox.mark(dirty, now)):
        uow.enqueue_after_commit(DRAIN_JOB, str(channel_id))


def listing_dirty(listings: Iterable[Listing]) -> list[Dirty]:
    """What changed listings need sent: the whole listing, or only prices and quantities."""
    dirty: list[Dirty] = []
    for listing in listings:
        if listing.status is ListingStatus.ERROR:
            continue  # never sent half-valid
        if listing.status is ListingStatus.ENDED:
            if listing.external_id is not None:
                dirty.append(Dirty(listing.channel_id, OutboxKind.LISTING, str(listing.id)))
            continue
        if listing.content_hash != listing.confirmed_content_hash:
            dirty.append(Dirty(listing.channel_id, OutboxKind.LISTING, str(listing.id)))
            continue
        for item in listing.items:
            if item.intended_price != item.confirmed_price:
                dirty.append(Dirty(listing.channel_id, OutboxKind.PRICE, item.sku))
            if item.intended_quantity != item.confirmed_quantity:
                dirty.append(Dirty(listing.channel_id, OutboxKind.QUANTITY, item.sku))
    return dirty
