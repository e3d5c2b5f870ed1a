"""A parcel's packing slip: what goes in the box and where it goes. For a parcel of several
orders (a grouped shipment) it lists each order with its channel and its own lines; the
address is the one they all ship to. Bins are where the units were picked from."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.errors import NotFound
from domain.orders.model import OrderLine, Shipment
from domain.ports import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class SlipLine:
    sku: str | None
    channel_sku: str | None
    quantity: int
    bin: str | None


@dataclass(frozen=True, slots=True)
class SlipOrder:
    order_id: uuid.UUID
    number: str | None
    channel: str
    lines: tuple[SlipLine, ...]


@dataclass(frozen=True, slots=True)
class PackingSlip:
    parcel_id: uuid.UUID
    carrier: str
    tracking_number: str
    shipped_from: str  # the location's name and code
    shipped_at: datetime
    customer: str | None
    ship_to: Mapping[str, str | None]
    orders: tuple[SlipOrder, ...]


async def packing_slip(uows: UnitOfWorkFactory, parcel_or_shipment: uuid.UUID) -> PackingSlip:
    """The slip of a parcel, named by its id or by the id of one of its shipments."""
    async with uows(readonly=True) as uow:
        shipment = await uow.orders.get_shipment(parcel_or_shipment)
        parcel = shipment.parcel if shipment else parcel_or_shipment
        shipments = await uow.orders.parcel(parcel)
        if not shipments:
            raise NotFound(f"no shipment or parcel {parcel_or_shipment}", field="parcelId")
        orders = {o.id: o for o in await uow.orders.get_many([s.order_id for s in shipments])}
        first = shipments[0]
        location = await uow.inventory.get_location(first.location_id)
        skus = {ln.sku for o in orders.values() for ln in o.lines if ln.sku}
        bins = await uow.inventory.bins([(sku, first.location_id) for sku in skus])
        channels = {o.channel_id: await uow.channels.get(o.channel_id) for o in orders.values()}
    slip_orders = []
    for shipment in shipments:
        order = orders[shipment.order_id]
        channel = channels.get(order.channel_id)
        name = channel.name if channel else "?"
        lines = _lines(shipment, order.lines, bins)
        slip_orders.append(SlipOrder(order.id, order.number, name, lines))
    # A parcel goes to one address (`ship_parcel` checks those on record agree); an order with
    # none on record goes by the others'. Its shipments share one creation time, so no order
    # among them is "first": every buyer is named.
    shipped = [orders[s.order_id] for s in shipments]
    buyers = dict.fromkeys(o.customer.name for o in shipped if o.customer.name)
    ship_to = next((o.shipping_address for o in shipped if o.shipping_address), {})
    return PackingSlip(
        parcel_id=parcel, carrier=first.carrier, tracking_number=first.tracking_number,
        shipped_from=f"{location.name} ({location.code})" if location else "?",
        shipped_at=first.created_at, customer=", ".join(buyers) or None,
        ship_to=ship_to, orders=tuple(slip_orders),
    )  # fmt: skip


def _lines(
    shipment: Shipment, lines: Sequence[OrderLine], bins: Mapping[tuple[str, uuid.UUID], str]
) -> tuple[SlipLine, ...]:
    by_id = {ln.id: ln for ln in lines}
    found = []
    for line_id, quantity in shipment.lines:
        line = by_id.get(line_id)
        if line is not None:
            where = bins.get((line.sku, shipment.location_id)) if line.sku else None
            found.append(SlipLine(line.sku, line.channel_sku, quantity, where))
    return tuple(found)
