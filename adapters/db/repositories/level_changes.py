"""The statements that change stock levels: the hottest SQL in Nexo.

Each change is conditional (its WHERE clause is the invariant) and, at a sellable location,
moves the SKU's sellable total in the same atomic step. On PostgreSQL one statement does it
all (data-modifying CTEs: the level row is locked, then the item row, always in that
order), so a change holds its locks for one round trip plus the commit. Holds change their
levels inside their own statement (`holds.HOLD`). SQLite runs the same steps one statement at
a time; its single writer lock serialises them anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Uuid, bindparam, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from adapters.db.dialect import is_postgresql
from adapters.db.driver import DriverStatement
from adapters.db.tables import (
    JsonDocument,
    UtcDateTime,
    inventory_items,
)
from domain.inventory.model import LevelChange, LevelDelta, StockLevel

_LEVEL_DELTA = """
    UPDATE stock_levels
       SET on_hand = on_hand + :on_hand_delta,
           reserved = reserved + :reserved_delta,
           version = version + 1
     WHERE sku = :sku AND location_id = :location_id
       AND on_hand + :on_hand_delta >= reserved + :reserved_delta
       AND reserved + :reserved_delta >= 0
 RETURNING on_hand, reserved, version
"""

_LEVEL_COUNT = """
    UPDATE stock_levels
       SET on_hand = :on_hand, version = version + 1
     WHERE sku = :sku AND location_id = :location_id
       AND on_hand = :expected_on_hand AND reserved <= :on_hand
 RETURNING on_hand, reserved, version
"""

_ITEM_TOTAL = """
    UPDATE inventory_items SET available = available + :available_delta
     WHERE sku = :sku AND EXISTS (SELECT 1 FROM level)
 RETURNING available
"""


_SELECT = (
    " SELECT level.on_hand, level.reserved, level.version, item.available"
    " FROM level LEFT JOIN item ON true"
)


def _typed(sql: str) -> Any:
    """A text statement whose ids and times bind as the columns do, on either backend."""
    statement = text(sql)
    typed: dict[str, TypeEngine[Any]] = {
        "location_id": Uuid(),
        "reservation_id": Uuid(),
        "movement_id": Uuid(),
        "created_at": UtcDateTime(),
        "expires_at": UtcDateTime(),
        "operation_result": JsonDocument,
    }
    present = [bindparam(name, type_=kind) for name, kind in typed.items() if f":{name}" in sql]
    return statement.bindparams(*present)


def _with_total(level_sql: str, extra: str = "") -> Any:
    return _typed(f"WITH level AS ({level_sql}), item AS ({_ITEM_TOTAL}){extra}{_SELECT}")


_DELTA_WITH_TOTAL = _with_total(_LEVEL_DELTA)
_COUNT_WITH_TOTAL = _with_total(_LEVEL_COUNT)
_NO_TOTAL = "SELECT NULL::integer AS available"


_DELTA = _typed(_LEVEL_DELTA)
_COUNT = _typed(_LEVEL_COUNT)


def _change(sku: str, location_id: uuid.UUID, row: Any, available_delta: int) -> LevelChange:
    level = StockLevel(sku, location_id, row.on_hand, row.reserved, row.version)
    after = getattr(row, "available", None)
    if after is None:
        return LevelChange(level)
    return LevelChange(level, after - available_delta, after)


async def _move_total(conn: AsyncConnection, sku: str, delta: int) -> tuple[int, int]:
    after = (
        await conn.execute(
            update(inventory_items)
            .where(inventory_items.c.sku == sku)
            .values(available=inventory_items.c.available + delta)
            .returning(inventory_items.c.available)
        )
    ).scalar_one()
    return after - delta, after


async def move_sku_total(conn: AsyncConnection, sku: str, delta: int) -> tuple[int, int]:
    return await _move_total(conn, sku, delta)


async def _apply(
    conn: AsyncConnection,
    statements: tuple[Any, Any],
    params: dict[str, Any],
    sku: str,
    location_id: uuid.UUID,
    available_delta: int,
) -> LevelChange | None:
    """Run a level statement (plain, or with the SKU total on PostgreSQL) and read it back."""
    plain, with_total = statements
    moves_total = available_delta != 0
    params = {**params, "sku": sku, "location_id": location_id, "available_delta": available_delta}
    if is_postgresql(conn):
        row = (await conn.execute(with_total if moves_total else plain, params)).first()
        return _change(sku, location_id, row, available_delta) if row else None
    row = (await conn.execute(plain, params)).first()
    if row is None:
        return None
    level = StockLevel(sku, location_id, row.on_hand, row.reserved, row.version)
    if not moves_total:
        return LevelChange(level)
    return LevelChange(level, *await _move_total(conn, sku, available_delta))


async def change_level(
    conn: AsyncConnection,
    sku: str,
    location_id: uuid.UUID,
    on_hand_delta: int,
    reserved_delta: int,
    *,
    sellable: bool,
) -> LevelChange | None:
    params = {"on_hand_delta": on_hand_delta, "reserved_delta": reserved_delta}
    available_delta = (on_hand_delta - reserved_delta) if sellable else 0
    return await _apply(
        conn, (_DELTA, _DELTA_WITH_TOTAL), params, sku, location_id, available_delta
    )


_LEVELS_DELTA = DriverStatement(
    text("""
    WITH delta AS (
        SELECT *
          FROM unnest(CAST(:skus AS text[]), CAST(:location_ids AS uuid[]),
                      CAST(:on_hand_deltas AS integer[]), CAST(:reserved_deltas AS integer[]),
                      CAST(:available_deltas AS integer[]))
            AS d (sku, location_id, on_hand_delta, reserved_delta, available_delta)
    ), level AS (
        UPDATE stock_levels AS l
           SET on_hand = l.on_hand + d.on_hand_delta,
               reserved = l.reserved + d.reserved_delta,
               version = l.version + 1
          FROM delta AS d
         WHERE l.sku = d.sku AND l.location_id = d.location_id
           AND l.on_hand + d.on_hand_delta >= l.reserved + d.reserved_delta
           AND l.reserved + d.reserved_delta >= 0
     RETURNING l.sku, l.location_id, l.on_hand, l.reserved, l.version, d.available_delta
    ), total AS (
        SELECT sku, sum(available_delta) AS delta
          FROM level GROUP BY sku HAVING bool_or(available_delta <> 0)
    ), item AS (
        UPDATE inventory_items AS i SET available = i.available + t.delta
          FROM total AS t
         WHERE i.sku = t.sku
     RETURNING i.sku, i.available
    )
    SELECT level.sku, level.location_id, level.on_hand, level.reserved, level.version,
           item.available
      FROM level LEFT JOIN item ON item.sku = level.sku
    """)
)


async def change_levels(
    conn: AsyncConnection, deltas: Sequence[LevelDelta]
) -> list[LevelChange | None]:
    """Many level changes in one statement on PostgreSQL (one by one on SQLite); the
    caller holds the levels' locks. See `InventoryRepository.change_levels`."""
    slots = [(d.sku, d.location_id) for d in deltas]
    if len(set(slots)) != len(slots):
        raise ValueError("a level may appear once in a batch of changes")
    if not is_postgresql(conn):
        return [
            await change_level(
                conn, d.sku, d.location_id, d.on_hand_delta, d.reserved_delta, sellable=d.sellable
            )
            for d in deltas
        ]
    rows = await _LEVELS_DELTA.rows(
        conn,
        {
            "skus": [d.sku for d in deltas],
            "location_ids": [d.location_id for d in deltas],
            "on_hand_deltas": [d.on_hand_delta for d in deltas],
            "reserved_deltas": [d.reserved_delta for d in deltas],
            "available_deltas": [_move(d) for d in deltas],
        },
    )
    return changes_from(deltas, rows)


