"""Taking orders in: each channel order exactly once, newer versions only, nothing dropped.

A channel order arrives by webhook, by the periodic pull, or (web store) by `placeOrder`.
However many times it arrives, it is one Nexo order: the (channel, external id) pair is
unique in the database, and a version is applied only if it is news: updated later than the
version applied, or in the same second with a change to make (`is_news`). A line whose SKU
Nexo does not know keeps the order, flagged `needs_attention` with the reason, until the
SKU is mapped. Reserving stock is the next step (`allocation.allocate`), run after the order
is safely stored; that it is due is stored with the order (`allocation_due`), so a crash in
between loses no allocation.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.channels.port import ChannelFee, ChannelOrder, ChannelOrderLine
from domain.clock import Clock, utcnow
from domain.errors import IllegalState, NotFound
from domain.orders import allocation_due, cancelled_on_channel, handoff
from domain.orders.events import order_event
from domain.orders.model import (
    Customer,
    LineStatus,
    Order,
    OrderFee,
    OrderLine,
    OrderStatus,
    Transition,
)
from domain.ports import UnitOfWork, UnitOfWorkFactory

MAX_FEE_KIND = 32
MAX_FEES = 100
CANCELLED_STATUSES = frozenset({"cancelled", "canceled", "voided", "refunded"})
UNPAID_STATUSES = frozenset({"pending", "pending_payment", "authorized_pending"})
DELIVERED_STATUSES = frozenset({"delivered"})


@dataclass(frozen=True, slots=True)
class Ingested:
    order: Order
    created: bool  # False: it was already there (a redelivery, or an update)
    applied: bool  # False: this version was not newer than the one applied
    # The lease of the order's allocation, now due, that the caller's run holds (its job is
    # handed it); None: nothing is due, or a run already holds it.
    lease: uuid.UUID | None = None


async def _known_skus(uow: UnitOfWork, skus: list[str]) -> set[str]:
    return set(await uow.inventory.snapshots(skus)) if skus else set()


def _attention(lines: tuple[OrderLine, ...]) -> str | None:
    unknown = [line for line in lines if line.sku is None]
    if not unknown:
        return None
    names = ", ".join(f"{line.channel_sku or '(no SKU)'} (line {line.channel_line_id})"
                      for line in unknown)  # fmt: skip
    return f"unknown SKU: {names}"


def order_fees(fees: tuple[ChannelFee, ...]) -> tuple[OrderFee, ...]:
    """The channel's fees as the order keeps them (a fee is never dropped for its name)."""
    return tuple(
        OrderFee(
            kind=(fee.kind.strip().lower() or "fee")[:MAX_FEE_KIND],
            amount_minor=fee.amount.minor,
            currency=fee.amount.currency,
            channel_line_id=fee.line_id,
        )
        for fee in fees[:MAX_FEES]
    )


def _discount(line: ChannelOrderLine) -> int:
    """The line's discount, kept when it is in the line's currency and no more than its price."""
    price, off = line.unit_price, line.discount
    if price is None or off is None or off.currency != price.currency or off.minor < 0:
        return 0
    return min(off.minor, price.minor * line.quantity)


def new_order(
    channel_id: uuid.UUID, incoming: ChannelOrder, known: set[str], now: datetime
) -> Order:
    order_id = uuid.uuid4()
    lines = tuple(
        OrderLine(
            id=uuid.uuid4(),
            order_id=order_id,
            channel_line_id=line.line_id,
            channel_sku=line.sku,
            sku=line.sku if line.sku in known else None,
            quantity=line.quantity,
            unit_price_minor=line.unit_price.minor if line.unit_price else None,
            currency=line.unit_price.currency if line.unit_price else None,
            status=LineStatus.OPEN,
            discount_minor=_discount(line),
        )
        for line in incoming.lines
        if line.quantity > 0
    )
    reason = _attention(lines)
    empty = [line.line_id for line in incoming.lines if line.quantity <= 0]
    if empty:
        note = f"lines with no quantity left out: {', '.join(empty)}"
        reason = f"{reason}; {note}" if reason else note
    status = OrderStatus.OPEN
    if incoming.status.lower() in CANCELLED_STATUSES:
        status = OrderStatus.CANCELLED
    elif incoming.status.lower() in UNPAID_STATUSES:
        status = OrderStatus.PENDING_PAYMENT
    currencies = {ln.currency for ln in lines if ln.currency}
    total = sum((ln.unit_price_minor or 0) * ln.quantity for ln in lines)
    single = len(currencies) == 1
    address = incoming.raw.get("shipping_address")
    return Order(
        id=order_id,
        channel_id=channel_id,
        external_id=incoming.external_id,
        number=incoming.number,
        status=status,
        placed_at=incoming.placed_at or incoming.updated_at,
        channel_updated_at=incoming.updated_at,
        customer=Customer(
            name=incoming.customer.get("name"),
            email=incoming.customer.get("email"),
            phone=incoming.customer.get("phone"),
            buyer_id=(incoming.customer.get("id") or None) and str(incoming.customer["id"])[:300],
        ),
        shipping_address=dict(address) if isinstance(address, dict) else {},
        currency=next(iter(currencies)) if single else None,
        total_minor=total if single else None,  # no total across currencies
        needs_attention=reason is not None,
        attention_reason=reason,
        created_at=now,
        updated_at=now,
        lines=lines,
        fees=order_fees(incoming.fees),
    )


