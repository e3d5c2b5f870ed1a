"""Holding stock: reserve, replay, refuse, release and commit, on the in-memory unit of work."""

from __future__ import annotations

import uuid

import pytest

from domain.errors import (
    ErrorCode,
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidInput,
    InvalidQuantity,
    NotFound,
)
from domain.inventory import reservations
from domain.inventory.alerts import AlertKind
from domain.inventory.events import ALERT_TOPIC, STOCK_TOPIC
from domain.inventory.model import MovementReason, ReservationStatus
from domain.jobs import BACKORDER_JOB, DRAIN_JOB
from domain.sync.model import OutboxKind
from tests.fakes import FakeUnitOfWorkFactory
from tests.stockroom import SKU, Stockroom


async def reserve(
    room: Stockroom,
    quantity: int,
    key: str,
    *,
    location_id: uuid.UUID | None = None,
    expires_in_seconds: int | None = None,
) -> uuid.UUID:
    result = await reservations.reserve(
        room.uows, sku=SKU, quantity=quantity, key=key, actor="test", location_id=location_id,
        expires_in_seconds=expires_in_seconds, clock=room.clock,
    )  # fmt: skip
    assert not result.replayed
    return result.reservation.id


async def test_a_reservation_holds_units_at_the_first_location_by_code_that_has_them(
    room: Stockroom,
) -> None:
    await room.receive("ST1", 1)
    await room.receive("WH1", 5)

    result = await reservations.reserve(
        room.uows, sku=SKU, quantity=2, key="r-1", actor="test", reference="order:1",
        clock=room.clock,
    )  # fmt: skip

    held = result.reservation
    assert (held.location_id, held.quantity, held.status) == (
        room.at("WH1"), 2, ReservationStatus.ACTIVE,
    )  # fmt: skip
    assert (held.reference, held.created_at, held.expires_at) == ("order:1", room.clock.now, None)
    assert await room.level("WH1") == (5, 2)
    assert await room.level("ST1") == (1, 0)
    assert await room.sellable() == 4
    await room.assert_ledger_matches()


