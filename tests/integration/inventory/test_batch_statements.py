"""The batch statements: many level changes in one step give what the same changes one by
one give; recording a batch's holds writes the rows of the keys it claims, and only those."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.container import Container
from domain.inventory.hold_requests import reserve_movement
from domain.inventory.idempotency import Operation
from domain.inventory.model import (
    LevelChange,
    LevelDelta,
    Movement,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from domain.inventory.setup import create_inventory_item
from tests.integration.inventory.conftest import Stockroom, receive

SKU = "TSHIRT-M"


async def _stocked(container: Container, stockroom: Stockroom) -> tuple[uuid.UUID, uuid.UUID]:
    wh, st = stockroom.warehouse.id, stockroom.store.id
    async with container.uow() as uow:
        await create_inventory_item(uow, sku="CAP")
        await uow.commit()
    for sku, location, units in ((SKU, wh, 10), (SKU, st, 5), ("CAP", wh, 1)):
        await receive(container, sku, location, units)
    return wh, st


async def test_changes_in_one_step_equal_the_same_changes_one_by_one(
    container: Container, stockroom: Stockroom
) -> None:
    wh, st = await _stocked(container, stockroom)
    deltas = [
        LevelDelta(SKU, wh, 0, 3, sellable=True),
        LevelDelta(SKU, st, -1, 1, sellable=True),
        LevelDelta("CAP", wh, 0, 2, sellable=True),  # 1 on hand: refused
        LevelDelta("CAP", st, 0, 1, sellable=True),  # no such level: refused
    ]

    async with container.uow() as uow:
        together = await uow.inventory.change_levels(deltas)
        # rolled back: the same changes again, one by one
    async with container.uow() as uow:
        one_by_one = [
            await uow.inventory.change_level(
                d.sku, d.location_id, d.on_hand_delta, d.reserved_delta, sellable=d.sellable
            )
            for d in deltas
        ]

    assert together == one_by_one
    # SKU total 15: 3 reserved at WH (15 -> 12), then 1 off hand and 1 reserved at ST (-> 10).
    assert together == [
        LevelChange(StockLevel(SKU, wh, 10, 3, 2), 15, 12),
        LevelChange(StockLevel(SKU, st, 4, 1, 2), 12, 10),
        None,
        None,
    ]


async def test_a_change_that_leaves_the_total_alone_reports_no_total(
    container: Container, stockroom: Stockroom
) -> None:
    wh, st = await _stocked(container, stockroom)
    async with container.uow() as uow:
        changes = await uow.inventory.change_levels(
            [
                LevelDelta(SKU, wh, 2, 2, sellable=True),  # on hand and reserved together
                LevelDelta(SKU, st, 0, 1, sellable=False),
            ]
        )
    assert changes == [
        LevelChange(StockLevel(SKU, wh, 12, 2, 2)),
        LevelChange(StockLevel(SKU, st, 5, 1, 2)),
    ]


async def test_a_level_twice_in_one_step_is_refused(
    container: Container, stockroom: Stockroom
) -> None:
    wh, _ = await _stocked(container, stockroom)
    async with container.uow() as uow:
        with pytest.raises(ValueError, match="once"):
            await uow.inventory.change_levels(
                [LevelDelta(SKU, wh, 0, 1, sellable=True), LevelDelta(SKU, wh, 0, 1, sellable=True)]
            )


async def test_recording_holds_writes_the_rows_of_the_keys_it_claims_only(
    container: Container, stockroom: Stockroom
) -> None:
    wh, st = await _stocked(container, stockroom)
    now = datetime.now(UTC).replace(microsecond=0)
    taken = Operation("taken", "reserve", "f" * 64, "earlier", now, {"reservationId": "x"})
    async with container.uow() as uow:
        await uow.operations.claim(taken)
        await uow.commit()

    def hold(
        key: str, location_id: uuid.UUID, quantity: int
    ) -> tuple[Operation, Reservation, Movement]:
        reservation = Reservation(
            id=uuid.uuid4(), sku=SKU, location_id=location_id, quantity=quantity,
            status=ReservationStatus.ACTIVE, reference=f"ref-{key}", created_at=now,
            expires_at=now + timedelta(minutes=5) if key == "new-1" else None,
        )  # fmt: skip
        claim = Operation(
            key, "reserve", "a" * 64, f"actor-{key}", now, {"reservationId": str(reservation.id)}
        )
        return claim, reservation, reserve_movement(reservation, f"actor-{key}", key, now)

    holds = [hold("new-1", wh, 2), hold("taken", wh, 1), hold("new-2", st, 1)]
    async with container.uow() as uow:
        claimed = await uow.inventory.record_holds(
            [c for c, _, _ in holds], [(c.key, r) for c, r, _ in holds], [m for _, _, m in holds]
        )
        await uow.commit()

    assert claimed == {"new-1", "new-2"}
    async with container.uow(readonly=True) as uow:
        for claim, reservation, movement in holds:
            stored = await uow.inventory.get_reservation(reservation.id)
            ledger = await uow.inventory.list_movements(SKU, first=100, after=None)
            written = [m for m in ledger if m.id == movement.id]
            operation = await uow.operations.get(claim.key)
            if claim.key == "taken":
                assert stored is None
                assert written == []
                assert operation == taken
            else:
                assert stored == reservation
                assert written == [movement]
                assert operation == claim
