"""Reserving several lines in one transaction: all or nothing, or as many as possible."""

from __future__ import annotations

import uuid

import pytest

from domain.errors import InsufficientStock, InvalidInput, InvalidQuantity, NotFound
from domain.inventory import reservations, setup
from domain.inventory.reservations import LineMode, LineRequest, LinesResult
from tests.fakes import FakeUnitOfWorkFactory
from tests.stockroom import SKU, Stockroom

OTHER = "MUG-1"


@pytest.fixture
async def two_skus(room: Stockroom) -> Stockroom:
    async with room.uows() as uow:
        await setup.create_inventory_item(uow, sku=OTHER)
        await uow.commit()
    await room.receive("WH1", 3)
    await room.receive("WH1", 1, sku=OTHER)
    return room


async def reserve_lines(
    room: Stockroom, lines: list[LineRequest], mode: LineMode, key: str = "lines-1"
) -> LinesResult:
    return await reservations.reserve_lines(
        room.uows, lines=lines, mode=mode, key=key, actor="test", reference="order:7",
        clock=room.clock,
    )  # fmt: skip


async def test_all_or_nothing_holds_nothing_when_one_line_is_short(
    two_skus: Stockroom, uows: FakeUnitOfWorkFactory
) -> None:
    room = two_skus
    lines = [LineRequest(SKU, 2), LineRequest(OTHER, 2)]

    with pytest.raises(InsufficientStock) as refused:
        await reserve_lines(room, lines, LineMode.ALL_OR_NOTHING)

    assert refused.value.field == "lines[1]"
    assert await room.level("WH1") == (3, 0)
    assert await room.level("WH1", OTHER) == (1, 0)
    assert await room.reservations() == []
    assert "lines-1" not in uows.committed.operations


async def test_all_or_nothing_holds_every_line_when_all_fit(two_skus: Stockroom) -> None:
    room = two_skus

    result = await reserve_lines(
        room, [LineRequest(SKU, 3), LineRequest(OTHER, 1)], LineMode.ALL_OR_NOTHING
    )

    assert [(o.reservation and o.reservation.quantity, o.error) for o in result.lines] == [
        (3, None), (1, None),
    ]  # fmt: skip
    assert await room.level("WH1") == (3, 3)
    assert await room.level("WH1", OTHER) == (1, 1)
    await room.assert_ledger_matches()


async def test_partial_holds_what_fits_and_says_which_line_did_not(two_skus: Stockroom) -> None:
    room = two_skus

    result = await reserve_lines(
        room, [LineRequest(OTHER, 2), LineRequest(SKU, 2)], LineMode.PARTIAL
    )

    short, held = result.lines
    assert (short.reservation, str(short.error)) == (None, f"not enough {OTHER!r} available")
    assert held.reservation is not None
    assert (held.reservation.sku, held.reservation.reference) == (SKU, "order:7")
    assert await room.level("WH1") == (3, 2)
    assert await room.level("WH1", OTHER) == (1, 0)


async def test_two_lines_of_one_sku_draw_on_the_same_units(two_skus: Stockroom) -> None:
    room = two_skus  # 3 at WH1: the first line takes 2, leaving 1 for the second

    result = await reserve_lines(room, [LineRequest(SKU, 2), LineRequest(SKU, 2)], LineMode.PARTIAL)

    assert [o.reservation is not None for o in result.lines] == [True, False]
    assert await room.level("WH1") == (3, 2)


async def test_a_line_at_a_given_location_takes_only_from_there(two_skus: Stockroom) -> None:
    room = two_skus
    await room.receive("ST1", 1)

    result = await reserve_lines(
        room,
        [LineRequest(SKU, 1, room.at("WH1")), LineRequest(SKU, 2, room.at("ST1"))],
        LineMode.PARTIAL,
    )

    assert [o.reservation is not None for o in result.lines] == [True, False]
    assert (await room.level("WH1"), await room.level("ST1")) == ((3, 1), (1, 0))


async def test_replaying_the_key_answers_with_the_same_lines_and_holds_nothing_more(
    two_skus: Stockroom,
) -> None:
    room = two_skus
    lines = [LineRequest(OTHER, 2), LineRequest(SKU, 2)]
    first = await reserve_lines(room, lines, LineMode.PARTIAL)

    again = await reserve_lines(room, lines, LineMode.PARTIAL)

    assert again.replayed
    assert [o.reservation for o in again.lines] == [o.reservation for o in first.lines]
    assert [str(o.error) if o.error else None for o in again.lines] == [
        f"not enough {OTHER!r} available", None,
    ]  # fmt: skip
    assert await room.level("WH1") == (3, 2)


async def test_an_unknown_sku_is_not_found_and_holds_nothing(two_skus: Stockroom) -> None:
    room = two_skus

    with pytest.raises(NotFound) as unknown:
        await reserve_lines(room, [LineRequest(SKU, 1), LineRequest("NOPE", 1)], LineMode.PARTIAL)

    assert unknown.value.field == "lines[1].sku"
    assert await room.reservations() == []


@pytest.mark.parametrize(
    ("lines", "error", "field"),
    [
        ([], InvalidInput, "lines"),
        ([LineRequest(SKU, 1)] * 251, InvalidInput, "lines"),
        ([LineRequest(SKU, 1), LineRequest(SKU, 0)], InvalidQuantity, "lines[1].quantity"),
    ],
)
async def test_bad_lines_are_a_typed_error(
    two_skus: Stockroom, lines: list[LineRequest], error: type[Exception], field: str
) -> None:
    with pytest.raises(error) as raised:
        await reserve_lines(two_skus, lines, LineMode.PARTIAL, key=str(uuid.uuid4()))

    assert getattr(raised.value, "field", None) == field
    assert await two_skus.reservations() == []
