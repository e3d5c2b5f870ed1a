"""Shipping and returns: stock leaves (or comes back), and the channel is told.

A shipment names lines of an order with the units it ships of each (all of a line, or some:
2 of 5, the rest later), the location they leave from and the tracking number. Those units
of the lines' reservations are committed (on hand and reserved both drop, in the ledger),
and the channel hears about the shipment through the outbox (cancelling is `cancelling`).
Shipping more than is left to ship, from a location that does not hold
the line, or a line that is not reserved, are typed errors that change nothing. A parcel may
hold several orders going to one address (`ship_parcel`): one tracking number, and each
order's shipment of its own lines told to its own channel. A line picked (`picking`) ships
packed, from where it was picked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.channels.outbox import Dirty, OutboxKind, mark_dirty
from domain.clock import Clock, utcnow
from domain.errors import IllegalState, InvalidInput, InvalidQuantity, NotFound
from domain.inventory import committing, stock
from domain.inventory.committing import CommitPart
from domain.orders.allocation import order_status
from domain.orders.events import order_event
from domain.orders.groups import address_key
from domain.orders.model import (
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    PickStage,
    Shipment,
    Transition,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory

MAX_CARRIER = 100
MAX_TRACKING = 200
MAX_PARCEL_ORDERS = 50
SHIPPABLE = frozenset(
    {OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_ALLOCATED, OrderStatus.PARTIALLY_SHIPPED}
)
# Lines with units still reserved to ship.
SHIPPING_LINES = frozenset({LineStatus.ALLOCATED, LineStatus.PARTIALLY_SHIPPED})


@dataclass(frozen=True, slots=True)
class ParcelPart:
    """One order's lines in a parcel: (line id, units) each."""

    order_id: uuid.UUID
    lines: tuple[tuple[uuid.UUID, int], ...]


async def create_shipment(
    uows: UnitOfWorkFactory,
    *,
    order_id: uuid.UUID,
    lines: Sequence[tuple[uuid.UUID, int]],
    location_id: uuid.UUID,
    carrier: str,
    tracking_number: str,
    key: str,
    actor: str,
    clock: Clock = utcnow,
) -> tuple[Order, Shipment]:
    """Ship reserved lines, whole or some of their units, from one location; the channel
    gets the tracking number. A line shipped in part stays reserved for the rest."""
    [shipped] = await ship_parcel(
        uows, parts=[ParcelPart(order_id, tuple(lines))], location_id=location_id,
        carrier=carrier, tracking_number=tracking_number, key=key, actor=actor, clock=clock,
        grouped=False,
    )  # fmt: skip
    return shipped


async def ship_parcel(
    uows: UnitOfWorkFactory,
    *,
    parts: Sequence[ParcelPart],
    location_id: uuid.UUID,
    carrier: str,
    tracking_number: str,
    key: str,
    actor: str,
    clock: Clock = utcnow,
    grouped: bool = True,
) -> list[tuple[Order, Shipment]]:
    """Ship one parcel from one location: lines of one order, or of several going to one
    address (a grouped shipment, one tracking number). Each order gets its own shipment of
    its own lines, and its own channel is told of it as of any shipment. All or nothing.
    `grouped`: the parts are named `orders[n]` in errors, and share a parcel id."""
    carrier, tracking_number = _checked_label(carrier, tracking_number)
    orders = await _orders_of(uows, parts, grouped)
    replayed = await _recorded(uows, parts, tracking_number)
    if replayed is not None:
        return list(zip(orders, replayed, strict=True))  # the same parcel asked again
    if len(orders) > 1:
        _one_address(orders)
    commits: list[CommitPart] = []
    for n, (order, part) in enumerate(zip(orders, parts, strict=True)):
        prefix = f"orders[{n}]." if grouped else ""
        if order.status not in SHIPPABLE:
            raise IllegalState(
                f"a {order.status.value} order cannot ship", field=f"{prefix}orderId"
            )
        commits += _commit_parts(order, part.lines, location_id, prefix)
    await committing.commit_parts(
        uows, parts=commits, key=f"{key}:commit", actor=actor,
        detail=f"shipped by {carrier} {tracking_number}", clock=clock,
    )  # fmt: skip
    now = clock()
    parcel = uuid.uuid4() if grouped else None
    label = (location_id, carrier, tracking_number)
    shipments = [
        Shipment(uuid.uuid4(), part.order_id, *label, part.lines, now, parcel_id=parcel)
        for part in parts
    ]
    async with uows() as uow:
        locked = {o.id: o for o in await uow.orders.lock_many([p.order_id for p in parts])}
        # Asked twice at once: the second waited for the locks and finds the first's parcel.
        again = await _found(uow, parts, tracking_number)
        if again is not None:
            return [(locked[p.order_id], s) for p, s in zip(parts, again, strict=True)]
        shipped = []
        for n, shipment in enumerate(shipments):
            prefix = f"orders[{n}]." if grouped else ""
            order = await _record(uow, locked[shipment.order_id], shipment, prefix, actor, now)
            shipped.append((order, shipment))
        await uow.commit()
    return shipped


