"""Ending holds: release (units free again), commit (units leave), expiry (a cart's time is up)."""

from __future__ import annotations

import uuid

import pytest

from domain.errors import IllegalState, NotFound
from domain.inventory import reservations
from domain.inventory.model import MovementReason, ReservationStatus
from tests.fakes import FakeUnitOfWorkFactory
from tests.stockroom import SKU, Stockroom


async def hold(
    room: Stockroom, quantity: int, key: str, *, expires: int | None = None, owner: str = "cart:1"
) -> uuid.UUID:
    result = await reservations.reserve(
        room.uows, sku=SKU, quantity=quantity, key=key, actor="test", reference=owner,
        expires_in_seconds=expires, clock=room.clock,
    )  # fmt: skip
    return result.reservation.id


async def release(room: Stockroom, held: uuid.UUID, key: str, held_by: str | None = None) -> bool:
    result = await reservations.release(
        room.uows, reservation_id=held, key=key, actor="test", clock=room.clock, held_by=held_by
    )
    return result.replayed


async def test_releasing_makes_the_units_available_again(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    room.clock.advance(seconds=1)
    held = await hold(room, 4, "r-1")
    room.clock.advance(seconds=1)

    await release(room, held, "rel-1")

    assert await room.level("WH1") == (5, 0)
    assert await room.sellable() == 5
    [reservation] = await room.reservations()
    assert (reservation.status, reservation.closed_at) == (
        ReservationStatus.RELEASED, room.clock.now,
    )  # fmt: skip
    async with room.uows(readonly=True) as uow:
        ledger = await uow.inventory.list_movements(SKU, first=10, after=None)
    assert [(m.reason, m.reserved_delta, m.reservation_id) for m in ledger] == [
        (MovementReason.RECEIVE, 0, None),
        (MovementReason.RESERVE, 4, held),
        (MovementReason.RELEASE, -4, held),
    ]
    await room.assert_ledger_matches()


async def test_releasing_again_with_the_same_key_is_a_replay(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    held = await hold(room, 4, "r-1")
    await release(room, held, "rel-1")

    assert await release(room, held, "rel-1") is True
    with pytest.raises(IllegalState, match="reservation is released, not active"):
        await release(room, held, "rel-2")
    assert await room.level("WH1") == (5, 0)
    await room.assert_ledger_matches()


async def test_only_the_owner_named_may_release_a_hold(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    held = await hold(room, 2, "r-1", owner="order:9")

    with pytest.raises(IllegalState, match="held by order:9, not cart:1"):
        await release(room, held, "rel-1", held_by="cart:1")

    assert await room.level("WH1") == (5, 2)
    assert [r.status for r in await room.reservations()] == [ReservationStatus.ACTIVE]
    assert await release(room, held, "rel-2", held_by="order:9") is False
    assert await room.level("WH1") == (5, 0)


async def test_releasing_an_unknown_reservation_is_not_found(room: Stockroom) -> None:
    with pytest.raises(NotFound):
        await release(room, uuid.uuid4(), "rel-1")


async def test_committing_ships_the_units_out_of_on_hand(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    held = await hold(room, 2, "r-1")

    shipped = await reservations.commit(room.uows, reservation_id=held, key="c-1", actor="t")

    assert shipped.reservation.status is ReservationStatus.COMMITTED
    assert await room.level("WH1") == (3, 0)
    assert await room.sellable() == 3  # held units were not sellable; shipping them changes none
    with pytest.raises(IllegalState):
        await release(room, held, "rel-1")
    await room.assert_ledger_matches()


async def test_expiry_releases_the_holds_whose_time_is_up_and_only_those(
    room: Stockroom, uows: FakeUnitOfWorkFactory
) -> None:
    await room.receive("WH1", 10)
    soon = await hold(room, 1, "r-1", expires=60)
    later = await hold(room, 2, "r-2", expires=600)
    kept = await hold(room, 3, "r-3", owner="order:1")

    room.clock.advance(seconds=60)  # exactly at `soon`'s expiry: due
    expired = await reservations.expire_reservations(uows, clock=room.clock)

    assert expired == 1
    statuses = {r.id: r.status for r in await room.reservations()}
    assert statuses == {
        soon: ReservationStatus.EXPIRED,
        later: ReservationStatus.ACTIVE,
        kept: ReservationStatus.ACTIVE,
    }
    assert await room.level("WH1") == (10, 5)
    await room.assert_ledger_matches()


async def test_expiry_run_again_finds_nothing_more_to_do(room: Stockroom) -> None:
    await room.receive("WH1", 10)
    await hold(room, 1, "r-1", expires=60)
    room.clock.advance(minutes=5)

    first = await reservations.expire_reservations(room.uows, clock=room.clock)
    second = await reservations.expire_reservations(room.uows, clock=room.clock)

    assert (first, second) == (1, 0)
    assert await room.level("WH1") == (10, 0)


async def test_expiry_takes_a_batch_at_a_time_oldest_expiry_first(room: Stockroom) -> None:
    await room.receive("WH1", 10)
    ids = [await hold(room, 1, f"r-{n}", expires=60 * (3 - n)) for n in range(3)]
    room.clock.advance(hours=1)

    assert await reservations.expire_reservations(room.uows, clock=room.clock, batch=2) == 2

    active = [r.id for r in await room.reservations(ReservationStatus.ACTIVE)]
    assert active == [ids[0]]  # the one due last


async def test_a_hold_handed_over_to_an_order_no_longer_expires(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    held = await hold(room, 2, "r-1", expires=60)
    async with room.uows() as uow:
        assert await uow.inventory.hand_over({held: "order:3"}) == 1
        await uow.commit()
    room.clock.advance(hours=1)

    assert await reservations.expire_reservations(room.uows, clock=room.clock) == 0
    [reservation] = await room.reservations()
    assert (reservation.reference, reservation.status) == ("order:3", ReservationStatus.ACTIVE)
