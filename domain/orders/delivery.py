"""Delivery: a shipped order reached its customer (shipped → delivered).

Told by a person or a carrier integration through `markOrderDelivered`, or by the channel
when a newer version of the order says it was delivered. Only a shipped order can be
delivered; any other is a typed error that changes nothing. Delivered again is no change.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from domain.clock import Clock, utcnow
from domain.errors import IllegalState, NotFound
from domain.orders.events import order_event
from domain.orders.model import Order, OrderStatus, Transition
from domain.ports import UnitOfWorkFactory

MAX_REASON = 500


async def mark_delivered(
    uows: UnitOfWorkFactory,
    *,
    order_id: uuid.UUID,
    actor: str,
    reason: str = "",
    clock: Clock = utcnow,
) -> Order:
    """Move a shipped order to delivered; returns the order as it now stands."""
    why = reason.strip()[:MAX_REASON] or "delivered"
    now = clock()
    async with uows() as uow:
        order = await uow.orders.lock(order_id)
        if order is None:
            raise NotFound(f"unknown order {order_id}", field="orderId")
        if order.status is OrderStatus.DELIVERED:
            return order
        if order.status is not OrderStatus.SHIPPED:
            raise IllegalState(
                f"a {order.status.value} order cannot be delivered: only a shipped one",
                field="orderId",
            )
        updated = replace(order, status=OrderStatus.DELIVERED, updated_at=now)
        await uow.orders.save(updated, [])
        await uow.orders.add_transition(
            Transition(order.id, order.status, OrderStatus.DELIVERED, actor, why, now)
        )
        uow.emit(order_event(updated, "delivered", why))
        await uow.commit()
    return updated
