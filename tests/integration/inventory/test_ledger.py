"""Receive, adjust, count, transfer, reserve, release, commit — against a real database."""

from __future__ import annotations

import pytest

from adapters.container import Container
from domain.errors import (
    IdempotencyKeyReused,
    IllegalState,
    InsufficientStock,
    InvalidQuantity,
    NotFound,
    SameLocation,
    StaleExpectedValue,
)
from domain.inventory import reservations, stock
from domain.inventory.queries import audit
from tests.integration.inventory.conftest import Stockroom


async def _level(container: Container, sku: str, location_id: object) -> tuple[int, int]:
    async with container.uow() as uow:
        snapshot = await uow.inventory.snapshot(sku)
    assert snapshot is not None
    level = snapshot.level_at(location_id)  # type: ignore[arg-type]
    return (level.on_hand, level.reserved) if level else (0, 0)


async def _movements(container: Container, sku: str) -> int:
    async with container.uow() as uow:
        return len(await uow.inventory.list_movements(sku, first=1000, after=None))


async def test_receive_adds_on_hand_and_writes_the_ledger(
    container: Container, stockroom: Stockroom
) -> None:
    result = await stock.receive(
        container.uow,
        sku="TSHIRT-M",
        location_id=stockroom.warehouse.id,
        quantity=10,
        key="rcv-1",
        actor="tester",
    )
    assert [(lv.on_hand, lv.reserved, lv.version) for lv in result.levels] == [(10, 0, 1)]
    assert await _level(container, "TSHIRT-M", stockroom.warehouse.id) == (10, 0)
    assert await _movements(container, "TSHIRT-M") == 1


async def test_replayed_key_returns_first_result_and_changes_nothing(
    container: Container, stockroom: Stockroom
) -> None:
    args = dict(sku="TSHIRT-M", location_id=stockroom.warehouse.id, quantity=5, actor="t")
    first = await stock.receive(container.uow, key="rcv-dup", **args)  # type: ignore[arg-type]
    again = await stock.receive(container.uow, key="rcv-dup", **args)  # type: ignore[arg-type]
    assert again.replayed
    assert not first.replayed
    assert again.levels == first.levels
    assert await _level(container, "TSHIRT-M", stockroom.warehouse.id) == (5, 0)
    assert await _movements(container, "TSHIRT-M") == 1


async def test_reused_key_with_other_input_is_refused(
    container: Container, stockroom: Stockroom
) -> None:
    await stock.receive(
        container.uow,
        sku="TSHIRT-M",
        location_id=stockroom.warehouse.id,
        quantity=5,
        key="k",
        actor="t",
    )
    with pytest.raises(IdempotencyKeyReused):
        await stock.receive(
            container.uow,
            sku="TSHIRT-M",
            location_id=stockroom.warehouse.id,
            quantity=6,
            key="k",
            actor="t",
        )
    assert await _level(container, "TSHIRT-M", stockroom.warehouse.id) == (5, 0)


async def test_bad_input_changes_nothing(container: Container, stockroom: Stockroom) -> None:
    wh = stockroom.warehouse.id
    await stock.receive(
        container.uow, sku="TSHIRT-M", location_id=wh, quantity=4, key="a", actor="t"
    )
    await reservations.reserve(
        container.uow, sku="TSHIRT-M", quantity=3, location_id=wh, key="r", actor="t"
    )
    with pytest.raises(NotFound):
        await stock.receive(
            container.uow, sku="NOPE", location_id=wh, quantity=1, key="b", actor="t"
        )
    with pytest.raises(InvalidQuantity):
        await stock.receive(
            container.uow, sku="TSHIRT-M", location_id=wh, quantity=0, key="c", actor="t"
        )
    with pytest.raises(InsufficientStock):
        await stock.adjust(
            container.uow,
            sku="TSHIRT-M",
            location_id=wh,
            delta=-2,
            reason="damaged",
            key="d",
            actor="t",
        )
    with pytest.raises(InsufficientStock):
        await reservations.reserve(container.uow, sku="TSHIRT-M", quantity=2, key="e", actor="t")
    with pytest.raises(SameLocation):
        await stock.transfer(
            container.uow,
            sku="TSHIRT-M",
            from_location_id=wh,
            to_location_id=wh,
            quantity=1,
            key="f",
            actor="t",
        )
    with pytest.raises(StaleExpectedValue):
        await stock.count(
            container.uow,
            sku="TSHIRT-M",
            location_id=wh,
            on_hand=9,
            expected_on_hand=7,
            key="g",
            actor="t",
        )
    assert await _level(container, "TSHIRT-M", wh) == (4, 3)
    assert await _movements(container, "TSHIRT-M") == 2
    async with container.uow() as uow:
        assert (await audit(uow)).clean


