"""Shipped by the channel: a parcel the channel labels and tracks (MercadoLibre's ME2) is
recorded in the hub as it reports it, through the same shipping path as every shipment.

When a channel's order says its channel shipped it (`ChannelOrder.shipped_by_channel`), what
the hub still holds reserved for the order ships under the channel's carrier and tracking
number (one shipment per location the lines are reserved at); an order not yet reserved is
reserved first, as its allocation would. When the channel saw the parcel arrive, the shipped
order is delivered. Told again (a repeated pull, a resent notification), nothing is left to
ship and a delivered order stays as it is: no change. A line the hub could not reserve stays
for the merchant to settle, as does an order the hub refuses to ship (its reason is kept).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from domain.channels.port import ChannelParcel
from domain.clock import Clock, utcnow
from domain.errors import DomainError
from domain.orders import allocation, allocation_due, delivery, fulfilment
from domain.orders.model import Order, OrderLine, OrderStatus
from domain.ports import UnitOfWorkFactory


async def follow(
    uows: UnitOfWorkFactory,
    order_id: uuid.UUID,
    parcel: ChannelParcel,
    *,
    actor: str,
    clock: Clock = utcnow,
) -> Order | None:
    """Record the channel's parcel of the order (and its delivery); returns the order as it
    now stands, or None when the hub refused to (the order is left as it was)."""
    try:
        return await _follow(uows, order_id, parcel, actor, clock)
    except DomainError:
        return None  # e.g. lines mid-pick elsewhere: the merchant ships them by hand


async def _follow(
    uows: UnitOfWorkFactory, order_id: uuid.UUID, parcel: ChannelParcel, actor: str, clock: Clock
) -> Order | None:
    async with uows(readonly=True) as uow:
        order = await uow.orders.get(order_id)
    if order is None:
        return None
    if allocation_due.waiting_lines(order):  # reserved first, as its allocation would
        order = await allocation.allocate(uows, order_id, actor=actor, clock=clock) or order
    by_location: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = {}
    for line in _left_to_ship(order.lines):
        assert line.location_id is not None  # a reserved line has its location
        by_location.setdefault(line.location_id, []).append((line.id, line.left_to_ship))
    for location_id, lines in sorted(by_location.items(), key=lambda kv: str(kv[0])):
        order, _ = await fulfilment.create_shipment(
            uows, order_id=order_id, lines=lines, location_id=location_id,
            carrier=parcel.carrier, tracking_number=parcel.tracking_number,
            key=f"channel-parcel:{order_id}:{location_id}:{parcel.tracking_number}",
            actor=actor, clock=clock,
        )  # fmt: skip
    if parcel.delivered and order.status is OrderStatus.SHIPPED:
        order = await delivery.mark_delivered(
            uows, order_id=order_id, actor=actor, reason="delivered, as the channel tracked it",
            clock=clock,
        )  # fmt: skip
    return order


def _left_to_ship(lines: Sequence[OrderLine]) -> list[OrderLine]:
    return [
        line
        for line in lines
        if line.status in fulfilment.SHIPPING_LINES
        and line.reservation_id is not None
        and line.location_id is not None
        and line.left_to_ship > 0
    ]
