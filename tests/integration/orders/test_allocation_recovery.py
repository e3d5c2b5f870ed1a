"""An order stored but never reserved (its worker died in between) is reserved within seconds.

The order's allocation is recorded due in the transaction that stores it, leased to the run
about to reserve it. The crash is the allocation never running: the tests store orders the
way each path does and stop there. The sweep, on the test's own clock (no periodic jobs run
here), leaves a live lease alone and hands a lapsed one to a new run, once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from adapters.container import Container, build_container
from adapters.settings import Settings
from domain.orders import allocation_due
from domain.orders.allocation import allocate
from domain.orders.ingest import Arrival, ingest, ingest_many, map_line_sku
from domain.orders.model import LineStatus, OrderStatus
from tests.integration.orders.conftest import SKU, T0, Hub, channel_order
from workers.registry import JOBS

pytestmark = pytest.mark.usefixtures("backend")

LEASE = timedelta(seconds=5)


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    """The jobs, but none of the periodic ones: each test runs the sweep on its own clock."""
    built = build_container(
        settings, [s for s in JOBS if s.every_seconds is None], retry_base_seconds=0.01
    )
    await built.start()
    try:
        yield built
    finally:
        await built.close()


async def sweep(hub: Hub, at: datetime) -> list[uuid.UUID]:
    """The sweep at `at`; the runs it hands allocations to are done when it returns."""
    taken = await allocation_due.sweep(hub.container.uow, lease=LEASE, clock=lambda: at)
    await hub.container.queue.drain()
    return taken


async def test_an_order_stored_and_never_reserved_is_reserved_once_its_lease_lapsed(
    hub: Hub,
) -> None:
    await hub.receive(10)
    taken = await ingest(
        hub.container.uow, hub.shop, channel_order("A", [(SKU, 2)]), actor="t", clock=lambda: T0
    )
    assert taken.lease is not None  # the storing run holds the allocation...

    assert await sweep(hub, T0 + LEASE - timedelta(milliseconds=1)) == []  # ...while it may run
    assert (await hub.order(taken.order.id)).status is OrderStatus.OPEN
    assert await hub.level() == (10, 0)

    assert await sweep(hub, T0 + LEASE + timedelta(seconds=1)) == [taken.order.id]

    order = await hub.order(taken.order.id)
    assert order.status is OrderStatus.ALLOCATED
    assert [r.quantity for r in await hub.reservations(order.id)] == [2]
    assert await hub.level() == (10, 2)
    assert await sweep(hub, T0 + timedelta(hours=1)) == []  # nothing is due any more
    await hub.assert_ledger_clean()


async def test_orders_a_batch_stored_and_never_reserved_are_reserved_once_their_lease_lapsed(
    hub: Hub,
) -> None:
    await hub.receive(10)
    arrivals = [Arrival(hub.shop, channel_order(f"B-{n}", [(SKU, 1)]), "t") for n in range(3)]
    async with hub.container.uow() as uow:  # the batch's storing step, then the crash
        taken = await ingest_many(uow, arrivals, T0)
        await uow.commit()
    ids = {t.order.id for t in taken if t is not None}
    assert len(ids) == 3
    assert all(t is not None and t.lease is not None for t in taken)

    assert await sweep(hub, T0 + timedelta(seconds=1)) == []
    assert set(await sweep(hub, T0 + LEASE + timedelta(seconds=1))) == ids

    assert {(await hub.order(i)).status for i in ids} == {OrderStatus.ALLOCATED}
    assert await hub.level() == (10, 3)
    await hub.assert_ledger_clean()


async def test_a_run_whose_lease_was_taken_over_reserves_nothing(hub: Hub) -> None:
    await hub.receive(10)
    taken = await ingest(
        hub.container.uow, hub.shop, channel_order("C", [(SKU, 1)]), actor="t", clock=lambda: T0
    )
    later = T0 + LEASE + timedelta(seconds=1)
    async with hub.container.uow() as uow:  # a sweep claims it; its run has not started yet
        [order_id] = await uow.due_allocations.claim_lapsed(T0 + LEASE, uuid.uuid4(), later, 10)
        await uow.commit()

    # The storing run comes back late, with the lease it no longer holds.
    late = await allocate(hub.container.uow, order_id, actor="late", lease=taken.lease)

    assert late is not None
    assert late.status is OrderStatus.OPEN
    assert await hub.reservations(order_id) == []
    assert await hub.level() == (10, 0)


async def test_an_order_becomes_due_when_its_line_is_mapped_or_it_is_paid(hub: Hub) -> None:
    await hub.receive(10)
    unknown = await ingest(
        hub.container.uow, hub.shop, channel_order("D", [("NOPE", 1)]), actor="t",
        clock=lambda: T0,
    )  # fmt: skip
    unpaid = replace(channel_order("E", [(SKU, 1)]), status="pending")
    pending = await ingest(hub.container.uow, hub.shop, unpaid, actor="t", clock=lambda: T0)
    assert (unknown.lease, pending.lease) == (None, None)  # nothing to reserve yet
    assert await sweep(hub, T0 + timedelta(minutes=1)) == []

    [line] = unknown.order.lines
    await map_line_sku(
        hub.container.uow, unknown.order.id, line.id, SKU, actor="t", clock=lambda: T0
    )
    paid = replace(unpaid, status="paid", updated_at=T0 + timedelta(seconds=1))
    taken = await ingest(hub.container.uow, hub.shop, paid, actor="t", clock=lambda: T0)
    assert taken.lease is not None

    swept = await sweep(hub, T0 + LEASE + timedelta(seconds=1))

    assert set(swept) == {unknown.order.id, pending.order.id}
    for order_id in swept:
        [line] = (await hub.order(order_id)).lines
        assert line.status is LineStatus.ALLOCATED
    assert await hub.level() == (10, 2)


async def test_a_cancelled_order_is_no_longer_due(hub: Hub) -> None:
    await hub.receive(10)
    placed = channel_order("F", [(SKU, 1)])
    await ingest(hub.container.uow, hub.shop, placed, actor="t", clock=lambda: T0)
    cancelled = replace(placed, status="cancelled", updated_at=T0 + timedelta(seconds=1))
    taken = await ingest(hub.container.uow, hub.shop, cancelled, actor="t", clock=lambda: T0)

    assert taken.lease is None
    assert await sweep(hub, T0 + timedelta(minutes=1)) == []
    assert await hub.level() == (10, 0)


async def test_two_sweeps_at_once_hand_each_allocation_to_one_run(hub: Hub) -> None:
    await hub.receive(30)
    ids = [
        (
            await ingest(
                hub.container.uow, hub.shop, channel_order(f"G-{n}", [(SKU, 1)]), actor="t",
                clock=lambda: T0,
            )
        ).order.id
        for n in range(20)
    ]  # fmt: skip
    at = T0 + LEASE + timedelta(seconds=1)

    first, second = await asyncio.gather(
        allocation_due.sweep(hub.container.uow, lease=LEASE, clock=lambda: at),
        allocation_due.sweep(hub.container.uow, lease=LEASE, clock=lambda: at),
    )
    await hub.container.queue.drain()

    assert set(first).isdisjoint(second)
    assert sorted(first + second) == sorted(ids)
    for order_id in ids:
        order = await hub.order(order_id)
        assert order.status is OrderStatus.ALLOCATED
        assert len(await hub.reservations(order_id)) == 1
    assert await hub.level() == (30, 20)
    await hub.assert_ledger_clean()


async def test_an_order_stored_already_reserved_in_its_own_transaction_is_never_due(
    hub: Hub,
) -> None:
    # What a checkout handing its cart's holds over does: stores the order and records its
    # lines reserved in one transaction, settling its allocation there.
    async with hub.container.uow() as uow:
        [taken] = await ingest_many(uow, [Arrival(hub.shop, channel_order("H"), "t")], T0)
        assert taken is not None
        [line] = taken.order.lines
        held = replace(line, status=LineStatus.ALLOCATED, location_id=hub.warehouse)
        reserved = replace(taken.order, lines=(held,), status=OrderStatus.ALLOCATED)
        await uow.orders.save(reserved, [held])
        await allocation_due.settle(uow, [reserved])
        await uow.commit()

    assert await sweep(hub, T0 + timedelta(minutes=1)) == []
    assert (await hub.order(taken.order.id)).status is OrderStatus.ALLOCATED
