"""Reserving an order's stock: route each line, reserve, and settle last-unit conflicts.

Marketplace orders arrive already sold: when a line cannot be reserved anywhere (two
channels sold the last unit before the sync caught up), a conflict is opened and the
channel's policy decides. `first_come`: the order placed first wins, taking the unit back
from a later order that has not shipped. `channel_priority`: the higher-priority channel
wins the same way. `manual`: the line is held and a person is alerted. The losing line
becomes `short` (backordered), or is cancelled and its channel told, as the losing
channel's `losing_lines` says (see `losing`). A unit is only ever taken back from where the
winner's own routing could have reserved it: a merchant-fulfilled order never takes
channel-managed stock, a channel-managed order never takes warehouse stock. Every conflict
is recorded with its resolution, published, and alerted.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from domain.errors import DomainError
from domain.inventory import reservations
from domain.inventory.alerts import Alert, AlertKind
from domain.inventory.channels import Channel
from domain.inventory.events import alert_raised
from domain.inventory.model import Reservation, ReservationStatus
from domain.inventory.reservations import LineMode, LineRequest
from domain.orders import losing
from domain.orders.events import order_event
from domain.orders.model import (
    Conflict,
    ConflictPolicy,
    Fulfilment,
    LineStatus,
    LosingLine,
    Order,
    OrderLine,
    OrderStatus,
    Transition,
)
from domain.orders.routing import Route, route, usable_locations
from domain.ports import UnitOfWork, UnitOfWorkFactory

Clock = Callable[[], datetime]
ALLOCATABLE = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_ALLOCATED})
# An order still waiting for stock this long after its last change lost its allocation run
# (a lost enqueue, a crash); a younger one may be being reserved right now, and a second
# run beside it could route it elsewhere.
ALLOCATION_LOST_AFTER = timedelta(minutes=1)
SWEEP_BATCH = 200
# Orders whose held units a conflict may take back: not picked or shipped yet.
TAKEABLE = frozenset({OrderStatus.OPEN, OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_ALLOCATED})


def utcnow() -> datetime:
    return datetime.now(UTC)


def reference(order_id: uuid.UUID) -> str:
    return f"order:{order_id}"


def allocation_key(
    order_id: uuid.UUID, routed: Sequence[OrderLine], routes: Mapping[uuid.UUID, Route]
) -> str:
    """The idempotency key of reserving these lines where they were routed."""
    digest = hashlib.sha256(
        repr([(str(ln.id), str(routes[ln.id].location_id)) for ln in routed]).encode()
    ).hexdigest()[:16]
    return f"{reference(order_id)}:{digest}"


@dataclass
class _Outcome:
    lines: dict[uuid.UUID, OrderLine]
    conflicts: list[Conflict]
    losers: list[tuple[Order, Reservation, Conflict]]
    usable: set[uuid.UUID]  # where this order may hold stock (and so take a unit back)
    losing: LosingLine  # what becomes of this order's lines that lose


async def lost_allocations(uow: UnitOfWork, now: datetime) -> list[uuid.UUID]:
    """Orders whose allocation never ran, oldest placed first (a batch of them)."""
    return await uow.orders.unallocated(SWEEP_BATCH, updated_before=now - ALLOCATION_LOST_AFTER)


def order_status(lines: Sequence[OrderLine], current: OrderStatus) -> OrderStatus:
    """The order's status from its lines' (cancelled and unpaid orders keep theirs)."""
    if current in (OrderStatus.CANCELLED, OrderStatus.PENDING_PAYMENT, OrderStatus.DELIVERED):
        return current
    live = [ln for ln in lines if ln.status is not LineStatus.CANCELLED]
    if not live:
        return OrderStatus.CANCELLED
    gone = [ln for ln in live if ln.status in (LineStatus.SHIPPED, LineStatus.RETURNED)]
    if len(gone) == len(live):
        return OrderStatus.SHIPPED
    if gone or any(ln.shipped_quantity for ln in live):
        return OrderStatus.PARTIALLY_SHIPPED
    allocated = [ln for ln in live if ln.status is LineStatus.ALLOCATED]
    if len(allocated) == len(live):
        return OrderStatus.ALLOCATED
    if allocated:
        return OrderStatus.PARTIALLY_ALLOCATED
    return OrderStatus.OPEN


async def allocate(
    uows: UnitOfWorkFactory, order_id: uuid.UUID, *, actor: str, clock: Clock = utcnow
) -> Order | None:
    """Reserve what the order's open lines need; returns the order as it now stands."""
    async with uows(readonly=True) as uow:
        order = await uow.orders.get(order_id)
        if order is None or order.status not in ALLOCATABLE:
            return order
        waiting = [ln for ln in order.lines if ln.status is LineStatus.OPEN and ln.sku]
        if not waiting:
            return order
        channel = await uow.channels.get(order.channel_id)
        config = await uow.channel_configs.get(order.channel_id)
        locations = {loc.id: loc for loc in await uow.inventory.list_locations()}
        snapshots = await uow.inventory.snapshots(sorted({ln.sku for ln in waiting if ln.sku}))
    assert channel is not None
    fulfilment = config.fulfilment if config else Fulfilment.MERCHANT
    routes = route(waiting, channel.location_ids, locations, snapshots, fulfilment)
    outcome = _Outcome(
        {}, [], [], usable_locations(channel.location_ids, locations, fulfilment),
        config.losing_lines if config else LosingLine.BACKORDER,
    )  # fmt: skip
    routed = [ln for ln in waiting if ln.id in routes]
    if routed:
        requests = [
            LineRequest(ln.sku or "", ln.quantity, routes[ln.id].location_id) for ln in routed
        ]
        key = allocation_key(order.id, routed, routes)
        result = await reservations.reserve_lines(
            uows, lines=requests, mode=LineMode.PARTIAL, key=key,
            actor=actor, reference=reference(order.id), clock=clock,
        )  # fmt: skip
        for line, got in zip(routed, result.lines, strict=True):
            if got.reservation is not None:
                outcome.lines[line.id] = replace(
                    line, status=LineStatus.ALLOCATED, location_id=got.reservation.location_id,
                    reservation_id=got.reservation.id, routed_by=routes[line.id].rule,
                )  # fmt: skip
    policy = config.conflict_policy if config else ConflictPolicy.FIRST_COME
    for line in waiting:
        if line.id not in outcome.lines:
            await _conflict(uows, order, channel, line, policy, outcome, actor, clock)
    return await _record(uows, order, outcome, actor, clock())


