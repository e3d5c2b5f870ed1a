"""Pick and pack: the warehouse's steps between a line allocated and its parcel shipped.

A pick list batches the lines still to pick of many orders at one location by SKU (one bin
each), in the order a picker walks the bins, each slot saying which order lines it covers.
Picking then packing are marked per order line (a pick list's slot names its lines; a packer
packs an order's lines into its parcel): `picked` needs the line reserved at that location,
`packed` needs it picked. Both hold the reservation; stock leaves when the parcel ships
(`fulfilment`), which then wants a picked line packed, from where it was picked. Marking a
line again that is there already changes nothing; any line refused refuses them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.clock import Clock, utcnow
from domain.errors import DomainError, IllegalState, InvalidFields, InvalidInput, NotFound
from domain.inventory.bins import walk_order
from domain.orders.events import order_event
from domain.orders.fulfilment import SHIPPABLE, SHIPPING_LINES
from domain.orders.model import Order, OrderLine, PickStage, Transition
from domain.ports import UnitOfWork, UnitOfWorkFactory

MAX_PICK_ORDERS = 200
MAX_MARKED_LINES = 500


@dataclass(frozen=True, slots=True)
class PickLine:
    order_id: uuid.UUID
    order_number: str | None
    line_id: uuid.UUID
    quantity: int


@dataclass(frozen=True, slots=True)
class PickSlot:
    """One stop of the walk: a SKU in its bin, the units to take, the lines they are for."""

    sku: str
    bin: str | None
    quantity: int
    lines: tuple[PickLine, ...]


@dataclass(frozen=True, slots=True)
class PickList:
    location_id: uuid.UUID
    order_ids: tuple[uuid.UUID, ...]  # the orders it covers, placed first first
    slots: tuple[PickSlot, ...]


def to_pick(order: Order, line: OrderLine, location_id: uuid.UUID) -> bool:
    """Reserved at the location with units left to ship, and not picked yet."""
    return (
        order.status in SHIPPABLE
        and line.status in SHIPPING_LINES
        and line.reservation_id is not None
        and line.location_id == location_id
        and line.stage is None
        and line.sku is not None
        and line.left_to_ship > 0
    )


def batch(
    orders: Sequence[Order], location_id: uuid.UUID, bins: Mapping[str, str]
) -> tuple[PickSlot, ...]:
    """The orders' lines to pick at the location, one slot per SKU, in walking order (bins
    naturally sorted, SKUs without a bin last); lines in the orders' order."""
    by_sku: dict[str, list[PickLine]] = {}
    for order in orders:
        for line in order.lines:
            if to_pick(order, line, location_id):
                assert line.sku is not None
                by_sku.setdefault(line.sku, []).append(
                    PickLine(order.id, order.number, line.id, line.left_to_ship)
                )
    slots = [
        PickSlot(sku, bins.get(sku), sum(ln.quantity for ln in lines), tuple(lines))
        for sku, lines in by_sku.items()
    ]
    return tuple(sorted(slots, key=lambda s: (walk_order(s.bin), s.sku)))


async def pick_list(
    uows: UnitOfWorkFactory,
    *,
    location_id: uuid.UUID,
    order_ids: Sequence[uuid.UUID] | None = None,
    first: int | None = None,
) -> PickList:
    """The pick list of the orders named, or of the `first` orders waiting at the location
    (placed first first)."""
    if order_ids is not None and first is not None:
        raise InvalidInput(
            "name the orders (orderIds) or how many (first), not both", field="first"
        )
    if order_ids is not None and not 1 <= len(order_ids) <= MAX_PICK_ORDERS:
        raise InvalidInput(f"1 to {MAX_PICK_ORDERS} orders", field="orderIds")
    size = 50 if first is None else first
    if not 1 <= size <= MAX_PICK_ORDERS:
        raise InvalidInput(f"first is 1 to {MAX_PICK_ORDERS}", field="first")
    async with uows(readonly=True) as uow:
        if await uow.inventory.get_location(location_id) is None:
            raise NotFound(f"unknown location {location_id}", field="locationId")
        wanted = (
            list(dict.fromkeys(order_ids))
            if order_ids is not None
            else await uow.orders.orders_to_pick(location_id, size)
        )
        found = {o.id: o for o in await uow.orders.get_many(wanted)}
        missing = [n for n, i in enumerate(order_ids or ()) if i not in found]
        if missing:
            raise NotFound("unknown order", field=f"orderIds[{missing[0]}]")
        orders = sorted(found.values(), key=lambda o: (o.placed_at, o.id))
        skus = {ln.sku for o in orders for ln in o.lines if ln.sku and to_pick(o, ln, location_id)}
        bins = await uow.inventory.bins([(sku, location_id) for sku in skus])
    slots = batch(orders, location_id, {sku: b for (sku, _), b in bins.items()})
    covered = {ln.order_id for s in slots for ln in s.lines}
    return PickList(location_id, tuple(o.id for o in orders if o.id in covered), slots)


