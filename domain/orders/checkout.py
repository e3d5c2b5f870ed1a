"""A channel that refuses at checkout (`ChannelKind.refuses_at_checkout`: the web store):
a paid cart becomes an order holding the cart's own units, in one transaction, or nothing
happens.

The hand-over stores the order, re-references the cart's reservations to it (never released
and taken again, so no concurrent checkout can take the units in between), holds afresh
what the cart lacks (its hold lapsed, or the order asks for more) and lets go of what the
cart holds beyond the order. When the stock cannot cover the order, nothing is stored and
`InsufficientStock` names the line: the store refuses payment instead of selling units that
do not exist. The cart id is the order's external id: placing it again answers that order.

Checkouts that arrive together are placed in one transaction (`place_all`, gathered by the
API process's checkout counter): one lock of their carts' holds, one insert of their orders,
one hand-over; the fresh holds of all of them planned against the same locked levels. Each
is placed or refused as it would be alone, and one refused leaves the others placed;
`place` is a batch of one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.channels.model import Channel
from domain.channels.port import ChannelOrder
from domain.clock import Clock, utcnow
from domain.errors import DomainError, InsufficientStock, InvalidInput, NotFound
from domain.inventory.hold_requests import release_movement, reserve_movement
from domain.inventory.model import (
    LevelChange,
    LevelDelta,
    LocationKind,
    Movement,
    MovementReason,
    Reservation,
    ReservationStatus,
    SkuSnapshot,
)
from domain.inventory.publishing import levels_changed
from domain.orders.allocation import order_status, reference
from domain.orders.events import order_event
from domain.orders.handoff import hand_off
from domain.orders.ingest import new_order
from domain.orders.model import LineStatus, Order, OrderLine, Transition
from domain.ports import UnitOfWork, UnitOfWorkFactory


def cart_reference(cart_id: str) -> str:
    """As `checkoutReserve` names a cart's reservations."""
    return f"cart:{cart_id}"


@dataclass(frozen=True, slots=True)
class Handover:
    """How a cart's holds become an order's: which hold each line keeps, which lines the
    cart holds nothing exact for, and which holds the order does not take."""

    kept: dict[uuid.UUID, Reservation]
    lacking: tuple[OrderLine, ...]
    surplus: tuple[Reservation, ...]


def plan_handover(lines: Sequence[OrderLine], held: Sequence[Reservation]) -> Handover:
    """Each line keeps a hold of its SKU and quantity when the cart has one; otherwise it is
    held afresh, and the cart's other holds of its SKU are let go in the same step."""
    unused = sorted(held, key=lambda r: (r.created_at, str(r.id)))
    kept: dict[uuid.UUID, Reservation] = {}
    lacking: list[OrderLine] = []
    for line in lines:
        match = next((r for r in unused if r.sku == line.sku and r.quantity == line.quantity), None)
        if match is None:
            lacking.append(line)
            continue
        unused.remove(match)
        kept[line.id] = match
    return Handover(kept, tuple(lacking), tuple(unused))


@dataclass(frozen=True, slots=True, eq=False)  # each checkout is its own
class Checkout:
    """One paid cart to place: `order_for` reads its order for the channel (or raises the
    fields at fault), `key` and `actor` name who places it in the ledger."""

    channel_id: uuid.UUID
    order_for: Callable[[Channel], ChannelOrder]
    key: str
    actor: str


Placed = tuple[Order, bool]  # the order, and whether it was already there
Outcome = Placed | DomainError


async def place(
    uows: UnitOfWorkFactory,
    channel_id: uuid.UUID,
    order_for: Callable[[Channel], ChannelOrder],
    *,
    key: str,
    actor: str,
    clock: Clock = utcnow,
) -> Placed:
    """Store the cart's order holding its units; returns it and whether it was already there.

    Raises `InsufficientStock` (nothing stored, the cart's hold untouched) when the stock
    cannot cover it, `NotFound` for a SKU the hub does not know.
    """
    [outcome] = await place_all(uows, [Checkout(channel_id, order_for, key, actor)], clock=clock)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def place_all(
    uows: UnitOfWorkFactory, checkouts: Sequence[Checkout], *, clock: Clock = utcnow
) -> list[Outcome]:
    """Each checkout placed or refused as `place` would, in one transaction: one refused
    leaves the others placed. Outcomes in the checkouts' order."""
    now = clock()
    async with uows() as uow:
        outcomes = await _place(uow, checkouts, now)
        placed = [o[0] for o in outcomes if not isinstance(o, DomainError) and not o[1]]
        await hand_off(uow, placed, now)
        await uow.commit()
    return outcomes


