"""Inventory storage in dicts, with the SQL repository's conditional semantics.

A level change is refused (None) exactly when the SQL `UPDATE … WHERE` would match no row:
the level does not exist, or after the change `0 <= reserved <= on_hand` would not hold.
At a sellable location the SKU's kept total moves with it, and the change reports the
total before and after, as the SQL statements return it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from domain.inventory.hold_requests import level_deltas
from domain.inventory.idempotency import Operation, OperationAlreadyRecorded
from domain.inventory.model import (
    AuditReport,
    InventoryItem,
    LevelAtLocation,
    LevelChange,
    LevelDelta,
    LevelMismatch,
    Location,
    LocationKind,
    Movement,
    Reservation,
    ReservationStatus,
    SkuSnapshot,
    SkuTotalMismatch,
    StockLevel,
)
from domain.inventory.zones import Zone
from tests.fakes.tables import ConstraintViolation, Tables, UniqueViolation, read_position


class FakeOperationLog:
    def __init__(self, tables: Tables):
        self._t = tables

    async def claim(self, operation: Operation) -> None:
        if operation.key in self._t.operations:
            raise OperationAlreadyRecorded(operation.key)
        self._t.operations[operation.key] = operation

    async def claim_many(self, claims: Sequence[Operation]) -> set[str]:
        """Claim each key not taken yet (the first of repeated keys); the keys claimed."""
        claimed: set[str] = set()
        for operation in claims:
            if operation.key not in self._t.operations:
                self._t.operations[operation.key] = operation
                claimed.add(operation.key)
        return claimed

    async def complete(self, key: str, result: Mapping[str, Any]) -> None:
        stored = self._t.operations.get(key)
        if stored is not None:
            self._t.operations[key] = dataclasses.replace(stored, result=dict(result))

    async def get(self, key: str) -> Operation | None:
        return self._t.operations.get(key)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Operation]:
        return {key: self._t.operations[key] for key in keys if key in self._t.operations}


class FakeInventoryRepository:
    def __init__(self, tables: Tables):
        self._t = tables

    # Locations and items

    async def add_location(self, location: Location) -> None:
        if location.id in self._t.locations:
            raise UniqueViolation(f"locations.id {location.id}")
        if any(loc.code == location.code for loc in self._t.locations.values()):
            raise UniqueViolation(f"locations.code {location.code!r}")
        self._t.locations[location.id] = location

    async def get_location(self, location_id: uuid.UUID) -> Location | None:
        return self._t.locations.get(location_id)

    async def get_location_by_code(self, code: str) -> Location | None:
        return next((loc for loc in self._t.locations.values() if loc.code == code), None)

    async def list_locations(self) -> list[Location]:
        return sorted(self._t.locations.values(), key=lambda loc: loc.code)

    async def location_kinds(
        self, location_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, LocationKind]:
        found = (self._t.locations.get(i) for i in location_ids)
        return {loc.id: loc.kind for loc in found if loc is not None}

    async def set_zones(self, location_id: uuid.UUID, zones: Sequence[Zone]) -> None:
        location = self._t.locations[location_id]
        self._t.locations[location_id] = dataclasses.replace(location, zones=tuple(sorted(zones)))

    async def add_item(self, item: InventoryItem) -> None:
        if item.sku in self._t.items:
            raise UniqueViolation(f"inventory_items.sku {item.sku!r}")
        self._t.items[item.sku] = item

    async def add_items(self, items: Sequence[InventoryItem]) -> None:
        for item in items:
            self._t.items.setdefault(item.sku, item)

    async def get_item(self, sku: str) -> InventoryItem | None:
        return self._t.items.get(sku)

    async def list_items(
        self, *, first: int, after: str | None, search: str | None
    ) -> list[InventoryItem]:
        found = sorted(self._t.items.values(), key=lambda item: item.sku)
        if after is not None:
            found = [item for item in found if item.sku > after]
        if search:
            found = [item for item in found if search in item.sku]
        return found[:first]

    # Levels

    def _snapshot(self, sku: str) -> SkuSnapshot | None:
        item = self._t.items.get(sku)
        if item is None:
            return None
        levels = tuple(
            LevelAtLocation(level, self._t.locations[loc].code, self._t.locations[loc].kind)
            for (level_sku, loc), level in self._t.levels.items()
            if level_sku == sku
        )
        return SkuSnapshot(item, levels)

    async def snapshot(self, sku: str) -> SkuSnapshot | None:
        return self._snapshot(sku)

    async def snapshots(self, skus: Sequence[str]) -> dict[str, SkuSnapshot]:
        found = {sku: self._snapshot(sku) for sku in skus}
        return {sku: snap for sku, snap in found.items() if snap is not None}

    async def lock_snapshots(self, skus: Sequence[str]) -> dict[str, SkuSnapshot]:
        return await self.snapshots(skus)  # one writer at a time: there is nothing to lock

    async def ensure_level(self, sku: str, location_id: uuid.UUID) -> None:
        self._check_keys(sku, location_id)
        self._t.levels.setdefault((sku, location_id), StockLevel(sku, location_id, 0, 0, 0))

    async def ensure_levels(self, slots: Sequence[tuple[str, uuid.UUID]]) -> None:
        for sku, location_id in slots:
            await self.ensure_level(sku, location_id)

    async def set_bin(self, sku: str, location_id: uuid.UUID, bin: str | None) -> None:
        if (sku, location_id) not in self._t.levels:
            return  # an UPDATE of no row
        if bin is None:
            self._t.bins.pop((sku, location_id), None)
        else:
            self._t.bins[(sku, location_id)] = bin

    async def bins(
        self, slots: Sequence[tuple[str, uuid.UUID]]
    ) -> dict[tuple[str, uuid.UUID], str]:
        return {slot: self._t.bins[slot] for slot in slots if slot in self._t.bins}

    def _check_keys(self, sku: str, location_id: uuid.UUID) -> None:
        if sku not in self._t.items:
            raise ConstraintViolation(f"stock_levels.sku {sku!r}: no such item")
        if location_id not in self._t.locations:
            raise ConstraintViolation(f"stock_levels.location_id {location_id}: no such location")

    def _move_total(self, sku: str, delta: int) -> tuple[int, int]:
        item = self._t.items.get(sku)
        if item is None:
            raise LookupError(f"no inventory item {sku!r}")  # as `scalar_one()` finds no row
        self._t.items[sku] = dataclasses.replace(item, available=item.available + delta)
        return item.available, item.available + delta

    def _apply(
        self, sku: str, location_id: uuid.UUID, level: StockLevel, available_delta: int
    ) -> LevelChange:
        self._t.levels[(sku, location_id)] = level
        if available_delta == 0:
            return LevelChange(level)
        return LevelChange(level, *self._move_total(sku, available_delta))

    async def change_level(
        self,
        sku: str,
        location_id: uuid.UUID,
        on_hand_delta: int,
        reserved_delta: int,
        *,
        sellable: bool,
    ) -> LevelChange | None:
        level = self._t.levels.get((sku, location_id))
        if level is None:
            return None
        on_hand, reserved = level.on_hand + on_hand_delta, level.reserved + reserved_delta
        if not 0 <= reserved <= on_hand:
            return None
        changed = StockLevel(sku, location_id, on_hand, reserved, level.version + 1)
        available_delta = (on_hand_delta - reserved_delta) if sellable else 0
        return self._apply(sku, location_id, changed, available_delta)

    async def change_levels(self, deltas: Sequence[LevelDelta]) -> list[LevelChange | None]:
        slots = [(d.sku, d.location_id) for d in deltas]
        if len(set(slots)) != len(slots):
            raise ValueError("a level may appear once in a batch of changes")
        return [
            await self.change_level(
                d.sku, d.location_id, d.on_hand_delta, d.reserved_delta, sellable=d.sellable
            )
            for d in deltas
        ]

    async def count_level(
        self,
        sku: str,
        location_id: uuid.UUID,
        on_hand: int,
        expected_on_hand: int,
        *,
        sellable: bool,
    ) -> LevelChange | None:
        level = self._t.levels.get((sku, location_id))
        if level is None or level.on_hand != expected_on_hand or level.reserved > on_hand:
            return None
        changed = StockLevel(sku, location_id, on_hand, level.reserved, level.version + 1)
        available_delta = (on_hand - expected_on_hand) if sellable else 0
        return self._apply(sku, location_id, changed, available_delta)

    async def move_sku_total(self, sku: str, delta: int) -> tuple[int, int]:
        return self._move_total(sku, delta)

    async def add_movements(self, movements: Sequence[Movement]) -> None:
        known = {m.id for m in self._t.movements}
        for movement in movements:
            if movement.id in known:
                raise UniqueViolation(f"stock_movements.id {movement.id}")
            self._check_keys(movement.sku, movement.location_id)
            known.add(movement.id)
        self._t.movements.extend(movements)

    async def list_movements(self, sku: str, *, first: int, after: str | None) -> list[Movement]:
        found = sorted(
            (m for m in self._t.movements if m.sku == sku), key=lambda m: (m.created_at, m.id)
        )
        if after is not None:
            start = read_position(after)
            found = [m for m in found if (m.created_at, m.id) > start]
        return found[:first]

    # Reservations

    async def add_reservation(self, reservation: Reservation) -> None:
        if reservation.id in self._t.reservations:
            raise UniqueViolation(f"reservations.id {reservation.id}")
        if reservation.quantity <= 0:
            raise ConstraintViolation("reservations: quantity_positive")
        self._check_keys(reservation.sku, reservation.location_id)
        self._t.reservations[reservation.id] = reservation

    async def add_reservations(self, held: Sequence[Reservation]) -> None:
        for reservation in held:
            await self.add_reservation(reservation)

    async def record_holds(
        self,
        claims: Sequence[Operation],
        held: Sequence[tuple[str, Reservation]],
        movements: Sequence[Movement],
    ) -> set[str]:
        claimed = await FakeOperationLog(self._t).claim_many(claims)
        await self.add_reservations([r for key, r in held if key in claimed])
        await self.add_movements([m for m in movements if m.operation_key in claimed])
        return claimed

    async def hold(
        self,
        claims: Sequence[Operation],
        held: Sequence[tuple[str, Reservation]],
        movements: Sequence[Movement],
        sellable: Mapping[tuple[str, uuid.UUID], bool],
    ) -> tuple[set[str], list[tuple[LevelDelta, LevelChange | None]]]:
        claimed = await self.record_holds(claims, held, movements)
        deltas = level_deltas([r for key, r in held if key in claimed], sellable)
        return claimed, list(zip(deltas, await self.change_levels(deltas), strict=True))

    async def get_reservation(self, reservation_id: uuid.UUID) -> Reservation | None:
        return self._t.reservations.get(reservation_id)

    async def close_reservation(
        self,
        reservation_id: uuid.UUID,
        status: ReservationStatus,
        at: datetime,
        *,
        read: Reservation | None = None,
    ) -> bool:
        current = self._t.reservations.get(reservation_id)
        if current is None or current.status is not ReservationStatus.ACTIVE:
            return False
        if read is not None:
            if current.reference != read.reference:
                return False
            if status is ReservationStatus.EXPIRED and not (
                current.expires_at is not None and current.expires_at <= at
            ):
                return False
        self._t.reservations[reservation_id] = dataclasses.replace(
            current, status=status, closed_at=at
        )
        return True

    async def split_reservation(
        self, reservation_id: uuid.UUID, quantity: int, part: Reservation
    ) -> bool:
        current = self._t.reservations.get(reservation_id)
        if (
            current is None
            or current.status is not ReservationStatus.ACTIVE
            or not current.quantity > quantity
        ):
            return False
        self._t.reservations[reservation_id] = dataclasses.replace(
            current, quantity=current.quantity - quantity
        )
        await self.add_reservation(part)
        return True

    def _active(self) -> list[Reservation]:
        return [r for r in self._t.reservations.values() if r.status is ReservationStatus.ACTIVE]

    async def lock_reservations(self, references: Sequence[str]) -> list[Reservation]:
        wanted = set(references)
        return sorted((r for r in self._active() if r.reference in wanted), key=lambda r: r.id)

    async def hand_over(self, owners: Mapping[uuid.UUID, str]) -> int:
        moved = 0
        for reservation_id, reference in owners.items():
            current = self._t.reservations.get(reservation_id)
            if current is not None and current.status is ReservationStatus.ACTIVE:
                self._t.reservations[reservation_id] = dataclasses.replace(
                    current, reference=reference, expires_at=None
                )
                moved += 1
        return moved

    async def list_reservations(
        self,
        *,
        sku: str | None,
        status: ReservationStatus | None,
        reference: str | None,
        first: int,
        after: str | None,
    ) -> list[Reservation]:
        found = sorted(self._t.reservations.values(), key=lambda r: (r.created_at, r.id))
        if sku is not None:
            found = [r for r in found if r.sku == sku]
        if status is not None:
            found = [r for r in found if r.status is status]
        if reference is not None:
            found = [r for r in found if r.reference == reference]
        if after is not None:
            start = read_position(after)
            found = [r for r in found if (r.created_at, r.id) > start]
        return found[:first]

    async def expired_reservations(self, now: datetime, limit: int) -> list[Reservation]:
        due = [r for r in self._active() if r.expires_at is not None and r.expires_at <= now]
        return sorted(due, key=lambda r: r.expires_at or now)[:limit]

    # Audit

    async def audit(self) -> AuditReport:
        ledger: dict[tuple[str, uuid.UUID], tuple[int, int]] = {}
        for m in self._t.movements:
            on_hand, reserved = ledger.get((m.sku, m.location_id), (0, 0))
            ledger[(m.sku, m.location_id)] = (
                on_hand + m.on_hand_delta,
                reserved + m.reserved_delta,
            )
        levels = sorted(self._t.levels.values(), key=lambda lv: (lv.sku, lv.location_id))
        mismatches = [
            LevelMismatch(lv.sku, lv.location_id, *expected, lv.on_hand, lv.reserved)
            for lv in levels
            if (expected := ledger.get((lv.sku, lv.location_id), (0, 0)))
            != (lv.on_hand, lv.reserved)
        ]
        mismatches += [
            LevelMismatch(sku, location_id, on_hand, reserved, 0, 0)
            for (sku, location_id), (on_hand, reserved) in ledger.items()
            if (sku, location_id) not in self._t.levels and (on_hand or reserved)
        ]
        return AuditReport(len(levels), mismatches, self._total_mismatches())

    def _total_mismatches(self) -> list[SkuTotalMismatch]:
        sellable: dict[str, int] = {}
        for (sku, location_id), level in self._t.levels.items():
            if self._t.locations[location_id].kind is not LocationKind.CHANNEL_MANAGED:
                sellable[sku] = sellable.get(sku, 0) + level.available
        return [
            SkuTotalMismatch(sku, sellable.get(sku, 0), item.available)
            for sku, item in sorted(self._t.items.items())
            if sellable.get(sku, 0) != item.available
        ]
