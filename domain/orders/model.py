"""The order book: one unified order, whatever channel it came from."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import groupby

from domain.channels.policies import ConflictPolicy


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


class PickStage(StrEnum):
    """Where the warehouse is with a reserved line's units left to ship (None: not picked).
    Picked and packed lines still hold their reservation: the stock leaves when they ship."""

    PICKED = "picked"
    PACKED = "packed"


@dataclass(frozen=True, slots=True)
class Customer:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    buyer_id: str | None = None  # the channel's id for the buyer, when it gives one


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
    discount_minor: int = 0  # taken off the line's price (all its units), in its currency
    stage: PickStage | None = None  # picked or packed at its location, not shipped yet

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


def in_sequence(transitions: Sequence[Transition]) -> list[Transition]:
    """An order's transitions oldest first, those of one moment as a chain (each starting
    where the one before it ended): one transaction records several at the same time."""
    ordered: list[Transition] = []
    for _, group in groupby(sorted(transitions, key=lambda t: t.at), key=lambda t: t.at):
        left = list(group)
        status = ordered[-1].to_status if ordered else None
        while left:
            # The next link: one that starts where the chain is; else the first left.
            link = next((t for t in left if t.from_status == status), left[0])
            left.remove(link)
            ordered.append(link)
            status = link.to_status
    return ordered


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
    # A manual conflict waits for a person: who resolved it, when, and what they decided.
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    decision: str | None = None

    @property
    def open(self) -> bool:
        """Whether it still waits for a person (only a manual conflict ever does)."""
        return self.policy is ConflictPolicy.MANUAL and self.resolved_at is None


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
    # The physical parcel: shipments of several orders packed together share it (one
    # tracking number); each order's channel is told of its own shipment.
    parcel_id: uuid.UUID | None = None

    @property
    def parcel(self) -> uuid.UUID:
        return self.parcel_id or self.id