@dataclass(slots=True)
class _Cart:
    """A checkout on its way: its order, how the cart's holds become the order's, and the
    fresh holds of what the cart lacks."""

    checkout: Checkout
    channel: Channel
    order: Order
    plan: Handover
    fresh: dict[uuid.UUID, Reservation] = field(default_factory=dict)

    def placed(self) -> Order:
        lines = _allocated(self.order, self.plan, self.fresh)
        return replace(self.order, lines=lines, status=order_status(lines, self.order.status))


async def _place(uow: UnitOfWork, checkouts: Sequence[Checkout], now: datetime) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(checkouts)
    read, twins = await _read(uow, checkouts, outcomes)
    held = await uow.inventory.lock_reservations(
        sorted({cart_reference(incoming.external_id) for _, _, incoming in read.values()})
    )
    by_cart: dict[str, list[Reservation]] = {}
    for r in held:
        by_cart.setdefault(r.reference or "", []).append(r)
    known = await _known(uow, [incoming for _, _, incoming in read.values()], held)
    carts: dict[int, _Cart] = {}
    for n, (checkout, channel, incoming) in read.items():
        unknown = _unknown(incoming, known)
        if unknown is not None:
            outcomes[n] = unknown
            continue
        order = new_order(channel.id, incoming, known, now)
        cart = by_cart.get(cart_reference(incoming.external_id), [])
        carts[n] = _Cart(checkout, channel, order, plan_handover(order.lines, cart))
    reheld = {n: c for n, c in carts.items() if c.plan.lacking or c.plan.surplus}
    locked = await _hold_afresh(uow, reheld, outcomes, now) if reheld else {}
    for n in [n for n in reheld if outcomes[n] is not None]:
        del carts[n]
    # Nothing is written before the orders' keys are taken: a replay placed at the same
    # moment waits on its key, then answers with that order instead of holding stock twice.
    placed = {n: cart.placed() for n, cart in carts.items()}
    # Never open: each order is born holding its units.
    born = [
        Transition(placed[n].id, None, placed[n].status, c.checkout.actor, _why(c.plan), now)
        for n, c in carts.items()
    ]
    inserted = await uow.orders.insert_many(list(placed.values()), born)
    for n in [n for n, order in placed.items() if order.id not in inserted]:
        found = await uow.orders.by_external(placed[n].channel_id, placed[n].external_id)
        assert found is not None
        outcomes[n] = (found, True)
        del carts[n]
    await _hand_over(uow, carts.values())
    await _swap(uow, [c for c in carts.values() if c.plan.lacking or c.plan.surplus], locked, now)
    for n in carts:
        uow.emit(order_event(placed[n], "created"))
        uow.emit(order_event(placed[n], "allocated"))
        outcomes[n] = (placed[n], False)
    for twin, first in twins.items():
        # The cart's second checkout in this batch: the first one's order, already there.
        outcome = outcomes[first]
        outcomes[twin] = (outcome[0], True) if isinstance(outcome, tuple) else outcome
    settled = [outcome for outcome in outcomes if outcome is not None]
    assert len(settled) == len(checkouts), "every checkout has its outcome"
    return settled