def _move(delta: LevelDelta) -> int:
    return (delta.on_hand_delta - delta.reserved_delta) if delta.sellable else 0


def changes_from(deltas: Sequence[LevelDelta], rows: Sequence[Any]) -> list[LevelChange | None]:
    """Each delta's change, from the rows of the levels a statement changed (sku, location_id,
    on_hand, reserved, version, and the SKU's total after the statement, `available`); None
    where the level refused."""
    slots = [(d.sku, d.location_id) for d in deltas]
    moves = [_move(d) for d in deltas]
    found = {(row.sku, row.location_id): row for row in rows}
    # Each SKU's total steps from before all its changes through them, in the order given,
    # as one-by-one changes would have seen it.
    running = {row.sku: row.available for row in rows if row.available is not None}
    for slot, move in zip(slots, moves, strict=True):
        if slot in found and slot[0] in running:
            running[slot[0]] -= move
    changes: list[LevelChange | None] = []
    for (sku, location_id), move in zip(slots, moves, strict=True):
        row = found.get((sku, location_id))
        if row is None:
            changes.append(None)
            continue
        level = StockLevel(sku, location_id, row.on_hand, row.reserved, row.version)
        if move == 0 or sku not in running:
            changes.append(LevelChange(level))
            continue
        before = running[sku]
        running[sku] = before + move
        changes.append(LevelChange(level, before, before + move))
    return changes


async def count_level(
    conn: AsyncConnection,
    sku: str,
    location_id: uuid.UUID,
    on_hand: int,
    expected_on_hand: int,
    *,
    sellable: bool,
) -> LevelChange | None:
    params = {"on_hand": on_hand, "expected_on_hand": expected_on_hand}
    available_delta = (on_hand - expected_on_hand) if sellable else 0
    return await _apply(
        conn, (_COUNT, _COUNT_WITH_TOTAL), params, sku, location_id, available_delta
    )
