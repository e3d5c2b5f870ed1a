"""A partner's work, fenced into its location: its requests, its stock, its counts.

Every use case takes a `Scope`: a partner key's is its one location, the merchant's own keys'
is every location. Anything outside the scope is answered as if it did not exist
(`NotFound`), so a partner learns nothing of other locations by guessing ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.clock import Clock, utcnow
from domain.errors import IllegalState, InvalidInput, InvalidQuantity, NotFound
from domain.inventory import stock
from domain.inventory.alerts import Alert, AlertKind
from domain.inventory.events import alert_raised
from domain.inventory.model import StockLevel
from domain.orders.fulfilment import SHIPPING_LINES, create_shipment
from domain.orders.handoff import FulfilmentRequest, RequestStatus
from domain.orders.model import Order, Shipment
from domain.ports import UnitOfWork, UnitOfWorkFactory

MAX_COUNTS = 100
OPEN = (RequestStatus.REQUESTED, RequestStatus.ACKNOWLEDGED)


@dataclass(frozen=True, slots=True)
class Scope:
    """The locations a caller may see: one partner's, or (None) every one."""

    location_id: uuid.UUID | None

    def covers(self, location_id: uuid.UUID) -> bool:
        return self.location_id is None or self.location_id == location_id


@dataclass(frozen=True, slots=True)
class Count:
    sku: str
    on_hand: int


async def find_request(
    uow: UnitOfWork, request_id: uuid.UUID, scope: Scope, field: str = "requestId"
) -> FulfilmentRequest:
    request = await uow.partners.get(request_id)
    if request is None or not scope.covers(request.location_id):
        raise NotFound(f"unknown fulfilment request {request_id}", field=field)
    return request


def location_of(scope: Scope, asked: uuid.UUID | None) -> uuid.UUID:
    """The location a stock question is about: the partner's own (another is unknown to
    it), or the one the merchant names."""
    if asked is None:
        if scope.location_id is None:
            raise InvalidInput("name the location", field="locationId")
        return scope.location_id
    if not scope.covers(asked):
        raise NotFound(f"unknown location {asked}", field="locationId")
    return asked


async def acknowledge(
    uows: UnitOfWorkFactory, *, request_id: uuid.UUID, scope: Scope, clock: Clock = utcnow
) -> FulfilmentRequest:
    """The partner has the request in hand; acknowledging again (or once shipped) is no change."""
    async with uows() as uow:
        request = await find_request(uow, request_id, scope)
        if request.status is RequestStatus.REQUESTED:
            now = clock()
            await uow.partners.move(
                request_id, from_statuses=[RequestStatus.REQUESTED],
                to=RequestStatus.ACKNOWLEDGED, at=now,
            )  # fmt: skip
            await uow.commit()
    async with uows(readonly=True) as uow:
        return await find_request(uow, request_id, scope)


async def ship(
    uows: UnitOfWorkFactory,
    *,
    request_id: uuid.UUID,
    scope: Scope,
    carrier: str,
    tracking_number: str,
    key: str,
    actor: str,
    clock: Clock = utcnow,
) -> tuple[FulfilmentRequest, Order, Shipment]:
    """Ship what is left of the request's lines from its location, through the same path as
    every shipment (stock committed, the order's channel told with the tracking number)."""
    async with uows(readonly=True) as uow:
        request = await find_request(uow, request_id, scope)
        order = await uow.orders.get(request.order_id)
        shipped = await uow.orders.shipments(request.order_id)
    assert order is not None  # a request's order is never deleted
    left = _left_to_ship(request, order)
    if not left:
        same = next((s for s in shipped if s.tracking_number == tracking_number.strip()), None)
        if request.status is RequestStatus.SHIPPED and same is not None:
            return request, order, same  # shipped already under this tracking: a replay
        if request.status is RequestStatus.CANCELLED:
            await _shipped_cancelled(uows, request, order, tracking_number, actor, clock())
            raise IllegalState(
                f"fulfilment request {request_id} was cancelled (a fulfilment_request.cancelled "
                "webhook said so): do not ship it", field="requestId",
            )  # fmt: skip
        raise IllegalState(
            f"fulfilment request {request_id} has nothing left to ship", field="requestId"
        )
    order, shipment = await create_shipment(
        uows, order_id=order.id, lines=left, location_id=request.location_id, carrier=carrier,
        tracking_number=tracking_number, key=f"request:{request_id}:{key}", actor=actor,
        clock=clock,
    )  # fmt: skip
    if not _left_to_ship(request, order):
        async with uows() as uow:
            await uow.partners.move(
                request_id, from_statuses=OPEN, to=RequestStatus.SHIPPED, at=clock(),
                shipment_id=shipment.id,
            )  # fmt: skip
            await uow.commit()
    async with uows(readonly=True) as uow:
        return await find_request(uow, request_id, scope), order, shipment