async def _read(
    uow: UnitOfWork, checkouts: Sequence[Checkout], outcomes: list[Outcome | None]
) -> tuple[dict[int, tuple[Checkout, Channel, ChannelOrder]], dict[int, int]]:
    """Each checkout's channel and order (a checkout refused here gets its error), and the
    second checkouts of a cart, each with the first one, whose outcome it shares."""
    ids = dict.fromkeys(c.channel_id for c in checkouts)
    # As the process last read them (a channel's kind and locations are set when it is made).
    channels = {channel_id: await uow.channels.get(channel_id, fresh=False) for channel_id in ids}
    read: dict[int, tuple[Checkout, Channel, ChannelOrder]] = {}
    firsts: dict[tuple[uuid.UUID, str], int] = {}
    twins: dict[int, int] = {}
    for n, checkout in enumerate(checkouts):
        try:
            channel = _refusing_at_checkout(checkout.channel_id, channels[checkout.channel_id])
            incoming = checkout.order_for(channel)
        except DomainError as error:
            outcomes[n] = error
            continue
        first = firsts.setdefault((channel.id, incoming.external_id), n)
        if first == n:
            read[n] = (checkout, channel, incoming)
        else:
            twins[n] = first
    return read, twins


def _refusing_at_checkout(channel_id: uuid.UUID, channel: Channel | None) -> Channel:
    if channel is None:
        raise NotFound(f"unknown channel {channel_id}", field="channelId")
    if not channel.kind.refuses_at_checkout:
        raise InvalidInput(
            f"{channel.name} is a {channel.kind.value} channel, not a web store", field="channelId"
        )
    return channel


async def _known(
    uow: UnitOfWork, incoming: Sequence[ChannelOrder], held: Sequence[Reservation]
) -> set[str]:
    """The orders' SKUs the hub knows (a cart's hold names known ones)."""
    in_carts = {r.sku for r in held}
    wanted = sorted({ln.sku for order in incoming for ln in order.lines if ln.sku} - in_carts)
    return in_carts | set(await uow.inventory.snapshots(wanted) if wanted else {})


def _unknown(incoming: ChannelOrder, known: set[str]) -> NotFound | None:
    """A SKU the hub does not know is refused, since no stock can ever cover it."""
    for n, line in enumerate(incoming.lines):
        if line.sku not in known:
            return NotFound(f"unknown SKU {line.sku!r}", field=f"lines[{n}].sku")
    return None


def _why(plan: Handover) -> str:
    why = "placed at checkout: the cart's hold became the order's"
    if plan.lacking:
        why += ", what it lacked held anew"
    if plan.surplus:
        why += ", what it held beyond the order let go"
    return why


def _allocated(
    order: Order, plan: Handover, fresh: Mapping[uuid.UUID, Reservation]
) -> tuple[OrderLine, ...]:
    lines = []
    for line in order.lines:
        kept = plan.kept.get(line.id)
        hold = kept or fresh[line.id]
        lines.append(
            replace(
                line,
                status=LineStatus.ALLOCATED,
                location_id=hold.location_id,
                reservation_id=hold.id,
                routed_by="held at checkout" if kept else "held when the order was placed",
            )
        )
    return tuple(lines)


async def _hold_afresh(
    uow: UnitOfWork, carts: dict[int, _Cart], outcomes: list[Outcome | None], now: datetime
) -> dict[str, SkuSnapshot]:
    """Where each cart's lacking lines are held (`_Cart.fresh`), counting the units its
    surplus frees, against the levels of their SKUs locked for the swap; a cart already
    placed gets its order, one the stock cannot cover `InsufficientStock` naming the first
    line its channel's locations cannot cover. Returns the locked levels."""
    placed = await uow.orders.lock_externals(
        [(c.channel.id, c.order.external_id) for c in carts.values()]
    )
    skus = {ln.sku for c in carts.values() for ln in c.plan.lacking if ln.sku}
    locked = await uow.inventory.lock_snapshots(
        sorted(skus | {r.sku for c in carts.values() for r in c.plan.surplus})
    )
    free = {
        (sku, e.level.location_id): e.level.available
        for sku, snapshot in locked.items()
        for e in snapshot.levels
        if e.location_kind is not LocationKind.CHANNEL_MANAGED
    }
    for n, cart in carts.items():
        found = placed.get((cart.channel.id, cart.order.external_id))
        if found is not None:
            outcomes[n] = (found, True)
            continue
        try:
            cart.fresh = _fresh(cart, free, now)
        except InsufficientStock as refused:
            outcomes[n] = refused
    return locked


