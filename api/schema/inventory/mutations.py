"""Inventory mutations: each takes `input` and returns a payload with `userErrors`."""

from __future__ import annotations

import strawberry

from api.schema.context import Info
from api.schema.errors import UserError, user_errors_as
from api.schema.ids import parse_id
from api.schema.inventory.types import (
    Alert,
    InventoryItem,
    Location,
    LocationKind,
    Reservation,
    StockLevel,
)
from api.schema.permissions import CanMutate, IsAdmin
from domain.inventory import bins, hold_requests, queries, reservations, setup, stock
from domain.inventory.results import StockResult


@strawberry.input
class CreateLocationInput:
    code: str
    name: str
    kind: LocationKind


@strawberry.type
class CreateLocationPayload:
    location: Location | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="A country (ISO 3166-1 alpha-2), or one region of it.")
class ShippingZoneInput:
    country: str
    region: str | None = strawberry.field(
        default=None, description="BY or DE-BY (ISO 3166-2); omitted: the whole country."
    )


@strawberry.input
class SetLocationZonesInput:
    location_id: strawberry.ID
    zones: list[ShippingZoneInput] = strawberry.field(
        description="Replaces the location's zones; empty: it ships everywhere."
    )


@strawberry.type
class SetLocationZonesPayload:
    location: Location | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateInventoryItemInput:
    sku: str
    low_stock_threshold: int | None = None


@strawberry.type
class CreateInventoryItemPayload:
    inventory_item: InventoryItem | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReceiveStockInput:
    sku: str
    location_id: strawberry.ID
    quantity: int
    idempotency_key: str
    note: str | None = None


@strawberry.input
class AdjustStockInput:
    sku: str
    location_id: strawberry.ID
    delta: int
    reason: str
    idempotency_key: str
    note: str | None = None


@strawberry.input
class CountStockInput:
    sku: str
    location_id: strawberry.ID
    on_hand: int
    idempotency_key: str
    expected_on_hand: int | None = None


@strawberry.input
class TransferStockInput:
    sku: str
    from_location_id: strawberry.ID
    to_location_id: strawberry.ID
    quantity: int
    idempotency_key: str


@strawberry.type(description="The levels a stock operation left (on a replay: as first left).")
class StockChangePayload:
    levels: list[StockLevel] = strawberry.field(default_factory=list)
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReserveStockInput:
    sku: str
    quantity: int
    idempotency_key: str
    location_id: strawberry.ID | None = None
    reference: str | None = None
    expires_in_seconds: int | None = None


# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
ReservationMode = hold_requests.LineMode
strawberry.enum(
    ReservationMode,
    name="ReservationMode",
    description="ALL_OR_NOTHING: every line or none. PARTIAL: as many lines as possible.",
)


@strawberry.input
class ReserveStockLineInput:
    sku: str
    quantity: int
    location_id: strawberry.ID | None = None


@strawberry.input
class ReserveStockLinesInput:
    lines: list[ReserveStockLineInput]
    mode: ReservationMode = hold_requests.LineMode.ALL_OR_NOTHING
    idempotency_key: str
    reference: str | None = None
    expires_in_seconds: int | None = None


@strawberry.type
class ReservedLine:
    sku: str
    quantity: int
    reservation: Reservation | None = strawberry.field(
        description="Null when this line could not be reserved (PARTIAL mode only)."
    )
    error: UserError | None


@strawberry.type
class ReserveStockLinesPayload:
    lines: list[ReservedLine] = strawberry.field(default_factory=list)
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReservationInput:
    reservation_id: strawberry.ID
    idempotency_key: str


@strawberry.type
class ReservationPayload:
    reservation: Reservation | None = None
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetBinInput:
    sku: str
    location_id: strawberry.ID
    bin: str | None = strawberry.field(
        description=f"1 to {bins.MAX_BIN} letters, digits, spaces or . _ / -; null or blank "
        "clears it."
    )


