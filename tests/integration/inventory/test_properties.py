"""Random concurrent stock operations keep the ledger, levels and reservations consistent.

Each Hypothesis example works on a SKU of its own (the database is shared by the examples of
one test), runs a random list of operations in random concurrent batches, and then checks the
invariants the inventory rests on.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.container import Container
from domain.errors import DomainError, IdempotencyKeyReused
from domain.inventory import reservations, stock
from domain.inventory.alerts import stock_state
from domain.inventory.model import ReservationStatus, StockLevel
from domain.inventory.queries import audit
from domain.inventory.results import StockResult
from domain.inventory.setup import create_inventory_item
from tests.integration.inventory.conftest import Stockroom

WH, ST = "WH1", "ST1"
locations = st.sampled_from([WH, ST])
picks = st.integers(min_value=0, max_value=63)  # an earlier result, modulo how many there are

operation = st.one_of(
    st.tuples(st.just("receive"), locations, st.integers(1, 6)),
    st.tuples(st.just("adjust"), locations, st.integers(-4, 4).filter(bool)),
    st.tuples(st.just("count"), locations, st.integers(0, 8), st.booleans()),
    st.tuples(st.just("transfer"), st.booleans(), st.integers(1, 4)),
    st.tuples(st.just("reserve"), st.sampled_from([WH, ST, None]), st.integers(1, 3)),
    st.tuples(st.just("release"), picks),
    st.tuples(st.just("commit"), picks),
    st.tuples(st.just("replay"), picks, st.booleans()),  # True: same input; False: other input
)
operations = st.lists(operation, min_size=1, max_size=24)
batch_sizes = st.lists(st.integers(1, 8), min_size=1, max_size=24)

Again = Callable[[], Awaitable[Any]]


@dataclass
class Done:
    """An operation that succeeded (not a replay): its key, its result, how to call it again."""

    key: str
    result: Any
    again: Again


@dataclass
class Run:
    container: Container
    stockroom: Stockroom
    sku: str
    done: list[Done] = field(default_factory=list)
    held: list[uuid.UUID] = field(default_factory=list)  # reservations made, in order

    def at(self, code: str) -> uuid.UUID:
        return self.stockroom.warehouse.id if code == WH else self.stockroom.store.id

    def location(self, code: str | None) -> uuid.UUID | None:
        return None if code is None else self.at(code)

    async def on_hand(self, location_id: uuid.UUID) -> int:
        async with self.container.uow() as uow:
            snapshot = await uow.inventory.snapshot(self.sku)
        assert snapshot is not None
        level = snapshot.level_at(location_id)
        return level.on_hand if level else 0

    def prepare(
        self, op: tuple[Any, ...], key: str, done: list[Done], held: list[uuid.UUID]
    ) -> Callable[[], Awaitable[tuple[Any, Again | None, Done | None]]]:
        """The call an operation stands for; `done` and `held` are those before its batch.

        The call returns (result, how to call it again or None, the replayed Done or None).
        """
        uows, sku, kind = self.container.uow, self.sku, op[0]

        async def call() -> tuple[Any, Again | None, Done | None]:
            again: Again
            if kind == "receive":
                loc = self.at(op[1])

                def again() -> Awaitable[Any]:
                    return stock.receive(
                        uows, sku=sku, location_id=loc, quantity=op[2], key=key, actor="p"
                    )

            elif kind == "adjust":
                loc = self.at(op[1])

                def again() -> Awaitable[Any]:
                    return stock.adjust(
                        uows,
                        sku=sku,
                        location_id=loc,
                        delta=op[2],
                        reason="property",
                        key=key,
                        actor="p",
                    )

            elif kind == "count":
                loc = self.at(op[1])
                # With an expectation: what is there as far as this caller knows (a concurrent
                # change may make it stale by the time the count runs).
                expected = await self.on_hand(loc) if op[3] else None

                def again() -> Awaitable[Any]:
                    return stock.count(
                        uows,
                        sku=sku,
                        location_id=loc,
                        on_hand=op[2],
                        expected_on_hand=expected,
                        key=key,
                        actor="p",
                    )

            elif kind == "transfer":
                wh, st_ = self.stockroom.warehouse.id, self.stockroom.store.id
                source, target = (wh, st_) if op[1] else (st_, wh)

                def again() -> Awaitable[Any]:
                    return stock.transfer(
                        uows,
                        sku=sku,
                        from_location_id=source,
                        to_location_id=target,
                        quantity=op[2],
                        key=key,
                        actor="p",
                    )

            elif kind == "reserve":
                where = self.location(op[1])

                def again() -> Awaitable[Any]:
                    return reservations.reserve(
                        uows, sku=sku, quantity=op[2], location_id=where, key=key, actor="p"
                    )

            elif kind in ("release", "commit"):
                if not held:
                    return None, None, None
                reservation_id = held[op[1] % len(held)]
                close = reservations.release if kind == "release" else reservations.commit

                def again() -> Awaitable[Any]:
                    return close(uows, reservation_id=reservation_id, key=key, actor="p")

            else:  # replay an earlier key
                if not done:
                    return None, None, None
                first = done[op[1] % len(done)]
                if op[2]:
                    return await first.again(), None, first
                # The same key for another operation: refused, whatever it was.
                await stock.receive(
                    uows,
                    sku=sku,
                    location_id=self.stockroom.warehouse.id,
                    quantity=999,
                    key=first.key,
                    actor="p",
                )
                raise AssertionError("a reused key with other input was accepted")

            return await again(), again, None

        return call


def _same_result(replayed: Any, first: Any) -> bool:
    if isinstance(first, StockResult):
        return bool(replayed.levels == first.levels)
    return bool(replayed.reservation.id == first.reservation.id)


async def _levels(run: Run) -> list[StockLevel]:
    async with run.container.uow() as uow:
        snapshot = await uow.inventory.snapshot(run.sku)
    assert snapshot is not None
    return sorted((e.level for e in snapshot.levels), key=lambda lv: str(lv.location_id))


async def _ledger_size(run: Run) -> int:
    async with run.container.uow() as uow:
        return len(await uow.inventory.list_movements(run.sku, first=100_000, after=None))


async def _check_invariants(run: Run) -> None:
    levels = await _levels(run)
    for level in levels:
        assert 0 <= level.reserved <= level.on_hand, level
    async with run.container.uow() as uow:
        report = await audit(uow)
        active = await uow.inventory.list_reservations(
            sku=run.sku, status=ReservationStatus.ACTIVE, reference=None, first=10_000, after=None
        )
        item = await uow.inventory.get_item(run.sku)
    assert report.clean, report
    held: dict[uuid.UUID, int] = {}
    for reservation in active:
        held[reservation.location_id] = held.get(reservation.location_id, 0) + reservation.quantity
    assert {lv.location_id: lv.reserved for lv in levels if lv.reserved} == held
    assert item is not None
    # The kept total (and so the alert state) matches the stock on both backends, however
    # the operations interleaved.
    available = sum(lv.available for lv in levels)
    assert item.available == available
    assert item.stock_state is stock_state(available, item.low_stock_threshold)


async def _replays_change_nothing(run: Run) -> None:
    before = (await _levels(run), await _ledger_size(run))
    results = await asyncio.gather(*(d.again() for d in run.done))
    for done, result in zip(run.done, results, strict=True):
        assert result.replayed, done.key
        assert _same_result(result, done.result), done.key
    assert (await _levels(run), await _ledger_size(run)) == before


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, sizes=batch_sizes, threshold=st.none() | st.integers(0, 4))
# Replays after the state moved on: of a release (the reservation is no longer active), of a
# reserve without a location and of a commit (nothing is left to reserve).
@example(ops=[("receive", WH, 1), ("reserve", WH, 1), ("release", 0)], sizes=[1], threshold=0)
@example(ops=[("receive", WH, 2), ("reserve", None, 2), ("commit", 0)], sizes=[1], threshold=1)
async def test_random_concurrent_operations_keep_the_books_straight(
    container: Container,
    stockroom: Stockroom,
    ops: list[tuple[Any, ...]],
    sizes: list[int],
    threshold: int | None,
) -> None:
    sku = f"P-{uuid.uuid4().hex[:16]}"
    async with container.uow() as uow:
        await create_inventory_item(uow, sku=sku, low_stock_threshold=threshold)
        await uow.commit()
    run = Run(container, stockroom, sku)

    start, index = 0, 0
    while start < len(ops):
        size = sizes[index % len(sizes)]
        batch = ops[start : start + size]
        done, held = list(run.done), list(run.held)
        calls = [run.prepare(op, f"{sku}:{start + i}", done, held) for i, op in enumerate(batch)]
        outcomes = await asyncio.gather(*(call() for call in calls), return_exceptions=True)
        for i, (op, outcome) in enumerate(zip(batch, outcomes, strict=True)):
            if isinstance(outcome, BaseException):
                if op[0] == "replay":
                    # A replay of a successful key never fails, unless its input differs.
                    assert not op[2], outcome
                    assert isinstance(outcome, IdempotencyKeyReused), outcome
                    continue
                if not isinstance(outcome, DomainError):
                    raise outcome  # a bug, not an expected refusal
                continue
            result, again, replayed = outcome
            if replayed is not None:
                assert result.replayed
                assert _same_result(result, replayed.result)
            elif again is not None:
                assert not result.replayed
                run.done.append(Done(f"{sku}:{start + i}", result, again))
                if op[0] == "reserve":
                    run.held.append(result.reservation.id)
        start += size
        index += 1

    await _check_invariants(run)
    await _replays_change_nothing(run)
    await _check_invariants(run)