def _fresh(
    cart: _Cart, free: dict[tuple[str, uuid.UUID], int], now: datetime
) -> dict[uuid.UUID, Reservation]:
    """The cart's fresh holds, taken from `free` (which is left as it was when one line
    cannot be held)."""
    left = dict(free)
    for r in cart.plan.surplus:
        left[(r.sku, r.location_id)] = left.get((r.sku, r.location_id), 0) + r.quantity
    held: dict[uuid.UUID, Reservation] = {}
    for line in cart.plan.lacking:
        assert line.sku is not None
        at = _source(cart.channel, line, cart.plan.surplus, left)
        if at is None:
            position = cart.order.lines.index(line)
            raise InsufficientStock(
                f"not enough {line.sku!r} left for line {position + 1}",
                field=f"lines[{position}].quantity",
            )
        left[(line.sku, at)] -= line.quantity
        held[line.id] = Reservation(
            uuid.uuid4(), line.sku, at, line.quantity, ReservationStatus.ACTIVE,
            reference(cart.order.id), now,
        )  # fmt: skip
    free.update(left)
    return held


def _source(
    channel: Channel,
    line: OrderLine,
    surplus: Sequence[Reservation],
    free: dict[tuple[str, uuid.UUID], int],
) -> uuid.UUID | None:
    """Where a lacking line is held: where the cart held its SKU first, then the channel's
    locations in their order."""
    assert line.sku is not None
    cart = [r.location_id for r in surplus if r.sku == line.sku]
    for location_id in dict.fromkeys([*cart, *channel.location_ids]):
        if free.get((line.sku, location_id), 0) >= line.quantity:
            return location_id
    return None


async def _hand_over(uow: UnitOfWork, carts: Iterable[_Cart]) -> None:
    owners = {r.id: reference(c.order.id) for c in carts for r in c.plan.kept.values()}
    moved = await uow.inventory.hand_over(owners)
    assert moved == len(owners), "the carts' holds are locked by this transaction"


async def _swap(
    uow: UnitOfWork, carts: Sequence[_Cart], locked: dict[str, SkuSnapshot], now: datetime
) -> None:
    """Let the carts' surplus go and record their fresh holds: the ledger rows, and one net
    change per level (the levels are locked by this transaction, so none can refuse)."""
    if not carts:
        return
    movements: list[Movement] = []
    net: dict[tuple[str, uuid.UUID], int] = {}
    for cart in carts:
        key, actor = cart.checkout.key, cart.checkout.actor
        for r in cart.plan.surplus:
            closed = await uow.inventory.close_reservation(r.id, ReservationStatus.RELEASED, now)
            assert closed, "the cart's holds are locked by this transaction"
            movements.append(release_movement(r, actor, key, now))
            net[(r.sku, r.location_id)] = net.get((r.sku, r.location_id), 0) - r.quantity
        for r in cart.fresh.values():
            movements.append(reserve_movement(r, actor, key, now))
            net[(r.sku, r.location_id)] = net.get((r.sku, r.location_id), 0) + r.quantity
    await uow.inventory.add_reservations([r for c in carts for r in c.fresh.values()])
    await uow.inventory.add_movements(movements)
    deltas = [
        LevelDelta(sku, location_id, 0, quantity, _sellable(locked[sku], location_id))
        for (sku, location_id), quantity in sorted(net.items(), key=_lock_order)
        if quantity
    ]
    changed: dict[str, list[LevelChange]] = {}
    for delta, change in zip(deltas, await uow.inventory.change_levels(deltas), strict=True):
        if change is None:  # the lock and the plan make this unreachable; roll back
            raise InsufficientStock(f"not enough {delta.sku!r} available", field="lines")
        changed.setdefault(delta.sku, []).append(change)
    for sku, changes in changed.items():
        channels = await uow.channels.for_sku(sku)
        await levels_changed(uow, locked[sku], changes, MovementReason.RESERVE, channels, now)


def _lock_order(item: tuple[tuple[str, uuid.UUID], int]) -> tuple[str, str]:
    (sku, location_id), _ = item
    return sku, str(location_id)


def _sellable(snapshot: SkuSnapshot, location_id: uuid.UUID) -> bool:
    at = snapshot.location_of(location_id)
    return at is not None and at.location_kind is not LocationKind.CHANNEL_MANAGED