def _checked_label(carrier: str, tracking_number: str) -> tuple[str, str]:
    if not carrier.strip() or not tracking_number.strip():
        raise InvalidInput("a shipment has a carrier and a tracking number", field="trackingNumber")
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if len(carrier) > MAX_CARRIER or len(tracking_number) > MAX_TRACKING:
        raise InvalidInput(
            f"a carrier has at most {MAX_CARRIER} characters, a tracking number {MAX_TRACKING}",
            field="trackingNumber",
        )
    return carrier, tracking_number


async def _orders_of(
    uows: UnitOfWorkFactory, parts: Sequence[ParcelPart], grouped: bool
) -> list[Order]:
    """The parts' orders, each named once; a typed error for one unknown."""
    if not parts:
        raise InvalidInput("a parcel holds at least one order", field="orders")
    if len(parts) > MAX_PARCEL_ORDERS:
        raise InvalidInput(f"a parcel holds at most {MAX_PARCEL_ORDERS} orders", field="orders")
    async with uows(readonly=True) as uow:
        found = {o.id: o for o in await uow.orders.get_many([p.order_id for p in parts])}
    orders = []
    for n, part in enumerate(parts):
        prefix = f"orders[{n}]." if grouped else ""
        if not part.lines:
            raise InvalidInput("a shipment ships at least one line", field=f"{prefix}lines")
        if part.order_id not in found:
            raise NotFound(f"unknown order {part.order_id}", field=f"{prefix}orderId")
        if any(other.order_id == part.order_id for other in parts[:n]):
            raise InvalidInput("an order is named twice", field=f"{prefix}orderId")
        orders.append(found[part.order_id])
    return orders


def _one_address(orders: Sequence[Order]) -> None:
    """A parcel has one label: the addresses the orders have must be one. An order with none
    on record (a channel that does not give it) goes by the others'."""
    known = [(n, key) for n, o in enumerate(orders) if (key := address_key(o)) is not None]
    for n, key in known:
        if key != known[0][1]:
            raise InvalidInput(
                "the orders of one parcel ship to one address: this one goes elsewhere",
                field=f"orders[{n}].orderId",
            )


async def _recorded(
    uows: UnitOfWorkFactory, parts: Sequence[ParcelPart], tracking: str
) -> list[Shipment] | None:
    async with uows(readonly=True) as uow:
        return await _found(uow, parts, tracking)


async def _found(
    uow: UnitOfWork, parts: Sequence[ParcelPart], tracking: str
) -> list[Shipment] | None:
    """Each part's recorded shipment of exactly its lines under this tracking number, when
    every part has one (the parcel was shipped already); else None."""
    found = []
    for part in parts:
        same = _same_shipment(await uow.orders.shipments(part.order_id), part.lines, tracking)
        if same is None:
            return None
        found.append(same)
    return found


async def _record(
    uow: UnitOfWork, current: Order, shipment: Shipment, prefix: str, actor: str, now: datetime
) -> Order:
    """The order's lines shipped, its shipment, history and event; its channel's outbox row."""
    changed = _shipped(current, shipment.lines, prefix)
    new_lines = tuple(next((c for c in changed if c.id == ln.id), ln) for ln in current.lines)
    status = order_status(new_lines, current.status)
    updated = replace(current, lines=new_lines, status=status, updated_at=now)
    await uow.orders.save(updated, changed)
    await uow.orders.add_shipment(shipment)
    await uow.orders.add_transition(
        Transition(current.id, current.status, status, actor,
                   f"shipped by {shipment.carrier} {shipment.tracking_number}", now)
    )  # fmt: skip
    await mark_dirty(uow, [Dirty(current.channel_id, OutboxKind.SHIPMENT, str(shipment.id))], now)
    uow.emit(order_event(updated, "shipped", shipment.tracking_number))
    return updated


def _commit_parts(
    order: Order, lines: Sequence[tuple[uuid.UUID, int]], location_id: uuid.UUID, prefix: str
) -> list[CommitPart]:
    """What the shipment takes from each line's reservation; refuses what cannot ship."""
    by_id = {line.id: line for line in order.lines}
    parts: list[CommitPart] = []
    for n, (line_id, quantity) in enumerate(lines):
        field = f"{prefix}lines[{n}]"
        line = by_id.get(line_id)
        if line is None:
            raise NotFound(f"order has no line {line_id}", field=f"{field}.lineId")
        if line.status not in SHIPPING_LINES or line.reservation_id is None:
            raise IllegalState(
                f"line {line.channel_line_id} is {line.status.value}, not reserved",
                field=f"{field}.lineId",
            )
        if any(other == line_id for other, _ in lines[:n]):
            raise InvalidInput(
                f"line {line.channel_line_id} is named twice", field=f"{field}.lineId"
            )
        if not 1 <= quantity <= line.left_to_ship:
            raise InvalidQuantity(
                f"line {line.channel_line_id} has {line.left_to_ship} of {line.quantity} left "
                f"to ship, not {quantity}",
                field=f"{field}.quantity",
            )
        _check_stage(line, location_id, f"{field}.lineId")
        if line.location_id != location_id:
            raise InvalidInput(
                f"line {line.channel_line_id} is reserved at another location",
                field="locationId",
            )
        parts.append(CommitPart(line.reservation_id, quantity))
    return parts