async def test_of_two_locations_with_enough_the_first_by_code_is_chosen(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    await room.receive("ST1", 5)

    await reserve(room, 5, "r-1")

    assert await room.level("ST1") == (5, 5)
    assert await room.level("WH1") == (5, 0)


async def test_a_reservation_never_takes_the_stock_a_channel_holds(room: Stockroom) -> None:
    await room.receive("FBA", 10)  # FBA sorts before every other code

    with pytest.raises(InsufficientStock):
        await reserve(room, 1, "r-1")
    await room.receive("WH1", 1)
    await reserve(room, 1, "r-2")

    assert await room.level("FBA") == (10, 0)
    assert await room.level("WH1") == (1, 1)


async def test_reserving_more_than_is_available_is_refused_and_changes_nothing(
    room: Stockroom, uows: FakeUnitOfWorkFactory
) -> None:
    await room.receive("WH1", 3)
    await reserve(room, 2, "r-1")
    sent = (list(uows.published), list(uows.enqueued))

    with pytest.raises(InsufficientStock) as refused:
        await reserve(room, 2, "r-2")

    assert (refused.value.code, refused.value.field) == (ErrorCode.INSUFFICIENT_STOCK, "quantity")
    assert await room.level("WH1") == (3, 2)
    assert len(await room.reservations()) == 1
    assert (uows.published, uows.enqueued) == sent
    async with uows(readonly=True) as uow:
        assert await uow.operations.get("r-2") is None  # the key is free for a later try
    await room.receive("WH1", 1)
    await reserve(room, 2, "r-2")
    assert await room.level("WH1") == (4, 4)


async def test_at_a_given_location_a_reservation_is_refused_even_if_another_has_the_units(
    room: Stockroom,
) -> None:
    await room.receive("WH1", 5)
    await room.receive("ST1", 1)

    with pytest.raises(InsufficientStock, match="only 1 of 'TSHIRT-M' available at that location"):
        await reserve(room, 2, "r-1", location_id=room.at("ST1"))

    assert await room.levels() == {
        "DS1": (0, 0), "FBA": (0, 0), "ST1": (1, 0), "WH1": (5, 0),
    }  # fmt: skip


async def test_at_a_location_the_sku_was_never_stocked_nothing_is_held_or_created(
    room: Stockroom, uows: FakeUnitOfWorkFactory
) -> None:
    with pytest.raises(InsufficientStock, match="only 0"):
        await reserve(room, 1, "r-1", location_id=room.at("DS1"))

    assert ("TSHIRT-M", room.at("DS1")) not in uows.committed.levels


async def test_an_unknown_sku_or_location_is_not_found(room: Stockroom) -> None:
    with pytest.raises(NotFound) as sku:
        await reservations.reserve(room.uows, sku="NOPE", quantity=1, key="r-1", actor="t")
    with pytest.raises(NotFound) as location:
        await reserve(room, 1, "r-2", location_id=uuid.uuid4())

    assert (sku.value.field, location.value.field) == ("sku", "locationId")
    assert await room.reservations() == []


async def test_replaying_a_key_answers_with_the_first_reservation_and_holds_nothing_more(
    room: Stockroom,
) -> None:
    await room.receive("WH1", 5)
    first = await reserve(room, 2, "r-1")

    again = await reservations.reserve(
        room.uows, sku=SKU, quantity=2, key="r-1", actor="test", clock=room.clock
    )

    assert again.replayed
    assert again.reservation.id == first
    assert await room.level("WH1") == (5, 2)
    assert len(await room.reservations()) == 1


async def test_a_replay_answers_even_once_the_stock_is_gone(room: Stockroom) -> None:
    await room.receive("WH1", 2)
    first = await reserve(room, 2, "r-1")

    again = await reservations.reserve(room.uows, sku=SKU, quantity=2, key="r-1", actor="test")

    assert (again.replayed, again.reservation.id) == (True, first)


async def test_a_key_used_again_for_another_request_is_refused(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    await reserve(room, 2, "r-1")

    with pytest.raises(IdempotencyKeyReused):
        await reserve(room, 3, "r-1")

    assert await room.level("WH1") == (5, 2)


@pytest.mark.parametrize(
    ("quantity", "key", "expires", "error", "field"),
    [
        (0, "r-1", None, InvalidQuantity, "quantity"),
        (-2, "r-1", None, InvalidQuantity, "quantity"),
        (1, "  ", None, InvalidInput, "idempotencyKey"),
        (1, "k" * 201, None, InvalidInput, "idempotencyKey"),
        (1, "r-1", 0, InvalidInput, "expiresInSeconds"),
        (1, "r-1", 30 * 86400 + 1, InvalidInput, "expiresInSeconds"),
    ],
)
async def test_bad_input_is_a_typed_error_and_holds_nothing(
    room: Stockroom,
    uows: FakeUnitOfWorkFactory,
    quantity: int,
    key: str,
    expires: int | None,
    error: type[Exception],
    field: str,
) -> None:
    await room.receive("WH1", 5)
    commits = uows.commits

    with pytest.raises(error) as raised:
        await reserve(room, quantity, key, expires_in_seconds=expires)

    assert getattr(raised.value, "field", None) == field
    assert await room.level("WH1") == (5, 0)
    assert uows.commits == commits


async def test_a_reservation_tells_the_channels_fed_by_its_location_after_commit(
    room: Stockroom, uows: FakeUnitOfWorkFactory
) -> None:
    await room.receive("WH1", 5)
    uows.published.clear()

    await reserve(room, 2, "r-1")

    [event] = [e for e in uows.published if e.topic == STOCK_TOPIC]
    assert event.payload["reason"] == MovementReason.RESERVE.value
    assert (event.payload["onHand"], event.payload["reserved"]) == (5, 2)
    assert event.payload["channels"] == [
        {"channelId": str(room.shop), "name": "Shop", "quantity": 3}
    ]
    # The receipt marked the SKU dirty already: the reservation adds no row and no relay run.
    marks = [r.entry for r in uows.committed.outbox.values()]
    assert [(m.channel_id, m.kind, m.key) for m in marks] == [(room.shop, OutboxKind.QUANTITY, SKU)]
    # (and the receipt asked for backorders to be filled; the reservation asks for nothing)
    assert uows.enqueued == [(BACKORDER_JOB, (SKU,), None), (DRAIN_JOB, (str(room.shop),), None)]


async def test_stock_at_a_location_no_channel_takes_marks_no_channel(
    room: Stockroom, uows: FakeUnitOfWorkFactory
) -> None:
    await room.receive("DS1", 5)
    await reserve(room, 1, "r-1", location_id=room.at("DS1"))

    assert uows.committed.outbox == {}
    assert uows.enqueued == [(BACKORDER_JOB, (SKU,), None)]  # the receipt's, for backorders


async def test_low_and_out_of_stock_are_each_alerted_once_as_the_total_crosses_them(
    room: Stockroom, uows: FakeUnitOfWorkFactory
) -> None:
    await room.receive("WH1", 6)  # threshold 3: in stock

    for key, units in [("r-1", 3), ("r-2", 1), ("r-3", 2)]:  # 3 left: low; 2: low; 0: out
        await reserve(room, units, key)

    raised = [e.payload for e in uows.published if e.topic == ALERT_TOPIC]
    assert [(a["kind"], a["available"]) for a in raised] == [
        (AlertKind.BACK_IN_STOCK.value, 6),
        (AlertKind.LOW_STOCK.value, 3),
        (AlertKind.OUT_OF_STOCK.value, 0),
    ]
