"""Pick, pack, ship over GraphQL: a location's pick list, lines marked picked and packed, and
one parcel for orders of any channels going to one address."""

from __future__ import annotations

import uuid

import strawberry

from api.schema.context import Info
from api.schema.errors import UserError, query_errors, user_errors_as
from api.schema.ids import parse_id
from api.schema.inventory.types import LocationRef
from api.schema.orders.refusals import logged_refusals
from api.schema.orders.types import Order, Shipment, location_ref
from api.schema.permissions import CanMutate
from domain.orders import fulfilment, picking
from domain.orders.fulfilment import SHIPPING_LINES, ParcelPart
from domain.orders.model import Order as DomainOrder
from domain.ports import UnitOfWork, UnitOfWorkFactory


@strawberry.type(description="Order lines one pick-list slot covers.")
class PickLine:
    order_id: strawberry.ID
    order_number: str | None
    line_id: strawberry.ID
    quantity: int = strawberry.field(description="The line's units left to ship.")


@strawberry.type(description="One stop of the picker's walk: a SKU in its bin.")
class PickSlot:
    sku: str
    bin: str | None = strawberry.field(description="Null: no bin set (setBin); walked last.")
    quantity: int = strawberry.field(description="Units to take, for all its lines.")
    lines: list[PickLine]


@strawberry.type
class PickList:
    location: LocationRef
    order_ids: list[strawberry.ID] = strawberry.field(
        description="The orders it covers, placed first first."
    )
    slots: list[PickSlot] = strawberry.field(
        description="In walking order: bins naturally sorted (A-2 before A-10), then SKU."
    )

    @classmethod
    def from_domain(cls, found: picking.PickList) -> PickList:
        return cls(
            location=location_ref(found.location_id),
            order_ids=[strawberry.ID(str(i)) for i in found.order_ids],
            slots=[_slot(slot) for slot in found.slots],
        )


def _slot(slot: picking.PickSlot) -> PickSlot:
    return PickSlot(
        sku=slot.sku,
        bin=slot.bin,
        quantity=slot.quantity,
        lines=[
            PickLine(
                order_id=strawberry.ID(str(ln.order_id)),
                order_number=ln.order_number,
                line_id=strawberry.ID(str(ln.line_id)),
                quantity=ln.quantity,
            )
            for ln in slot.lines
        ],
    )


@strawberry.input
class MarkLinesInput:
    location_id: strawberry.ID = strawberry.field(description="Where the lines are allocated.")
    line_ids: list[strawberry.ID] = strawberry.field(
        description=f"Order lines, of any orders (1 to {picking.MAX_MARKED_LINES})."
    )


