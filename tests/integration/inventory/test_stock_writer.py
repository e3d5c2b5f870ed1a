"""One writer of on hand: a single receipt, count or adjustment is a batch of one over
`stock_batches.apply_entries`. What a single call keeps doing on it (a refused call leaves
nothing, not even an empty level; a replay answers before a refusal), and what it does beside
other calls on PostgreSQL (receipts and counts on one level lose nothing; a count is not
refused because its level kept moving; a key sent in a batch and a call at once neither
deadlocks nor applies twice)."""

from __future__ import annotations

import asyncio

import pytest

from adapters.container import Container
from domain.errors import (
    DomainError,
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidQuantity,
    NotFound,
    StaleExpectedValue,
)
from domain.inventory import queries, reservations, stock, stock_batches
from domain.inventory.model import MovementReason
from domain.inventory.results import StockResult
from domain.limits import MAX_UNITS
from tests.stockroom import SKU, Stockroom, stockroom

postgres_only = pytest.mark.parametrize("backend", ["postgres"])


async def _audit_clean(room: Stockroom) -> None:
    async with room.uows(readonly=True) as uow:
        report = await queries.audit(uow)
    assert report.clean, report


async def _has_level(room: Stockroom, code: str) -> bool:
    async with room.uows(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot(SKU)
    assert snapshot is not None
    return snapshot.level_at(room.at(code)) is not None


async def test_a_refused_call_leaves_no_level_where_there_was_none(container: Container) -> None:
    room = await stockroom(container.uow)
    fresh = [code for code in room.locations if not await _has_level(room, code)]
    assert fresh, "the stockroom has a location without a level of the SKU"
    code = fresh[0]
    calls = {
        "adjust": lambda: stock.adjust(
            room.uows, sku=SKU, location_id=room.at(code), delta=-1, reason="lost",
            key="adjust", actor="t",
        ),
        "count": lambda: stock.count(
            room.uows, sku=SKU, location_id=room.at(code), on_hand=MAX_UNITS + 1,
            expected_on_hand=None, key="count", actor="t",
        ),
        "expected": lambda: stock.count(
            room.uows, sku=SKU, location_id=room.at(code), on_hand=4, expected_on_hand=2,
            key="expected", actor="t",
        ),
        "receive": lambda: stock.receive(
            room.uows, sku=SKU, location_id=room.at(code), quantity=MAX_UNITS + 1,
            key="receive", actor="t",
        ),
    }  # fmt: skip
    refusals = {}
    for name, call in calls.items():
        with pytest.raises(DomainError) as refused:
            await call()
        refusals[name] = (type(refused.value), refused.value.field)
    assert refusals == {
        "adjust": (InsufficientStock, "delta"),
        "count": (InvalidQuantity, "onHand"),
        "expected": (StaleExpectedValue, "expectedOnHand"),
        "receive": (InvalidQuantity, "quantity"),
    }
    assert not await _has_level(room, code)
    async with room.uows(readonly=True) as uow:
        assert await uow.operations.get_many(list(calls)) == {}
    with pytest.raises(NotFound) as unknown:
        await stock.receive(
            room.uows, sku="NOPE", location_id=room.at(code), quantity=1, key="x", actor="t"
        )
    assert unknown.value.field == "sku"


async def test_a_replay_answers_where_the_call_would_now_be_refused(
    container: Container,
) -> None:
    room = await stockroom(container.uow)
    wh = room.at("WH1")
    await stock.receive(room.uows, sku=SKU, location_id=wh, quantity=10, key="r1", actor="t")
    before = (await room.level("WH1"))[0] - 10
    counted = await stock.count(
        room.uows, sku=SKU, location_id=wh, on_hand=before + 7, expected_on_hand=None,
        key="c1", actor="t",
    )  # fmt: skip
    adjusted = await stock.adjust(
        room.uows, sku=SKU, location_id=wh, delta=-5, reason="damaged", key="a1", actor="t"
    )
    await stock.receive(room.uows, sku=SKU, location_id=wh, quantity=10, key="r2", actor="t")
    await reservations.reserve(
        room.uows, sku=SKU, quantity=before + 9, location_id=wh, key="hold", actor="t"
    )
    level = await room.level("WH1")
    assert level == (before + 12, before + 9)

    # Anew, each would be refused now: a count under what is reserved, a take below it.
    again = await stock.count(
        room.uows, sku=SKU, location_id=wh, on_hand=before + 7, expected_on_hand=None,
        key="c1", actor="t",
    )  # fmt: skip
    assert again == StockResult(counted.levels, replayed=True)
    again = await stock.adjust(
        room.uows, sku=SKU, location_id=wh, delta=-5, reason="damaged", key="a1", actor="t"
    )
    assert again == StockResult(adjusted.levels, replayed=True)
    with pytest.raises(IdempotencyKeyReused):
        await stock.adjust(
            room.uows, sku=SKU, location_id=wh, delta=-4, reason="damaged", key="a1", actor="t"
        )
    with pytest.raises(InvalidQuantity) as refused_count:
        await stock.count(
            room.uows, sku=SKU, location_id=wh, on_hand=before + 7, expected_on_hand=None,
            key="c2", actor="t",
        )  # fmt: skip
    assert refused_count.value.field == "onHand"
    with pytest.raises(InsufficientStock) as refused_take:
        await stock.adjust(
            room.uows, sku=SKU, location_id=wh, delta=-5, reason="damaged", key="a2", actor="t"
        )
    assert refused_take.value.field == "delta"
    assert await room.level("WH1") == level
    await _audit_clean(room)


@postgres_only
async def test_receipts_and_counts_at_once_on_one_level_lose_nothing(
    container: Container,
) -> None:
    room = await stockroom(container.uow)
    wh = room.at("WH1")

    def receive(n: int) -> asyncio.Future[StockResult]:
        return asyncio.ensure_future(stock.receive(
            room.uows, sku=SKU, location_id=wh, quantity=1 + n % 3, key=f"r{n}", actor="t",
        ))  # fmt: skip

    def count(n: int, expected: int | None) -> asyncio.Future[StockResult]:
        return asyncio.ensure_future(stock.count(
            room.uows, sku=SKU, location_id=wh, on_hand=n, expected_on_hand=expected,
            key=f"c{n}-{expected}", actor="t",
        ))  # fmt: skip

    expected_was: dict[int, int] = {}  # what each count with an expectation expected
    for round_ in range(3):  # each round starts from where the last left the level
        start = (await room.level("WH1"))[0]
        receipts = [receive(n + round_ * 100) for n in range(24)]
        counts = [count(n, None) for n in range(8)]
        targets = [1000 + round_ * 10 + n for n in range(4)]
        expecting = [count(target, start) for target in targets]
        expected_was.update((target, start) for target in targets)
        await asyncio.wait_for(asyncio.gather(*receipts, *counts), timeout=60)
        for n, done in enumerate(counts):
            assert done.result().levels[0].on_hand == n  # a count sets what it counted
        outcomes = await asyncio.gather(*expecting, return_exceptions=True)
        for target, outcome in zip(targets, outcomes, strict=True):
            if isinstance(outcome, StockResult):
                assert outcome.levels[0].on_hand == target
            else:
                assert isinstance(outcome, StaleExpectedValue), outcome
                assert outcome.field == "expectedOnHand"
        await _audit_clean(room)
    async with room.uows(readonly=True) as uow:
        moves = await uow.inventory.list_movements(SKU, first=1000, after=None)
    for move in moves:
        if move.reason is MovementReason.COUNT:
            counted, was = (int(part.split()[-1]) for part in (move.detail or "").split(","))
            assert move.on_hand_delta == counted - was
            assert expected_was.get(counted, was) == was  # applied only on the figure expected


@postgres_only
async def test_a_key_in_a_batch_and_in_a_call_at_once_applies_once(
    container: Container,
) -> None:
    room = await stockroom(container.uow)
    wh, st = room.at("WH1"), room.at("ST1")
    await room.receive("ST1", 5)
    for round_ in range(12):
        start = await room.level("WH1")
        key = f"both-{round_}"
        batch = [
            stock_batches.StockEntry(MovementReason.COUNT, SKU, st, round_ % 4, f"c-{round_}"),
            stock_batches.StockEntry(MovementReason.RECEIVE, SKU, wh, 2, key),
        ]
        together, alone = await asyncio.wait_for(
            asyncio.gather(
                stock_batches.receive_and_count(room.uows, batch, actor="t"),
                stock.receive(room.uows, sku=SKU, location_id=wh, quantity=2, key=key, actor="t"),
            ),
            timeout=30,
        )
        mine = together[1]
        assert isinstance(mine, StockResult), mine
        assert [mine.replayed, alone.replayed].count(True) == 1
        assert mine.levels == alone.levels
        assert await room.level("WH1") == (start[0] + 2, start[1])
    await _audit_clean(room)
