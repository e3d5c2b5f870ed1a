"""Reserving an order's stock: route each line, reserve, and settle last-unit conflicts.

Marketplace orders arrive already sold: when a line cannot be reserved anywhere (two
channels sold the last unit before the sync caught up), a conflict is opened and the
channel's policy decides. `first_come`: the order placed first wins, taking the unit back
from a later order that has not shipped; stamps closer than the coarser channel clock's
resolution go by arrival at Nexo (see `precedence`). `channel_priority`: the higher-priority
channel wins the same way. Neither ever takes back a web store order's units: its customer
was told "order placed" at checkout (`precedence.takeable`); the contesting line loses
instead. `manual`: the line is held and a person is alerted. The losing line
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.channels.config import ChannelConfig
from domain.channels.model import Channel
from domain.channels.policies import ConflictPolicy, Fulfilment, LosingLine
from domain.clock import Clock, utcnow
from domain.errors import DomainError, IllegalState
from domain.inventory import reservations
from domain.inventory.alerts import Alert, AlertKind
from domain.inventory.events import alert_raised
from domain.inventory.hold_requests import LineMode, LineRequest
from domain.inventory.model import Location, Reservation, ReservationStatus, SkuSnapshot
from domain.inventory.zones import destination
from domain.orders import allocation_due, losing
from domain.orders.events import order_event
from domain.orders.handoff import hand_off, withdraw
from domain.orders.model import Conflict, LineStatus, Order, OrderLine, OrderStatus, Transition
from domain.orders.precedence import Placement, placed_before, precedence, takeable
from domain.orders.routing import Route, route, usable_locations
from domain.ports import UnitOfWork, UnitOfWorkFactory


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
class Outcome:
    lines: dict[uuid.UUID, OrderLine]
    conflicts: list[Conflict]
    usable: set[uuid.UUID]  # where this order may hold stock (and so take a unit back)
    losing: LosingLine  # what becomes of this order's lines that lose
    recorded: set[uuid.UUID] = field(default_factory=set)  # lines `record` changed


def order_status(lines: Sequence[OrderLine], current: OrderStatus) -> OrderStatus:
    """The order's status from its lines' (cancelled and unpaid orders keep theirs)."""
    if current in (OrderStatus.CANCELLED, OrderStatus.PENDING_PAYMENT, OrderStatus.DELIVERED):
        return current
    # A line cancelled after some of its units shipped counts as shipped (its rest is gone).
    live = [ln for ln in lines if ln.status is not LineStatus.CANCELLED or ln.shipped_quantity]
    if not live:
        return OrderStatus.CANCELLED
    gone = [ln for ln in live if ln.status in (LineStatus.SHIPPED, LineStatus.RETURNED,
                                               LineStatus.CANCELLED)]  # fmt: skip
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


@dataclass
class _Reading:
    """What a run that holds the order's allocation routes it with."""

    order: Order
    waiting: list[OrderLine]
    channel: Channel
    config: ChannelConfig | None
    locations: dict[uuid.UUID, Location]
    snapshots: dict[str, SkuSnapshot]


