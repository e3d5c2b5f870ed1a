"""The storage inventory needs. Stock changes are conditional: refused, never clamped."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from domain.inventory.alerts import Alert
from domain.inventory.idempotency import Operation
from domain.inventory.model import (
    AuditReport,
    InventoryItem,
    LevelChange,
    LevelDelta,
    Location,
    LocationKind,
    Movement,
    Reservation,
    ReservationStatus,
    SkuSnapshot,
)
from domain.inventory.zones import Zone


class InventoryRepository(Protocol):
    async def add_location(self, location: Location) -> None: ...
    async def get_location(self, location_id: uuid.UUID) -> Location | None: ...
    async def get_location_by_code(self, code: str) -> Location | None: ...
    async def list_locations(self) -> list[Location]: ...
    async def location_kinds(
        self, location_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, LocationKind]:
        """The kinds of those of these locations that exist, in one read."""
        ...

    async def set_zones(self, location_id: uuid.UUID, zones: Sequence[Zone]) -> None:
        """Replace the location's shipping zones (none: it ships everywhere)."""
        ...

    async def add_item(self, item: InventoryItem) -> None: ...
    async def add_items(self, items: Sequence[InventoryItem]) -> None:
        """Insert several items at once; SKUs that already have one are left as they are."""
        ...

    async def get_item(self, sku: str) -> InventoryItem | None: ...
    async def list_items(
        self, *, first: int, after: str | None, search: str | None
    ) -> list[InventoryItem]: ...

    async def snapshot(self, sku: str) -> SkuSnapshot | None:
        """The item and all its levels, with their locations' kinds and codes."""
        ...

    async def snapshots(self, skus: Sequence[str]) -> dict[str, SkuSnapshot]:
        """`snapshot` for several SKUs in one read (unknown SKUs are absent)."""
        ...

    async def lock_snapshots(self, skus: Sequence[str]) -> dict[str, SkuSnapshot]:
        """Like `snapshot` for several SKUs, locking their level rows in one fixed order."""
        ...

    async def ensure_level(self, sku: str, location_id: uuid.UUID) -> None:
        """Create the (SKU, location) level at zero if it does not exist."""
        ...

    async def ensure_levels(self, slots: Sequence[tuple[str, uuid.UUID]]) -> None:
        """`ensure_level` for each (SKU, location), in the order given, in one step."""
        ...

    async def set_bin(self, sku: str, location_id: uuid.UUID, bin: str | None) -> None:
        """Set (None: clear) the bin of an existing level; its stock figures stay."""
        ...

    async def bins(
        self, slots: Sequence[tuple[str, uuid.UUID]]
    ) -> dict[tuple[str, uuid.UUID], str]:
        """The bins set among these (SKU, location) levels."""
        ...

    async def change_level(
        self,
        sku: str,
        location_id: uuid.UUID,
        on_hand_delta: int,
        reserved_delta: int,
        *,
        sellable: bool,
    ) -> LevelChange | None:
        """Apply deltas only if `0 <= reserved <= on_hand` still holds after; None if refused.

        At a `sellable` location the SKU's sellable total moves with the level in the same
        atomic step, so concurrent changes at different locations see each other's totals.
        """
        ...

    async def change_levels(self, deltas: Sequence[LevelDelta]) -> list[LevelChange | None]:
        """`change_level` for each delta, in one step; one (SKU, location) once at most.

        Each outcome is what `change_level` would give, in the order given (the totals
        before and after step through the SKU's deltas in that order); None where refused.
        The caller has locked the levels already (`lock_snapshots`): this step may take
        their locks in any order.
        """
        ...

    async def count_level(
        self,
        sku: str,
        location_id: uuid.UUID,
        on_hand: int,
        expected_on_hand: int,
        *,
        sellable: bool,
    ) -> LevelChange | None:
        """Set on hand if it still equals `expected_on_hand` and stays >= reserved; else None."""
        ...

    async def move_sku_total(self, sku: str, delta: int) -> tuple[int, int]:
        """Move the SKU's sellable total by `delta`; returns it before and after."""
        ...

    async def add_movements(self, movements: Sequence[Movement]) -> None: ...
    async def list_movements(
        self, sku: str, *, first: int, after: str | None
    ) -> list[Movement]: ...

    async def add_reservation(self, reservation: Reservation) -> None: ...
    async def add_reservations(self, held: Sequence[Reservation]) -> None: ...
    async def record_holds(
        self,
        claims: Sequence[Operation],
        held: Sequence[tuple[str, Reservation]],
        movements: Sequence[Movement],
    ) -> set[str]:
        """Claim each key not claimed yet and add the reservations, given with their keys,
        and the ledger rows (keyed by `operation_key`) of the keys claimed, in one step; the
        keys claimed. On PostgreSQL a key another transaction is claiming waits for it, and
        counts as taken."""
        ...

    async def hold(
        self,
        claims: Sequence[Operation],
        held: Sequence[tuple[str, Reservation]],
        movements: Sequence[Movement],
        sellable: Mapping[tuple[str, uuid.UUID], bool],
    ) -> tuple[set[str], list[tuple[LevelDelta, LevelChange | None]]]:
        """`record_holds`, and the levels changed by the reservations of the keys claimed
        (`level_deltas`; `sellable` says which levels count in their SKU's sellable total), in
        one step (one statement on PostgreSQL): the keys claimed, and each level's delta with
        its change, or None where the level refused it (the caller rolls back)."""
        ...

    async def get_reservation(self, reservation_id: uuid.UUID) -> Reservation | None: ...
    async def close_reservation(
        self,
        reservation_id: uuid.UUID,
        status: ReservationStatus,
        at: datetime,
        *,
        read: Reservation | None = None,
    ) -> bool:
        """Close an active reservation; False if it was no longer active. Given the
        reservation as `read` before, only if it is still held by the same owner (a cart's
        hold may have become an order's meanwhile) and, to expire it, still due by `at`."""
        ...

    async def split_reservation(
        self, reservation_id: uuid.UUID, quantity: int, part: Reservation
    ) -> bool:
        """Move `quantity` units of an active reservation into `part`, a new reservation row.

        One conditional update: False (nothing changed) when the reservation is no longer
        active or does not hold more than `quantity`.
        """
        ...

    async def lock_reservations(self, references: Sequence[str]) -> list[Reservation]:
        """The active reservations under these references, locked (by id order) until the
        commit."""
        ...

    async def hand_over(self, owners: Mapping[uuid.UUID, str]) -> int:
        """Re-reference active reservations (id -> new reference) to owners that keep them
        (no expiry); how many moved. The units stay held throughout: no level changes."""
        ...

    async def list_reservations(
        self,
        *,
        sku: str | None,
        status: ReservationStatus | None,
        reference: str | None,
        first: int,
        after: str | None,
    ) -> list[Reservation]: ...

    async def expired_reservations(self, now: datetime, limit: int) -> list[Reservation]: ...
    async def audit(self) -> AuditReport: ...


class OperationLog(Protocol):
    async def claim(self, operation: Operation) -> None:
        """Record the key; raises `OperationAlreadyRecorded` if it exists."""
        ...

    async def claim_many(self, claims: Sequence[Operation]) -> set[str]:
        """Record each key not recorded yet, in one step; the keys recorded. On PostgreSQL a
        key another transaction is claiming waits for it, and counts as taken."""
        ...

    async def complete(self, key: str, result: Mapping[str, Any]) -> None: ...
    async def get(self, key: str) -> Operation | None: ...
    async def get_many(self, keys: Sequence[str]) -> dict[str, Operation]:
        """The recorded operations among `keys`, by key."""
        ...


class AlertRepository(Protocol):
    async def add(self, alert: Alert) -> None: ...
    async def add_many(self, raised: Sequence[Alert]) -> None:
        """`add` for each, in one step."""
        ...

    async def list(
        self, *, acknowledged: bool | None, sku: str | None, first: int, after: str | None
    ) -> list[Alert]: ...
    async def acknowledge(self, alert_id: uuid.UUID, actor: str, at: datetime) -> Alert | None: ...
