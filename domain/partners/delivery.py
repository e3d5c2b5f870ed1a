"""Delivering fulfilment requests to partners: one signed webhook each, retried, then buried.

As the relay does for channels: a run claims due requests (several workers never take the
same one), calls no partner inside a transaction, records the answer; a failure is retried
with exponential backoff and jitter (or the partner's Retry-After), and after the last
attempt the request's delivery is dead-lettered and an alert raised. The request stays
visible to the partner through the API whatever its webhook's fate. A cancellation (lines
of a request withdrawn) travels the same way, as its own event.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from domain.clock import Clock, utcnow
from domain.inventory.alerts import Alert, AlertKind
from domain.inventory.events import alert_raised
from domain.orders.handoff import Cancellation, FulfilmentRequest
from domain.orders.model import Order
from domain.partners.endpoints import PartnerEndpoint
from domain.partners.ports import DeliveryFailed, Notice, PartnerWebhooks
from domain.ports import UnitOfWorkFactory
from domain.retry import backoff_seconds

MAX_ATTEMPTS = 8
BATCH = 50
# A claim this old belongs to a run that died mid-call: its request is due again.
STUCK_AFTER = timedelta(minutes=2)
EVENT = "fulfilment_request.created"
CANCELLED_EVENT = "fulfilment_request.cancelled"


@dataclass(frozen=True)
class DeliveryRun:
    delivered: int = 0
    retried: int = 0
    dead: int = 0


def request_body(request: FulfilmentRequest, order: Order | None) -> bytes:
    """What the partner receives: the request, its lines and where they go."""
    document = {
        "event": EVENT,
        "id": str(request.id),
        "locationId": str(request.location_id),
        "orderId": str(request.order_id),
        "orderNumber": order.number if order else None,
        "createdAt": request.created_at.isoformat(),
        "lines": [
            {"lineId": str(ln.line_id), "sku": ln.sku, "quantity": ln.quantity}
            for ln in request.lines
        ],
        "shipTo": dict(order.shipping_address) if order else {},
        "customer": {"name": order.customer.name, "phone": order.customer.phone} if order else {},
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def cancellation_body(cancellation: Cancellation, order: Order | None) -> bytes:
    """What the partner receives when lines of its request are withdrawn: which, how many."""
    document = {
        "event": CANCELLED_EVENT,
        "id": str(cancellation.id),
        "requestId": str(cancellation.request_id),
        "locationId": str(cancellation.location_id),
        "orderId": str(cancellation.order_id),
        "orderNumber": order.number if order else None,
        "createdAt": cancellation.created_at.isoformat(),
        "reason": cancellation.reason,
        "lines": [
            {"lineId": str(ln.line_id), "sku": ln.sku, "quantity": ln.quantity}
            for ln in cancellation.lines
        ],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _describe(notice: Notice) -> str:
    if isinstance(notice, Cancellation):
        return f"cancellation {notice.id} of fulfilment request {notice.request_id}"
    return f"fulfilment request {notice.id}"


async def deliver_due(
    uows: UnitOfWorkFactory,
    webhooks: PartnerWebhooks,
    *,
    clock: Clock = utcnow,
    max_attempts: int = MAX_ATTEMPTS,
    backoff: Callable[[int], float] = backoff_seconds,
    limit: int = BATCH,
) -> DeliveryRun:
    """Deliver every request due now (a batch at a time) to its partner."""
    now = clock()
    async with uows() as uow:
        claimed = await uow.partners.claim_due(now, now - STUCK_AFTER, limit)
        await uow.commit()
    run = DeliveryRun()
    for notice, endpoint in claimed:
        async with uows(readonly=True) as uow:
            order = await uow.orders.get(notice.order_id)
        if isinstance(notice, Cancellation):
            event, body = CANCELLED_EVENT, cancellation_body(notice, order)
        else:
            event, body = EVENT, request_body(notice, order)
        try:
            await webhooks.deliver(endpoint, str(notice.id), event, body)
        except DeliveryFailed as failure:
            buried = await _failed(uows, notice, endpoint, failure, clock, max_attempts, backoff)
            run = DeliveryRun(run.delivered, run.retried + (not buried), run.dead + buried)
            continue
        async with uows() as uow:
            await uow.partners.delivered(notice, clock())
            await uow.commit()
        run = DeliveryRun(run.delivered + 1, run.retried, run.dead)
    return run


async def _failed(
    uows: UnitOfWorkFactory,
    notice: Notice,
    endpoint: PartnerEndpoint,
    failure: DeliveryFailed,
    clock: Clock,
    max_attempts: int,
    backoff: Callable[[int], float],
) -> bool:
    """Schedule the next attempt, or bury the delivery and alert; True when buried."""
    now = clock()
    attempts = notice.attempts + 1
    async with uows() as uow:
        if attempts < max_attempts:
            wait = failure.retry_after if failure.retry_after is not None else backoff(attempts)
            await uow.partners.retry(notice, failure.message, now + timedelta(seconds=wait))
            await uow.commit()
            return False
        await uow.partners.bury(notice, failure.message)
        alert = Alert(
            id=uuid.uuid4(), kind=AlertKind.HANDOFF_FAILED,
            sku=notice.lines[0].sku if notice.lines else None, available=0, threshold=None,
            created_at=now,
            message=f"{_describe(notice)} never reached {endpoint.url} after "
            f"{attempts} attempts: {failure.message}"[:2000],
        )  # fmt: skip
        await uow.alerts.add(alert)
        uow.emit(alert_raised(alert))
        await uow.commit()
        return True