@strawberry.type
class SetBinPayload:
    level: StockLevel | None = strawberry.field(
        default=None, description="The level, its bin as now set."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AcknowledgeAlertInput:
    alert_id: strawberry.ID


@strawberry.type
class AcknowledgeAlertPayload:
    alert: Alert | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _stock_payload(result: StockResult) -> StockChangePayload:
    return StockChangePayload(
        levels=[StockLevel.from_domain(level) for level in result.levels],
        replayed=result.replayed,
    )


def _reservation_payload(result: reservations.ReservationResult) -> ReservationPayload:
    return ReservationPayload(
        reservation=Reservation.from_domain(result.reservation), replayed=result.replayed
    )


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(CreateLocationPayload)
    async def create_location(
        self, info: Info, input: CreateLocationInput
    ) -> CreateLocationPayload:
        async with info.context.container.uow() as uow:
            location = await setup.create_location(
                uow, code=input.code, name=input.name, kind=str(input.kind.value)
            )
            await uow.commit()
        return CreateLocationPayload(location=Location.from_domain(location))

    @strawberry.mutation(
        permission_classes=[IsAdmin],
        description="Where a location ships to: orders going there are routed to it first.",
    )
    @user_errors_as(SetLocationZonesPayload)
    async def set_location_zones(
        self, info: Info, input: SetLocationZonesInput
    ) -> SetLocationZonesPayload:
        location_id = parse_id(input.location_id, "locationId")
        async with info.context.container.uow() as uow:
            location = await setup.set_location_zones(
                uow, location_id, [(z.country, z.region) for z in input.zones]
            )
            await uow.commit()
        return SetLocationZonesPayload(location=Location.from_domain(location))

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(CreateInventoryItemPayload)
    async def create_inventory_item(
        self, info: Info, input: CreateInventoryItemInput
    ) -> CreateInventoryItemPayload:
        async with info.context.container.uow() as uow:
            item = await setup.create_inventory_item(
                uow, sku=input.sku, low_stock_threshold=input.low_stock_threshold
            )
            await uow.commit()
            snapshot = await uow.inventory.snapshot(item.sku)
        assert snapshot is not None
        return CreateInventoryItemPayload(inventory_item=InventoryItem.from_snapshot(snapshot))

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(StockChangePayload)
    async def receive_stock(self, info: Info, input: ReceiveStockInput) -> StockChangePayload:
        result = await stock.receive(
            info.context.container.uow,
            sku=input.sku,
            location_id=parse_id(input.location_id, "locationId"),
            quantity=input.quantity,
            key=input.idempotency_key,
            actor=info.context.actor,
            note=input.note,
        )
        return _stock_payload(result)

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(StockChangePayload)
    async def adjust_stock(self, info: Info, input: AdjustStockInput) -> StockChangePayload:
        result = await stock.adjust(
            info.context.container.uow,
            sku=input.sku,
            location_id=parse_id(input.location_id, "locationId"),
            delta=input.delta,
            reason=input.reason,
            key=input.idempotency_key,
            actor=info.context.actor,
            note=input.note,
        )
        return _stock_payload(result)

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(StockChangePayload)
    async def count_stock(self, info: Info, input: CountStockInput) -> StockChangePayload:
        result = await stock.count(
            info.context.container.uow,
            sku=input.sku,
            location_id=parse_id(input.location_id, "locationId"),
            on_hand=input.on_hand,
            expected_on_hand=input.expected_on_hand,
            key=input.idempotency_key,
            actor=info.context.actor,
        )
        return _stock_payload(result)

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(StockChangePayload)
    async def transfer_stock(self, info: Info, input: TransferStockInput) -> StockChangePayload:
        result = await stock.transfer(
            info.context.container.uow,
            sku=input.sku,
            from_location_id=parse_id(input.from_location_id, "fromLocationId"),
            to_location_id=parse_id(input.to_location_id, "toLocationId"),
            quantity=input.quantity,
            key=input.idempotency_key,
            actor=info.context.actor,
        )
        return _stock_payload(result)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Put a SKU's units at a location in a bin (where pick lists send the "
        "picker); the level is made at zero if the location has none of it yet. No stock "
        "figure changes.",
    )
    @user_errors_as(SetBinPayload)
    async def set_bin(self, info: Info, input: SetBinInput) -> SetBinPayload:
        uows = info.context.container.uow
        location_id = parse_id(input.location_id, "locationId")
        sku = input.sku.strip()
        await bins.set_bin(uows, sku=sku, location_id=location_id, bin=input.bin)
        async with uows(readonly=True) as uow:
            snapshot = await uow.inventory.snapshot(sku)
        at = snapshot.location_of(location_id) if snapshot else None
        return SetBinPayload(level=StockLevel.from_domain(at.level, at) if at else None)

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ReservationPayload)
    async def reserve_stock(self, info: Info, input: ReserveStockInput) -> ReservationPayload:
        result = await info.context.container.reservation_desk.reserve(
            sku=input.sku,
            quantity=input.quantity,
            key=input.idempotency_key,
            actor=info.context.actor,
            location_id=parse_id(input.location_id, "locationId") if input.location_id else None,
            reference=input.reference,
            expires_in_seconds=input.expires_in_seconds,
        )
        return _reservation_payload(result)

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Reserve an order's lines together, locking them in one fixed order.",
    )
    @user_errors_as(ReserveStockLinesPayload)
    async def reserve_stock_lines(
        self, info: Info, input: ReserveStockLinesInput
    ) -> ReserveStockLinesPayload:
        result = await reservations.reserve_lines(
            info.context.container.uow,
            lines=[
                hold_requests.LineRequest(
                    sku=line.sku,
                    quantity=line.quantity,
                    location_id=parse_id(line.location_id, f"lines[{i}].locationId")
                    if line.location_id
                    else None,
                )
                for i, line in enumerate(input.lines)
            ],
            mode=hold_requests.LineMode(input.mode),
            key=input.idempotency_key,
            actor=info.context.actor,
            reference=input.reference,
            expires_in_seconds=input.expires_in_seconds,
        )
        return ReserveStockLinesPayload(
            lines=[
                ReservedLine(
                    sku=line.request.sku,
                    quantity=line.request.quantity,
                    reservation=Reservation.from_domain(line.reservation)
                    if line.reservation
                    else None,
                    error=UserError.from_domain(line.error) if line.error else None,
                )
                for line in result.lines
            ],
            replayed=result.replayed,
        )

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ReservationPayload)
    async def release_reservation(self, info: Info, input: ReservationInput) -> ReservationPayload:
        result = await reservations.release(
            info.context.container.uow,
            reservation_id=parse_id(input.reservation_id, "reservationId"),
            key=input.idempotency_key,
            actor=info.context.actor,
        )
        return _reservation_payload(result)

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ReservationPayload)
    async def commit_reservation(self, info: Info, input: ReservationInput) -> ReservationPayload:
        result = await reservations.commit(
            info.context.container.uow,
            reservation_id=parse_id(input.reservation_id, "reservationId"),
            key=input.idempotency_key,
            actor=info.context.actor,
        )
        return _reservation_payload(result)

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(AcknowledgeAlertPayload)
    async def acknowledge_alert(
        self, info: Info, input: AcknowledgeAlertInput
    ) -> AcknowledgeAlertPayload:
        async with info.context.container.uow() as uow:
            alert = await queries.acknowledge_alert(
                uow, alert_id=parse_id(input.alert_id, "alertId"), actor=info.context.actor
            )
            await uow.commit()
        return AcknowledgeAlertPayload(alert=Alert.from_domain(alert))
