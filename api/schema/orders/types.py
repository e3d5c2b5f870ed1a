"""GraphQL types of the order book, built from domain objects.

An order's lines come with it. Its transitions, conflicts and shipments are read only when
asked, one query each: they are for `order(id:)`; in the `orders` list (and in
`orderGroups`) they are null, so a page of orders never costs a query per row.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.schema.catalog.types import Money
from api.schema.context import Info
from api.schema.inventory.types import LocationRef
from api.schema.node import Node
from domain.channels import policies
from domain.errors import DomainError
from domain.money import Money as DomainMoney
from domain.orders import model
from domain.orders.groups import Group, GroupRule

# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
OrderStatus = model.OrderStatus
strawberry.enum(
    OrderStatus,
    name="OrderStatus",
    description="PENDING_PAYMENT: not paid yet, nothing reserved. OPEN: waiting for stock. "
    "ALLOCATED / PARTIALLY_ALLOCATED: every / some line reserved. PARTIALLY_SHIPPED, "
    "SHIPPED, DELIVERED, CANCELLED.",
)
OrderLineStatus = model.LineStatus
strawberry.enum(
    OrderLineStatus,
    name="OrderLineStatus",
    description="OPEN: waiting for stock (or for its SKU to be mapped). ALLOCATED: reserved "
    "at a location. SHORT: lost a last-unit conflict (backordered, or held for a person). "
    "PARTIALLY_SHIPPED: some units shipped (shippedQuantity), the rest still reserved. "
    "SHIPPED, CANCELLED, RETURNED.",
)
PickStage = model.PickStage
strawberry.enum(
    PickStage,
    name="PickStage",
    description="Where the warehouse is with an allocated line (null: not picked yet). "
    "PICKED: taken from its bin (markPicked). PACKED: in its parcel, ready to ship "
    "(markPacked). A picked line ships packed, from where it was picked.",
)
ConflictPolicy = policies.ConflictPolicy
strawberry.enum(
    ConflictPolicy,
    name="ConflictPolicy",
    description="Who gets a contested last unit. FIRST_COME: the order placed first (times "
    "closer than the coarser channel clock, e.g. Shopify's whole seconds, go by arrival at "
    "Nexo). CHANNEL_PRIORITY: the higher-priority channel. MANUAL: the line is held and a "
    "person is alerted. A web store order placed at checkout is never taken back.",
)
LosingLines = policies.LosingLine
strawberry.enum(
    LosingLines,
    name="LosingLines",
    description="What becomes of a channel's line that lost a contested last unit (under "
    "FIRST_COME or CHANNEL_PRIORITY). BACKORDER: it stays SHORT until stock comes. CANCEL: "
    "it is CANCELLED, and the channel is told to cancel it too.",
)
Fulfilment = policies.Fulfilment
strawberry.enum(
    Fulfilment,
    name="Fulfilment",
    description="Who ships a channel's orders, and so which stock they take. MERCHANT: the "
    "hub's own locations among the channel's (warehouse, store, 3PL), then dropship; never "
    "CHANNEL_MANAGED stock. CHANNEL_MANAGED (FBA-style): the channel ships what it holds: "
    "only the channel's CHANNEL_MANAGED locations, never the hub's own stock.",
)

DETAIL = "Null in the `orders` list and `orderGroups`: ask `order(id:)`."


def money(minor: int | None, currency: str | None) -> Money | None:
    """Null when unknown, or in a currency Nexo cannot format."""
    if minor is None or currency is None:
        return None
    try:
        return Money.from_domain(DomainMoney(minor, currency))
    except DomainError:
        return None


def location_ref(location_id: uuid.UUID) -> LocationRef:
    return LocationRef(id=strawberry.ID(str(location_id)))


@strawberry.type
class OrderCustomer:
    name: str | None
    email: str | None
    phone: str | None


@strawberry.type
class OrderLine:
    id: strawberry.ID
    channel_line_id: str
    channel_sku: str | None = strawberry.field(description="The SKU as the channel sent it.")
    sku: str | None = strawberry.field(
        description="The hub's SKU; null while the channel's SKU is unknown (mapOrderLineSku)."
    )
    quantity: int
    unit_price: Money | None
    status: OrderLineStatus
    location: LocationRef | None = strawberry.field(
        description="Where the line is reserved, or shipped from."
    )
    reservation_id: strawberry.ID | None
    routed_by: str | None = strawberry.field(description="The routing rule that chose it.")
    shipped_quantity: int
    stage: PickStage | None = strawberry.field(
        description="Picked or packed at its location; null until picked."
    )

    @classmethod
    def from_domain(cls, line: model.OrderLine) -> OrderLine:
        return cls(
            id=strawberry.ID(str(line.id)),
            channel_line_id=line.channel_line_id,
            channel_sku=line.channel_sku,
            sku=line.sku,
            quantity=line.quantity,
            unit_price=money(line.unit_price_minor, line.currency),
            status=line.status,
            location=location_ref(line.location_id) if line.location_id else None,
            reservation_id=strawberry.ID(str(line.reservation_id)) if line.reservation_id else None,
            routed_by=line.routed_by,
            shipped_quantity=line.shipped_quantity,
            stage=line.stage,
        )


@strawberry.type(description="What the channel charges the merchant for an order or a line.")
class OrderFee:
    kind: str = strawberry.field(
        description="As the channel names it: sale_fee, marketplace_fee, payment_processing…"
    )
    amount: Money | None = strawberry.field(description="Null in a currency Nexo cannot format.")
    channel_line_id: str | None = strawberry.field(
        description="The channel's id of the line it is for; null when for the whole order."
    )

    @classmethod
    def from_domain(cls, fee: model.OrderFee) -> OrderFee:
        return cls(
            kind=fee.kind,
            amount=money(fee.amount_minor, fee.currency),
            channel_line_id=fee.channel_line_id,
        )


@strawberry.type(description="A change of an order's status, and who made it why.")
class OrderTransition:
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: str
    reason: str
    at: datetime

    @classmethod
    def from_domain(cls, transition: model.Transition) -> OrderTransition:
        return cls(
            from_status=transition.from_status,
            to_status=transition.to_status,
            actor=transition.actor,
            reason=transition.reason,
            at=transition.at,
        )


@strawberry.enum(
    description="OPEN: a MANUAL conflict waiting for a person. RESOLVED: one "
    "a person settled (resolveConflict)."
)
class ConflictStatus(Enum):
    OPEN = "open"
    RESOLVED = "resolved"


@strawberry.type(description="A line that could not be reserved, and how it was settled.")
class OrderConflict:
    id: strawberry.ID
    order_id: strawberry.ID
    line_id: strawberry.ID
    sku: str
    quantity: int
    policy: ConflictPolicy
    resolution: str
    winner_order_id: strawberry.ID | None = strawberry.field(
        description="The order that got the unit; null when none did."
    )
    created_at: datetime
    open: bool = strawberry.field(description="A MANUAL conflict still waiting for a person.")
    resolved_at: datetime | None = strawberry.field(
        description="When a person resolved it (MANUAL only)."
    )
    resolved_by: str | None = strawberry.field(description="Who resolved it (MANUAL only).")
    decision: str | None = strawberry.field(
        description="What the person decided, and why (MANUAL only)."
    )

    @classmethod
    def from_domain(cls, conflict: model.Conflict) -> OrderConflict:
        winner = conflict.winner_order_id
        return cls(
            id=strawberry.ID(str(conflict.id)),
            order_id=strawberry.ID(str(conflict.order_id)),
            line_id=strawberry.ID(str(conflict.line_id)),
            sku=conflict.sku,
            quantity=conflict.quantity,
            policy=conflict.policy,
            resolution=conflict.resolution,
            winner_order_id=strawberry.ID(str(winner)) if winner else None,
            created_at=conflict.created_at,
            open=conflict.open,
            resolved_at=conflict.resolved_at,
            resolved_by=conflict.resolved_by,
            decision=conflict.decision,
        )


@strawberry.type
class ShipmentLine:
    line_id: strawberry.ID
    quantity: int


@strawberry.type
class Shipment:
    id: strawberry.ID
    carrier: str
    tracking_number: str
    location: LocationRef
    lines: list[ShipmentLine]
    channel_shipment_id: str | None = strawberry.field(
        description="The channel's id for it, once the channel has been told."
    )
    created_at: datetime
    parcel_id: strawberry.ID = strawberry.field(
        description="The physical parcel: shared by the shipments of orders packed together "
        "(shipParcel); else the shipment's own id. Its packing slip: "
        "GET /packing-slips/{parcelId}.html."
    )

    @classmethod
    def from_domain(cls, shipment: model.Shipment) -> Shipment:
        return cls(
            id=strawberry.ID(str(shipment.id)),
            carrier=shipment.carrier,
            tracking_number=shipment.tracking_number,
            location=location_ref(shipment.location_id),
            lines=[
                ShipmentLine(line_id=strawberry.ID(str(line_id)), quantity=quantity)
                for line_id, quantity in shipment.lines
            ],
            channel_shipment_id=shipment.channel_shipment_id,
            created_at=shipment.created_at,
            parcel_id=strawberry.ID(str(shipment.parcel)),
        )


@strawberry.type(description="One order, whatever channel it came from.")
class Order(Node):
    id: strawberry.ID
    channel_id: strawberry.ID
    external_id: str = strawberry.field(description="The channel's id for the order.")
    number: str | None
    status: OrderStatus
    placed_at: datetime
    customer: OrderCustomer
    shipping_address: JSON
    currency: str | None
    total: Money | None = strawberry.field(
        description="The lines' total; null when a price is missing or currencies differ."
    )
    needs_attention: bool
    attention_reason: str | None
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLine]
    fees: list[OrderFee] = strawberry.field(
        description="The channel's fees, when it makes them known (MercadoLibre's sale fee "
        "per line, eBay's marketplace fee, the web store's payment fee…); empty otherwise."
    )
    order_id: strawberry.Private[uuid.UUID]
    detailed: strawberry.Private[bool]

    @classmethod
    def from_domain(cls, order: model.Order, *, detailed: bool = False) -> Order:
        """`detailed`: transitions, conflicts and shipments may be read (one order only)."""
        return cls(
            id=strawberry.ID(str(order.id)),
            channel_id=strawberry.ID(str(order.channel_id)),
            external_id=order.external_id,
            number=order.number,
            status=order.status,
            placed_at=order.placed_at,
            customer=OrderCustomer(
                name=order.customer.name, email=order.customer.email, phone=order.customer.phone
            ),
            shipping_address=JSON(dict(order.shipping_address)),
            currency=order.currency,
            total=money(order.total_minor, order.currency),
            needs_attention=order.needs_attention,
            attention_reason=order.attention_reason,
            created_at=order.created_at,
            updated_at=order.updated_at,
            lines=[OrderLine.from_domain(line) for line in order.lines],
            fees=[OrderFee.from_domain(fee) for fee in order.fees],
            order_id=order.id,
            detailed=detailed,
        )

    @strawberry.field(description=f"Every status change, oldest first. {DETAIL}")
    async def transitions(self, info: Info) -> list[OrderTransition] | None:
        if not self.detailed:
            return None
        async with info.context.container.uow(readonly=True) as uow:
            found = await uow.orders.transitions(self.order_id)
        return [OrderTransition.from_domain(t) for t in found]

    @strawberry.field(description=f"Last-unit conflicts of its lines, oldest first. {DETAIL}")
    async def conflicts(self, info: Info) -> list[OrderConflict] | None:
        if not self.detailed:
            return None
        async with info.context.container.uow(readonly=True) as uow:
            found = await uow.orders.conflicts(self.order_id)
        return [OrderConflict.from_domain(c) for c in found]

    @strawberry.field(description=f"Its shipments, oldest first. {DETAIL}")
    async def shipments(self, info: Info) -> list[Shipment] | None:
        if not self.detailed:
            return None
        async with info.context.container.uow(readonly=True) as uow:
            found = await uow.orders.shipments(self.order_id)
        return [Shipment.from_domain(s) for s in found]


OrderGroupRule = GroupRule
strawberry.enum(
    OrderGroupRule,
    name="OrderGroupRule",
    description="CUSTOMER_AND_LOCATION: one unified customer's orders (matched by e-mail, "
    "phone, or address and name; never a name alone) with units reserved at one location. "
    "EMAIL_AND_ADDRESS: the same e-mail to the same address (buyers not matched yet).",
)


@strawberry.type(
    description="Open orders of one customer, from any channels: candidates to ship as one "
    "parcel (when sameAddress)."
)
class OrderGroup:
    rule: OrderGroupRule
    customer_id: strawberry.ID | None = strawberry.field(
        description="The unified customer (CUSTOMER_AND_LOCATION)."
    )
    location_id: strawberry.ID | None = strawberry.field(
        description="Where the orders' units are reserved (CUSTOMER_AND_LOCATION)."
    )
    customer_email: str | None = strawberry.field(
        description="Null when none of the orders gave one (a marketplace's hidden buyer)."
    )
    address: JSON = strawberry.field(description="The first order's shipping address.")
    same_address: bool = strawberry.field(description="Every order ships to one address.")
    orders: list[Order]

    @classmethod
    def from_domain(cls, group: Group) -> OrderGroup:
        def some_id(value: uuid.UUID | None) -> strawberry.ID | None:
            return strawberry.ID(str(value)) if value is not None else None

        return cls(
            rule=group.rule, customer_id=some_id(group.customer_id),
            location_id=some_id(group.location_id), customer_email=group.customer_email,
            address=JSON(dict(group.address)), same_address=group.same_address,
            orders=[Order.from_domain(o) for o in group.orders],
        )  # fmt: skip


@strawberry.type(description="Something happened to an order (after it was committed).")
class OrderEvent:
    kind: str = strawberry.field(
        description="created, status_changed, allocated, conflict, picked, packed, shipped, "
        "delivered, cancelled, line_cancelled, returned or line_mapped."
    )
    order_id: strawberry.ID
    channel_id: strawberry.ID
    external_id: str
    number: str | None
    status: OrderStatus
    needs_attention: bool
    detail: str | None = strawberry.field(
        description="The conflict's resolution, the tracking number, the cancel reason…"
    )
    at: datetime

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> OrderEvent:
        """From an `orders` bus payload (`domain.orders.events.order_event`)."""
        return cls(
            kind=event["kind"],
            order_id=strawberry.ID(event["orderId"]),
            channel_id=strawberry.ID(event["channelId"]),
            external_id=event["externalId"],
            number=event.get("number"),
            status=model.OrderStatus(event["status"]),
            needs_attention=event["needsAttention"],
            detail=event.get("detail"),
            at=datetime.fromisoformat(event["at"]),
        )