async def allocate(
    uows: UnitOfWorkFactory,
    order_id: uuid.UUID,
    *,
    actor: str,
    lease: uuid.UUID | None = None,
    clock: Clock = utcnow,
) -> Order | None:
    """Reserve what the order's open lines need; returns the order as it now stands.

    A run handed the order's lease (`allocation_due`) goes ahead only while the lease is
    still the order's; a run without one (a person asking now) takes the allocation over.
    """
    read = await _claim_and_read(uows, order_id, lease, clock())
    if not isinstance(read, _Reading):
        return read
    order, waiting, channel, config = read.order, read.waiting, read.channel, read.config
    locations, snapshots = read.locations, read.snapshots
    fulfilment = config.fulfilment if config else Fulfilment.MERCHANT
    routes = route(
        waiting, channel.location_ids, locations, snapshots, fulfilment,
        destination(order.shipping_address),
    )  # fmt: skip
    outcome = Outcome(
        {}, [], usable_locations(channel.location_ids, locations, fulfilment),
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
    return await record(uows, order, outcome, actor, clock())


async def _claim_and_read(
    uows: UnitOfWorkFactory, order_id: uuid.UUID, lease: uuid.UUID | None, now: datetime
) -> _Reading | Order | None:
    """The order's allocation claimed for this run, and what routing it needs; or the order
    as it stands when there is nothing for this run to do."""
    async with uows() as uow:
        if not await allocation_due.claim(uow, order_id, lease, now):
            return await uow.orders.get(order_id)  # settled, or another run holds it
        order = await uow.orders.get(order_id)
        waiting = allocation_due.waiting_lines(order) if order else []
        if order is None or not waiting:
            await uow.due_allocations.clear([order_id])
            await uow.commit()
            return order
        channel = await uow.channels.get(order.channel_id)
        config = await uow.channel_configs.get(order.channel_id)
        locations = {loc.id: loc for loc in await uow.inventory.list_locations()}
        snapshots = await uow.inventory.snapshots(sorted({ln.sku for ln in waiting if ln.sku}))
        unrecorded = await unrecorded_holds(uow, order)
        await uow.commit()
    assert channel is not None
    snapshots = credited(snapshots, unrecorded)
    return _Reading(order, waiting, channel, config, locations, snapshots)


async def unrecorded_holds(uow: UnitOfWork, order: Order) -> list[Reservation]:
    """The order's active holds no line records yet: a concurrent run of its allocation
    reserved them and has not recorded its outcome."""
    recorded = {ln.reservation_id for ln in order.lines}
    held = await uow.inventory.list_reservations(
        sku=None, status=ReservationStatus.ACTIVE, reference=reference(order.id),
        first=500, after=None,
    )  # fmt: skip
    return [hold for hold in held if hold.id not in recorded]


def credited(
    snapshots: Mapping[str, SkuSnapshot], holds: Sequence[Reservation]
) -> dict[str, SkuSnapshot]:
    """The levels as this order may route with them: its own unrecorded holds count as
    available to it. So a run started while another of the same order reserves routes as that
    one did and reserves under the same key (its hold, replayed), instead of finding the
    order's own units gone and settling its line short."""
    levels = dict(snapshots)
    for hold in holds:
        snapshot = levels.get(hold.sku)
        level = snapshot.level_at(hold.location_id) if snapshot else None
        if snapshot is None or level is None:
            continue
        levels[hold.sku] = snapshot.with_level(
            replace(level, reserved=max(0, level.reserved - hold.quantity))
        )
    return levels


async def _conflict(
    uows: UnitOfWorkFactory,
    order: Order,
    channel: Channel,
    line: OrderLine,
    policy: ConflictPolicy,
    outcome: Outcome,
    actor: str,
    clock: Clock,
) -> None:
    assert line.sku is not None
    now = clock()
    own = await _own_unrecorded_hold(uows, order, line, outcome)
    if own is not None:
        # A concurrent run of this order's allocation holds the unit already (it took it,
        # or took it back, after this run read the stock): the line is held, by that hold.
        outcome.lines[line.id] = _held_by_concurrent_run(line, own)
        return
    kept: Order | None = None
    if policy is not ConflictPolicy.MANUAL:
        contest = await _victims(uows, order, channel, line, policy, outcome)
        for victim_order, held in contest.victims:
            why = f"lost the last unit to order {_name(order)} ({policy.value})"  # + what became
            lost = Conflict(uuid.uuid4(), victim_order.id, uuid.uuid4(), line.sku, held.quantity,
                            policy, why, order.id, now)  # fmt: skip
            taken = await take_back(uows, order, line, victim_order, held, lost, actor, clock)
            if taken is None:
                continue
            outcome.lines[line.id] = taken
            won = f"won the last unit from order {_name(victim_order)} ({policy.value})"
            conflict = Conflict(uuid.uuid4(), order.id, line.id, line.sku, line.quantity, policy,
                                won, order.id, now)  # fmt: skip
            outcome.conflicts.append(conflict)
            return
        kept = contest.kept
        own = await _own_unrecorded_hold(uows, order, line, outcome)
        if own is not None:
            # The unit got away to a concurrent run of this order, taking it back first.
            outcome.lines[line.id] = _held_by_concurrent_run(line, own)
            return
    if policy is ConflictPolicy.MANUAL:
        held_back = "held for a person to decide (manual)"
        outcome.lines[line.id] = replace(line, status=LineStatus.SHORT)
    else:
        why = f"no unit anywhere, none to take back ({policy.value})"
        if kept is not None:
            why = f"the last unit is order {_name(kept)}'s, confirmed at checkout ({policy.value})"
        outcome.lines[line.id], held_back = losing.settle(line, outcome.losing, why)
    outcome.conflicts.append(
        Conflict(uuid.uuid4(), order.id, line.id, line.sku, line.quantity, policy, held_back,
                 kept.id if kept else None, now)
    )  # fmt: skip


def _held_by_concurrent_run(line: OrderLine, own: Reservation) -> OrderLine:
    return replace(
        line, status=LineStatus.ALLOCATED, location_id=own.location_id, reservation_id=own.id,
        routed_by="held by a concurrent run of this order",
    )  # fmt: skip


async def _own_unrecorded_hold(
    uows: UnitOfWorkFactory, order: Order, line: OrderLine, outcome: Outcome
) -> Reservation | None:
    """An active hold of this order for the line's SKU and quantity that no line records and
    no other line of this run has taken: a concurrent run of the allocation made it."""
    async with uows(readonly=True) as uow:
        holds = await unrecorded_holds(uow, order)
    taken = {ln.reservation_id for ln in outcome.lines.values()}
    return next(
        (h for h in holds
         if h.sku == line.sku and h.quantity == line.quantity and h.id not in taken),
        None,
    )  # fmt: skip


def _name(order: Order) -> str:
    return order.number or str(order.id)


@dataclass
class _Contest:
    victims: list[tuple[Order, Reservation]]  # holds this line may take back, best first
    kept: Order | None = None  # the first that would have given one, but was confirmed at checkout


async def _victims(
    uows: UnitOfWorkFactory,
    order: Order,
    channel: Channel,
    line: OrderLine,
    policy: ConflictPolicy,
    outcome: Outcome,
) -> _Contest:
    """Other orders' active holds on the SKU that yield to this order, best first.

    Holds are read from the reservations themselves, which exist the moment they are
    committed — before their order records them on its lines. Only holds at locations this
    order's routing may use count.
    """
    assert line.sku is not None
    contest = _Contest([])
    async with uows(readonly=True) as uow:
        held = await uow.inventory.list_reservations(
            sku=line.sku, status=ReservationStatus.ACTIVE, reference=None, first=500, after=None
        )
        channels = {c.id: c for c in await uow.channels.all()}
        for hold in held:
            held_by = hold.reference or ""
            if not held_by.startswith("order:") or hold.quantity < line.quantity:
                continue
            if hold.location_id not in outcome.usable:
                continue
            other_id = uuid.UUID(held_by.removeprefix("order:"))
            if other_id == order.id:
                continue
            other = await uow.orders.get(other_id)
            theirs = channels.get(other.channel_id) if other else None
            if (
                other is None
                or theirs is None
                or not _yields(other, theirs, order, channel, policy)
            ):
                continue
            if takeable(other, theirs):
                contest.victims.append((other, hold))
            elif theirs.kind.refuses_at_checkout and contest.kept is None:
                contest.kept = other
    if policy is ConflictPolicy.FIRST_COME:
        contest.victims.sort(key=lambda pair: precedence(pair[0]), reverse=True)  # latest first
    else:
        contest.victims.sort(
            key=lambda pair: (channels[pair[0].channel_id].priority, -pair[0].placed_at.timestamp())
        )
    return contest


def _yields(
    other: Order, theirs: Channel, order: Order, channel: Channel, policy: ConflictPolicy
) -> bool:
    """Whether `other` (sold on `theirs`) would give its unit to `order` under the policy."""
    if policy is ConflictPolicy.FIRST_COME:
        return placed_before(Placement.of(order, channel.kind), Placement.of(other, theirs.kind))
    return theirs.priority < channel.priority


async def take_back(
    uows: UnitOfWorkFactory,
    order: Order,
    line: OrderLine,
    victim_order: Order,
    held: Reservation,
    lost: Conflict,
    actor: str,
    clock: Clock,
    becomes: LosingLine | None = None,
) -> OrderLine | None:
    """The victim's hold made the line's and the victim's line lost (`lost` recorded), in
    one transaction; None if the unit got away. What becomes of the victim's line: `becomes`
    (a person decided), else as its channel says."""
    assert line.sku is not None

    async def loses(uow: UnitOfWork) -> None:
        await lose(uow, victim_order.id, held, lost, actor, clock(), becomes)

    try:
        got = await reservations.take_over(
            uows, reservation_id=held.id, held_by=held.reference or "", quantity=line.quantity,
            reference=reference(order.id), key=f"conflict:{line.id}:{held.id}", actor=actor,
            clock=clock, loses=loses,
        )  # fmt: skip
    except DomainError:
        return None
    return replace(
        line, status=LineStatus.ALLOCATED, location_id=got.reservation.location_id,
        reservation_id=got.reservation.id, routed_by=f"taken back from order {_name(victim_order)}",
    )  # fmt: skip


async def record(
    uows: UnitOfWorkFactory, order: Order, outcome: Outcome, actor: str, now: datetime
) -> Order:
    async with uows() as uow:
        current = await uow.orders.lock(order.id)
        assert current is not None
        lines: list[OrderLine] = []
        changed: list[OrderLine] = []
        backfilled: list[OrderLine] = []
        strays: list[uuid.UUID] = []
        for line in current.lines:
            new = outcome.lines.get(line.id)
            if new is None:
                lines.append(line)
                continue
            holding = await _still_held(uow, order, new)
            # Another run found no unit for it (while this run was taking one back): the unit
            # this run holds fills the backordered line.
            filled = line.status is LineStatus.SHORT and holding
            if line.status is not LineStatus.OPEN and not filled:
                # Another run settled it meanwhile (it was open when this one read it): its
                # outcome stands, and a unit this run reserved for it goes back.
                if new.reservation_id not in (None, line.reservation_id):
                    strays.append(new.reservation_id)
                lines.append(line)
                continue
            if new.status is LineStatus.ALLOCATED and not holding:
                # Taken back by an earlier order while this run was recording: it lost.
                new, _ = losing.settle(new, outcome.losing, "lost the unit while reserving")
            lines.append(new)
            changed.append(new)
            if filled and new.status is LineStatus.ALLOCATED:
                backfilled.append(new)
        outcome.recorded = {ln.id for ln in changed}
        status = order_status(lines, current.status)
        updated = replace(current, lines=tuple(lines), status=status, updated_at=now)
        await uow.orders.save(updated, changed)
        await hand_off(uow, [updated], now)
        await allocation_due.settle(uow, [updated])
        if status is not current.status:
            why = "stock reserved" if status is not OrderStatus.OPEN else "waiting for stock"
            await uow.orders.add_transition(
                Transition(order.id, current.status, status, actor, why, now)
            )
        for line in backfilled:
            # The order's history says when and why its backordered line got its unit.
            why = f"backordered line {line.channel_line_id} filled: {line.routed_by}"
            await uow.orders.add_transition(Transition(order.id, status, status, actor, why, now))
            uow.emit(order_event(updated, "backorder_filled", why))
        for conflict in outcome.conflicts:
            await publish_conflict(uow, updated, conflict, now)
        await losing.tell_channel(uow, updated, changed, "lost a contested last unit", now)
        uow.emit(order_event(updated, "allocated"))
        await uow.commit()
    for stray in strays:
        with contextlib.suppress(DomainError):  # already released or committed: nothing held
            await reservations.release(
                uows, reservation_id=stray, key=f"stray:{stray}", actor=actor, clock=lambda: now
            )
    return updated


async def _still_held(uow: UnitOfWork, order: Order, new: OrderLine) -> bool:
    """Whether the hold this run made for the line is still active and the order's."""
    if new.status is not LineStatus.ALLOCATED or new.reservation_id is None:
        return False
    hold = await uow.inventory.get_reservation(new.reservation_id)
    return (
        hold is not None
        and hold.status is ReservationStatus.ACTIVE
        and hold.reference == reference(order.id)
    )


async def lose(
    uow: UnitOfWork,
    order_id: uuid.UUID,
    held: Reservation,
    conflict: Conflict,
    actor: str,
    now: datetime,
    becomes: LosingLine | None = None,
) -> None:
    """In the transaction taking `held` from the order: its line holding it lost the unit,
    and `conflict` says so. Refused (IllegalState) when the order may no longer be taken from
    (picked or shipped since it was read)."""
    loser = await uow.orders.lock(order_id)
    if loser is None:
        return
    channel = await uow.channels.get(loser.channel_id)
    if channel is None or not takeable(loser, channel):
        raise IllegalState(f"order {_name(loser)}'s units may no longer be taken back")
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
    # The loser's own channel says what becomes of its line (unless a person decided).
    config = await uow.channel_configs.get(loser.channel_id)
    policy = becomes or (config.losing_lines if config else LosingLine.BACKORDER)
    lost, resolution = losing.settle(target, policy, conflict.resolution)
    lines = tuple(lost if ln.id == target.id else ln for ln in loser.lines)
    status = order_status(lines, loser.status)
    updated = replace(loser, lines=lines, status=status, updated_at=now)
    await uow.orders.save(updated, [lost])
    await withdraw(uow, loser, updated, resolution, now)
    if status is not loser.status:
        await uow.orders.add_transition(
            Transition(loser.id, loser.status, status, actor, resolution, now)
        )
    settled = replace(conflict, line_id=target.id, resolution=resolution)
    await publish_conflict(uow, updated, settled, now)
    await losing.tell_channel(uow, updated, [lost], resolution, now)


async def publish_conflict(
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
