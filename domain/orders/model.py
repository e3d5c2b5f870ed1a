"""The order book: one unified order, whatever channel it came from."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    OPEN = "open"  # taken, not (fully) reserved yet
    ALLOCATED = "allocated"
    PARTIALLY_ALLOCATED = "partially_allocated"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class LineStatus(StrEnum):
    OPEN = "open"  # waiting for stock to be reserved
    ALLOCATED = "allocated"  # reserved at a location
    SHORT = "short"  # lost a last-unit conflict: backordered, or held for a person
    PARTIALLY_SHIPPED = "partially_shipped"  # some units shipped, the rest still reserved
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    RETURNED = "returned"


class Fulfilment(StrEnum):
    """Who ships a channel's orders, and so which stock they may take."""

    MERCHANT = "merchant"  # the hub's locations: warehouses, stores, 3PL, dropship
    CHANNEL_MANAGED = "channel_managed"  # the channel ships what it holds (FBA-style)


class ConflictPolicy(StrEnum):
    FIRST_COME = "first_come"  # the order placed first on its channel wins the unit
    CHANNEL_PRIORITY = "channel_priority"  # the higher-priority channel wins
    MANUAL = "manual"  # hold the line and alert a person


class LosingLine(StrEnum):
    """What becomes of a channel's line that lost a contested last unit (not under manual)."""

    BACKORDER = "backorder"  # kept, short, until stock comes
    CANCEL = "cancel"  # cancelled in the hub, and cancelled on its channel


@dataclass(frozen=True, slots=True)
class Customer:
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class OrderLine:
    id: uuid.UUID
    order_id: uuid.UUID
    channel_line_id: str
    channel_sku: str | None  # as the channel gave it
    sku: str | None  # the hub's SKU; None while unmapped
    quantity: int
    unit_price_minor: int | None
    currency: str | None
    status: LineStatus
    location_id: uuid.UUID | None = None  # where it is reserved (or shipped from)
    reservation_id: uuid.UUID | None = None
    routed_by: str | None = None  # which rule chose the location
    shipped_quantity: int = 0

    @property
    def left_to_ship(self) -> int:
        return self.quantity - self.shipped_quantity


@dataclass(frozen=True, slots=True)
class OrderFee:
    """What the channel charges the merchant for the order (or for one of its lines)."""

    kind: str  # as the channel names it: "sale_fee", "marketplace_fee", "payment_processing"…
    amount_minor: int
    currency: str
    channel_line_id: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    id: uuid.UUID
    channel_id: uuid.UUID
    external_id: str
    number: str | None
    status: OrderStatus
    placed_at: datetime
    channel_updated_at: datetime  # the channel's updated_at of the version applied
    customer: Customer
    shipping_address: Mapping[str, str | None]
    currency: str | None
    total_minor: int | None
    needs_attention: bool
    attention_reason: str | None
    created_at: datetime
    updated_at: datetime
    lines: tuple[OrderLine, ...] = ()
    fees: tuple[OrderFee, ...] = ()  # when the channel makes them known; empty otherwise


@dataclass(frozen=True, slots=True)
class Transition:
    order_id: uuid.UUID
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Conflict:
    """A line the hub could not reserve, and how it was resolved."""

    id: uuid.UUID
    order_id: uuid.UUID
    line_id: uuid.UUID
    sku: str
    quantity: int
    policy: ConflictPolicy
    resolution: str
    winner_order_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Shipment:
    id: uuid.UUID
    order_id: uuid.UUID
    location_id: uuid.UUID
    carrier: str
    tracking_number: str
    lines: tuple[tuple[uuid.UUID, int], ...]  # (order line id, quantity)
    created_at: datetime
    channel_shipment_id: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
