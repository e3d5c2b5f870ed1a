"""GraphQL types of the inventory, built from domain objects."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from api.schema.context import Info
from api.schema.ids import compound_key
from api.schema.node import Node
from domain.channels.availability import ChannelAvailability as DomainAvailability
from domain.inventory import alerts as domain_alerts
from domain.inventory import model

# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
LocationKind = model.LocationKind
strawberry.enum(LocationKind, name="LocationKind")
ReservationStatus = model.ReservationStatus
strawberry.enum(ReservationStatus, name="ReservationStatus")
MovementReason = model.MovementReason
strawberry.enum(MovementReason, name="MovementReason")
StockState = model.StockState
strawberry.enum(StockState, name="StockState")
AlertKind = domain_alerts.AlertKind
strawberry.enum(AlertKind, name="AlertKind")


@strawberry.type
class Location(Node):
    id: strawberry.ID
    code: str
    name: str
    kind: LocationKind
    zones: list[ShippingZone] = strawberry.field(
        description="Where it ships to (routing prefers it for orders going there); "
        "none: everywhere."
    )

    @classmethod
    def from_domain(cls, location: model.Location) -> Location:
        return cls(
            id=strawberry.ID(str(location.id)),
            code=location.code,
            name=location.name,
            kind=location.kind,
            zones=[ShippingZone(country=z.country, region=z.region) for z in location.zones],
        )


@strawberry.type(description="A country a location ships to, or one region of it.")
class ShippingZone:
    country: str = strawberry.field(description="ISO 3166-1 alpha-2, e.g. DE.")
    region: str | None = strawberry.field(
        description="The ISO 3166-2 part after the dash (BY for DE-BY); null: the whole country."
    )


@strawberry.type(
    description="A location as seen from a level, a line or a movement: its id, and "
    "its code and kind when asked (read once per request)."
)
class LocationRef:
    id: strawberry.ID
    # Known already (a level read with its location), or read when `code` or `kind` is asked.
    known: strawberry.Private[tuple[str, model.LocationKind] | None] = None

    @strawberry.field
    async def code(self, info: Info) -> str | None:
        found = await self._found(info)
        return found[0] if found else None

    @strawberry.field
    async def kind(self, info: Info) -> LocationKind | None:
        found = await self._found(info)
        return found[1] if found else None

    async def _found(self, info: Info) -> tuple[str, model.LocationKind] | None:
        if self.known is not None:
            return self.known
        location = await info.context.locations.load(uuid.UUID(self.id))
        return (location.code, location.kind) if location else None


@strawberry.type
class StockLevel(Node):
    sku: str
    location: LocationRef
    on_hand: int
    reserved: int
    available: int
    version: int
    id: strawberry.ID = strawberry.field(
        resolver=lambda self: strawberry.ID(compound_key(self.location.id, self.sku))
    )

    @strawberry.field(description="Where its units sit at the location (setBin); null: none.")
    async def bin(self, info: Info) -> str | None:
        return await info.context.bins.load((self.sku, uuid.UUID(self.location.id)))

    @classmethod
    def from_domain(
        cls, level: model.StockLevel, at: model.LevelAtLocation | None = None
    ) -> StockLevel:
        return cls(
            sku=level.sku,
            location=LocationRef(
                id=strawberry.ID(str(level.location_id)),
                known=(at.location_code, at.location_kind) if at else None,
            ),
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            version=level.version,
        )


@strawberry.type
class InventoryItem(Node):
    sku: str
    low_stock_threshold: int | None
    stock_state: StockState
    on_hand: int
    reserved: int
    available: int
    levels: list[StockLevel]
    id: strawberry.ID = strawberry.field(
        resolver=lambda self: strawberry.ID(compound_key(self.sku))
    )

    @classmethod
    def from_snapshot(cls, snapshot: model.SkuSnapshot) -> InventoryItem:
        levels = sorted(snapshot.levels, key=lambda e: e.location_code)
        return cls(
            sku=snapshot.item.sku,
            low_stock_threshold=snapshot.item.low_stock_threshold,
            stock_state=snapshot.item.stock_state,
            on_hand=sum(e.level.on_hand for e in levels),
            reserved=sum(e.level.reserved for e in levels),
            available=sum(e.level.available for e in levels),
            levels=[StockLevel.from_domain(e.level, e) for e in levels],
        )


@strawberry.type
class StockMovement:
    id: strawberry.ID
    sku: str
    location: LocationRef
    on_hand_delta: int
    reserved_delta: int
    reason: MovementReason
    actor: str
    reference: str | None
    note: str | None
    detail: str | None
    reservation_id: strawberry.ID | None
    created_at: datetime

    @classmethod
    def from_domain(cls, m: model.Movement) -> StockMovement:
        return cls(
            id=strawberry.ID(str(m.id)),
            sku=m.sku,
            location=LocationRef(id=strawberry.ID(str(m.location_id))),
            on_hand_delta=m.on_hand_delta,
            reserved_delta=m.reserved_delta,
            reason=m.reason,
            actor=m.actor,
            reference=m.reference,
            note=m.note,
            detail=m.detail,
            reservation_id=strawberry.ID(str(m.reservation_id)) if m.reservation_id else None,
            created_at=m.created_at,
        )


@strawberry.type
class Reservation:
    id: strawberry.ID
    sku: str
    quantity: int
    status: ReservationStatus
    reference: str | None
    location: LocationRef
    created_at: datetime
    expires_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def from_domain(cls, r: model.Reservation) -> Reservation:
        return cls(
            id=strawberry.ID(str(r.id)),
            sku=r.sku,
            quantity=r.quantity,
            status=r.status,
            reference=r.reference,
            location=LocationRef(id=strawberry.ID(str(r.location_id))),
            created_at=r.created_at,
            expires_at=r.expires_at,
            closed_at=r.closed_at,
        )


@strawberry.type
class AvailabilityStep:
    step: str
    value: int


@strawberry.type(description="What a channel is told for a SKU, and every step that made it.")
class ChannelAvailability:
    quantity: int
    explanation: list[AvailabilityStep]

    @classmethod
    def from_domain(cls, availability: DomainAvailability) -> ChannelAvailability:
        return cls(
            quantity=availability.quantity,
            explanation=[
                AvailabilityStep(step=s.step, value=s.value) for s in availability.explanation
            ],
        )


@strawberry.type
class Alert:
    id: strawberry.ID
    kind: AlertKind
    sku: str | None = strawberry.field(
        description="The SKU the alert is about; null for an inbound event naming none."
    )
    available: int
    threshold: int | None
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    channel_id: strawberry.ID | None = strawberry.field(
        default=None, description="SYNC_FAILED alerts: the channel that could not be updated."
    )
    message: str | None = strawberry.field(
        default=None, description="SYNC_FAILED alerts: the channel's last answer."
    )

    @classmethod
    def from_domain(cls, a: domain_alerts.Alert) -> Alert:
        return cls(
            id=strawberry.ID(str(a.id)),
            kind=a.kind,
            sku=a.sku,
            available=a.available,
            threshold=a.threshold,
            created_at=a.created_at,
            acknowledged_at=a.acknowledged_at,
            acknowledged_by=a.acknowledged_by,
            channel_id=strawberry.ID(str(a.channel_id)) if a.channel_id else None,
            message=a.message,
        )


@strawberry.type
class LevelMismatch:
    sku: str
    location_id: strawberry.ID
    expected: int = strawberry.field(description="On hand according to the ledger.")
    actual: int = strawberry.field(description="On hand in the stock level.")
    expected_reserved: int
    actual_reserved: int


@strawberry.type(description="A SKU whose sellable total disagrees with its levels.")
class TotalMismatch:
    sku: str
    expected: int = strawberry.field(description="Sum of available over sellable levels.")
    actual: int = strawberry.field(description="The SKU's kept sellable total.")


@strawberry.type
class InventoryAudit:
    checked_levels: int
    mismatches: list[LevelMismatch]
    total_mismatches: list[TotalMismatch]

    @classmethod
    def from_domain(cls, report: model.AuditReport) -> InventoryAudit:
        return cls(
            checked_levels=report.checked_levels,
            mismatches=[
                LevelMismatch(
                    sku=m.sku,
                    location_id=strawberry.ID(str(m.location_id)),
                    expected=m.expected_on_hand,
                    actual=m.actual_on_hand,
                    expected_reserved=m.expected_reserved,
                    actual_reserved=m.actual_reserved,
                )
                for m in report.mismatches
            ],
            total_mismatches=[
                TotalMismatch(sku=t.sku, expected=t.expected_available, actual=t.actual_available)
                for t in report.total_mismatches
            ],
        )


@strawberry.type
class ChannelQuantity:
    channel_id: strawberry.ID
    name: str
    quantity: int


@strawberry.type(description="A stock level changed. Carries its version: re-query on a gap.")
class StockChange:
    sku: str
    location_id: strawberry.ID
    location_code: str | None
    on_hand: int
    reserved: int
    available: int
    version: int
    reason: str
    changed_at: datetime
    channels: list[ChannelQuantity]