async def _shipped_cancelled(
    uows: UnitOfWorkFactory,
    request: FulfilmentRequest,
    order: Order,
    tracking_number: str,
    actor: str,
    now: datetime,
) -> None:
    """The merchant is told when a partner tries to ship a cancelled request: the partner
    is refused, but it may have sent the goods before it read the cancellation (a race no
    refusal undoes), and then the stock counted there and the customer need a person."""
    wanted = {line.line_id for line in request.lines}
    skus = [line.sku for line in order.lines if line.id in wanted and line.sku]
    alert = Alert(
        id=uuid.uuid4(), kind=AlertKind.SHIPPED_CANCELLED, sku=skus[0] if skus else None,
        available=0, threshold=None, created_at=now, channel_id=order.channel_id,
        message=(
            f"{actor} tried to ship cancelled fulfilment request {request.id} of order "
            f"{order.number or order.external_id} (tracking {tracking_number.strip()!r}, SKUs "
            f"{', '.join(skus)}): if the goods left, count its location and tell the customer"
        )[:2000],
    )  # fmt: skip
    async with uows() as uow:
        await uow.alerts.add(alert)
        uow.emit(alert_raised(alert))
        await uow.commit()


def _left_to_ship(request: FulfilmentRequest, order: Order) -> list[tuple[uuid.UUID, int]]:
    """The request's lines with units still reserved at its location, and how many."""
    wanted = {line.line_id for line in request.lines}
    return [
        (line.id, line.left_to_ship)
        for line in order.lines
        if line.id in wanted
        and line.status in SHIPPING_LINES
        and line.location_id == request.location_id
        and line.left_to_ship > 0
    ]


async def report_counts(
    uows: UnitOfWorkFactory,
    *,
    scope: Scope,
    location_id: uuid.UUID | None,
    counts: Sequence[Count],
    key: str,
    actor: str,
    clock: Clock = utcnow,
) -> list[StockLevel]:
    """The partner counted its stock: each SKU's on hand becomes its count (a `count` ledger
    row each, as any cycle count). Only SKUs the location already holds a level of; all are
    checked before any is counted, and the key makes a retry finish what a failure left."""
    location_id = location_of(scope, location_id)
    if not 1 <= len(counts) <= MAX_COUNTS:
        raise InvalidInput(f"1 to {MAX_COUNTS} counts", field="counts")
    async with uows(readonly=True) as uow:
        snapshots = await uow.inventory.snapshots(sorted({c.sku for c in counts}))
    for n, counted in enumerate(counts):
        if any(other.sku == counted.sku for other in counts[:n]):
            raise InvalidInput(f"SKU {counted.sku!r} is counted twice", field=f"counts[{n}].sku")
        snapshot = snapshots.get(counted.sku)
        level = snapshot.level_at(location_id) if snapshot else None
        if level is None:
            raise NotFound(f"no stock of {counted.sku!r} here", field=f"counts[{n}].sku")
        if not counted.on_hand >= 0 or counted.on_hand < level.reserved:
            raise InvalidQuantity(
                f"counted {counted.on_hand} of {counted.sku!r} but {level.reserved} are reserved",
                field=f"counts[{n}].onHand",
            )
    levels: list[StockLevel] = []
    for counted in counts:
        result = await stock.count(
            uows, sku=counted.sku, location_id=location_id, on_hand=counted.on_hand,
            expected_on_hand=None, key=f"partner:{location_id}:{key}:{counted.sku}",
            actor=actor, clock=clock,
        )  # fmt: skip
        levels += result.levels
    return levels