async def _conflict(
    uows: UnitOfWorkFactory,
    order: Order,
    channel: Channel,
    line: OrderLine,
    policy: ConflictPolicy,
    outcome: _Outcome,
    actor: str,
    clock: Clock,
) -> None:
    assert line.sku is not None
    now = clock()
    if policy is not ConflictPolicy.MANUAL:
        for victim_order, held in await _victims(uows, order, channel, line, policy, outcome):
            taken = await _take_back(uows, order, line, victim_order, held, actor, clock)
            if taken is None:
                continue
            outcome.lines[line.id] = taken
            them, us = _name(victim_order), _name(order)
            won = f"won the last unit from order {them} ({policy.value})"
            conflict = Conflict(uuid.uuid4(), order.id, line.id, line.sku, line.quantity, policy,
                                won, order.id, now)  # fmt: skip
            outcome.conflicts.append(conflict)
            lost = f"lost the last unit to order {us} ({policy.value})"  # + what became of it
            outcome.losers.append(
                (victim_order, held,
                 Conflict(uuid.uuid4(), victim_order.id, uuid.uuid4(), line.sku, held.quantity,
                          policy, lost, order.id, now))
            )  # fmt: skip
            return
    if policy is ConflictPolicy.MANUAL:
        held_back = "held for a person to decide (manual)"
        outcome.lines[line.id] = replace(line, status=LineStatus.SHORT)
    else:
        why = f"no unit anywhere, none to take back ({policy.value})"
        outcome.lines[line.id], held_back = losing.settle(line, outcome.losing, why)
    outcome.conflicts.append(
        Conflict(uuid.uuid4(), order.id, line.id, line.sku, line.quantity, policy, held_back,
                 None, now)
    )  # fmt: skip


