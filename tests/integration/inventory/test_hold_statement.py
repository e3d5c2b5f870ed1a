"""The one statement that holds stock (`InventoryRepository.hold`), on each backend: it claims
the keys, records their reservations and ledger rows, and changes the levels (and the SKU's
sellable total) they hold; a level that cannot take its hold is reported, for the caller to
roll back. A lone hold (`reserve`) has a statement of its own on PostgreSQL: it does the same."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from adapters.container import Container
from domain.errors import InsufficientStock
from domain.inventory import reservations
from domain.inventory.hold_requests import reserve_movement
from domain.inventory.idempotency import Operation
from domain.inventory.model import LevelChange, Reservation, ReservationStatus, StockLevel
from tests.integration.inventory.conftest import Stockroom, receive

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def _hold(stockroom: Stockroom, quantity: int) -> Reservation:
    return Reservation(
        uuid.uuid4(), stockroom.item.sku, stockroom.warehouse.id, quantity,
        ReservationStatus.ACTIVE, "order:1", NOW,
    )  # fmt: skip


def _claim(key: str) -> Operation:
    return Operation(key, "reserve", "f" * 64, "t", NOW, {"reservationId": "x"})


async def test_a_hold_changes_what_its_claimed_keys_hold_and_reports_a_refusal(
    container: Container, stockroom: Stockroom
) -> None:
    sku, wh = stockroom.item.sku, stockroom.warehouse.id
    await receive(container, sku, wh, 3)
    sellable = {(sku, wh): True, (sku, stockroom.store.id): True}
    first, second, taken = _hold(stockroom, 1), _hold(stockroom, 1), _hold(stockroom, 1)
    async with container.uow() as uow:
        await uow.operations.claim(_claim("taken"))
        claimed, levels = await uow.inventory.hold(
            [_claim("a"), _claim("b"), _claim("taken")],
            [("a", first), ("b", second), ("taken", taken)],
            [reserve_movement(r, "t", k, NOW) for k, r in (("a", first), ("b", second))],
            sellable,
        )
        await uow.commit()
    too_many = _hold(stockroom, 2)
    async with container.uow() as uow:
        refused_claims, refused = await uow.inventory.hold(
            [_claim("c")], [("c", too_many)], [reserve_movement(too_many, "t", "c", NOW)],
            sellable,
        )  # fmt: skip
        # not committed: the caller rolls a refusal back

    assert claimed == {"a", "b"}
    [(delta, change)] = levels  # the two holds change their level once
    assert delta.reserved_delta == 2
    assert change == LevelChange(StockLevel(sku, wh, 3, 2, 2), 3, 1)
    assert refused_claims == {"c"}
    assert [(d.reserved_delta, c) for d, c in refused] == [(2, None)]
    async with container.uow(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot(sku)
        kept = [await uow.inventory.get_reservation(r.id) for r in (first, second, too_many)]
    assert snapshot is not None
    assert snapshot.item.available == 1
    assert [r is not None for r in kept] == [True, True, False]


async def test_a_lone_hold_is_held_and_refused_as_one_of_a_batch(
    container: Container, stockroom: Stockroom
) -> None:
    """One claim, one reservation, one ledger row: on PostgreSQL the statement takes scalar
    parameters instead of one-element arrays; what it does is the same."""
    sku, wh = stockroom.item.sku, stockroom.warehouse.id
    await receive(container, sku, wh, 2)
    sellable = {(sku, wh): True}
    held, replay = _hold(stockroom, 2), _hold(stockroom, 1)
    async with container.uow() as uow:
        claimed, levels = await uow.inventory.hold(
            [_claim("lone")], [("lone", held)], [reserve_movement(held, "t", "lone", NOW)],
            sellable,
        )  # fmt: skip
        await uow.commit()
    async with container.uow() as uow:
        replayed, unchanged = await uow.inventory.hold(
            [_claim("lone")], [("lone", replay)], [reserve_movement(replay, "t", "lone", NOW)],
            sellable,
        )  # fmt: skip
        await uow.commit()
    async with container.uow(readonly=True) as uow:
        stored = await uow.inventory.get_reservation(held.id)
        not_stored = await uow.inventory.get_reservation(replay.id)
        level = (await uow.inventory.snapshot(sku)).level_at(wh)  # type: ignore[union-attr]

    assert claimed == {"lone"}
    [(delta, change)] = levels
    assert (delta.reserved_delta, change) == (2, LevelChange(StockLevel(sku, wh, 2, 2, 2), 2, 0))
    assert stored == held
    assert (replayed, unchanged, not_stored) == (set(), [], None)
    assert level is not None
    assert (level.on_hand, level.reserved) == (2, 2)


async def test_a_lone_hold_a_level_cannot_take_is_refused_with_its_key_claimed(
    container: Container, stockroom: Stockroom
) -> None:
    sku, wh = stockroom.item.sku, stockroom.warehouse.id
    await receive(container, sku, wh, 1)
    too_many = _hold(stockroom, 2)
    async with container.uow() as uow:
        claimed, levels = await uow.inventory.hold(
            [_claim("c")], [("c", too_many)], [reserve_movement(too_many, "t", "c", NOW)],
            {(sku, wh): True},
        )  # fmt: skip
        # not committed: the caller rolls a refusal back

    assert claimed == {"c"}
    assert [(d.reserved_delta, c) for d, c in levels] == [(2, None)]


async def test_a_lone_hold_outside_the_sellable_total_leaves_the_total_and_writes_its_row(
    container: Container, stockroom: Stockroom
) -> None:
    sku, wh = stockroom.item.sku, stockroom.warehouse.id
    await receive(container, sku, wh, 3)
    held = _hold(stockroom, 1)
    async with container.uow() as uow:
        claimed, levels = await uow.inventory.hold(
            [_claim("apart")], [("apart", held)], [reserve_movement(held, "t", "apart", NOW)],
            {(sku, wh): False},
        )  # fmt: skip
        await uow.commit()
    async with container.uow(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot(sku)
        ledger = await uow.inventory.list_movements(sku, first=10, after=None)
        claim = await uow.operations.get("apart")

    assert claimed == {"apart"}
    [(delta, change)] = levels
    assert (delta.sellable, change) == (False, LevelChange(StockLevel(sku, wh, 3, 1, 2)))
    assert snapshot is not None
    assert snapshot.item.available == 3
    assert [(m.reserved_delta, m.reservation_id) for m in ledger if m.operation_key == "apart"] == [
        (1, held.id)
    ]
    assert claim is not None
    assert claim.result == {"reservationId": "x"}


async def test_a_lone_reserve_writes_one_hold_and_is_refused_past_what_is_available(
    container: Container, stockroom: Stockroom
) -> None:
    sku, wh = stockroom.item.sku, stockroom.warehouse.id
    await receive(container, sku, wh, 3)
    held = await reservations.reserve(
        container.uow, sku=sku, quantity=2, key="one", actor="t", location_id=wh
    )
    with pytest.raises(InsufficientStock):
        await reservations.reserve(
            container.uow, sku=sku, quantity=2, key="two", actor="t", location_id=wh
        )
    again = await reservations.reserve(
        container.uow, sku=sku, quantity=2, key="one", actor="t", location_id=wh
    )
    async with container.uow(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot(sku)
        ledger = await uow.inventory.list_movements(sku, first=10, after=None)
        active = await uow.inventory.list_reservations(
            sku=sku, status=None, reference=None, first=10, after=None
        )

    assert (again.replayed, again.reservation) == (True, held.reservation)
    assert [r.id for r in active] == [held.reservation.id]
    assert [(m.reserved_delta, m.operation_key) for m in ledger if m.reserved_delta] == [(2, "one")]
    assert snapshot is not None
    assert snapshot.item.available == 1
    level = snapshot.level_at(wh)
    assert level is not None
    assert (level.on_hand, level.reserved) == (3, 2)


async def _rows(container: Container, sku: str, key: str) -> dict[str, list[dict[str, object]]]:
    """What a hold wrote for `sku` under `key`, without the columns that name them."""
    from sqlalchemy import select

    from adapters.db.tables import (
        inventory_items,
        operations,
        reservations,
        stock_levels,
        stock_movements,
    )

    named = {"id", "sku", "key", "operation_key", "reservation_id", "reference"}

    def plain(rows: object) -> list[dict[str, object]]:
        return [
            {k: v for k, v in row._mapping.items() if k not in named}  # type: ignore[attr-defined]
            for row in rows  # type: ignore[attr-defined]
        ]

    async with container.engine.connect() as conn:
        return {
            "claim": plain(await conn.execute(select(operations).where(operations.c.key == key))),
            "reservations": plain(
                await conn.execute(select(reservations).where(reservations.c.sku == sku))
            ),
            "ledger": plain(
                await conn.execute(
                    select(stock_movements).where(
                        stock_movements.c.sku == sku, stock_movements.c.operation_key == key
                    )
                )
            ),
            "levels": plain(
                await conn.execute(select(stock_levels).where(stock_levels.c.sku == sku))
            ),
            "item": plain(  # (when it was made is no hold's)
                await conn.execute(
                    select(inventory_items.c.available).where(inventory_items.c.sku == sku)
                )
            ),
        }


async def test_a_lone_hold_writes_what_the_batch_statement_writes_for_it(
    container: Container, stockroom: Stockroom
) -> None:
    """The lone statement (PostgreSQL) and the batch one are two forms of the one writer:
    the same hold on two SKUs alike, alone and in a batch, leaves the same rows."""
    from domain.inventory.setup import create_inventory_item

    wh = stockroom.warehouse.id
    skus = ("LONE-1", "BATCH-1", "BATCH-2")
    async with container.uow() as uow:
        for sku in skus:
            await create_inventory_item(uow, sku=sku, low_stock_threshold=3)
        await uow.commit()
    for sku in skus:
        await receive(container, sku, wh, 5)

    def hold(sku: str, quantity: int) -> Reservation:
        return Reservation(
            uuid.uuid4(), sku, wh, quantity, ReservationStatus.ACTIVE, "order:1", NOW
        )

    lone, first, second = hold("LONE-1", 2), hold("BATCH-1", 2), hold("BATCH-2", 1)
    async with container.uow() as uow:
        await uow.inventory.hold(
            [_claim("k-lone")], [("k-lone", lone)], [reserve_movement(lone, "t", "k-lone", NOW)],
            {("LONE-1", wh): True},
        )  # fmt: skip
        await uow.commit()
    async with container.uow() as uow:
        await uow.inventory.hold(
            [_claim("k-b1"), _claim("k-b2")],
            [("k-b1", first), ("k-b2", second)],
            [reserve_movement(first, "t", "k-b1", NOW), reserve_movement(second, "t", "k-b2", NOW)],
            {("BATCH-1", wh): True, ("BATCH-2", wh): True},
        )
        await uow.commit()

    alone, batched = (
        await _rows(container, "LONE-1", "k-lone"),
        await _rows(container, "BATCH-1", "k-b1"),
    )
    assert all(alone[table] for table in alone), alone  # something of each was written
    assert alone == batched
