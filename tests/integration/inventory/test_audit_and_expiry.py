"""The audit finds what the ledger does not explain; expiry releases what carts held; alerts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Uuid, bindparam, text

from adapters.container import Container
from domain.errors import IllegalState
from domain.inventory import reservations, stock
from domain.inventory.alerts import AlertKind
from domain.inventory.model import (
    LevelMismatch,
    MovementReason,
    ReservationStatus,
    SkuTotalMismatch,
    StockState,
)
from domain.inventory.queries import audit
from tests.integration.inventory.conftest import Stockroom

SKU = "TSHIRT-M"


async def _level(container: Container, location_id: uuid.UUID) -> tuple[int, int]:
    async with container.uow() as uow:
        snapshot = await uow.inventory.snapshot(SKU)
    assert snapshot is not None
    level = snapshot.level_at(location_id)
    return (level.on_hand, level.reserved) if level else (0, 0)


async def test_audit_reports_a_level_changed_behind_the_ledger(
    container: Container, stockroom: Stockroom
) -> None:
    wh, st = stockroom.warehouse.id, stockroom.store.id
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=7, key="a", actor="t")
    await stock.receive(container.uow, sku=SKU, location_id=st, quantity=4, key="b", actor="t")
    await reservations.reserve(
        container.uow, sku=SKU, quantity=2, location_id=wh, key="r", actor="t"
    )
    async with container.uow() as uow:
        clean = await audit(uow)
    assert clean.checked_levels == 2
    assert clean.clean, clean

    async with container.engine.begin() as conn:
        changed = await conn.execute(
            text(
                "UPDATE stock_levels SET on_hand = on_hand + 5 "
                "WHERE sku = :sku AND location_id = :location"
            ).bindparams(bindparam("location", type_=Uuid)),  # stored as text on SQLite
            {"sku": SKU, "location": wh},
        )
        assert changed.rowcount == 1

    async with container.uow() as uow:
        report = await audit(uow)
    assert report.checked_levels == 2
    assert report.mismatches == [
        LevelMismatch(
            sku=SKU,
            location_id=wh,
            expected_on_hand=7,
            expected_reserved=2,
            actual_on_hand=12,
            actual_reserved=2,
        )
    ]
    # The SKU's kept sellable total (5 + 4) no longer matches its levels (10 + 4) either.
    assert report.total_mismatches == [SkuTotalMismatch(SKU, 14, 9)]


async def test_audit_reports_a_sku_total_changed_behind_the_levels(
    container: Container, stockroom: Stockroom
) -> None:
    await stock.receive(
        container.uow, sku=SKU, location_id=stockroom.warehouse.id, quantity=3, key="a", actor="t"
    )
    async with container.engine.begin() as conn:
        await conn.execute(
            text("UPDATE inventory_items SET available = available - 1 WHERE sku = :sku"),
            {"sku": SKU},
        )
    async with container.uow() as uow:
        report = await audit(uow)
    assert report.mismatches == []
    assert report.total_mismatches == [SkuTotalMismatch(SKU, 3, 2)]
    assert not report.clean


async def test_expiry_releases_only_what_is_past_its_time_and_only_once(
    container: Container, stockroom: Stockroom
) -> None:
    wh = stockroom.warehouse.id
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=10, key="a", actor="t")
    cart = await reservations.reserve(
        container.uow, sku=SKU, quantity=3, key="cart", actor="t", expires_in_seconds=60
    )
    order = await reservations.reserve(container.uow, sku=SKU, quantity=2, key="order", actor="t")
    assert cart.reservation.expires_at is not None
    assert order.reservation.expires_at is None
    assert await _level(container, wh) == (10, 5)

    # Not yet due: nothing happens.
    assert await reservations.expire_reservations(container.uow) == 0
    assert await _level(container, wh) == (10, 5)

    later = datetime.now(UTC) + timedelta(hours=2)
    released = await reservations.expire_reservations(container.uow, clock=lambda: later)

    assert released == 1
    async with container.uow() as uow:
        expired = await uow.inventory.get_reservation(cart.reservation.id)
        kept = await uow.inventory.get_reservation(order.reservation.id)
        moves = await uow.inventory.list_movements(SKU, first=100, after=None)
        report = await audit(uow)
    assert expired is not None
    assert expired.status is ReservationStatus.EXPIRED
    assert expired.closed_at == later
    assert kept is not None
    assert kept.status is ReservationStatus.ACTIVE
    assert await _level(container, wh) == (10, 2)
    expiring = [m for m in moves if m.reason is MovementReason.EXPIRE]
    assert [(m.reservation_id, m.on_hand_delta, m.reserved_delta) for m in expiring] == [
        (cart.reservation.id, 0, -3)
    ]
    assert expiring[0].actor == reservations.EXPIRY_ACTOR
    assert report.clean, report

    # A second run finds nothing left to expire and changes nothing.
    assert await reservations.expire_reservations(container.uow, clock=lambda: later) == 0
    assert await _level(container, wh) == (10, 2)
    async with container.uow() as uow:
        assert len(await uow.inventory.list_movements(SKU, first=100, after=None)) == len(moves)


async def test_an_expired_reservation_cannot_be_committed_or_released_afterwards(
    container: Container, stockroom: Stockroom
) -> None:
    wh = stockroom.warehouse.id
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=4, key="a", actor="t")
    cart = await reservations.reserve(
        container.uow, sku=SKU, quantity=4, key="cart", actor="t", expires_in_seconds=60
    )
    later = datetime.now(UTC) + timedelta(hours=2)
    assert await reservations.expire_reservations(container.uow, clock=lambda: later) == 1
    with pytest.raises(IllegalState):
        await reservations.commit(
            container.uow, reservation_id=cart.reservation.id, key="late-1", actor="t"
        )
    with pytest.raises(IllegalState):
        await reservations.release(
            container.uow, reservation_id=cart.reservation.id, key="late-2", actor="t"
        )
    assert await _level(container, wh) == (4, 0)


async def _alerts(container: Container) -> list[AlertKind]:
    async with container.uow() as uow:
        found = await uow.alerts.list(acknowledged=None, sku=SKU, first=100, after=None)
    return [a.kind for a in found]


async def _state(container: Container) -> StockState:
    async with container.uow() as uow:
        item = await uow.inventory.get_item(SKU)
    assert item is not None
    return item.stock_state


async def test_alerts_fire_once_per_crossing(container: Container, stockroom: Stockroom) -> None:
    wh = stockroom.warehouse.id  # the SKU's low-stock threshold is 3
    seen: list[AlertKind] = []

    async def new_alerts() -> list[AlertKind]:
        everything = await _alerts(container)
        fresh = everything[: len(everything) - len(seen)]  # newest first
        seen[:0] = fresh
        return fresh

    # A new item starts out of stock: its first receipt brings it (back) in stock.
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=5, key="a", actor="t")
    assert await new_alerts() == [AlertKind.BACK_IN_STOCK]
    assert await _state(container) is StockState.IN_STOCK

    await reservations.reserve(container.uow, sku=SKU, quantity=1, key="r1", actor="t")  # 4
    assert await new_alerts() == []
    await reservations.reserve(container.uow, sku=SKU, quantity=1, key="r2", actor="t")  # 3
    assert await new_alerts() == [AlertKind.LOW_STOCK]
    assert await _state(container) is StockState.LOW
    await reservations.reserve(container.uow, sku=SKU, quantity=1, key="r3", actor="t")  # 2
    await reservations.reserve(container.uow, sku=SKU, quantity=1, key="r4", actor="t")  # 1
    assert await new_alerts() == []

    await reservations.reserve(container.uow, sku=SKU, quantity=1, key="r5", actor="t")  # 0
    assert await new_alerts() == [AlertKind.OUT_OF_STOCK]
    assert await _state(container) is StockState.OUT

    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=2, key="b", actor="t")
    assert await new_alerts() == [AlertKind.BACK_IN_STOCK]  # 2: back, and low
    assert await _state(container) is StockState.LOW
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=8, key="c", actor="t")
    assert await new_alerts() == []  # low -> in stock: nothing to act on
    assert await _state(container) is StockState.IN_STOCK

    async with container.uow() as uow:
        rows = await uow.alerts.list(acknowledged=None, sku=SKU, first=100, after=None)
    low = [a for a in rows if a.kind is AlertKind.LOW_STOCK]
    out = [a for a in rows if a.kind is AlertKind.OUT_OF_STOCK]
    assert [(a.available, a.threshold) for a in low] == [(3, 3)]
    assert [(a.available, a.threshold) for a in out] == [(0, 3)]
    assert sorted(await _alerts(container)) == sorted(
        [
            AlertKind.BACK_IN_STOCK,
            AlertKind.LOW_STOCK,
            AlertKind.OUT_OF_STOCK,
            AlertKind.BACK_IN_STOCK,
        ]
    )


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_reading_goes_on_while_a_writer_holds_its_transaction(
    container: Container, stockroom: Stockroom
) -> None:
    """SQLite: read-only work begins deferred and reads beside an open write transaction."""
    async with container.uow() as writer:
        await writer.inventory.ensure_level(SKU, stockroom.warehouse.id)
        # The writer holds SQLite's write lock; a second writer would wait out the busy timeout.
        async with asyncio.timeout(2), container.uow(readonly=True) as reader:
            assert await reader.inventory.get_item(SKU) is not None
        await writer.commit()
