"""Concurrent reservations through the service layer: never oversell, never deadlock.

Concurrency is real: every call runs its own unit of work (its own connection and
transaction) and they are started together with asyncio.gather.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

import pytest
from sqlalchemy import text

from adapters.container import Container
from adapters.db.repositories.inventory import SqlInventoryRepository
from domain.errors import InsufficientStock
from domain.inventory import reservations, stock
from domain.inventory.alerts import AlertKind
from domain.inventory.hold_requests import LineMode, LineRequest
from domain.inventory.idempotency import Operation
from domain.inventory.model import (
    LevelChange,
    LevelDelta,
    Movement,
    Reservation,
    ReservationStatus,
    SkuSnapshot,
    StockState,
)
from domain.inventory.queries import audit
from domain.inventory.setup import create_inventory_item
from tests.integration.inventory.conftest import Stockroom

SKU = "TSHIRT-M"
T = TypeVar("T")

# Row locks, deadlocks and two writers in flight at once are PostgreSQL matters: SQLite's
# BEGIN IMMEDIATE lets one writer in at a time.
postgres_only = pytest.mark.parametrize("backend", ["postgres"])


async def _level(container: Container, sku: str, location_id: uuid.UUID) -> tuple[int, int]:
    async with container.uow() as uow:
        snapshot = await uow.inventory.snapshot(sku)
    assert snapshot is not None
    level = snapshot.level_at(location_id)
    return (level.on_hand, level.reserved) if level else (0, 0)


async def _active(container: Container, sku: str) -> list[Reservation]:
    async with container.uow() as uow:
        return await uow.inventory.list_reservations(
            sku=sku, status=ReservationStatus.ACTIVE, reference=None, first=10_000, after=None
        )


async def _assert_audit_clean(container: Container) -> None:
    async with container.uow() as uow:
        report = await audit(uow)
    assert report.clean, report


def _split(outcomes: Sequence[T | BaseException]) -> tuple[list[T], list[InsufficientStock]]:
    """Results and refusals; any other exception (a deadlock, say) is re-raised."""
    results: list[T] = []
    refused: list[InsufficientStock] = []
    for outcome in outcomes:
        if isinstance(outcome, InsufficientStock):
            refused.append(outcome)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            results.append(outcome)
    return results, refused


async def test_200_concurrent_reservations_of_10_units_never_oversell(
    container: Container, stockroom: Stockroom
) -> None:
    wh = stockroom.warehouse.id
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=10, key="rcv", actor="t")

    outcomes = await asyncio.gather(
        *(
            reservations.reserve(container.uow, sku=SKU, quantity=1, key=f"r-{i}", actor="t")
            for i in range(200)
        ),
        return_exceptions=True,
    )

    won, lost = _split(outcomes)
    assert len(won) == 10
    assert len(lost) == 190
    assert await _level(container, SKU, wh) == (10, 10)
    held = await _active(container, SKU)
    assert len(held) == 10
    assert {r.id for r in held} == {w.reservation.id for w in won}
    await _assert_audit_clean(container)


async def _two_skus(container: Container, stockroom: Stockroom, units: int) -> tuple[str, str]:
    async with container.uow() as uow:
        await create_inventory_item(uow, sku="SKU-A")
        await create_inventory_item(uow, sku="SKU-B")
        await uow.commit()
    for sku in ("SKU-A", "SKU-B"):
        for location in (stockroom.warehouse, stockroom.store):
            await stock.receive(
                container.uow,
                sku=sku,
                location_id=location.id,
                quantity=units,
                key=f"rcv-{sku}-{location.code}",
                actor="t",
            )
    return "SKU-A", "SKU-B"


@postgres_only
async def test_multi_line_reservations_in_opposite_orders_do_not_deadlock(
    container: Container, stockroom: Stockroom
) -> None:
    a, b = await _two_skus(container, stockroom, units=30)  # 60 of each over two locations

    def lines(first: str, second: str, i: int) -> list[LineRequest]:
        return [LineRequest(first, 1 + i % 2), LineRequest(second, 1 + (i + 1) % 2)]

    calls = []
    for i in range(50):
        calls.append((f"ab-{i}", lines(a, b, i)))
        calls.append((f"ba-{i}", lines(b, a, i)))
    outcomes = await asyncio.gather(
        *(
            reservations.reserve_lines(
                container.uow, lines=ln, mode=LineMode.ALL_OR_NOTHING, key=key, actor="t"
            )
            for key, ln in calls
        ),
        return_exceptions=True,
    )
    won, lost = _split(outcomes)  # a deadlock would surface here as a DBAPIError

    # 100 orders ask for 150 of each SKU, 60 are there: some win, the rest are refused whole.
    assert won
    assert lost
    for result in won:
        assert all(line.reservation is not None for line in result.lines)
    for sku in (a, b):
        held = await _active(container, sku)
        total_held = sum(r.quantity for r in held)
        assert total_held <= 60
        levels = [
            await _level(container, sku, loc.id) for loc in (stockroom.warehouse, stockroom.store)
        ]
        assert sum(reserved for _, reserved in levels) == total_held
        for on_hand, reserved in levels:
            assert 0 <= reserved <= on_hand == 30
        # All-or-nothing: each winning order holds exactly its two lines.
    held_lines = len(await _active(container, a)) + len(await _active(container, b))
    assert held_lines == 2 * len(won)
    await _assert_audit_clean(container)


async def test_partial_mode_with_no_line_served_reserves_and_records_nothing(
    container: Container, stockroom: Stockroom
) -> None:
    a, _ = await _two_skus(container, stockroom, units=2)
    async with container.uow(readonly=True) as uow:
        before = await uow.inventory.list_movements(a, first=100, after=None)

    result = await reservations.reserve_lines(
        container.uow, lines=[LineRequest(a, 50)], mode=LineMode.PARTIAL, key="p-none", actor="t"
    )

    assert [o.reservation for o in result.lines] == [None]
    async with container.uow(readonly=True) as uow:
        after = await uow.inventory.list_movements(a, first=100, after=None)
    assert after == before  # it once wrote a ledger row of defaults here
    await _assert_audit_clean(container)


async def test_partial_mode_returns_an_outcome_per_line(
    container: Container, stockroom: Stockroom
) -> None:
    a, b = await _two_skus(container, stockroom, units=2)  # 4 of each
    result = await reservations.reserve_lines(
        container.uow,
        lines=[
            LineRequest(a, 3),  # from WH1 (2) or ST1 (2)? neither alone: refused
            LineRequest(b, 2),  # ST1 sorts first by code: from ST1
            LineRequest(a, 2, location_id=stockroom.warehouse.id),
            LineRequest(b, 3),  # 2 left at WH1: refused
            LineRequest(b, 2),  # the other 2 at WH1
        ],
        mode=LineMode.PARTIAL,
        key="partial-1",
        actor="t",
    )
    assert not result.replayed
    got = [(o.reservation is not None, o.error is not None) for o in result.lines]
    assert got == [(False, True), (True, False), (True, False), (False, True), (True, False)]
    assert isinstance(result.lines[0].error, InsufficientStock)
    placed = [o.reservation for o in result.lines if o.reservation is not None]
    assert [(r.sku, r.location_id, r.quantity) for r in placed] == [
        (b, stockroom.store.id, 2),
        (a, stockroom.warehouse.id, 2),
        (b, stockroom.warehouse.id, 2),
    ]
    assert await _level(container, a, stockroom.warehouse.id) == (2, 2)
    assert await _level(container, a, stockroom.store.id) == (2, 0)
    assert await _level(container, b, stockroom.warehouse.id) == (2, 2)
    assert await _level(container, b, stockroom.store.id) == (2, 2)

    again = await reservations.reserve_lines(
        container.uow,
        lines=[
            LineRequest(a, 3),
            LineRequest(b, 2),
            LineRequest(a, 2, location_id=stockroom.warehouse.id),
            LineRequest(b, 3),
            LineRequest(b, 2),
        ],
        mode=LineMode.PARTIAL,
        key="partial-1",
        actor="t",
    )
    assert again.replayed
    assert [o.reservation.id if o.reservation else None for o in again.lines] == [
        o.reservation.id if o.reservation else None for o in result.lines
    ]
    assert len(await _active(container, a)) + len(await _active(container, b)) == 3
    await _assert_audit_clean(container)


async def test_concurrent_replays_of_one_key_make_one_reservation(
    container: Container, stockroom: Stockroom
) -> None:
    wh = stockroom.warehouse.id
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=10, key="rcv", actor="t")

    results = await asyncio.gather(
        *(
            reservations.reserve(container.uow, sku=SKU, quantity=2, key="one-key", actor="t")
            for _ in range(20)
        )
    )

    assert len({r.reservation.id for r in results}) == 1
    assert sorted(r.replayed for r in results) == [False] + [True] * 19
    held = await _active(container, SKU)
    assert [r.id for r in held] == [results[0].reservation.id]
    assert await _level(container, SKU, wh) == (10, 2)
    await _assert_audit_clean(container)


async def test_concurrent_replays_of_one_key_that_takes_the_last_units(
    container: Container, stockroom: Stockroom
) -> None:
    """Replays must answer with the first result even when stock is gone by then."""
    wh = stockroom.warehouse.id
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=2, key="rcv", actor="t")

    results = await asyncio.gather(
        *(
            reservations.reserve(container.uow, sku=SKU, quantity=2, key="all-of-it", actor="t")
            for _ in range(20)
        )
    )

    assert len({r.reservation.id for r in results}) == 1
    assert sorted(r.replayed for r in results) == [False] + [True] * 19
    assert await _level(container, SKU, wh) == (2, 2)
    await _assert_audit_clean(container)


# Deterministic interleavings, PostgreSQL only: on SQLite the first transaction holds the
# database's write lock from its BEGIN IMMEDIATE, so nothing can commit in between.


def _after_first_snapshot(
    monkeypatch: pytest.MonkeyPatch, between: Callable[[], Awaitable[object]]
) -> None:
    """Run `between` (to commit) right after the next snapshot read (of one SKU or of
    several), inside that transaction."""
    one, many = SqlInventoryRepository.snapshot, SqlInventoryRepository.snapshots
    armed = True

    async def after() -> None:
        nonlocal armed
        if armed:
            armed = False
            await between()

    async def snapshot(self: SqlInventoryRepository, sku: str) -> SkuSnapshot | None:
        found = await one(self, sku)
        await after()
        return found

    async def snapshots(
        self: SqlInventoryRepository, skus: Sequence[str]
    ) -> dict[str, SkuSnapshot]:
        found = await many(self, skus)
        await after()
        return found

    monkeypatch.setattr(SqlInventoryRepository, "snapshot", snapshot)
    monkeypatch.setattr(SqlInventoryRepository, "snapshots", snapshots)


async def _alerts(container: Container, sku: str) -> list[AlertKind]:
    async with container.uow() as uow:
        found = await uow.alerts.list(acknowledged=None, sku=sku, first=100, after=None)
    return [a.kind for a in reversed(found)]  # oldest first


async def _state(container: Container, sku: str) -> StockState:
    async with container.uow() as uow:
        item = await uow.inventory.get_item(sku)
    assert item is not None
    return item.stock_state


@postgres_only
async def test_stock_state_follows_a_crossing_made_while_a_reservation_waits(
    container: Container, stockroom: Stockroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = stockroom.warehouse.id
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=5, key="rcv", actor="t")
    assert await _state(container, SKU) is StockState.IN_STOCK

    async def other_order() -> object:  # waits for "last" to commit, then 2 -> 0: OUT
        return await reservations.reserve(
            container.uow, sku=SKU, quantity=2, key="other", actor="t"
        )

    competitor = _while_holding(monkeypatch, other_order)
    await reservations.reserve(container.uow, sku=SKU, quantity=3, key="last", actor="t")
    await competitor[0]

    assert await _level(container, SKU, wh) == (5, 5)
    assert await _state(container, SKU) is StockState.OUT
    assert await _alerts(container, SKU) == [
        AlertKind.BACK_IN_STOCK,  # the first receipt: a new item starts out of stock
        AlertKind.LOW_STOCK,
        AlertKind.OUT_OF_STOCK,
    ]


@postgres_only
async def test_stock_state_follows_a_crossing_made_while_the_snapshot_was_read(
    container: Container, stockroom: Stockroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = stockroom.warehouse.id
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=5, key="rcv", actor="t")
    assert await _state(container, SKU) is StockState.IN_STOCK

    async def other_order() -> None:  # 5 -> 3: LOW (threshold 3), committed first
        await reservations.reserve(container.uow, sku=SKU, quantity=2, key="other", actor="t")

    _after_first_snapshot(monkeypatch, other_order)
    await reservations.reserve(container.uow, sku=SKU, quantity=3, key="last", actor="t")

    assert await _level(container, SKU, wh) == (5, 5)
    assert await _state(container, SKU) is StockState.OUT
    # (Sorted: "last" took its clock reading before "other" ran, so created_at can't order them.)
    assert sorted(await _alerts(container, SKU)) == [
        AlertKind.BACK_IN_STOCK,  # the first receipt: a new item starts out of stock
        AlertKind.LOW_STOCK,
        AlertKind.OUT_OF_STOCK,
    ]


@postgres_only
async def test_transfer_from_a_level_created_while_the_snapshot_was_read(
    container: Container, stockroom: Stockroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh, st = stockroom.warehouse.id, stockroom.store.id
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=1, key="rcv", actor="t")

    async def first_delivery_to_the_store() -> None:
        await stock.receive(
            container.uow, sku=SKU, location_id=st, quantity=5, key="rcv-st", actor="t"
        )

    _after_first_snapshot(monkeypatch, first_delivery_to_the_store)
    result = await stock.transfer(
        container.uow,
        sku=SKU,
        from_location_id=st,
        to_location_id=wh,
        quantity=2,
        key="move",
        actor="t",
    )

    assert [(lv.location_id, lv.on_hand) for lv in result.levels] == [(st, 3), (wh, 3)]
    await _assert_audit_clean(container)


@postgres_only
async def test_reserve_at_a_level_created_while_the_snapshot_was_read(
    container: Container, stockroom: Stockroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    st = stockroom.store.id

    async def first_delivery_to_the_store() -> None:
        await stock.receive(
            container.uow, sku=SKU, location_id=st, quantity=5, key="rcv-st", actor="t"
        )

    _after_first_snapshot(monkeypatch, first_delivery_to_the_store)
    held = await reservations.reserve(
        container.uow, sku=SKU, quantity=2, location_id=st, key="hold", actor="t"
    )

    assert held.reservation.location_id == st
    assert await _level(container, SKU, st) == (5, 2)
    await _assert_audit_clean(container)


def _while_holding(
    monkeypatch: pytest.MonkeyPatch, competitor: Callable[[], Awaitable[object]]
) -> list[asyncio.Task[object]]:
    """Right after the next hold changes its level (its locks taken, not committed), start
    `competitor`.

    The competitor runs as a task; the holder goes on once the competitor waits for a lock,
    and commits. Returns the started task.
    """
    original = SqlInventoryRepository.hold
    started: list[asyncio.Task[object]] = []

    async def hold(
        self: SqlInventoryRepository,
        claims: Sequence[Operation],
        held: Sequence[tuple[str, Reservation]],
        movements: Sequence[Movement],
        sellable: Mapping[tuple[str, uuid.UUID], bool],
    ) -> tuple[set[str], list[tuple[LevelDelta, LevelChange | None]]]:
        recorded = await original(self, claims, held, movements, sellable)
        if not started:
            started.append(asyncio.create_task(competitor()))
            await _until_a_transaction_waits_for_a_lock(self)
        return recorded

    monkeypatch.setattr(SqlInventoryRepository, "hold", hold)
    return started


async def _until_a_transaction_waits_for_a_lock(repository: SqlInventoryRepository) -> None:
    """Poll PostgreSQL (from another connection) until some backend waits on a row lock."""
    engine = repository._conn.engine
    async with asyncio.timeout(30), engine.connect() as conn:
        while True:
            waiting = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            ).scalar_one()
            if waiting:
                return
            # pg_stat_activity is read once per transaction: each look is a new one.
            await conn.rollback()
            await asyncio.sleep(0.01)


@postgres_only
async def test_stock_state_with_concurrent_changes_at_two_locations(
    container: Container, stockroom: Stockroom, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two locations sell out at once: the SKU's total steps 4 -> 2 -> 0, each crossing once.

    The store's reservation starts while the warehouse's holds its locks; it must wait for
    the SKU's total (not compute from a stale read), so the second step sees the first.
    """
    wh, st = stockroom.warehouse.id, stockroom.store.id
    await stock.receive(container.uow, sku=SKU, location_id=wh, quantity=2, key="r1", actor="t")
    await stock.receive(container.uow, sku=SKU, location_id=st, quantity=2, key="r2", actor="t")
    assert await _state(container, SKU) is StockState.IN_STOCK  # 4 > threshold 3

    async def the_store_sells_out() -> object:
        return await reservations.reserve(
            container.uow, sku=SKU, quantity=2, location_id=st, key="st", actor="t"
        )

    competitor = _while_holding(monkeypatch, the_store_sells_out)
    await reservations.reserve(
        container.uow, sku=SKU, quantity=2, location_id=wh, key="wh", actor="t"
    )
    await competitor[0]

    assert await _level(container, SKU, wh) == (2, 2)
    assert await _level(container, SKU, st) == (2, 2)
    assert await _state(container, SKU) is StockState.OUT  # nothing is left anywhere
    assert await _alerts(container, SKU) == [
        AlertKind.BACK_IN_STOCK,  # the first receipt: a new item starts out of stock
        AlertKind.LOW_STOCK,
        AlertKind.OUT_OF_STOCK,
    ]
    await _assert_audit_clean(container)