def _name(order: Order) -> str:
    return order.number or str(order.id)


async def _victims(
    uows: UnitOfWorkFactory,
    order: Order,
    channel: Channel,
    line: OrderLine,
    policy: ConflictPolicy,
    outcome: _Outcome,
) -> list[tuple[Order, Reservation]]:
    """Other orders' active holds on the SKU this order may take, best first.

    Holds are read from the reservations themselves, which exist the moment they are
    committed — before their order records them on its lines. Only holds at locations this
    order's routing may use count.
    """
    assert line.sku is not None
    async with uows(readonly=True) as uow:
        held = await uow.inventory.list_reservations(
            sku=line.sku, status=ReservationStatus.ACTIVE, reference=None, first=500, after=None
        )
        priorities = {c.id: c.priority for c in await uow.channels.all()}
        found: list[tuple[Order, Reservation]] = []
        for hold in held:
            if not (hold.reference or "").startswith("order:") or hold.quantity < line.quantity:
                continue
            if hold.location_id not in outcome.usable:
                continue
            other_id = uuid.UUID(hold.reference.removeprefix("order:"))  # type: ignore[union-attr]
            if other_id == order.id:
                continue
            other = await uow.orders.get(other_id)
            if other is None or other.status not in TAKEABLE:
                continue
            later = other.placed_at > order.placed_at
            lower = priorities.get(other.channel_id, 0) < priorities.get(channel.id, 0)
            if (policy is ConflictPolicy.FIRST_COME and later) or (
                policy is ConflictPolicy.CHANNEL_PRIORITY and lower
            ):
                found.append((other, hold))
    if policy is ConflictPolicy.FIRST_COME:
        found.sort(key=lambda pair: pair[0].placed_at, reverse=True)  # the latest gives first
    else:
        found.sort(
            key=lambda pair: (priorities.get(pair[0].channel_id, 0), -pair[0].placed_at.timestamp())
        )
    return found


async def _take_back(
    uows: UnitOfWorkFactory,
    order: Order,
    line: OrderLine,
    victim_order: Order,
    held: Reservation,
    actor: str,
    clock: Clock,
) -> OrderLine | None:
    """Release the victim's hold and reserve the unit for `line`; None if it got away."""
    assert line.sku is not None
    key = f"conflict:{line.id}:{held.id}"
    try:
        await reservations.release(
            uows, reservation_id=held.id, key=f"{key}:release", actor=actor, clock=clock
        )
        got = await reservations.reserve(
            uows, sku=line.sku, quantity=line.quantity, key=f"{key}:take", actor=actor,
            location_id=held.location_id, reference=reference(order.id), clock=clock,
        )  # fmt: skip
    except DomainError:
        return None
    return replace(
        line, status=LineStatus.ALLOCATED, location_id=got.reservation.location_id,
        reservation_id=got.reservation.id, routed_by=f"taken back from order {_name(victim_order)}",
    )  # fmt: skip