def _check_stage(line: OrderLine, location_id: uuid.UUID, field: str) -> None:
    """Picking is optional, but a line that was picked ships packed, from where it was
    picked (its units are on that location's packing bench)."""
    if line.stage is None:
        return
    if line.location_id != location_id:
        raise IllegalState(
            f"line {line.channel_line_id} was picked at another location", field="locationId"
        )
    if line.stage is PickStage.PICKED:
        raise IllegalState(
            f"line {line.channel_line_id} is picked, not packed: pack it before it ships",
            field=field,
        )


def _shipped(
    order: Order, lines: Sequence[tuple[uuid.UUID, int]], prefix: str = ""
) -> list[OrderLine]:
    """The order's lines with this shipment's units added to what they shipped.

    Checked again under the order's lock: the stock step above replays a key already used,
    so a retry under that key for another parcel must be refused here, with no change.
    """
    by_id = {line.id: line for line in order.lines}
    changed: list[OrderLine] = []
    for n, (line_id, quantity) in enumerate(lines):
        line = by_id[line_id]
        if quantity > line.left_to_ship or line.status not in SHIPPING_LINES:
            raise InvalidQuantity(
                f"line {line.channel_line_id} has {line.left_to_ship} left to ship",
                field=f"{prefix}lines[{n}].quantity",
            )
        shipped = line.shipped_quantity + quantity
        done = shipped == line.quantity
        changed.append(
            replace(
                line, shipped_quantity=shipped,
                status=LineStatus.SHIPPED if done else LineStatus.PARTIALLY_SHIPPED,
                stage=None if done else line.stage,
            )
        )  # fmt: skip
    return changed


def _same_shipment(
    shipments: Sequence[Shipment], lines: Sequence[tuple[uuid.UUID, int]], tracking: str
) -> Shipment | None:
    """A recorded shipment of exactly these lines under this tracking number, if any."""
    wanted = sorted(lines)
    for shipment in shipments:
        if shipment.tracking_number == tracking and sorted(shipment.lines) == wanted:
            return shipment
    return None


async def return_lines(
    uows: UnitOfWorkFactory,
    *,
    order_id: uuid.UUID,
    line_ids: Sequence[uuid.UUID],
    restock: bool,
    reason: str,
    key: str,
    actor: str,
    clock: Clock = utcnow,
) -> Order:
    """Shipped lines came back: restocked where they left from (a `return` ledger row), or
    not, for damaged goods; the lines are `returned` either way. A line cancelled after part
    of it shipped returns the units that shipped."""
    async with uows(readonly=True) as uow:
        order = await uow.orders.get(order_id)
    if order is None:
        raise NotFound(f"unknown order {order_id}", field="orderId")
    by_id = {line.id: line for line in order.lines}
    for n, line_id in enumerate(line_ids):
        line = by_id.get(line_id)
        if line is None:
            raise NotFound(f"order has no line {line_id}", field=f"lineIds[{n}]")
        if not _returnable(line):
            raise IllegalState(
                f"line {line.channel_line_id} is {line.status.value}: only shipped lines return",
                field=f"lineIds[{n}]",
            )
    if restock:
        for line_id in line_ids:
            line = by_id[line_id]
            assert line.sku is not None
            assert line.location_id is not None
            await stock.restock_return(
                uows, sku=line.sku, location_id=line.location_id, quantity=_shipped_units(line),
                key=f"{key}:{line_id}", actor=actor,
                detail=f"returned from order {order.number or order.id}: {reason}"[:500],
                clock=clock,
            )  # fmt: skip
    now = clock()
    async with uows() as uow:
        current = await uow.orders.lock(order_id)
        assert current is not None
        wanted = set(line_ids)
        changed = [
            replace(ln, status=LineStatus.RETURNED)
            for ln in current.lines
            if ln.id in wanted and _returnable(ln)
        ]
        if not changed:
            return current  # returned already: a replay
        lines = tuple(next((c for c in changed if c.id == ln.id), ln) for ln in current.lines)
        updated = replace(current, lines=lines, updated_at=now)
        await uow.orders.save(updated, changed)
        what = "restocked" if restock else "not restocked (damaged)"
        await uow.orders.add_transition(
            Transition(order_id, current.status, current.status, actor,
                       f"{len(changed)} line(s) returned, {what}: {reason}", now)
        )  # fmt: skip
        uow.emit(order_event(updated, "returned", what))
        await uow.commit()
    return updated


def _returnable(line: OrderLine) -> bool:
    """Shipped, or cancelled after some of its units shipped: those units can come back."""
    if line.status is LineStatus.SHIPPED:
        return True
    return line.status is LineStatus.CANCELLED and line.shipped_quantity > 0


def _shipped_units(line: OrderLine) -> int:
    """The units of a returnable line that left (a line shipped whole before its shipped
    quantity was kept has none recorded: all of it)."""
    return line.shipped_quantity or line.quantity
