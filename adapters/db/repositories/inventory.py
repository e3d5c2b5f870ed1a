"""Locations, items, levels, the ledger and reservations in SQL.

Every level change is one conditional UPDATE: the WHERE clause is the invariant, so a change
that would break it matches no row and is refused, on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    any_,
    bindparam,
    case,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.cursors import after_position
from adapters.db.dialect import is_postgresql, upsert_for
from adapters.db.driver import DriverStatement
from adapters.db.repositories import holds, level_changes
from adapters.db.repositories.operations import SqlOperationLog
from adapters.db.repositories.rows import movement_row, reservation_row
from adapters.db.tables import (
    inventory_items,
    location_zones,
    locations,
    reservations,
    stock_levels,
    stock_movements,
)
from domain.inventory.hold_requests import level_deltas
from domain.inventory.idempotency import Operation
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
    MovementReason,
    Reservation,
    ReservationStatus,
    SkuSnapshot,
    SkuTotalMismatch,
    StockLevel,
)
from domain.inventory.zones import Zone


def _location(row: Any, zones: Sequence[Zone] = ()) -> Location:
    return Location(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=LocationKind(row.kind),
        created_at=row.created_at,
        zones=tuple(zones),
    )


def _item(row: Any) -> InventoryItem:
    return InventoryItem(
        sku=row.sku,
        low_stock_threshold=row.low_stock_threshold,
        available=row.available,
        created_at=row.created_at,
    )


def _reservation(row: Any) -> Reservation:
    return Reservation(
        id=row.id,
        sku=row.sku,
        location_id=row.location_id,
        quantity=row.quantity,
        status=ReservationStatus(row.status),
        reference=row.reference,
        created_at=row.created_at,
        expires_at=row.expires_at,
        closed_at=row.closed_at,
    )


def _movement(row: Any) -> Movement:
    return Movement(
        id=row.id,
        sku=row.sku,
        location_id=row.location_id,
        on_hand_delta=row.on_hand_delta,
        reserved_delta=row.reserved_delta,
        reason=MovementReason(row.reason),
        actor=row.actor,
        operation_key=row.operation_key,
        created_at=row.created_at,
        reference=row.reference,
        note=row.note,
        detail=row.detail,
        reservation_id=row.reservation_id,
    )


BIN_BATCH = 500  # (SKU, location) pairs per read: two parameters each
# Locations' kinds as this process read them (`location_kinds`): a kind never changes.
_KINDS: dict[uuid.UUID, LocationKind] = {}
_MAX_KINDS = 10_000

_SNAPSHOT = (
    select(
        inventory_items,
        stock_levels.c.location_id,
        stock_levels.c.on_hand,
        stock_levels.c.reserved,
        stock_levels.c.version,
        locations.c.code.label("location_code"),
        locations.c.kind.label("location_kind"),
    )
    .select_from(inventory_items)
    .outerjoin(stock_levels, stock_levels.c.sku == inventory_items.c.sku)
    .outerjoin(locations, locations.c.id == stock_levels.c.location_id)
)
# Built once: executing a prepared statement object skips rebuilding it and its cache key.
_SNAPSHOT_ONE = DriverStatement(_SNAPSHOT.where(inventory_items.c.sku == bindparam("sku")))
# PostgreSQL: several SKUs as one array parameter, so the text is the same for any number.
_SNAPSHOT_MANY = DriverStatement(
    _SNAPSHOT.where(inventory_items.c.sku == any_(bindparam("skus", type_=ARRAY(String))))
)

# PostgreSQL: a batch of carts' holds (placeOrder) locked by their references, fixed text.
_LOCK_HELD = DriverStatement(
    select(reservations)
    .where(
        reservations.c.reference == any_(bindparam("references", type_=ARRAY(String))),
        reservations.c.status == ReservationStatus.ACTIVE.value,
    )
    .order_by(reservations.c.id)
    .with_for_update()
)


def _snapshots(rows: Sequence[Any]) -> dict[str, SkuSnapshot]:
    items: dict[str, InventoryItem] = {}
    levels: dict[str, list[LevelAtLocation]] = {}
    for row in rows:
        if row.sku not in items:
            items[row.sku] = _item(row)
            levels[row.sku] = []
        if row.location_id is not None:
            levels[row.sku].append(
                LevelAtLocation(
                    StockLevel(row.sku, row.location_id, row.on_hand, row.reserved, row.version),
                    row.location_code,
                    LocationKind(row.location_kind),
                )
            )
    return {sku: SkuSnapshot(item, tuple(levels[sku])) for sku, item in items.items()}


class SqlInventoryRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    # Locations and items

    async def add_location(self, location: Location) -> None:
        await self._conn.execute(
            insert(locations).values(
                id=location.id,
                code=location.code,
                name=location.name,
                kind=location.kind.value,
                created_at=location.created_at,
            )
        )

    async def get_location(self, location_id: uuid.UUID) -> Location | None:
        found = await self._located(locations.c.id == location_id)
        return found[0] if found else None

    async def get_location_by_code(self, code: str) -> Location | None:
        found = await self._located(locations.c.code == code)
        return found[0] if found else None

    async def list_locations(self) -> list[Location]:
        return await self._located()

    async def location_kinds(
        self, location_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, LocationKind]:
        # A location's kind is set when it is made (nothing updates it): read each once.
        kinds = {i: _KINDS[i] for i in location_ids if i in _KINDS}
        unread = [i for i in location_ids if i not in kinds]
        if not unread:
            return kinds
        c = locations.c
        rows = await self._conn.execute(select(c.id, c.kind).where(c.id.in_(unread)))
        if len(_KINDS) >= _MAX_KINDS:
            _KINDS.clear()
        for row in rows:
            kinds[row.id] = _KINDS[row.id] = LocationKind(row.kind)
        return kinds

    async def _located(self, *where: ColumnElement[bool]) -> list[Location]:
        """The locations (code order) with their zones, in one read."""
        z = location_zones.c
        stmt = (
            select(locations, z.country, z.region)
            .select_from(locations.outerjoin(location_zones, z.location_id == locations.c.id))
            .where(*where)
            .order_by(locations.c.code, z.country, z.region)
        )
        found: dict[uuid.UUID, tuple[Any, list[Zone]]] = {}
        for row in await self._conn.execute(stmt):
            _, zones = found.setdefault(row.id, (row, []))
            if row.country is not None:  # none joined: it ships everywhere
                zones.append(Zone(row.country, row.region or None))
        return [_location(row, zones) for row, zones in found.values()]

    async def set_zones(self, location_id: uuid.UUID, zones: Sequence[Zone]) -> None:
        await self._conn.execute(
            location_zones.delete().where(location_zones.c.location_id == location_id)
        )
        if zones:
            await self._conn.execute(
                insert(location_zones),
                [{"location_id": location_id, "country": z.country, "region": z.region or ""}
                 for z in zones],
            )  # fmt: skip

    async def add_item(self, item: InventoryItem) -> None:
        await self._conn.execute(
            insert(inventory_items).values(
                sku=item.sku,
                low_stock_threshold=item.low_stock_threshold,
                available=item.available,
                created_at=item.created_at,
            )
        )

    async def add_items(self, items: Sequence[InventoryItem]) -> None:
        if not items:
            return
        rows = [
            {
                "sku": item.sku,
                "low_stock_threshold": item.low_stock_threshold,
                "available": item.available,
                "created_at": item.created_at,
            }
            for item in items
        ]
        await self._conn.execute(
            upsert_for(self._conn)(inventory_items).on_conflict_do_nothing(), rows
        )

    async def get_item(self, sku: str) -> InventoryItem | None:
        row = (
            await self._conn.execute(select(inventory_items).where(inventory_items.c.sku == sku))
        ).first()
        return _item(row) if row else None

    async def list_items(
        self, *, first: int, after: str | None, search: str | None
    ) -> list[InventoryItem]:
        stmt = select(inventory_items).order_by(inventory_items.c.sku).limit(first)
        if after is not None:
            stmt = stmt.where(inventory_items.c.sku > after)
        if search:
            stmt = stmt.where(inventory_items.c.sku.contains(search, autoescape=True))
        return [_item(r) for r in await self._conn.execute(stmt)]

    # Levels

    async def snapshot(self, sku: str) -> SkuSnapshot | None:
        rows = await _SNAPSHOT_ONE.rows(self._conn, {"sku": sku})
        return _snapshots(rows).get(sku)

    async def snapshots(self, skus: Sequence[str]) -> dict[str, SkuSnapshot]:
        if is_postgresql(self._conn):
            if len(skus) == 1:  # a scalar parameter costs the driver less than an array
                return _snapshots(await _SNAPSHOT_ONE.rows(self._conn, {"sku": skus[0]}))
            return _snapshots(await _SNAPSHOT_MANY.rows(self._conn, {"skus": list(skus)}))
        stmt = _SNAPSHOT.where(inventory_items.c.sku.in_(skus))
        return _snapshots((await self._conn.execute(stmt)).all())

    async def lock_snapshots(self, skus: Sequence[str]) -> dict[str, SkuSnapshot]:
        # PostgreSQL: lock every level of these SKUs in one fixed order (sku, location) before
        # touching any, so transactions reserving overlapping lines queue instead of
        # deadlocking; then read them (a statement of its own: it sees what the transactions
        # it waited for committed). SQLite ignores FOR UPDATE; its write lock already
        # serialises writers.
        if is_postgresql(self._conn):
            await holds.LOCK_LEVELS.rows(self._conn, {"skus": list(skus)})
            return await self.snapshots(skus)
        await self._conn.execute(
            select(stock_levels.c.id)
            .where(stock_levels.c.sku.in_(skus))
            .order_by(stock_levels.c.sku, stock_levels.c.location_id)
            .with_for_update()
        )
        return await self.snapshots(skus)

    async def ensure_level(self, sku: str, location_id: uuid.UUID) -> None:
        await self._conn.execute(
            upsert_for(self._conn)(stock_levels)
            .values(
                id=uuid.uuid4(), sku=sku, location_id=location_id, on_hand=0, reserved=0, version=0
            )
            .on_conflict_do_nothing()
        )

    async def ensure_levels(self, slots: Sequence[tuple[str, uuid.UUID]]) -> None:
        if not slots:  # an empty executemany would insert one row of defaults
            return
        rows = [
            {"id": uuid.uuid4(), "sku": sku, "location_id": location_id,
             "on_hand": 0, "reserved": 0, "version": 0}
            for sku, location_id in slots
        ]  # fmt: skip
        await self._conn.execute(
            upsert_for(self._conn)(stock_levels).on_conflict_do_nothing(), rows
        )

    async def set_bin(self, sku: str, location_id: uuid.UUID, bin: str | None) -> None:
        c = stock_levels.c
        await self._conn.execute(
            update(stock_levels).where(c.sku == sku, c.location_id == location_id).values(bin=bin)
        )

    async def bins(
        self, slots: Sequence[tuple[str, uuid.UUID]]
    ) -> dict[tuple[str, uuid.UUID], str]:
        wanted = sorted(set(slots), key=lambda s: (s[0], str(s[1])))
        c = stock_levels.c
        found: dict[tuple[str, uuid.UUID], str] = {}
        for start in range(0, len(wanted), BIN_BATCH):
            chunk = wanted[start : start + BIN_BATCH]
            stmt = select(c.sku, c.location_id, c.bin).where(
                c.bin.is_not(None), tuple_(c.sku, c.location_id).in_(chunk)
            )
            found.update({(r.sku, r.location_id): r.bin for r in await self._conn.execute(stmt)})
        return found

    async def change_level(
        self,
        sku: str,
        location_id: uuid.UUID,
        on_hand_delta: int,
        reserved_delta: int,
        *,
        sellable: bool,
    ) -> LevelChange | None:
        return await level_changes.change_level(
            self._conn, sku, location_id, on_hand_delta, reserved_delta, sellable=sellable
        )

    async def change_levels(self, deltas: Sequence[LevelDelta]) -> list[LevelChange | None]:
        return await level_changes.change_levels(self._conn, deltas)

    async def count_level(
        self,
        sku: str,
        location_id: uuid.UUID,
        on_hand: int,
        expected_on_hand: int,
        *,
        sellable: bool,
    ) -> LevelChange | None:
        return await level_changes.count_level(
            self._conn, sku, location_id, on_hand, expected_on_hand, sellable=sellable
        )

    async def move_sku_total(self, sku: str, delta: int) -> tuple[int, int]:
        return await level_changes.move_sku_total(self._conn, sku, delta)

    # Ledger

    async def add_movements(self, movements: Sequence[Movement]) -> None:
        if not movements:  # an empty executemany would insert one row of defaults
            return
        await self._conn.execute(insert(stock_movements), [movement_row(m) for m in movements])

    async def list_movements(self, sku: str, *, first: int, after: str | None) -> list[Movement]:
        c = stock_movements.c
        stmt = select(stock_movements).where(c.sku == sku).order_by(c.created_at, c.id).limit(first)
        if after is not None:
            stmt = stmt.where(after_position(c.created_at, c.id, after))
        return [_movement(r) for r in await self._conn.execute(stmt)]

    # Reservations

    async def add_reservation(self, reservation: Reservation) -> None:
        await self._conn.execute(insert(reservations).values(**reservation_row(reservation)))

    async def record_holds(
        self,
        claims: Sequence[Operation],
        held: Sequence[tuple[str, Reservation]],
        movements: Sequence[Movement],
    ) -> set[str]:
        if not claims:
            return set()
        if is_postgresql(self._conn):
            params = holds.record_holds_params(claims, held, movements)
            return {row.key for row in await holds.RECORD_HOLDS.rows(self._conn, params)}
        claimed = await SqlOperationLog(self._conn).claim_many(claims)
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
        if not claims:
            return set(), []
        if not is_postgresql(self._conn):
            claimed = await self.record_holds(claims, held, movements)
            deltas = level_deltas([r for key, r in held if key in claimed], sellable)
            return claimed, list(zip(deltas, await self.change_levels(deltas), strict=True))
        if len(claims) == len(held) == len(movements) == 1:
            return await self._hold_one(claims[0], held[0], movements[0], sellable)
        params: dict[str, Any] = holds.record_holds_params(claims, held, movements)
        slots = sorted(sellable)
        params.update(
            s_skus=[sku for sku, _ in slots],
            s_locations=[location_id for _, location_id in slots],
            s_sellable=[sellable[slot] for slot in slots],
        )
        rows = await holds.HOLD.rows(self._conn, params)
        claimed = {row.sku for row in rows if row.claimed}
        deltas = level_deltas([r for key, r in held if key in claimed], sellable)
        changes = level_changes.changes_from(deltas, [row for row in rows if not row.claimed])
        return claimed, list(zip(deltas, changes, strict=True))

    async def _hold_one(
        self,
        claim: Operation,
        held: tuple[str, Reservation],
        movement: Movement,
        sellable: Mapping[tuple[str, uuid.UUID], bool],
    ) -> tuple[set[str], list[tuple[LevelDelta, LevelChange | None]]]:
        """`hold` of one claim, one reservation and one ledger row (PostgreSQL): one level
        changed by the reservation's quantity, its SKU's total by as much if it counts."""
        key, r = held
        delta = LevelDelta(
            r.sku, r.location_id, 0, r.quantity, sellable.get((r.sku, r.location_id), False)
        )
        params = holds.hold_one_params(claim, key, r, movement, sellable=delta.sellable)
        row = await holds.HOLD_ONE.first(self._conn, params)
        if row is None:  # the key was claimed before: nothing written
            return set(), []
        if row.on_hand is None:  # the level refused
            return {row.key}, [(delta, None)]
        level = StockLevel(r.sku, r.location_id, row.on_hand, row.reserved, row.version)
        if row.available is None:  # the level is outside the SKU's total
            return {row.key}, [(delta, LevelChange(level))]
        return {row.key}, [(delta, LevelChange(level, row.available + r.quantity, row.available))]

    async def add_reservations(self, held: Sequence[Reservation]) -> None:
        if held:  # an empty executemany would insert one row of defaults
            await self._conn.execute(insert(reservations), [reservation_row(r) for r in held])

    async def get_reservation(self, reservation_id: uuid.UUID) -> Reservation | None:
        row = (
            await self._conn.execute(
                select(reservations).where(reservations.c.id == reservation_id)
            )
        ).first()
        return _reservation(row) if row else None

    async def close_reservation(
        self,
        reservation_id: uuid.UUID,
        status: ReservationStatus,
        at: datetime,
        *,
        read: Reservation | None = None,
    ) -> bool:
        c = reservations.c
        where = [c.id == reservation_id, c.status == ReservationStatus.ACTIVE.value]
        if read is not None:
            owner = read.reference
            where.append(c.reference.is_(None) if owner is None else c.reference == owner)
            if status is ReservationStatus.EXPIRED:
                where.append(c.expires_at <= at)
        result = await self._conn.execute(
            update(reservations).where(*where).values(status=status.value, closed_at=at)
        )
        return bool(result.rowcount)

    async def split_reservation(
        self, reservation_id: uuid.UUID, quantity: int, part: Reservation
    ) -> bool:
        c = reservations.c
        result = await self._conn.execute(
            update(reservations)
            .where(
                c.id == reservation_id,
                c.status == ReservationStatus.ACTIVE.value,
                c.quantity > quantity,
            )
            .values(quantity=c.quantity - quantity)
        )
        if not result.rowcount:
            return False
        await self.add_reservation(part)
        return True

    async def lock_reservations(self, references: Sequence[str]) -> list[Reservation]:
        if not references:
            return []
        if is_postgresql(self._conn):
            rows = await _LOCK_HELD.rows(self._conn, {"references": list(references)})
            return [_reservation(r) for r in rows]
        c = reservations.c
        stmt = (
            select(reservations)
            .where(c.reference.in_(list(references)), c.status == ReservationStatus.ACTIVE.value)
            .order_by(c.id)
            .with_for_update()
        )
        return [_reservation(r) for r in await self._conn.execute(stmt)]

    async def hand_over(self, owners: Mapping[uuid.UUID, str]) -> int:
        if not owners:
            return 0
        if is_postgresql(self._conn):
            params = {"ids": list(owners), "references": list(owners.values())}
            return len(await holds.HAND_OVER.rows(self._conn, params))
        c = reservations.c
        result = await self._conn.execute(
            update(reservations)
            .where(c.id.in_(list(owners)), c.status == ReservationStatus.ACTIVE.value)
            .values(reference=case(dict(owners), value=c.id), expires_at=None)
        )
        return int(result.rowcount)

    async def list_reservations(
        self,
        *,
        sku: str | None,
        status: ReservationStatus | None,
        reference: str | None,
        first: int,
        after: str | None,
    ) -> list[Reservation]:
        c = reservations.c
        stmt = select(reservations).order_by(c.created_at, c.id).limit(first)
        if sku is not None:
            stmt = stmt.where(c.sku == sku)
        if status is not None:
            stmt = stmt.where(c.status == status.value)
        if reference is not None:
            stmt = stmt.where(c.reference == reference)
        if after is not None:
            stmt = stmt.where(after_position(c.created_at, c.id, after))
        return [_reservation(r) for r in await self._conn.execute(stmt)]

    async def expired_reservations(self, now: datetime, limit: int) -> list[Reservation]:
        c = reservations.c
        stmt = (
            select(reservations)
            .where(c.status == ReservationStatus.ACTIVE.value, c.expires_at <= now)
            .order_by(c.expires_at)
            .limit(limit)
        )
        return [_reservation(r) for r in await self._conn.execute(stmt)]

    # Audit

    async def audit(self) -> AuditReport:
        m = stock_movements.c
        ledger = (
            select(
                m.sku,
                m.location_id,
                func.sum(m.on_hand_delta).label("on_hand"),
                func.sum(m.reserved_delta).label("reserved"),
            )
            .group_by(m.sku, m.location_id)
            .subquery()
        )
        rows = (
            await self._conn.execute(
                select(
                    stock_levels.c.sku,
                    stock_levels.c.location_id,
                    stock_levels.c.on_hand,
                    stock_levels.c.reserved,
                    func.coalesce(ledger.c.on_hand, 0),
                    func.coalesce(ledger.c.reserved, 0),
                )
                .select_from(stock_levels)
                .outerjoin(
                    ledger,
                    and_(
                        ledger.c.sku == stock_levels.c.sku,
                        ledger.c.location_id == stock_levels.c.location_id,
                    ),
                )
                .order_by(stock_levels.c.sku, stock_levels.c.location_id)
            )
        ).all()
        level_keys = {(r[0], r[1]) for r in rows}
        mismatches = [
            LevelMismatch(r[0], r[1], int(r[4]), int(r[5]), r[2], r[3])
            for r in rows
            if (r[2], r[3]) != (int(r[4]), int(r[5]))
        ]
        # Movements for a level that does not exist at all are mismatches too.
        orphans = await self._conn.execute(select(ledger))
        for sku, location_id, on_hand, reserved in orphans:
            if (sku, location_id) not in level_keys and (on_hand or reserved):
                mismatches.append(
                    LevelMismatch(sku, location_id, int(on_hand), int(reserved), 0, 0)
                )
        return AuditReport(
            checked_levels=len(rows),
            mismatches=mismatches,
            total_mismatches=await self._total_mismatches(),
        )

    async def _total_mismatches(self) -> list[SkuTotalMismatch]:
        """Items whose sellable total differs from the sum over their sellable levels."""
        sellable = (
            select(
                stock_levels.c.sku,
                func.sum(stock_levels.c.on_hand - stock_levels.c.reserved).label("available"),
            )
            .join(locations, locations.c.id == stock_levels.c.location_id)
            .where(locations.c.kind != LocationKind.CHANNEL_MANAGED.value)
            .group_by(stock_levels.c.sku)
            .subquery()
        )
        expected = func.coalesce(sellable.c.available, 0)
        rows = await self._conn.execute(
            select(inventory_items.c.sku, expected, inventory_items.c.available)
            .outerjoin(sellable, sellable.c.sku == inventory_items.c.sku)
            .where(expected != inventory_items.c.available)
            .order_by(inventory_items.c.sku)
        )
        return [SkuTotalMismatch(r[0], int(r[1]), int(r[2])) for r in rows]
