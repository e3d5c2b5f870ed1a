"""The inventory's entities and value objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.inventory.zones import Zone


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"
    THIRD_PARTY = "3pl"
    DROPSHIP = "dropship"
    # The channel holds and ships this stock (e.g. Amazon FBA): read, never pushed or reserved
    # for orders of other channels.
    CHANNEL_MANAGED = "channel_managed"


class MovementReason(StrEnum):
    RECEIVE = "receive"
    ADJUST = "adjust"
    COUNT = "count"
    TRANSFER = "transfer"
    RESERVE = "reserve"
    RELEASE = "release"
    EXPIRE = "expire"
    COMMIT = "commit"
    RETURN = "return"
    CHANNEL_EDIT = "channel_edit"


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


class StockState(StrEnum):
    """Where a SKU's total available stands against its thresholds (alerts fire on changes)."""

    IN_STOCK = "in_stock"
    LOW = "low"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class Location:
    id: uuid.UUID
    code: str
    name: str
    kind: LocationKind
    created_at: datetime
    zones: tuple[Zone, ...] = ()  # where it ships to; none: everywhere

    @property
    def sellable_by_hub(self) -> bool:
        return self.kind is not LocationKind.CHANNEL_MANAGED


def stock_state(available: int, low_stock_threshold: int | None) -> StockState:
    if available <= 0:
        return StockState.OUT
    if low_stock_threshold is not None and available <= low_stock_threshold:
        return StockState.LOW
    return StockState.IN_STOCK


@dataclass(frozen=True, slots=True)
class InventoryItem:
    """A SKU's inventory record; `available` is its sellable total, kept with every change."""

    sku: str
    low_stock_threshold: int | None
    available: int
    created_at: datetime

    @property
    def stock_state(self) -> StockState:
        return stock_state(self.available, self.low_stock_threshold)


@dataclass(frozen=True, slots=True)
class StockLevel:
    sku: str
    location_id: uuid.UUID
    on_hand: int
    reserved: int
    version: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class LevelAtLocation:
    """A level together with the location facts rules need (kind, code for ordering)."""

    level: StockLevel
    location_code: str
    location_kind: LocationKind


@dataclass(frozen=True, slots=True)
class SkuSnapshot:
    """One SKU's item and its levels, read together."""

    item: InventoryItem
    levels: tuple[LevelAtLocation, ...]

    def level_at(self, location_id: uuid.UUID) -> StockLevel | None:
        for entry in self.levels:
            if entry.level.location_id == location_id:
                return entry.level
        return None

    def location_of(self, location_id: uuid.UUID) -> LevelAtLocation | None:
        for entry in self.levels:
            if entry.level.location_id == location_id:
                return entry
        return None

    def with_level(self, level: StockLevel, location: Location | None = None) -> SkuSnapshot:
        """This snapshot with one level replaced (or added, given its location)."""
        current = self.location_of(level.location_id)
        if current is None:
            if location is None:
                raise ValueError("a new level needs its location")
            added = LevelAtLocation(level, location.code, location.kind)
            return SkuSnapshot(self.item, (*self.levels, added))
        return SkuSnapshot(
            item=self.item,
            levels=tuple(
                LevelAtLocation(level, e.location_code, e.location_kind)
                if e.level.location_id == level.location_id
                else e
                for e in self.levels
            ),
        )

    @property
    def sellable_available(self) -> int:
        return sum(
            max(e.level.available, 0)
            for e in self.levels
            if e.location_kind is not LocationKind.CHANNEL_MANAGED
        )


@dataclass(frozen=True, slots=True)
class LevelDelta:
    """A change to make to one level, as `InventoryRepository.change_level` makes it."""

    sku: str
    location_id: uuid.UUID
    on_hand_delta: int
    reserved_delta: int
    sellable: bool


@dataclass(frozen=True, slots=True)
class LevelChange:
    """A level after a change, and the SKU's sellable total before and after it."""

    level: StockLevel
    # None when the change did not move the total (e.g. a commit, or stock the channel holds).
    sku_available_before: int | None = None
    sku_available_after: int | None = None


@dataclass(frozen=True, slots=True)
class Movement:
    """One append-only ledger row: how one level changed, why, by whom."""

    id: uuid.UUID
    sku: str
    location_id: uuid.UUID
    on_hand_delta: int
    reserved_delta: int
    reason: MovementReason
    actor: str
    operation_key: str | None
    created_at: datetime
    reference: str | None = None
    note: str | None = None
    detail: str | None = None
    reservation_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Reservation:
    id: uuid.UUID
    sku: str
    location_id: uuid.UUID
    quantity: int
    status: ReservationStatus
    reference: str | None
    created_at: datetime
    expires_at: datetime | None = None
    closed_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True, slots=True)
class LevelMismatch:
    sku: str
    location_id: uuid.UUID
    expected_on_hand: int
    expected_reserved: int
    actual_on_hand: int
    actual_reserved: int


@dataclass(frozen=True, slots=True)
class SkuTotalMismatch:
    """A SKU whose kept sellable total differs from the sum over its sellable levels."""

    sku: str
    expected_available: int
    actual_available: int


@dataclass(frozen=True, slots=True)
class AuditReport:
    checked_levels: int
    mismatches: list[LevelMismatch] = field(default_factory=list)
    total_mismatches: list[SkuTotalMismatch] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.mismatches and not self.total_mismatches
