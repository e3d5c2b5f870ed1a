"""What the order book tells live screens after a commit."""

from __future__ import annotations

from domain.events import Event
from domain.orders.model import Order

ORDER_TOPIC = "orders"


def order_event(order: Order, kind: str, detail: str | None = None) -> Event:
    return Event(
        ORDER_TOPIC,
        {
            # created, status_changed, allocated, conflict, shipped, delivered, cancelled,
            # line_cancelled, returned, line_mapped, picked, packed
            "kind": kind,
            "orderId": str(order.id),
            "channelId": str(order.channel_id),
            "externalId": order.external_id,
            "number": order.number,
            "status": order.status.value,
            "needsAttention": order.needs_attention,
            "detail": detail,
            "at": order.updated_at.isoformat(),
        },
    )
