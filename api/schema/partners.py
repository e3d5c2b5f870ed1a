"""Schema area: dropship and 3PL partners — their endpoints, fulfilment requests and stock.

The fields a partner key may call are declared `OpenToPartners` (see `partner_fence`); each
fences the caller into its scope: a partner's one location, or every location for the
merchant's own keys. What a partner sees are types of its own, with no way out to orders,
channels or other locations.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.schema.context import Info
from api.schema.errors import UserError, query_errors, user_errors_as
from api.schema.ids import compound_key, parse_id
from api.schema.pagination import Connection, connection, page_size
from api.schema.partner_fence import OpenToPartners
from api.schema.permissions import CanMutate, IsAdmin
from domain.clock import utcnow
from domain.inventory.model import StockLevel
from domain.orders import handoff
from domain.orders.model import Order, Shipment
from domain.partners import work
from domain.partners.endpoints import PartnerEndpoint, set_partner_endpoint

RequestStatus = handoff.RequestStatus
strawberry.enum(RequestStatus, name="FulfilmentRequestStatus")
DeliveryStatus = handoff.DeliveryStatus
strawberry.enum(
    DeliveryStatus,
    name="FulfilmentDeliveryStatus",
    description="Where the webhook telling the partner stands.",
)


def scope_of(info: Info) -> work.Scope:
    principal = info.context.principal
    return work.Scope(principal.partner_location if principal else None)


@strawberry.type
class FulfilmentRequestLine:
    line_id: strawberry.ID
    sku: str
    quantity: int


@strawberry.type
class PartnerShipment:
    carrier: str
    tracking_number: str

    @classmethod
    def from_domain(cls, shipment: Shipment) -> PartnerShipment:
        return cls(carrier=shipment.carrier, tracking_number=shipment.tracking_number)


@strawberry.type(
    description="Lines of a request withdrawn from its partner before they shipped (the "
    "`fulfilment_request.cancelled` webhook); `quantity`: the units withdrawn."
)
class FulfilmentCancellation:
    id: strawberry.ID
    reason: str
    created_at: datetime
    lines: list[FulfilmentRequestLine]
    delivery: DeliveryStatus

    @classmethod
    def from_domain(cls, cancellation: handoff.Cancellation) -> FulfilmentCancellation:
        return cls(
            id=strawberry.ID(str(cancellation.id)), reason=cancellation.reason,
            created_at=cancellation.created_at, lines=_lines(cancellation.lines),
            delivery=cancellation.delivery,
        )  # fmt: skip


def _lines(lines: tuple[handoff.RequestLine, ...]) -> list[FulfilmentRequestLine]:
    return [
        FulfilmentRequestLine(
            line_id=strawberry.ID(str(ln.line_id)), sku=ln.sku, quantity=ln.quantity
        )
        for ln in lines
    ]


@strawberry.type(description="Lines a dropship or 3PL partner is asked to ship.")
class FulfilmentRequest:
    id: strawberry.ID
    location_id: strawberry.ID
    order_id: strawberry.ID
    order_number: str | None
    status: RequestStatus
    lines: list[FulfilmentRequestLine]
    ship_to: JSON
    customer_name: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    shipped_at: datetime | None
    delivery: DeliveryStatus
    delivery_attempts: int
    last_delivery_error: str | None
    cancellations: list[FulfilmentCancellation]

    @classmethod
    def build(
        cls,
        request: handoff.FulfilmentRequest,
        order: Order | None,
        cancellations: list[handoff.Cancellation],
    ) -> FulfilmentRequest:
        return cls(
            id=strawberry.ID(str(request.id)),
            location_id=strawberry.ID(str(request.location_id)),
            order_id=strawberry.ID(str(request.order_id)),
            order_number=order.number if order else None,
            status=request.status,
            lines=_lines(request.lines),
            ship_to=JSON(dict(order.shipping_address) if order else {}),
            customer_name=order.customer.name if order else None,
            created_at=request.created_at,
            acknowledged_at=request.acknowledged_at,
            shipped_at=request.shipped_at,
            delivery=request.delivery,
            delivery_attempts=request.attempts,
            last_delivery_error=request.last_error,
            cancellations=[FulfilmentCancellation.from_domain(c) for c in cancellations],
        )


@strawberry.type(description="A SKU's stock at one location.")
class LocationStockLevel:
    sku: str
    location_id: strawberry.ID
    on_hand: int
    reserved: int
    available: int

    @strawberry.field(description="The stock level's id (the same as `StockLevel.id`).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(compound_key(str(self.location_id), self.sku))

    @classmethod
    def from_domain(cls, level: StockLevel) -> LocationStockLevel:
        return cls(
            sku=level.sku, location_id=strawberry.ID(str(level.location_id)),
            on_hand=level.on_hand, reserved=level.reserved, available=level.available,
        )  # fmt: skip


@strawberry.type(description="Where a partner location's requests are delivered.")
class LocationPartner:
    location_id: strawberry.ID
    url: str
    updated_at: datetime

    @classmethod
    def from_domain(cls, endpoint: PartnerEndpoint) -> LocationPartner:
        return cls(
            location_id=strawberry.ID(str(endpoint.location_id)),
            url=endpoint.url,
            updated_at=endpoint.updated_at,
        )


async def _shown(info: Info, requests: list[handoff.FulfilmentRequest]) -> list[FulfilmentRequest]:
    async with info.context.container.uow(readonly=True) as uow:
        orders = {o.id: o for o in await uow.orders.get_many([r.order_id for r in requests])}
        withdrawn = await uow.partners.cancellations([r.id for r in requests])
    by_request: dict[uuid.UUID, list[handoff.Cancellation]] = {}
    for cancellation in withdrawn:
        by_request.setdefault(cancellation.request_id, []).append(cancellation)
    return [
        FulfilmentRequest.build(r, orders.get(r.order_id), by_request.get(r.id, []))
        for r in requests
    ]


def _location(given: strawberry.ID | None) -> uuid.UUID | None:
    return None if given is None else parse_id(given, "locationId")


@strawberry.type
class PartnersQuery:
    @strawberry.field(
        permission_classes=[OpenToPartners],
        description="Fulfilment requests, newest first: a partner key sees its location's only.",
    )
    async def fulfilment_requests(
        self,
        info: Info,
        status: RequestStatus | None = None,
        location_id: strawberry.ID | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[FulfilmentRequest]:
        with query_errors():
            size = page_size(first)
            scope = scope_of(info)
            asked = _location(location_id)
            where = work.location_of(scope, asked) if asked or scope.location_id else None
            async with info.context.container.uow(readonly=True) as uow:
                rows = await uow.partners.page(
                    location_id=where, status=status, first=size + 1, after=after
                )
                cursors = {r.id: uow.partners.cursor(r) for r in rows}
        page = rows[:size]
        nodes = dict(zip([r.id for r in page], await _shown(info, page), strict=True))
        return connection(rows, size, lambda r: cursors[r.id], lambda r: nodes[r.id])

    @strawberry.field(permission_classes=[OpenToPartners])
    async def fulfilment_request(self, info: Info, id: strawberry.ID) -> FulfilmentRequest:
        with query_errors():
            request_id = parse_id(id, "id")
            async with info.context.container.uow(readonly=True) as uow:
                request = await work.find_request(uow, request_id, scope_of(info), field="id")
        (shown,) = await _shown(info, [request])
        return shown

    @strawberry.field(
        permission_classes=[OpenToPartners],
        description="Stock levels at one location by SKU (a partner key: its own location).",
    )
    async def location_stock(
        self,
        info: Info,
        location_id: strawberry.ID | None = None,
        first: int = 100,
        after_sku: str | None = None,
    ) -> list[LocationStockLevel]:
        with query_errors():
            size = page_size(first)
            where = work.location_of(scope_of(info), _location(location_id))
            async with info.context.container.uow(readonly=True) as uow:
                levels = await uow.partners.location_stock(where, first=size, after_sku=after_sku)
        return [LocationStockLevel.from_domain(level) for level in levels]


@strawberry.input
class SetLocationPartnerInput:
    location_id: strawberry.ID
    url: str
    secret: str = strawberry.field(
        description="Signs each webhook (HMAC-SHA256); stored sealed, never shown again."
    )


@strawberry.type
class SetLocationPartnerPayload:
    partner: LocationPartner | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class FulfilmentRequestInput:
    request_id: strawberry.ID


@strawberry.type
class FulfilmentRequestPayload:
    request: FulfilmentRequest | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ShipFulfilmentRequestInput:
    request_id: strawberry.ID
    carrier: str
    tracking_number: str
    idempotency_key: str


@strawberry.type
class ShipFulfilmentRequestPayload:
    request: FulfilmentRequest | None = None
    shipment: PartnerShipment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class StockCountInput:
    sku: str
    on_hand: int


@strawberry.input
class ReportStockCountsInput:
    counts: list[StockCountInput]
    idempotency_key: str
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="A partner key counts its own location; others name one."
    )


@strawberry.type
class ReportStockCountsPayload:
    levels: list[LocationStockLevel] | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PartnersMutation:
    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Where a dropship or 3PL location's fulfilment requests are delivered.",
    )
    @user_errors_as(SetLocationPartnerPayload)
    async def set_location_partner(
        self, info: Info, input: SetLocationPartnerInput
    ) -> SetLocationPartnerPayload:
        container = info.context.container
        async with container.uow() as uow:
            endpoint = await set_partner_endpoint(
                uow, location_id=parse_id(input.location_id, "locationId"), url=input.url.strip(),
                secret=input.secret, box=container.secrets, now=utcnow(),
            )  # fmt: skip
            await uow.commit()
        return SetLocationPartnerPayload(partner=LocationPartner.from_domain(endpoint))

    @strawberry.mutation(permission_classes=[CanMutate, OpenToPartners])
    @user_errors_as(FulfilmentRequestPayload)
    async def acknowledge_fulfilment_request(
        self, info: Info, input: FulfilmentRequestInput
    ) -> FulfilmentRequestPayload:
        request = await work.acknowledge(
            info.context.container.uow,
            request_id=parse_id(input.request_id, "requestId"),
            scope=scope_of(info),
        )
        (shown,) = await _shown(info, [request])
        return FulfilmentRequestPayload(request=shown)

    @strawberry.mutation(
        permission_classes=[CanMutate, OpenToPartners],
        description="Ship what is left of a request: the order's channel gets the tracking.",
    )
    @user_errors_as(ShipFulfilmentRequestPayload)
    async def ship_fulfilment_request(
        self, info: Info, input: ShipFulfilmentRequestInput
    ) -> ShipFulfilmentRequestPayload:
        request, _, shipment = await work.ship(
            info.context.container.uow, request_id=parse_id(input.request_id, "requestId"),
            scope=scope_of(info), carrier=input.carrier, tracking_number=input.tracking_number,
            key=input.idempotency_key, actor=info.context.actor,
        )  # fmt: skip
        (shown,) = await _shown(info, [request])
        return ShipFulfilmentRequestPayload(
            request=shown, shipment=PartnerShipment.from_domain(shipment)
        )

    @strawberry.mutation(
        permission_classes=[CanMutate, OpenToPartners],
        description="Counted stock: each SKU's on hand becomes its count (`count` movements).",
    )
    @user_errors_as(ReportStockCountsPayload)
    async def report_stock_counts(
        self, info: Info, input: ReportStockCountsInput
    ) -> ReportStockCountsPayload:
        levels = await work.report_counts(
            info.context.container.uow, scope=scope_of(info),
            location_id=_location(input.location_id),
            counts=[work.Count(c.sku, c.on_hand) for c in input.counts],
            key=input.idempotency_key, actor=info.context.actor,
        )  # fmt: skip
        return ReportStockCountsPayload(
            levels=[LocationStockLevel.from_domain(level) for level in levels]
        )
