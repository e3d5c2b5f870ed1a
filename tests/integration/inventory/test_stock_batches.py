"""Receipts and counts many to a transaction (`stock_batches.receive_and_count`, which stock imports
apply through): the same ledger, keys and alerts as one call per line (events and outbox
marks: tests/unit/domain/inventory/test_stock_batches.py)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from adapters.container import Container
from api.stock_csv import import_parsed, parse_stock
from domain.errors import IdempotencyKeyReused, NotFound
from domain.inventory import queries, stock, stock_batches
from domain.inventory.alerts import AlertKind
from domain.inventory.imports import BATCH_LINES
from domain.inventory.model import MovementReason
from domain.inventory.results import StockResult
from domain.inventory.setup import create_inventory_item
from tests.stockroom import SKU, T0, Stockroom, stockroom

OTHER = "TSHIRT-L"
RECEIVE, COUNT = MovementReason.RECEIVE, MovementReason.COUNT
# (reason, location, quantity): totals 10, 13, 10, 12, 12 (FBA is the channel's own), 2, 5
LINES = [
    (RECEIVE, "WH1", 10), (RECEIVE, "ST1", 3), (COUNT, "WH1", 7), (RECEIVE, "ST1", 2),
    (RECEIVE, "FBA", 4), (COUNT, "WH1", 0), (COUNT, "ST1", 5), (RECEIVE, "WH1", 3),
]  # fmt: skip


def _entries(room: Stockroom, sku: str, prefix: str) -> list[stock_batches.StockEntry]:
    return [
        stock_batches.StockEntry(reason, sku, room.at(code), quantity, f"{prefix}-{n}",
                         note=f"line {n}" if reason is RECEIVE else None)
        for n, (reason, code, quantity) in enumerate(LINES)
    ]  # fmt: skip


async def _one_by_one(room: Stockroom, entries: list[stock_batches.StockEntry]) -> None:
    for entry in entries:
        if entry.reason is RECEIVE:
            await stock.receive(
                room.uows, sku=entry.sku, location_id=entry.location_id, quantity=entry.quantity,
                key=entry.key, actor="test", note=entry.note, clock=room.clock,
            )  # fmt: skip
        else:
            await stock.count(
                room.uows, sku=entry.sku, location_id=entry.location_id, on_hand=entry.quantity,
                expected_on_hand=None, key=entry.key, actor="test", clock=room.clock,
            )  # fmt: skip


async def _ledger(room: Stockroom, sku: str) -> Counter[tuple[object, ...]]:
    codes = {location.id: code for code, location in room.locations.items()}
    async with room.uows(readonly=True) as uow:
        rows = await uow.inventory.list_movements(sku, first=500, after=None)
    return Counter(
        (codes[m.location_id], m.on_hand_delta, m.reserved_delta, m.reason, m.actor, m.note,
         m.detail, m.created_at)
        for m in rows
    )  # fmt: skip


async def _alerts(room: Stockroom, sku: str) -> list[tuple[AlertKind, int]]:
    async with room.uows(readonly=True) as uow:
        found = await uow.alerts.list(acknowledged=None, sku=sku, first=50, after=None)
    return sorted((alert.kind, alert.available) for alert in found)


async def _room_with_two_skus(container: Container) -> Stockroom:
    room = await stockroom(container.uow)
    async with container.uow() as uow:
        await create_inventory_item(uow, sku=OTHER, low_stock_threshold=3)
        await uow.commit()
    return room


async def test_a_batch_leaves_what_one_call_per_line_leaves(container: Container) -> None:
    room = await _room_with_two_skus(container)

    outcomes = await stock_batches.receive_and_count(
        container.uow, _entries(room, SKU, "batch"), actor="test", clock=room.clock
    )
    await _one_by_one(room, _entries(room, OTHER, "single"))

    assert all(isinstance(o, StockResult) and not o.replayed for o in outcomes)
    assert await room.levels(SKU) == await room.levels(OTHER)
    assert await room.levels(SKU) == {
        "DS1": (0, 0), "FBA": (4, 0), "ST1": (5, 0), "WH1": (3, 0),
    }  # fmt: skip
    assert await room.sellable(SKU) == await room.sellable(OTHER) == 8
    assert await _ledger(room, SKU) == await _ledger(room, OTHER)
    assert (await _ledger(room, SKU))[
        ("WH1", -7, 0, COUNT, "test", None, "counted 0, was 7", T0)
    ] == 1  # each count against the level its line found, in order
    # One call per line: back in stock at 10; the batch's total only ends at 8: both once.
    assert await _alerts(room, SKU) == [(AlertKind.BACK_IN_STOCK, 8)]
    assert await _alerts(room, OTHER) == [(AlertKind.BACK_IN_STOCK, 10)]
    # Each line's result: its level after it.
    first_count = outcomes[2]
    assert isinstance(first_count, StockResult)
    assert first_count.levels[0].on_hand == 7
    await room.assert_ledger_matches()


async def test_keys_replay_across_both_paths_and_bad_entries_stay_out(
    container: Container,
) -> None:
    room = await _room_with_two_skus(container)
    entries = _entries(room, SKU, "k")
    await _one_by_one(room, entries[:2])  # a run cut short, one call per line
    await stock.receive(
        container.uow, sku=SKU, location_id=room.at("DS1"), quantity=1, key="elsewhere",
        actor="test",
    )  # fmt: skip
    reused = stock_batches.StockEntry(RECEIVE, SKU, room.at("DS1"), 9, "elsewhere")  # was 1 there
    unknown = stock_batches.StockEntry(RECEIVE, "NOPE", room.at("WH1"), 1, "nope")

    outcomes = await stock_batches.receive_and_count(
        container.uow, [*entries, reused, unknown], actor="test", clock=room.clock
    )
    again = await stock_batches.receive_and_count(
        container.uow, entries, actor="test", clock=room.clock
    )

    assert [o.replayed for o in outcomes[:8] if isinstance(o, StockResult)] == [
        True, True, False, False, False, False, False, False,
    ]  # fmt: skip
    assert isinstance(outcomes[8], IdempotencyKeyReused)
    assert isinstance(outcomes[9], NotFound)
    assert outcomes[9].field == "sku"
    assert all(isinstance(o, StockResult) and o.replayed for o in again)
    first_count = outcomes[2]
    assert isinstance(first_count, StockResult)
    assert again[2] == StockResult(first_count.levels, replayed=True)  # as stored the first time
    assert await room.levels(SKU) == {
        "DS1": (1, 0), "FBA": (4, 0), "ST1": (5, 0), "WH1": (3, 0),
    }  # fmt: skip
    assert sum((await _ledger(room, SKU)).values()) == len(LINES) + 1
    await room.assert_ledger_matches()


GOOD = f"""sku,location,kind,quantity
{SKU},WH1,receive,10
{SKU},ST1,receive,3
{SKU},WH1,count,7
{SKU},ST1,receive,2
{OTHER},WH1,receive,4
{OTHER},WH1,count,1
"""


async def test_an_import_cut_short_resumes_where_it_stopped(container: Container) -> None:
    room = await _room_with_two_skus(container)
    parsed = parse_stock(GOOD)
    cut = [parsed.lines[0], parsed.lines[2], parsed.lines[4]]  # some lines of each level
    await stock_batches.receive_and_count(
        container.uow,
        [stock_batches.StockEntry(RECEIVE if line.kind == "receive" else COUNT, line.sku,
                          room.at(line.location_code), line.quantity, line.key)
         for line in cut],
        actor="test",
    )  # fmt: skip

    resumed = await import_parsed(container.uow, parsed, actor="test", lanes=2)
    rerun = await import_parsed(container.uow, parsed, actor="test", lanes=2)

    assert (resumed.applied, resumed.replayed, resumed.errors) == (3, 3, [])
    assert (rerun.applied, rerun.replayed, rerun.errors) == (0, 6, [])
    assert (await room.levels(SKU))["WH1"] == (7, 0)
    assert (await room.levels(SKU))["ST1"] == (5, 0)
    assert (await room.levels(OTHER))["WH1"] == (1, 0)
    assert sum((await _ledger(room, SKU)).values()) == 4
    await room.assert_ledger_matches()


# Row locks and two writers in flight at once are PostgreSQL matters: SQLite lets one
# writer in at a time.
postgres_only = pytest.mark.parametrize("backend", ["postgres"])
SKUS = [f"BULK-{n:04d}" for n in range(BATCH_LINES // 2 + 50)]  # more than one batch


async def _bulk_room(container: Container) -> tuple[Stockroom, str]:
    room = await stockroom(container.uow)
    async with container.uow() as uow:
        for sku in SKUS:
            await create_inventory_item(uow, sku=sku, low_stock_threshold=None)
        await uow.commit()
    rows = [f"{sku},WH1,receive,20\n{sku},ST1,count,{n % 5}" for n, sku in enumerate(SKUS)]
    return room, "sku,location,kind,quantity\n" + "\n".join(rows) + "\n"


@postgres_only
async def test_imports_and_adjustments_at_once_neither_deadlock_nor_lose_units(
    container: Container,
) -> None:
    room, text = await _bulk_room(container)
    adjusted = SKUS[:: len(SKUS) // 12]

    async def adjust(sku: str, n: int) -> None:
        await stock.adjust(
            container.uow, sku=sku, location_id=room.at("WH1"), delta=1, reason="found",
            key=f"adjust-{sku}-{n}", actor="test",
        )  # fmt: skip

    parsed = parse_stock(text)
    results = await asyncio.wait_for(
        asyncio.gather(
            import_parsed(container.uow, parsed, actor="test", lanes=3),
            import_parsed(container.uow, parsed, actor="test", lanes=2),  # the same file twice
            *(adjust(sku, n) for sku in adjusted for n in range(3)),
        ),
        timeout=120,
    )

    first, second = results[0], results[1]
    assert first.errors == second.errors == []
    assert first.applied + second.applied == len(parsed.lines)  # each line once
    assert first.replayed + second.replayed == len(parsed.lines)
    for n, sku in enumerate(SKUS):
        wh, st = await room.level("WH1", sku), await room.level("ST1", sku)
        assert wh == (20 + (3 if sku in adjusted else 0), 0), sku
        assert st == (n % 5, 0), sku
    async with container.uow(readonly=True) as uow:
        report = await queries.audit(uow)
    assert report.clean, report