@strawberry.type
class MarkLinesPayload:
    orders: list[Order] = strawberry.field(
        default_factory=list, description="The lines' orders, as they now stand."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ParcelLineInput:
    line_id: strawberry.ID
    quantity: int


@strawberry.input
class ParcelOrderInput:
    order_id: strawberry.ID
    lines: list[ParcelLineInput] | None = strawberry.field(
        default=None,
        description="Null: every line of the order reserved at the location, all it has left.",
    )


@strawberry.input(
    description="One parcel, one tracking number, for orders of any channels going to one "
    "address (an orderGroups group with sameAddress)."
)
class ShipParcelInput:
    location_id: strawberry.ID
    carrier: str
    tracking_number: str
    idempotency_key: str
    orders: list[ParcelOrderInput] = strawberry.field(
        description=f"1 to {fulfilment.MAX_PARCEL_ORDERS} orders, each named once."
    )


@strawberry.type
class ShipParcelPayload:
    parcel_id: strawberry.ID | None = None
    orders: list[Order] = strawberry.field(default_factory=list)
    shipments: list[Shipment] = strawberry.field(
        default_factory=list, description="One per order: its own lines, told to its channel."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _shown(orders: list[DomainOrder]) -> list[Order]:
    return [Order.from_domain(o, detailed=True) for o in orders]


async def _parts(
    uows: UnitOfWorkFactory, input: ShipParcelInput, location_id: uuid.UUID
) -> list[ParcelPart]:
    """Each order's lines; an order named without lines ships all it has left there (or, asked
    again, what a parcel under this tracking number took of it)."""
    order_ids = [parse_id(o.order_id, f"orders[{n}].orderId") for n, o in enumerate(input.orders)]
    async with uows(readonly=True) as uow:
        found = {o.id: o for o in await uow.orders.get_many(order_ids)}
        parts = []
        for n, (order_id, given) in enumerate(zip(order_ids, input.orders, strict=True)):
            if given.lines is not None:
                lines = tuple(
                    (parse_id(ln.line_id, f"orders[{n}].lines[{m}].lineId"), ln.quantity)
                    for m, ln in enumerate(given.lines)
                )
            else:
                lines = await _all_left(uow, found.get(order_id), location_id, input)
            parts.append(ParcelPart(order_id, lines))
    return parts


async def _all_left(
    uow: UnitOfWork,
    order: DomainOrder | None,
    location_id: uuid.UUID,
    input: ShipParcelInput,
) -> tuple[tuple[uuid.UUID, int], ...]:
    if order is None:
        return ()  # the use case names the unknown order
    tracking = input.tracking_number.strip()
    for shipment in await uow.orders.shipments(order.id):
        if shipment.tracking_number == tracking and shipment.location_id == location_id:
            return shipment.lines
    return tuple(
        (ln.id, ln.left_to_ship)
        for ln in order.lines
        if ln.status in SHIPPING_LINES and ln.location_id == location_id and ln.left_to_ship
    )


@strawberry.type
class PickingQuery:
    @strawberry.field(
        description="What to pick at a location: the lines not picked yet of the orders named "
        f"(orderIds) or of the first orders waiting there (first, 1 to "
        f"{picking.MAX_PICK_ORDERS}, default 50, placed first first), batched by SKU and bin "
        "in walking order."
    )
    async def pick_list(
        self,
        info: Info,
        location_id: strawberry.ID,
        order_ids: list[strawberry.ID] | None = None,
        first: int | None = None,
    ) -> PickList:
        with query_errors():
            found = await picking.pick_list(
                info.context.container.uow,
                location_id=parse_id(location_id, "locationId"),
                order_ids=None
                if order_ids is None
                else [parse_id(i, f"orderIds[{n}]") for n, i in enumerate(order_ids)],
                first=first,
            )
        return PickList.from_domain(found)


@strawberry.type
class PickingMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="The lines' units were taken from their bins. Each line must be allocated "
        "at the location, else ILLEGAL_STATE (an unknown one NOT_FOUND) and no line changes; "
        "a line picked or packed already stays as it is. Published on orderEvents (picked).",
    )
    @user_errors_as(MarkLinesPayload)
    @logged_refusals("markPicked")
    async def mark_picked(self, info: Info, input: MarkLinesInput) -> MarkLinesPayload:
        orders = await picking.mark_picked(
            info.context.container.uow,
            location_id=parse_id(input.location_id, "locationId"),
            line_ids=[parse_id(i, f"lineIds[{n}]") for n, i in enumerate(input.line_ids)],
            actor=info.context.actor,
        )
        return MarkLinesPayload(orders=_shown(orders))

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="The picked lines are in their parcel, ready to ship. A line not picked "
        "yet (or not allocated at the location) is ILLEGAL_STATE and no line changes; a "
        "packed one stays packed. Published on orderEvents (packed).",
    )
    @user_errors_as(MarkLinesPayload)
    @logged_refusals("markPacked")
    async def mark_packed(self, info: Info, input: MarkLinesInput) -> MarkLinesPayload:
        orders = await picking.mark_packed(
            info.context.container.uow,
            location_id=parse_id(input.location_id, "locationId"),
            line_ids=[parse_id(i, f"lineIds[{n}]") for n, i in enumerate(input.line_ids)],
            actor=info.context.actor,
        )
        return MarkLinesPayload(orders=_shown(orders))

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Ship one parcel holding orders of any channels that go to one address: "
        "one tracking number, each order's own shipment of its own lines, each channel told "
        "of its own. All or nothing: any line that cannot ship (as createShipment says), or "
        "an order going elsewhere (INVALID_INPUT), and nothing ships. The same parcel asked "
        "again answers with what it shipped.",
    )
    @user_errors_as(ShipParcelPayload)
    @logged_refusals("shipParcel")
    async def ship_parcel(self, info: Info, input: ShipParcelInput) -> ShipParcelPayload:
        uows = info.context.container.uow
        location_id = parse_id(input.location_id, "locationId")
        shipped = await fulfilment.ship_parcel(
            uows,
            parts=await _parts(uows, input, location_id),
            location_id=location_id,
            carrier=input.carrier,
            tracking_number=input.tracking_number,
            key=input.idempotency_key,
            actor=info.context.actor,
        )
        return ShipParcelPayload(
            parcel_id=strawberry.ID(str(shipped[0][1].parcel)),
            orders=_shown([order for order, _ in shipped]),
            shipments=[Shipment.from_domain(shipment) for _, shipment in shipped],
        )
