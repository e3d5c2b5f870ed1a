"""Reserving a batch of orders in one transaction: the orders a worker took in together.

The common case of `allocation.allocate` (every waiting line of an order routed and
reserved) done for many orders at once, in a handful of statements instead of a dozen per
order. The orders are locked (id order), then every level of their SKUs (SKU, location
order): the order the rest of Nexo takes its locks in. Each order, earliest placed first
(stamps alike go by arrival, as `precedence` has it), is routed against what the orders
before it left, held whole under the key `allocate` would use, and recorded, all before one
commit. An order the stock cannot cover whole is left for `allocate`, which settles
last-unit conflicts one order at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from domain.channels.policies import Fulfilment
from domain.clock import Clock, utcnow
from domain.inventory.hold_requests import KeyClaim, LineMode, LineRequest
from domain.inventory.holding import HoldRequest, hold_all
from domain.inventory.model import Location, SkuSnapshot
from domain.inventory.zones import destination
from domain.orders import allocation_due
from domain.orders.allocation import allocation_key, order_status, reference
from domain.orders.allocation_due import waiting_lines
from domain.orders.events import order_event
from domain.orders.handoff import hand_off
from domain.orders.model import LineStatus, Order, OrderLine, OrderStatus, Transition
from domain.orders.precedence import precedence
from domain.orders.routing import Route, route
from domain.ports import UnitOfWork, UnitOfWorkFactory

Plan = tuple[Order, list[OrderLine], dict[uuid.UUID, Route]]


def _less(snapshot: SkuSnapshot, location_id: uuid.UUID, quantity: int) -> SkuSnapshot:
    """The snapshot once `quantity` more is reserved at the location (routing the next order
    sees what this one left)."""
    level = snapshot.level_at(location_id)
    assert level is not None
    return snapshot.with_level(replace(level, reserved=level.reserved + quantity))


async def allocate_many(
    uows: UnitOfWorkFactory,
    order_ids: Sequence[uuid.UUID],
    *,
    actor: str,
    leases: Mapping[uuid.UUID, uuid.UUID] | None = None,
    clock: Clock = utcnow,
) -> list[uuid.UUID]:
    """Reserve the orders whose waiting lines can all be reserved; the ids left for
    `allocate` (some line has no stock where the order may take it, or another run holds
    the order's key). With the caller's `leases` of the orders' allocations, an order whose
    lease another run has taken over meanwhile is left to that run."""
    if not order_ids:
        return []
    now = clock()
    async with uows() as uow:
        found = await _claimed(uow, order_ids, leases, now)
        orders = sorted((o for o in found if waiting_lines(o)), key=precedence)
        idle = [o for o in found if not waiting_lines(o)]  # nothing due (cancelled meanwhile)
        if not orders:
            await allocation_due.settle(uow, idle)
            await uow.commit()
            return []
        skus = sorted({ln.sku for o in orders for ln in waiting_lines(o) if ln.sku})
        locked = await uow.inventory.lock_snapshots(skus)
        locations = {loc.id: loc for loc in await uow.inventory.list_locations()}
        plans, left = await _plan(uow, orders, dict(locked), locations)
        requests = [_request(order, lines, routes, actor) for order, lines, routes in plans]
        held = await hold_all(uow, requests, locked, now=now)
        changes: list[tuple[Order, Sequence[OrderLine]]] = []
        transitions: list[Transition] = []
        for (order, lines, routes), request in zip(plans, requests, strict=True):
            reservations = held.get(request.key)
            if reservations is None:
                left.append(order.id)
                continue
            allocated = {
                line.id: replace(
                    line,
                    status=LineStatus.ALLOCATED,
                    location_id=got.location_id,
                    reservation_id=got.id,
                    routed_by=routes[line.id].rule,
                )
                for line, got in zip(lines, reservations, strict=True)
            }
            all_lines = tuple(allocated.get(ln.id, ln) for ln in order.lines)
            status = order_status(all_lines, order.status)
            updated = replace(order, lines=all_lines, status=status, updated_at=now)
            changes.append((updated, list(allocated.values())))
            if status is not order.status:
                why = "stock reserved" if status is not OrderStatus.OPEN else "waiting for stock"
                transitions.append(Transition(order.id, order.status, status, actor, why, now))
            uow.emit(order_event(updated, "allocated"))
        await uow.orders.save_many(changes)
        await hand_off(uow, [order for order, _ in changes], now, locations)
        await allocation_due.settle(uow, [*idle, *(order for order, _ in changes)])
        await uow.orders.add_transitions(transitions)
        await uow.commit()
    return left


async def _claimed(
    uow: UnitOfWork,
    order_ids: Sequence[uuid.UUID],
    leases: Mapping[uuid.UUID, uuid.UUID] | None,
    now: datetime,
) -> list[Order]:
    """The orders locked (id order), less those whose lease is no longer the caller's."""
    found = await uow.orders.lock_many(sorted(set(order_ids)))
    if leases is None:
        return found
    held = await uow.due_allocations.renew_many(
        {o.id: leases[o.id] for o in found if o.id in leases}, now
    )
    return [o for o in found if o.id in held]


async def _plan(
    uow: UnitOfWork,
    orders: Sequence[Order],
    snapshots: dict[str, SkuSnapshot],
    locations: Mapping[uuid.UUID, Location],
) -> tuple[list[Plan], list[uuid.UUID]]:
    """Route each order against the stock the orders before it left: the orders routed
    whole, and the ids of the others."""
    channels = {c.id: c for c in await uow.channels.all()}
    configs = await uow.channel_configs.all()
    plans: list[Plan] = []
    left: list[uuid.UUID] = []
    for order in orders:
        channel = channels.get(order.channel_id)
        config = configs.get(order.channel_id)
        lines = waiting_lines(order)
        if channel is None:
            left.append(order.id)
            continue
        fulfilment = config.fulfilment if config else Fulfilment.MERCHANT
        routes = route(
            lines, channel.location_ids, locations, snapshots, fulfilment,
            destination(order.shipping_address),
        )  # fmt: skip
        if len(routes) < len(lines):
            left.append(order.id)
            continue
        for line in lines:
            assert line.sku is not None
            snapshots[line.sku] = _less(
                snapshots[line.sku], routes[line.id].location_id, line.quantity
            )
        plans.append((order, lines, routes))
    return plans, left


def _request(
    order: Order, lines: Sequence[OrderLine], routes: Mapping[uuid.UUID, Route], actor: str
) -> HoldRequest:
    """The order's hold: what `allocate` would ask `reserve_lines` for (partial), so that a
    run of it with the same routing replays this one."""
    located = tuple(
        LineRequest(ln.sku or "", ln.quantity, routes[ln.id].location_id) for ln in lines
    )
    return HoldRequest(
        key=allocation_key(order.id, lines, routes),
        actor=actor,
        reference=reference(order.id),
        lines=located,
        claim=KeyClaim.lines(located, LineMode.PARTIAL, reference(order.id)),
    )