async def mark_picked(
    uows: UnitOfWorkFactory,
    *,
    location_id: uuid.UUID,
    line_ids: Sequence[uuid.UUID],
    actor: str,
    clock: Clock = utcnow,
) -> list[Order]:
    """The lines' units were taken from their bins at the location."""
    return await _advance(uows, location_id, line_ids, PickStage.PICKED, actor, clock)


async def mark_packed(
    uows: UnitOfWorkFactory,
    *,
    location_id: uuid.UUID,
    line_ids: Sequence[uuid.UUID],
    actor: str,
    clock: Clock = utcnow,
) -> list[Order]:
    """The picked lines' units are in their parcel, ready to ship."""
    return await _advance(uows, location_id, line_ids, PickStage.PACKED, actor, clock)


async def _advance(
    uows: UnitOfWorkFactory,
    location_id: uuid.UUID,
    line_ids: Sequence[uuid.UUID],
    to: PickStage,
    actor: str,
    clock: Clock,
) -> list[Order]:
    """Move the lines to `to`, all or none, under their orders' locks; the orders after."""
    if not 1 <= len(line_ids) <= MAX_MARKED_LINES:
        raise InvalidInput(f"1 to {MAX_MARKED_LINES} lines", field="lineIds")
    async with uows() as uow:
        location = await uow.inventory.get_location(location_id)
        if location is None:
            raise NotFound(f"unknown location {location_id}", field="locationId")
        owners = await uow.orders.line_orders(line_ids)
        orders = {o.id: o for o in await uow.orders.lock_many(list(set(owners.values())))}
        moved = _moved(orders, owners, line_ids, location_id, to)
        changed = await _record(uow, orders, moved, to, f"{to.value} at {location.code}", actor,
                                clock())  # fmt: skip
        if changed:
            await uow.commit()
    return [changed.get(i, orders[i]) for i in dict.fromkeys(owners[i] for i in line_ids)]


def _moved(
    orders: Mapping[uuid.UUID, Order],
    owners: Mapping[uuid.UUID, uuid.UUID],
    line_ids: Sequence[uuid.UUID],
    location_id: uuid.UUID,
    to: PickStage,
) -> dict[uuid.UUID, list[OrderLine]]:
    """Per order, its named lines moved to `to` (those there already left out); every line
    refused is reported at once, and then none moves."""
    moved: dict[uuid.UUID, list[OrderLine]] = {}
    errors: list[DomainError] = []
    for n, line_id in enumerate(line_ids):
        field = f"lineIds[{n}]"
        order = orders.get(owners.get(line_id, line_id))
        line = next((ln for ln in order.lines if ln.id == line_id), None) if order else None
        if order is None or line is None:
            errors.append(NotFound(f"unknown order line {line_id}", field=field))
        elif line_id in line_ids[:n]:
            errors.append(InvalidInput(f"line {line.channel_line_id} is named twice", field=field))
        else:
            refused = _refusal(order, line, location_id, to)
            if refused:
                errors.append(IllegalState(refused, field=field))
            elif line.stage is None or (to is PickStage.PACKED and line.stage is PickStage.PICKED):
                moved.setdefault(order.id, []).append(replace(line, stage=to))
    InvalidFields.raise_if_any(errors)
    return moved


def _refusal(order: Order, line: OrderLine, location_id: uuid.UUID, to: PickStage) -> str | None:
    """Why the line cannot be marked `to`, or None."""
    name = f"line {line.channel_line_id}"
    if order.status not in SHIPPABLE or line.status not in SHIPPING_LINES:
        return f"{name} is {line.status.value} (order {order.status.value}), not allocated"
    if line.reservation_id is None or line.location_id != location_id:
        return f"{name} is not allocated at this location"
    if to is PickStage.PACKED and line.stage is None:
        return f"{name} is not picked yet: pick it before it is packed"
    return None


async def _record(
    uow: UnitOfWork,
    orders: Mapping[uuid.UUID, Order],
    moved: Mapping[uuid.UUID, list[OrderLine]],
    to: PickStage,
    where: str,
    actor: str,
    now: datetime,
) -> dict[uuid.UUID, Order]:
    """Save the moved lines; each order's history and event say which."""
    updated: dict[uuid.UUID, Order] = {}
    for order_id, lines in sorted(moved.items(), key=lambda item: str(item[0])):
        current = orders[order_id]
        by_id = {ln.id: ln for ln in lines}
        order = replace(
            current, lines=tuple(by_id.get(ln.id, ln) for ln in current.lines), updated_at=now
        )
        what = ", ".join(f"{ln.sku} x{ln.left_to_ship}" for ln in lines)
        await uow.orders.save(order, lines)
        await uow.orders.add_transition(
            Transition(order.id, order.status, order.status, actor, f"{where}: {what}", now)
        )
        uow.emit(order_event(order, to.value, f"{where}: {what}"[:500]))
        updated[order_id] = order
    return updated