async def ingest(
    uows: UnitOfWorkFactory,
    channel_id: uuid.UUID,
    incoming: ChannelOrder,
    *,
    actor: str,
    clock: Clock = utcnow,
) -> Ingested:
    """Store a channel's order (or a newer version of it); idempotent by channel and id."""
    now = clock()
    async with uows() as uow:
        if await uow.channels.get(channel_id) is None:
            raise NotFound(f"unknown channel {channel_id}", field="channelId")
        existing = await uow.orders.lock_external(channel_id, incoming.external_id)
        if existing is not None:
            if not is_news(existing, incoming):
                return Ingested(existing, created=False, applied=False)
            updated = await _apply_update(uow, existing, incoming, actor, now)
            if updated.status is OrderStatus.CANCELLED:
                await cancelled_on_channel.let_go(uow, [(updated, actor)], now)
            lease = await allocation_due.mark_due(uow, updated, now)
            await uow.commit()
            return Ingested(updated, created=False, applied=True, lease=lease)
        known = await _known_skus(uow, sorted({ln.sku for ln in incoming.lines if ln.sku}))
        order = new_order(channel_id, incoming, known, now)
        if not await uow.orders.insert(order):
            # Another delivery of the same order won the insert a moment ago.
            found = await uow.orders.by_external(channel_id, incoming.external_id)
            assert found is not None
            return Ingested(found, created=False, applied=False)
        reason = f"taken from the channel by {actor}"
        await uow.orders.add_transition(
            Transition(order.id, None, order.status, actor, reason, now)
        )
        lease = await allocation_due.mark_due(uow, order, now)
        uow.emit(order_event(order, "created"))
        await uow.commit()
    return Ingested(order, created=True, applied=True, lease=lease)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A channel's order to take in, with who took it (for the order's history)."""

    channel_id: uuid.UUID
    order: ChannelOrder
    actor: str


async def ingest_many(
    uow: UnitOfWork, arrivals: Sequence[Arrival], now: datetime
) -> list[Ingested | None]:
    """`ingest` for orders that arrived together, in the caller's unit of work (which
    commits): one outcome per arrival, in order; None for an order another transaction
    inserted meanwhile (take that one in again with `ingest`). The channels must exist, and
    no two arrivals may be the same channel order."""
    keys = [(a.channel_id, a.order.external_id) for a in arrivals]
    assert len(set(keys)) == len(keys), "one arrival per channel order"
    existing = await uow.orders.lock_externals(keys)
    wanted = {ln.sku for a in arrivals for ln in a.order.lines if ln.sku}
    known = await _known_skus(uow, sorted(wanted))
    taken: list[Ingested] = []
    new: list[Order] = []
    cancelled: list[tuple[Order, str]] = []
    for arrival, key in zip(arrivals, keys, strict=True):
        found = existing.get(key)
        if found is None:
            order = new_order(arrival.channel_id, arrival.order, known, now)
            new.append(order)
            taken.append(Ingested(order, created=True, applied=True))
        elif not is_news(found, arrival.order):
            taken.append(Ingested(found, created=False, applied=False))
        else:
            updated = await _apply_update(uow, found, arrival.order, arrival.actor, now)
            if updated.status is OrderStatus.CANCELLED:
                cancelled.append((updated, arrival.actor))
            lease = await allocation_due.mark_due(uow, updated, now)
            taken.append(Ingested(updated, created=False, applied=True, lease=lease))
    # All of the batch's at once: its levels are locked in one fixed order, after its orders.
    await cancelled_on_channel.let_go(uow, cancelled, now)
    # In one fixed order: two batches inserting the same new orders then queue, not deadlock.
    inserted = await uow.orders.insert_many(
        sorted(new, key=lambda o: (str(o.channel_id), o.external_id)),
        [
            Transition(o.order.id, None, o.order.status, arrival.actor, _taken_by(arrival), now)
            for arrival, o in zip(arrivals, taken, strict=True)
            if o.created
        ],
    )
    leases = await allocation_due.mark_new_due(uow, [o for o in new if o.id in inserted], now)
    outcomes: list[Ingested | None] = []
    for outcome in taken:
        order = outcome.order
        if outcome.created and order.id not in inserted:
            outcomes.append(None)  # another delivery of it won the insert a moment ago
            continue
        if outcome.created:
            outcome = replace(outcome, lease=leases.get(order.id))
        outcomes.append(outcome)
        if outcome.created:
            uow.emit(order_event(order, "created"))
    return outcomes


def _taken_by(arrival: Arrival) -> str:
    return f"taken from the channel by {arrival.actor}"


def is_news(order: Order, incoming: ChannelOrder) -> bool:
    """Whether a channel's version of the order is to be applied: a later one, or one of the
    same second that would change the order's status or fees. Channels stamp versions in
    whole seconds (a cancellation in the second the order was placed has its stamp); the
    moves a version makes only go forward, so one of the same second is applied whatever
    order they come in, and one that changes nothing is a redelivery."""
    if incoming.updated_at != order.channel_updated_at:
        return incoming.updated_at > order.channel_updated_at
    return _status_after(order, incoming) is not order.status or not _same_fees(
        _fees_after(order, incoming), order.fees
    )


def _status_after(order: Order, incoming: ChannelOrder) -> OrderStatus:
    """Where the channel's version moves the order (cancellation, payment, delivery)."""
    wanted = incoming.status.lower()
    if wanted in CANCELLED_STATUSES:
        return OrderStatus.CANCELLED
    if order.status is OrderStatus.PENDING_PAYMENT and wanted not in UNPAID_STATUSES:
        return OrderStatus.OPEN
    if order.status is OrderStatus.SHIPPED and wanted in DELIVERED_STATUSES:
        return OrderStatus.DELIVERED  # a channel that tracks the parcel says it arrived
    return order.status