async def test_transfer_moves_both_legs(container: Container, stockroom: Stockroom) -> None:
    wh, st = stockroom.warehouse.id, stockroom.store.id
    await stock.receive(
        container.uow, sku="TSHIRT-M", location_id=wh, quantity=8, key="a", actor="t"
    )
    result = await stock.transfer(
        container.uow,
        sku="TSHIRT-M",
        from_location_id=wh,
        to_location_id=st,
        quantity=3,
        key="t1",
        actor="t",
    )
    assert [(lv.location_id, lv.on_hand) for lv in result.levels] == [(wh, 5), (st, 3)]
    with pytest.raises(InsufficientStock):
        await stock.transfer(
            container.uow,
            sku="TSHIRT-M",
            from_location_id=st,
            to_location_id=wh,
            quantity=4,
            key="t2",
            actor="t",
        )
    assert await _level(container, "TSHIRT-M", wh) == (5, 0)
    assert await _level(container, "TSHIRT-M", st) == (3, 0)


async def test_count_sets_on_hand_and_records_the_difference(
    container: Container, stockroom: Stockroom
) -> None:
    wh = stockroom.warehouse.id
    await stock.receive(
        container.uow, sku="TSHIRT-M", location_id=wh, quantity=8, key="a", actor="t"
    )
    await stock.count(
        container.uow,
        sku="TSHIRT-M",
        location_id=wh,
        on_hand=6,
        expected_on_hand=8,
        key="c1",
        actor="t",
    )
    async with container.uow() as uow:
        moves = await uow.inventory.list_movements("TSHIRT-M", first=10, after=None)
        assert [m.on_hand_delta for m in moves] == [8, -2]
        assert (await audit(uow)).clean


async def test_reserve_release_commit_lifecycle(container: Container, stockroom: Stockroom) -> None:
    wh = stockroom.warehouse.id
    await stock.receive(
        container.uow, sku="TSHIRT-M", location_id=wh, quantity=5, key="a", actor="t"
    )
    held = await reservations.reserve(
        container.uow, sku="TSHIRT-M", quantity=2, key="r1", actor="t"
    )
    assert held.reservation.location_id == wh
    assert await _level(container, "TSHIRT-M", wh) == (5, 2)
    shipped = await reservations.commit(
        container.uow, reservation_id=held.reservation.id, key="c1", actor="t"
    )
    assert shipped.reservation.status.value == "committed"
    assert await _level(container, "TSHIRT-M", wh) == (3, 0)
    with pytest.raises(IllegalState):
        await reservations.release(
            container.uow, reservation_id=held.reservation.id, key="x1", actor="t"
        )
    other = await reservations.reserve(
        container.uow, sku="TSHIRT-M", quantity=3, key="r2", actor="t"
    )
    await reservations.release(
        container.uow, reservation_id=other.reservation.id, key="x2", actor="t"
    )
    assert await _level(container, "TSHIRT-M", wh) == (3, 0)
    async with container.uow() as uow:
        assert (await audit(uow)).clean
