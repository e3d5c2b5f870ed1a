"""Order mutations: each takes `input` and returns a payload with `userErrors`."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.scalars import JSON

from api.schema.catalog.inputs import MoneyInput
from api.schema.context import Info
from api.schema.errors import UserError, user_errors_as
from api.schema.ids import parse_id
from api.schema.orders import checkout
from api.schema.orders.refusals import logged_refusals
from api.schema.orders.types import ConflictPolicy, LosingLines, Order, OrderConflict, Shipment
from api.schema.permissions import CanMutate
from domain.channels import policies
from domain.channels.model import Channel
from domain.channels.order_rules import set_order_rules
from domain.channels.port import ChannelOrder
from domain.clock import utcnow
from domain.errors import DomainError, InvalidFields, InvalidInput, NotFound
from domain.orders import manual_conflicts, model
from domain.orders.allocation import allocate
from domain.orders.cancelling import cancel_order
from domain.orders.delivery import mark_delivered
from domain.orders.fulfilment import create_shipment, return_lines
from domain.orders.ingest import map_line_sku
from domain.ports import UnitOfWorkFactory

MAX_CARRIER = 100
MAX_TRACKING = 200


@strawberry.input
class OrderCustomerInput:
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@strawberry.input
class PlaceOrderLineInput:
    sku: str
    quantity: int
    unit_price: MoneyInput = strawberry.field(description="In the web store's currency.")


@strawberry.input(description="A fee the store pays for the order, e.g. its payment provider's.")
class PlaceOrderFeeInput:
    kind: str = strawberry.field(description="e.g. payment_processing; 1 to 32 characters.")
    amount: MoneyInput = strawberry.field(description="In the web store's currency.")


@strawberry.input
class PlaceOrderInput:
    channel_id: strawberry.ID = strawberry.field(description="A WEBSTORE channel.")
    cart_id: str = strawberry.field(
        description="The cart checkoutReserve held stock for. One cart is one order: placing "
        "it again answers with the same order."
    )
    customer: OrderCustomerInput
    shipping_address: JSON = strawberry.field(
        description='A JSON object of strings, e.g. {"line1": …, "city": …, "country": …}.'
    )
    lines: list[PlaceOrderLineInput]
    idempotency_key: str = strawberry.field(description=f"At most {checkout.MAX_KEY} characters.")
    order_number: str | None = strawberry.field(
        default=None, description="The web store's order number; the cart id when not given."
    )
    fees: list[PlaceOrderFeeInput] | None = strawberry.field(
        default=None, description="Fees known at checkout (shown on the order's fees)."
    )


@strawberry.type
class PlaceOrderPayload:
    order: Order | None = None
    replayed: bool = strawberry.field(
        default=False, description="True when the cart's order was already there."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ShipmentLineInput:
    line_id: strawberry.ID
    quantity: int


@strawberry.input(
    description="Name the lines with lineIds (all a line has left to ship) or with lines "
    "(a quantity each, which may be less: 2 of 5 now, the rest later), not both."
)
class CreateShipmentInput:
    order_id: strawberry.ID
    location_id: strawberry.ID = strawberry.field(description="Where the lines are reserved.")
    carrier: str
    tracking_number: str = strawberry.field(
        description="An order's shipment is known by it: the same tracking number again "
        "answers with the shipment already made."
    )
    idempotency_key: str
    line_ids: list[strawberry.ID] | None = None
    lines: list[ShipmentLineInput] | None = None


@strawberry.type
class ShipmentPayload:
    order: Order | None = None
    shipment: Shipment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CancelOrderInput:
    order_id: strawberry.ID
    reason: str
    idempotency_key: str
    line_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Cancel only these lines (what is left of each); without them, the whole "
        "order's unshipped rest.",
    )


@strawberry.input
class ReturnOrderLinesInput:
    order_id: strawberry.ID
    line_ids: list[strawberry.ID]
    restock: bool = strawberry.field(
        default=True, description="False for damaged goods: nothing goes back on the shelf."
    )
    reason: str = ""
    idempotency_key: str


@strawberry.input
class MarkOrderDeliveredInput:
    order_id: strawberry.ID
    reason: str = strawberry.field(
        default="", description="Why we know, e.g. the carrier's proof of delivery."
    )


@strawberry.input
class MapOrderLineSkuInput:
    order_id: strawberry.ID
    line_id: strawberry.ID
    sku: str


@strawberry.type
class OrderPayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetConflictPolicyInput:
    channel_id: strawberry.ID
    policy: ConflictPolicy
    losing_lines: LosingLines | None = strawberry.field(
        default=None, description="What becomes of the channel's losing lines; null: unchanged."
    )


@strawberry.type
class ConflictPolicyPayload:
    channel_id: strawberry.ID | None = None
    policy: ConflictPolicy | None = None
    losing_lines: LosingLines | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(
    description="A person's decision on an open MANUAL conflict. The winner is the contesting "
    "order (conflict.orderId: it gets a unit, free stock or the latest-placed holder's) or an "
    "order holding a unit of the SKU (it keeps it). The loser's line is backordered (SHORT "
    "until stock comes, then filled) or cancelled, and its channel told."
)
class ResolveConflictInput:
    conflict_id: strawberry.ID
    winner: strawberry.ID
    loser_action: LosingLines
    reason: str = strawberry.field(
        description=f"Why; 1 to {manual_conflicts.MAX_REASON} characters, kept on the history."
    )


@strawberry.type
class ResolveConflictPayload:
    order: Order | None = strawberry.field(
        default=None, description="The contesting order, as it now stands."
    )
    conflict: OrderConflict | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _order_payload(order: model.Order) -> OrderPayload:
    """The order as it now stands."""
    return OrderPayload(order=_shown(order))


def _shown(order: model.Order) -> Order:
    return Order.from_domain(order, detailed=True)


async def _shipment_lines(
    uows: UnitOfWorkFactory, order_id: uuid.UUID, input: CreateShipmentInput
) -> list[tuple[uuid.UUID, int]]:
    if (input.line_ids is None) == (input.lines is None):
        raise InvalidInput("name the lines with lineIds or with lines", field="lineIds")
    if input.lines is not None:
        return [
            (parse_id(line.line_id, f"lines[{n}].lineId"), line.quantity)
            for n, line in enumerate(input.lines)
        ]
    assert input.line_ids is not None
    async with uows(readonly=True) as uow:
        order = await uow.orders.get(order_id)
        shipments = await uow.orders.shipments(order_id)
    if order is None:
        raise NotFound(f"unknown order {order_id}", field="orderId")
    wanted = [parse_id(line_id, f"lineIds[{n}]") for n, line_id in enumerate(input.line_ids)]
    tracking = input.tracking_number.strip()
    for shipment in shipments:
        # These lines already left under this tracking number: a retry names that parcel.
        if shipment.tracking_number == tracking and {i for i, _ in shipment.lines} == set(wanted):
            return list(shipment.lines)
    quantities = {line.id: line.left_to_ship for line in order.lines}
    # An unknown line keeps quantity 0: the use case names it (as lines[n].lineId).
    return [(line_id, quantities.get(line_id, 0)) for line_id in wanted]


async def _ship(
    uows: UnitOfWorkFactory, input: CreateShipmentInput, actor: str
) -> tuple[model.Order, model.Shipment]:
    order_id = parse_id(input.order_id, "orderId")
    location_id = parse_id(input.location_id, "locationId")
    if len(input.carrier.strip()) > MAX_CARRIER:
        raise InvalidInput(f"at most {MAX_CARRIER} characters", field="carrier")
    if len(input.tracking_number.strip()) > MAX_TRACKING:
        raise InvalidInput(f"at most {MAX_TRACKING} characters", field="trackingNumber")
    return await create_shipment(
        uows,
        order_id=order_id,
        lines=await _shipment_lines(uows, order_id, input),
        location_id=location_id,
        carrier=input.carrier,
        tracking_number=input.tracking_number,
        key=input.idempotency_key,
        actor=actor,
    )


def _by_line_ids(error: DomainError) -> DomainError:
    """With lineIds, the domain's `lines[n].lineId` is the client's `lineIds[n]`."""
    if isinstance(error, InvalidFields):
        return InvalidFields([_by_line_ids(e) for e in error.errors])
    field = error.field
    if not (field and field.startswith("lines[") and field.endswith("].lineId")):
        return error
    field = "lineIds[" + field.removeprefix("lines[").removesuffix(".lineId")
    return DomainError(error.message, field=field, code=error.code)


@strawberry.type
class OrdersMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="The web store's checkout completion: the paid cart becomes an order, "
        "the cart's hold is let go and the order reserves its lines. Placing the same cart "
        "again answers with the same order.",
    )
    @user_errors_as(PlaceOrderPayload)
    async def place_order(self, info: Info, input: PlaceOrderInput) -> PlaceOrderPayload:
        def order_for(channel: Channel) -> ChannelOrder:
            return checkout.channel_order(
                channel,
                cart_id=input.cart_id,
                order_number=input.order_number,
                customer={
                    "name": input.customer.name,
                    "email": input.customer.email,
                    "phone": input.customer.phone,
                },
                shipping_address=input.shipping_address,
                lines=[(ln.sku, ln.quantity, ln.unit_price) for ln in input.lines],
                key=input.idempotency_key,
                now=utcnow(),
                fees=[(fee.kind, fee.amount) for fee in input.fees or ()],
            )

        order, replayed = await checkout.place_order(
            info.context.container.checkout_counter,
            input.channel_id,
            order_for,
            key=input.idempotency_key,
            actor=info.context.actor,
        )
        return PlaceOrderPayload(order=_shown(order), replayed=replayed)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Ship reserved lines, whole or some of their units, from the location "
        "holding them: those units leave (on hand and reserved drop), the rest stays "
        "reserved, and the channel is sent the tracking number. More than a line has left "
        "to ship is INVALID_QUANTITY, and nothing changes.",
    )
    @user_errors_as(ShipmentPayload)
    @logged_refusals("createShipment")
    async def create_shipment(self, info: Info, input: CreateShipmentInput) -> ShipmentPayload:
        uows = info.context.container.uow
        try:
            order, shipment = await _ship(uows, input, info.context.actor)
        except DomainError as error:
            if input.line_ids is not None and input.lines is None:
                raise _by_line_ids(error) from None
            raise
        return ShipmentPayload(order=_shown(order), shipment=Shipment.from_domain(shipment))

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Cancel what has not shipped of an order (whole, or the lines named): "
        "what it holds is released and its channel is told. A partly shipped order keeps its "
        "shipped lines; naming a shipped line, or cancelling an order that all shipped, is "
        "ILLEGAL_STATE and nothing changes: return it.",
    )
    @user_errors_as(OrderPayload)
    async def cancel_order(self, info: Info, input: CancelOrderInput) -> OrderPayload:
        uows = info.context.container.uow
        order = await cancel_order(
            uows,
            order_id=parse_id(input.order_id, "orderId"),
            reason=input.reason.strip(),
            key=input.idempotency_key,
            actor=info.context.actor,
            line_ids=None
            if input.line_ids is None
            else [parse_id(line_id, f"lineIds[{n}]") for n, line_id in enumerate(input.line_ids)],
        )
        return _order_payload(order)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="A shipped order reached its customer: SHIPPED becomes DELIVERED. Any "
        "other status is ILLEGAL_STATE and nothing changes; a delivered order stays so.",
    )
    @user_errors_as(OrderPayload)
    async def mark_order_delivered(
        self, info: Info, input: MarkOrderDeliveredInput
    ) -> OrderPayload:
        uows = info.context.container.uow
        order = await mark_delivered(
            uows,
            order_id=parse_id(input.order_id, "orderId"),
            actor=info.context.actor,
            reason=input.reason,
        )
        return _order_payload(order)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Shipped lines came back: restocked at the location they left from (a "
        "`return` ledger row), or not (damaged). A line cancelled after part of it shipped "
        "returns the units that shipped; a line still partly shipping is ILLEGAL_STATE.",
    )
    @user_errors_as(OrderPayload)
    async def return_order_lines(self, info: Info, input: ReturnOrderLinesInput) -> OrderPayload:
        uows = info.context.container.uow
        order = await return_lines(
            uows,
            order_id=parse_id(input.order_id, "orderId"),
            line_ids=[parse_id(i, f"lineIds[{n}]") for n, i in enumerate(input.line_ids)],
            restock=input.restock,
            reason=input.reason.strip() or "returned",
            key=input.idempotency_key,
            actor=info.context.actor,
        )
        return _order_payload(order)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Point a line whose SKU the hub did not know at a hub SKU; the order "
        "then reserves what it can.",
    )
    @user_errors_as(OrderPayload)
    async def map_order_line_sku(self, info: Info, input: MapOrderLineSkuInput) -> OrderPayload:
        uows = info.context.container.uow
        order_id = parse_id(input.order_id, "orderId")
        line_id = parse_id(input.line_id, "lineId")
        mapped = await map_line_sku(
            uows, order_id, line_id, input.sku.strip(), actor=info.context.actor
        )
        # Reserved right away (not queued), so the answer shows where the line stands.
        order = await allocate(uows, order_id, actor=info.context.actor) or mapped
        return _order_payload(order)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="How the channel's orders settle a contested last unit from now on, and "
        "(losingLines) whether its line that loses one is backordered or cancelled on it.",
    )
    @user_errors_as(ConflictPolicyPayload)
    async def set_conflict_policy(
        self, info: Info, input: SetConflictPolicyInput
    ) -> ConflictPolicyPayload:
        channel_id = parse_id(input.channel_id, "channelId")
        losing = policies.LosingLine(input.losing_lines) if input.losing_lines else None
        async with info.context.container.uow() as uow:
            config = await set_order_rules(
                uow, channel_id, now=utcnow(),
                conflict_policy=policies.ConflictPolicy(input.policy), losing_lines=losing,
            )  # fmt: skip
            await uow.commit()
        return ConflictPolicyPayload(
            channel_id=strawberry.ID(str(config.channel_id)),
            policy=config.conflict_policy,
            losing_lines=config.losing_lines,
        )

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Settle an open MANUAL conflict: who gets the unit, and whether the loser's "
        "line is backordered or cancelled. Resolving it again is ILLEGAL_STATE, an unknown "
        "conflict NOT_FOUND, a winner that is not a party INVALID_INPUT; nothing changes.",
    )
    @user_errors_as(ResolveConflictPayload)
    async def resolve_conflict(
        self, info: Info, input: ResolveConflictInput
    ) -> ResolveConflictPayload:
        uows = info.context.container.uow
        conflict_id = parse_id(input.conflict_id, "conflictId")
        order = await manual_conflicts.resolve(
            uows,
            conflict_id=conflict_id,
            winner=parse_id(input.winner, "winner"),
            loser_action=policies.LosingLine(input.loser_action),
            reason=input.reason,
            actor=info.context.actor,
        )
        async with uows(readonly=True) as uow:
            conflict = await uow.orders.get_conflict(conflict_id)
        return ResolveConflictPayload(
            order=_shown(order),
            conflict=OrderConflict.from_domain(conflict) if conflict else None,
        )
