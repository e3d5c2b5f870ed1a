"""Which of two orders for the last unit came first, and whose held units a conflict may take.

Each channel stamps its orders by its own clock, at its own resolution (`ChannelKind.
time_resolution`: Shopify to the second, the web store to Nexo's microsecond). Two stamps
closer than the coarser of the two resolutions cannot be told apart: arrival at Nexo (the
order's `created_at`) decides between them, never the finer clock alone.

A channel that refuses at checkout (the web store) told its customer "order placed" once Nexo
held the units: those units are never taken back by a conflict, under any policy. The order
that contests them loses instead, as its own channel's `losing_lines` says.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from domain.channels.model import Channel, ChannelKind
from domain.orders.model import Order, OrderStatus

# Orders whose held units a conflict may take back: not picked or shipped yet.
TAKEABLE = frozenset({OrderStatus.OPEN, OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_ALLOCATED})


@dataclass(frozen=True, slots=True)
class Placement:
    """When an order was placed by its channel's clock, and when it reached Nexo."""

    order_id: uuid.UUID
    placed_at: datetime
    arrived_at: datetime
    kind: ChannelKind

    @classmethod
    def of(cls, order: Order, kind: ChannelKind) -> Placement:
        return cls(order.id, order.placed_at, order.created_at, kind)


def same_moment(a: Placement, b: Placement) -> bool:
    """Whether the channels' clocks cannot tell the two apart."""
    resolution = max(a.kind.time_resolution, b.kind.time_resolution)
    return abs(a.placed_at - b.placed_at) < resolution


def placed_before(a: Placement, b: Placement) -> bool:
    """Whether `a` came first: by the channels' clocks, else by arrival at Nexo."""
    if not same_moment(a, b):
        return a.placed_at < b.placed_at
    return (a.arrived_at, str(a.order_id)) < (b.arrived_at, str(b.order_id))


def precedence(order: Order) -> tuple[datetime, datetime, str]:
    """A sort key, earliest first: placed, then arrived. It agrees with `placed_before` for
    orders of one channel, whose equal stamps are the only ones it cannot tell apart."""
    return order.placed_at, order.created_at, str(order.id)


def takeable(order: Order, channel: Channel) -> bool:
    """Whether a conflict may take back the units `order` (sold on `channel`) holds."""
    if any(line.stage is not None for line in order.lines):
        return False  # its units are off the shelf, picked or packed for it
    return order.status in TAKEABLE and not channel.kind.refuses_at_checkout