def _fees_after(order: Order, incoming: ChannelOrder) -> tuple[OrderFee, ...]:
    """Fees the version knows replace those kept; a version without fees keeps them."""
    return order_fees(incoming.fees) or order.fees


def _same_fees(one: tuple[OrderFee, ...], other: tuple[OrderFee, ...]) -> bool:
    return Counter(one) == Counter(other)  # as stored, in whatever order they read back


async def _apply_update(
    uow: UnitOfWork, order: Order, incoming: ChannelOrder, actor: str, now: datetime
) -> Order:
    """A newer version from the channel: its status moves (cancellation, payment, delivery),
    and fees it now knows replace those kept (a version without fees keeps them). Cancelled,
    its unshipped lines are cancelled; the caller lets their units go (`cancelled_on_channel`)."""
    status = _status_after(order, incoming)
    lines: tuple[OrderLine, ...] = order.lines
    changed: list[OrderLine] = []
    if incoming.status.lower() in CANCELLED_STATUSES:
        lines, changed = cancelled_on_channel.cancel_unshipped(order)
    fees = _fees_after(order, incoming)
    updated = replace(
        order, status=status, lines=lines, fees=fees, channel_updated_at=incoming.updated_at,
        updated_at=now,
    )  # fmt: skip
    await uow.orders.save(updated, changed)
    if changed:
        await handoff.withdraw(uow, order, updated, "cancelled on the channel", now)
    if not _same_fees(fees, order.fees):
        await uow.orders.set_fees(updated)
    if status is not order.status:
        cancelled = status is OrderStatus.CANCELLED
        why = await _cancelled_on(uow, order) if cancelled else "updated on the channel"
        await uow.orders.add_transition(Transition(order.id, order.status, status, actor, why, now))
        # A cancellation is told as the merchant's own is (`cancelled`), whoever made it.
        what = "cancelled" if cancelled else "status_changed"
        uow.emit(order_event(updated, what, "cancelled on the channel" if cancelled else None))
    return updated


async def _cancelled_on(uow: UnitOfWork, order: Order) -> str:
    """The cancellation's reason on the order's history names the channel that made it."""
    channel = await uow.channels.get(order.channel_id)
    return f"cancelled on {channel.name if channel else 'the channel'}"


async def map_line_sku(
    uows: UnitOfWorkFactory,
    order_id: uuid.UUID,
    line_id: uuid.UUID,
    sku: str,
    *,
    actor: str,
    clock: Clock = utcnow,
) -> Order:
    """Point an order line with an unknown SKU at a hub SKU; the order can then be reserved."""
    now = clock()
    async with uows() as uow:
        order = await uow.orders.lock(order_id)
        if order is None:
            raise NotFound(f"unknown order {order_id}", field="orderId")
        line = next((ln for ln in order.lines if ln.id == line_id), None)
        if line is None:
            raise NotFound(f"order {order_id} has no line {line_id}", field="lineId")
        if line.status is not LineStatus.OPEN:
            raise IllegalState(
                f"line {line.channel_line_id} is {line.status.value}: "
                "only a line waiting for stock is mapped",
                field="lineId",
            )
        if not await _known_skus(uow, [sku]):
            raise NotFound(f"unknown SKU {sku!r}", field="sku")
        mapped = replace(line, sku=sku)
        lines = tuple(mapped if ln.id == line_id else ln for ln in order.lines)
        reason = _attention(lines)
        updated = replace(
            order, lines=lines, needs_attention=reason is not None, attention_reason=reason,
            updated_at=now,
        )  # fmt: skip
        await uow.orders.save(updated, [mapped])
        await uow.orders.keep_costs([mapped.id])  # its cost of goods, as of now
        await allocation_due.mark_due(uow, updated, now)  # the caller reserves it (or the sweep)
        await uow.orders.add_transition(
            Transition(order.id, order.status, order.status, actor, f"line mapped to {sku}", now)
        )
        uow.emit(order_event(updated, "line_mapped", sku))
        await uow.commit()
    return updated
