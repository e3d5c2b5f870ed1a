"""Backorders are filled when stock comes: once, in the policy's order, never a manual one.

A receipt requests the fill after its commit (the in-process queue runs it); the tests also
run the job and the sweep themselves, at the same time, and wait for the queue to be idle:
the outcome must be one fill whoever gets there first.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from adapters.bus.fanout import LocalSubscription
from domain.channels.policies import ConflictPolicy
from domain.inventory import queries, reservations, setup, stock
from domain.inventory.model import ReservationStatus
from domain.orders.events import ORDER_TOPIC
from domain.orders.model import LineStatus, Order, OrderStatus
from tests.integration.orders.conftest import SKU, T0, Hub, channel_order
from workers.jobs.orders import fill_backorders, sweep_backorders

pytestmark = pytest.mark.usefixtures("backend")


async def short(hub: Hub, channel: uuid.UUID, external_id: str, minutes: int = 0) -> Order:
    """An order of one unit that finds none: its line is backordered."""
    order = await hub.take(
        channel, channel_order(external_id, placed=T0 + timedelta(minutes=minutes))
    )
    assert [ln.status for ln in order.lines] == [LineStatus.SHORT]
    return order


async def race(hub: Hub) -> list[int]:
    """Two fill jobs and a sweep at once, beside the job the receipt requested."""
    ctx = hub.container.job_context
    filled = await asyncio.gather(
        fill_backorders(ctx, SKU), fill_backorders(ctx, SKU), sweep_backorders(ctx)
    )
    await hub.container.queue.drain()
    return list(filled)


async def active_holds(hub: Hub, order_id: uuid.UUID) -> list[uuid.UUID]:
    return [r.id for r in await hub.reservations(order_id) if r.status is ReservationStatus.ACTIVE]


async def published(hub: Hub, channel: uuid.UUID) -> int:
    async with hub.container.uow(readonly=True) as uow:
        return (await queries.availability_for(uow, SKU, channel)).quantity


def drained(subscription: LocalSubscription) -> list[Mapping[str, Any]]:
    """What the subscription holds now (it is never waited on)."""
    events = []
    while not subscription._queue.empty():
        events.append(subscription._queue.get_nowait())
    return events


async def test_a_receipt_fills_each_short_line_once_with_runs_racing(hub: Hub) -> None:
    first = await short(hub, hub.market, "M-1", minutes=0)
    second = await short(hub, hub.shop, "S-1", minutes=1)
    third = await short(hub, hub.market, "M-2", minutes=2)
    bus: Any = hub.container.bus
    async with bus.subscribe(ORDER_TOPIC) as events:
        await hub.receive(2)  # requests a fill after its commit
        filled = await race(hub)
        seen = drained(events)

    assert sum(filled) <= 2
    for order in (first, second):
        now = await hub.order(order.id)
        [line] = now.lines
        assert (now.status, line.status) == (OrderStatus.ALLOCATED, LineStatus.ALLOCATED)
        assert line.location_id == hub.warehouse
        assert line.routed_by is not None
        assert line.routed_by.startswith("backorder")
        assert await active_holds(hub, order.id) == [line.reservation_id]
        async with hub.container.uow(readonly=True) as uow:
            history = await uow.orders.transitions(order.id)
        fills = [t for t in history if t.reason.startswith("backordered line")]
        assert len(fills) == 1
        assert fills[0].to_status is OrderStatus.ALLOCATED
        assert (
            len(
                [
                    e
                    for e in seen
                    if e["kind"] == "backorder_filled" and e["orderId"] == str(order.id)
                ]
            )
            == 1
        )
    assert [ln.status for ln in (await hub.order(third.id)).lines] == [LineStatus.SHORT]
    assert await active_holds(hub, third.id) == []
    assert await hub.level() == (2, 2)
    assert await published(hub, hub.shop) == 0
    assert await published(hub, hub.market) == 0
    await hub.assert_ledger_clean()


async def test_a_line_that_lost_a_conflict_is_filled_when_stock_comes(hub: Hub) -> None:
    await hub.receive(1)
    later = await hub.take(hub.market, channel_order("M-1", placed=T0 + timedelta(minutes=5)))
    earlier = await hub.take(hub.shop, channel_order("S-1", placed=T0))
    assert [ln.status for ln in earlier.lines] == [LineStatus.ALLOCATED]
    assert [ln.status for ln in (await hub.order(later.id)).lines] == [LineStatus.SHORT]

    await hub.receive(1)
    await hub.container.queue.drain()

    assert [ln.status for ln in (await hub.order(later.id)).lines] == [LineStatus.ALLOCATED]
    assert await hub.level() == (2, 2)
    await hub.assert_ledger_clean()


async def test_first_placed_first_when_the_arrival_fills_only_some(hub: Hub) -> None:
    latest = await short(hub, hub.market, "M-3", minutes=30)
    earliest = await short(hub, hub.shop, "S-1", minutes=0)
    middle = await short(hub, hub.market, "M-2", minutes=10)

    await hub.receive(2)
    await race(hub)

    assert (await hub.order(earliest.id)).status is OrderStatus.ALLOCATED
    assert (await hub.order(middle.id)).status is OrderStatus.ALLOCATED
    assert [ln.status for ln in (await hub.order(latest.id)).lines] == [LineStatus.SHORT]
    await hub.assert_ledger_clean()


async def test_channel_priority_first_when_every_channel_ranks_by_it(hub: Hub) -> None:
    for channel in (hub.shop, hub.market):
        await hub.configure(channel, conflict_policy=ConflictPolicy.CHANNEL_PRIORITY)
    shop = await short(hub, hub.shop, "S-1", minutes=0)  # placed first, priority 1
    market = await short(hub, hub.market, "M-1", minutes=10)  # priority 5

    await hub.receive(1)
    await race(hub)

    assert (await hub.order(market.id)).status is OrderStatus.ALLOCATED
    assert [ln.status for ln in (await hub.order(shop.id)).lines] == [LineStatus.SHORT]
    await hub.assert_ledger_clean()


async def test_a_line_held_for_a_person_is_not_filled(hub: Hub) -> None:
    await hub.configure(hub.market, conflict_policy=ConflictPolicy.MANUAL)
    held = await short(hub, hub.market, "M-1")

    await hub.receive(1)
    assert await race(hub) == [0, 0, 0]

    assert [ln.status for ln in (await hub.order(held.id)).lines] == [LineStatus.SHORT]
    assert await hub.level() == (1, 0)


async def test_the_sweep_fills_from_stock_no_job_was_asked_about(hub: Hub) -> None:
    await hub.receive(1)
    cart = await reservations.reserve(
        hub.container.uow, sku=SKU, quantity=1, key="cart-1", actor="t", reference="cart:1"
    )
    order = await short(hub, hub.shop, "S-1")
    await reservations.release(
        hub.container.uow, reservation_id=cart.reservation.id, key="release-1", actor="t"
    )
    await hub.container.queue.drain()
    # A release requests no fill: the line waits for the sweep.
    assert [ln.status for ln in (await hub.order(order.id)).lines] == [LineStatus.SHORT]

    assert await sweep_backorders(hub.container.job_context) == 1

    assert (await hub.order(order.id)).status is OrderStatus.ALLOCATED
    assert await sweep_backorders(hub.container.job_context) == 0
    await hub.assert_ledger_clean()


ARRIVALS = ["count", "adjust", "return", "transfer"]


@pytest.mark.parametrize("arrival", ARRIVALS)
async def test_every_kind_of_arrival_fills_a_backorder(hub: Hub, arrival: str) -> None:
    async with hub.container.uow() as uow:
        back = await setup.create_location(uow, code="BACK", name="Back room", kind="warehouse")
        await uow.commit()
    await hub.receive(1, back.id)  # no channel ships from the back room
    order = await short(hub, hub.shop, "S-1")
    uows, key = hub.container.uow, f"{arrival}-1"
    if arrival == "count":
        await stock.count(
            uows, sku=SKU, location_id=hub.warehouse, on_hand=1, expected_on_hand=None,
            key=key, actor="t",
        )  # fmt: skip
    elif arrival == "adjust":
        await stock.adjust(
            uows, sku=SKU, location_id=hub.warehouse, delta=1, reason="found", key=key, actor="t"
        )
    elif arrival == "return":
        await stock.restock_return(
            uows, sku=SKU, location_id=hub.warehouse, quantity=1, key=key, actor="t",
            detail="returned",
        )  # fmt: skip
    else:
        await stock.transfer(
            uows, sku=SKU, from_location_id=back.id, to_location_id=hub.warehouse, quantity=1,
            key=key, actor="t",
        )  # fmt: skip
    await hub.container.queue.drain()

    assert (await hub.order(order.id)).status is OrderStatus.ALLOCATED
    await hub.assert_ledger_clean()


async def test_the_sweep_reads_one_index_when_nothing_is_short(hub: Hub) -> None:
    await hub.receive(3)
    await hub.take(hub.shop, channel_order("S-1"))  # reserved: nothing short
    engine = hub.container.engine.sync_engine
    mine: ContextVar[bool] = ContextVar("mine", default=False)
    statements: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if mine.get():  # this task's, not a periodic job's meanwhile
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    token = mine.set(True)
    try:
        assert await sweep_backorders(hub.container.job_context) == 0
    finally:
        mine.reset(token)
        event.remove(engine, "before_cursor_execute", record)

    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1
    assert "order_lines" in reads[0]
