"""Hand-off: a line reserved at a dropship or 3PL location becomes a fulfilment request for
that location's partner.

The request is written in the transaction that reserved the line (the allocation's), so a
reserved partner line never lacks its request; a line is requested once, however often its
order is recorded again. Its delivery to the partner (a signed webhook, retried, dead-lettered)
is tracked on the request itself and run after commit (see domain/partners/delivery.py).

A requested line that stops holding units at the request's location without shipping
(cancelled by the merchant or the channel, or losing its unit to another order) is withdrawn
from the partner the same way: a `Cancellation` written in the transaction that let the
units go (`withdraw`), delivered as its own signed webhook after its request's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.api_keys import PARTNER_KINDS
from domain.inventory.model import Location
from domain.jobs import DELIVER_REQUESTS_JOB
from domain.orders.model import LineStatus, Order, OrderLine
from domain.ports import UnitOfWork

# Lines with units reserved that the partner is to ship.
HANDED_OFF = frozenset({LineStatus.ALLOCATED, LineStatus.PARTIALLY_SHIPPED})


class RequestStatus(StrEnum):
    REQUESTED = "requested"  # waiting for the partner to take it
    ACKNOWLEDGED = "acknowledged"  # the partner has it in hand
    SHIPPED = "shipped"  # the partner shipped every line of it
    CANCELLED = "cancelled"  # every line of it was withdrawn before any of it shipped


class DeliveryStatus(StrEnum):
    """Where the webhook telling the partner stands (as the outbox's rows do)."""

    PENDING = "pending"
    RETRY = "retry"
    PROCESSING = "processing"
    DELIVERED = "delivered"
    DEAD = "dead"  # given up after the last retry; an alert was raised


@dataclass(frozen=True, slots=True)
class RequestLine:
    line_id: uuid.UUID
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class FulfilmentRequest:
    id: uuid.UUID
    order_id: uuid.UUID
    location_id: uuid.UUID
    lines: tuple[RequestLine, ...]
    status: RequestStatus
    created_at: datetime
    delivery: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    available_at: datetime | None = None  # when its delivery is next due
    last_error: str | None = None
    delivered_at: datetime | None = None
    acknowledged_at: datetime | None = None
    shipped_at: datetime | None = None
    shipment_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Cancellation:
    """Lines of a request the partner must no longer ship (quantity: the units withdrawn),
    with the delivery of the webhook telling it."""

    id: uuid.UUID
    request_id: uuid.UUID
    order_id: uuid.UUID
    location_id: uuid.UUID
    lines: tuple[RequestLine, ...]
    reason: str
    created_at: datetime
    delivery: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    available_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


async def hand_off(
    uow: UnitOfWork,
    orders: Sequence[Order],
    now: datetime,
    locations: Mapping[uuid.UUID, Location] | None = None,
) -> None:
    """Request fulfilment of the orders' reserved lines at partner locations that no request
    covers yet: one request per order and location. Called under the orders' locks, with
    every location as this transaction read them (routing's) or none (their kinds are read)."""
    located = {
        ln.location_id
        for o in orders
        for ln in o.lines
        if ln.status in HANDED_OFF and ln.location_id is not None
    }
    if not located:
        return
    if locations is not None:
        kinds = {i: locations[i].kind for i in located if i in locations}
    else:
        kinds = await uow.inventory.location_kinds(sorted(located, key=str))
    partners = {i for i, kind in kinds.items() if kind in PARTNER_KINDS}
    if not partners:
        return
    made = False
    for order in orders:
        due = [ln for ln in order.lines if ln.status in HANDED_OFF and ln.location_id in partners]
        if not due:
            continue
        known = await uow.partners.for_order(order.id)
        requested = {line.line_id for request in known for line in request.lines}
        waiting = {ln.location_id for ln in due if ln.id not in requested}
        for location_id in sorted((i for i in waiting if i is not None), key=str):
            lines = tuple(
                RequestLine(ln.id, ln.sku or "", ln.left_to_ship)
                for ln in due
                if ln.location_id == location_id and ln.id not in requested
            )
            await uow.partners.add(
                FulfilmentRequest(
                    id=uuid.uuid4(), order_id=order.id, location_id=location_id, lines=lines,
                    status=RequestStatus.REQUESTED, created_at=now, available_at=now,
                )
            )  # fmt: skip
            made = True
    if made:
        uow.enqueue_after_commit(DELIVER_REQUESTS_JOB)


async def withdraw(
    uow: UnitOfWork, before: Order, after: Order, reason: str, now: datetime
) -> list[Cancellation]:
    """Tell partners of the requested lines that held units at their request's location in
    `before` and no longer do in `after` (the order as this transaction records it): one
    cancellation per request, naming the units left to ship. A line withdrawn already held
    nothing there in `before`, so a replayed cancellation withdraws nothing again."""
    after_lines = {ln.id: ln for ln in after.lines}
    lost = {
        ln.id: ln
        for ln in before.lines
        if ln.status in HANDED_OFF
        and ln.location_id is not None
        and not _holds_at(after_lines.get(ln.id), ln.location_id)
    }
    if lost:
        kinds = await uow.inventory.location_kinds(
            sorted({ln.location_id for ln in lost.values() if ln.location_id}, key=str)
        )
        partners = {i for i, kind in kinds.items() if kind in PARTNER_KINDS}
        lost = {i: ln for i, ln in lost.items() if ln.location_id in partners}
    if not lost:
        return []
    made: list[Cancellation] = []
    for request in await uow.partners.for_order(after.id):
        lines = tuple(
            RequestLine(rl.line_id, rl.sku, lost[rl.line_id].left_to_ship)
            for rl in request.lines
            if rl.line_id in lost and lost[rl.line_id].location_id == request.location_id
        )
        if not lines or request.status not in (RequestStatus.REQUESTED, RequestStatus.ACKNOWLEDGED):
            continue
        cancellation = Cancellation(
            id=uuid.uuid4(), request_id=request.id, order_id=after.id,
            location_id=request.location_id, lines=lines, reason=reason[:300], created_at=now,
            available_at=now,
        )  # fmt: skip
        await uow.partners.add_cancellation(cancellation)
        made.append(cancellation)
        if not any(_holds_at(after_lines.get(rl.line_id), request.location_id)
                   or _shipped(after_lines.get(rl.line_id)) for rl in request.lines):  # fmt: skip
            await uow.partners.move(
                request.id, from_statuses=[RequestStatus.REQUESTED, RequestStatus.ACKNOWLEDGED],
                to=RequestStatus.CANCELLED, at=now,
            )  # fmt: skip
    if made:
        uow.enqueue_after_commit(DELIVER_REQUESTS_JOB)
    return made


def _holds_at(line: OrderLine | None, location_id: uuid.UUID) -> bool:
    return line is not None and line.status in HANDED_OFF and line.location_id == location_id


def _shipped(line: OrderLine | None) -> bool:
    return line is not None and line.shipped_quantity > 0
