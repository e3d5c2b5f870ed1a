"""Committing reservations in part: the part leaves, the rest stays held, all or nothing."""

from __future__ import annotations

import pytest

from adapters.container import Container
from domain.errors import IllegalState, InvalidQuantity
from domain.inventory import reservations, stock
from domain.inventory.committing import CommitPart, commit_parts
from domain.inventory.model import MovementReason, Reservation, ReservationStatus
from domain.inventory.queries import audit
from tests.integration.inventory.conftest import Stockroom

SKU = "TSHIRT-M"


async def _level(container: Container, stockroom: Stockroom) -> tuple[int, int]:
    async with container.uow(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot(SKU)
    assert snapshot is not None
    level = snapshot.level_at(stockroom.warehouse.id)
    assert level is not None
    return level.on_hand, level.reserved


async def _held(container: Container, stockroom: Stockroom, quantity: int, key: str) -> Reservation:
    result = await reservations.reserve(
        container.uow, sku=SKU, quantity=quantity, key=key, actor="t",
        location_id=stockroom.warehouse.id, reference="order:test",
    )  # fmt: skip
    return result.reservation


@pytest.fixture
async def stocked(container: Container, stockroom: Stockroom) -> Stockroom:
    await stock.receive(
        container.uow, sku=SKU, location_id=stockroom.warehouse.id, quantity=10, key="r",
        actor="t",
    )  # fmt: skip
    return stockroom


async def test_a_part_of_a_reservation_is_committed_and_the_rest_stays_held(
    container: Container, stocked: Stockroom
) -> None:
    held = await _held(container, stocked, 5, "hold")

    [part] = await commit_parts(
        container.uow, parts=[CommitPart(held.id, 2)], key="ship-1", actor="t", detail="1Z-A"
    )

    assert (part.status, part.quantity, part.reference) == (
        ReservationStatus.COMMITTED, 2, "order:test",
    )  # fmt: skip
    assert part.id != held.id
    async with container.uow(readonly=True) as uow:
        rest = await uow.inventory.get_reservation(held.id)
        movements = await uow.inventory.list_movements(SKU, first=50, after=None)
        report = await audit(uow)
    assert rest is not None
    assert (rest.status, rest.quantity) == (ReservationStatus.ACTIVE, 3)
    assert await _level(container, stocked) == (8, 3)
    [commit] = [m for m in movements if m.reason is MovementReason.COMMIT]
    assert (commit.on_hand_delta, commit.reserved_delta) == (-2, -2)
    assert (commit.reservation_id, commit.detail) == (part.id, "1Z-A")
    assert report.clean

    # Replayed: the same part, nothing leaves twice.
    [again] = await commit_parts(
        container.uow, parts=[CommitPart(held.id, 2)], key="ship-1", actor="t", detail="1Z-A"
    )
    assert again.id == part.id
    assert await _level(container, stocked) == (8, 3)

    # The rest, whole: the original reservation is committed.
    [last] = await commit_parts(
        container.uow, parts=[CommitPart(held.id, 3)], key="ship-2", actor="t"
    )
    assert (last.id, last.status, last.quantity) == (held.id, ReservationStatus.COMMITTED, 3)
    assert await _level(container, stocked) == (5, 0)


async def test_committing_more_than_held_commits_none_of_the_parcel(
    container: Container, stocked: Stockroom
) -> None:
    first = await _held(container, stocked, 2, "hold-1")
    second = await _held(container, stocked, 3, "hold-2")

    with pytest.raises(InvalidQuantity):
        await commit_parts(
            container.uow, parts=[CommitPart(first.id, 1), CommitPart(second.id, 4)],
            key="ship-too-much", actor="t",
        )  # fmt: skip

    assert await _level(container, stocked) == (10, 5)
    async with container.uow(readonly=True) as uow:
        kept = [await uow.inventory.get_reservation(r.id) for r in (first, second)]
    assert [(r.status, r.quantity) for r in kept if r] == [
        (ReservationStatus.ACTIVE, 2), (ReservationStatus.ACTIVE, 3),
    ]  # fmt: skip


async def test_a_released_reservation_cannot_be_committed(
    container: Container, stocked: Stockroom
) -> None:
    held = await _held(container, stocked, 2, "hold")
    await reservations.release(container.uow, reservation_id=held.id, key="rel", actor="t")

    with pytest.raises(IllegalState):
        await commit_parts(container.uow, parts=[CommitPart(held.id, 1)], key="ship", actor="t")

    assert await _level(container, stocked) == (10, 0)