async def _record(
    uows: UnitOfWorkFactory, order: Order, outcome: _Outcome, actor: str, now: datetime
) -> Order:
    async with uows() as uow:
        current = await uow.orders.lock(order.id)
        assert current is not None
        lines: list[OrderLine] = []
        changed: list[OrderLine] = []
        strays: list[uuid.UUID] = []
        for line in current.lines:
            new = outcome.lines.get(line.id)
            if new is None:
                lines.append(line)
                continue
            if line.status is not LineStatus.OPEN:
                # Another run settled it meanwhile (it was open when this one read it): its
                # outcome stands, and a unit this run reserved for it goes back.
                if new.reservation_id not in (None, line.reservation_id):
                    strays.append(new.reservation_id)
                lines.append(line)
                continue
            if new.status is LineStatus.ALLOCATED and not await _still_held(uow, line, new):
                # Taken back by an earlier order while this run was recording: it lost.
                new, _ = losing.settle(new, outcome.losing, "lost the unit while reserving")
            lines.append(new)
            changed.append(new)
        status = order_status(lines, current.status)
        updated = replace(current, lines=tuple(lines), status=status, updated_at=now)
        await uow.orders.save(updated, changed)
        if status is not current.status:
            why = "stock reserved" if status is not OrderStatus.OPEN else "waiting for stock"
            await uow.orders.add_transition(
                Transition(order.id, current.status, status, actor, why, now)
            )
        for conflict in outcome.conflicts:
            await _publish_conflict(uow, updated, conflict, now)
        await losing.tell_channel(uow, updated, changed, "lost a contested last unit", now)
        uow.emit(order_event(updated, "allocated"))
        await uow.commit()
    for stray in strays:
        with contextlib.suppress(DomainError):  # already released or committed: nothing held
            await reservations.release(
                uows, reservation_id=stray, key=f"stray:{stray}", actor=actor, clock=lambda: now
            )
    # Each loser is recorded in its own transaction: never two orders locked in one.
    for loser_order, held, conflict in outcome.losers:
        await _lose(uows, loser_order.id, held, conflict, actor, now)
    return updated


async def _still_held(uow: UnitOfWork, line: OrderLine, new: OrderLine) -> bool:
    if line.status is LineStatus.SHORT or new.reservation_id is None:
        return False
    hold = await uow.inventory.get_reservation(new.reservation_id)
    return hold is not None and hold.status is ReservationStatus.ACTIVE


async def _lose(
    uows: UnitOfWorkFactory,
    order_id: uuid.UUID,
    held: Reservation,
    conflict: Conflict,
    actor: str,
    now: datetime,
) -> None:
    async with uows() as uow:
        loser = await uow.orders.lock(order_id)
        if loser is None:
            return
        # Its line holding that reservation (or, if its run has not recorded it yet, its
        # open line of that SKU and quantity): it lost the unit.
        target = next(
            (ln for ln in loser.lines if ln.reservation_id == held.id),
            next(
                (ln for ln in loser.lines
                 if ln.sku == held.sku and ln.quantity == held.quantity
                 and ln.status in (LineStatus.OPEN, LineStatus.ALLOCATED)),
                None,
            ),
        )  # fmt: skip
        if target is None:
            return
        # The loser's own channel says what becomes of its line.
        config = await uow.channel_configs.get(loser.channel_id)
        policy = config.losing_lines if config else LosingLine.BACKORDER
        lost, resolution = losing.settle(target, policy, conflict.resolution)
        lines = tuple(lost if ln.id == target.id else ln for ln in loser.lines)
        status = order_status(lines, loser.status)
        updated = replace(loser, lines=lines, status=status, updated_at=now)
        await uow.orders.save(updated, [lost])
        if status is not loser.status:
            await uow.orders.add_transition(
                Transition(loser.id, loser.status, status, actor, resolution, now)
            )
        settled = replace(conflict, line_id=target.id, resolution=resolution)
        await _publish_conflict(uow, updated, settled, now)
        await losing.tell_channel(uow, updated, [lost], resolution, now)
        await uow.commit()


async def _publish_conflict(
    uow: UnitOfWork, order: Order, conflict: Conflict, now: datetime
) -> None:
    await uow.orders.add_conflict(conflict)
    alert = Alert(
        id=uuid.uuid4(), kind=AlertKind.ORDER_CONFLICT, sku=conflict.sku, available=0,
        threshold=None, created_at=now, channel_id=order.channel_id,
        message=f"order {order.number or order.id}: {conflict.resolution}"[:2000],
    )  # fmt: skip
    await uow.alerts.add(alert)
    uow.emit(alert_raised(alert))
    uow.emit(order_event(order, "conflict", conflict.resolution))
