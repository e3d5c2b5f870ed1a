"""An order its channel cancelled lets go of its units, in the transaction that records it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.bus.inprocess import InProcessEventBus
from domain.channels.port import ChannelFee
from domain.inventory.model import MovementReason, ReservationStatus
from domain.money import Money
from domain.orders.events import ORDER_TOPIC
from domain.orders.fulfilment import create_shipment
from domain.orders.ingest import Arrival, ingest, ingest_many
from domain.orders.model import LineStatus, Order, OrderStatus
from tests.integration.orders.conftest import SKU, T0, Hub, channel_order

pytestmark = pytest.mark.usefixtures("backend")
LATER = T0 + timedelta(minutes=5)


def cancelled(order: Order, lines: list[tuple[str, int]]) -> Arrival:
    version = replace(channel_order(order.external_id, lines), status="cancelled", updated_at=LATER)
    return Arrival(order.channel_id, version, "channel:Shop")


async def releases(hub: Hub) -> list[int]:
    async with hub.container.uow(readonly=True) as uow:
        movements = await uow.inventory.list_movements(SKU, first=100, after=None)
    return [m.reserved_delta for m in movements if m.reason is MovementReason.RELEASE]


async def test_a_partly_shipped_order_cancelled_on_the_channel_lets_the_rest_go(
    hub: Hub,
) -> None:
    await hub.receive(6)
    order = await hub.take(hub.shop, channel_order("X-1", [(SKU, 2), (SKU, 3)]))
    whole, part = order.lines
    order, _ = await create_shipment(
        hub.container.uow, order_id=order.id, lines=[(whole.id, 2), (part.id, 1)],
        location_id=hub.warehouse, carrier="UPS", tracking_number="1Z-X-1", key="ship-x-1",
        actor="t",
    )  # fmt: skip
    assert await hub.level() == (3, 2)

    taken = await ingest(
        hub.container.uow, hub.shop, cancelled(order, [(SKU, 2), (SKU, 3)]).order, actor="ch"
    )

    now = await hub.order(order.id)
    assert taken.applied
    assert now.status is OrderStatus.CANCELLED
    assert [(ln.status, ln.shipped_quantity, ln.reservation_id) for ln in now.lines] == [
        (LineStatus.SHIPPED, 2, whole.reservation_id),  # shipped: it comes back as a return
        (LineStatus.CANCELLED, 1, None),  # the rest of it is let go
    ]
    assert await hub.level() == (3, 0)
    held = sorted((r.status, r.quantity) for r in await hub.reservations(order.id))
    assert held == [
        (ReservationStatus.COMMITTED, 1), (ReservationStatus.COMMITTED, 2),
        (ReservationStatus.RELEASED, 2),
    ]  # fmt: skip
    assert await releases(hub) == [-2]
    await hub.assert_ledger_clean()


async def test_orders_cancelled_together_let_go_once_however_often_they_come(hub: Hub) -> None:
    await hub.receive(10)
    first = await hub.take(hub.shop, channel_order("X-2", [(SKU, 2)]))
    second = await hub.take(hub.shop, channel_order("X-3", [(SKU, 3)]))
    waiting = await ingest(hub.container.uow, hub.shop, channel_order("X-4", [(SKU, 1)]), actor="t")
    assert await hub.level() == (10, 5)
    arrivals = [
        cancelled(first, [(SKU, 2)]), cancelled(second, [(SKU, 3)]),
        cancelled(waiting.order, [(SKU, 1)]),
    ]  # fmt: skip

    for _ in range(2):  # delivered twice: the second is not newer, and changes nothing
        async with hub.container.uow() as uow:
            outcomes = await ingest_many(uow, arrivals, LATER)
            await uow.commit()

    assert [o.applied for o in outcomes if o] == [False, False, False]
    for order in (first, second, waiting.order):
        now = await hub.order(order.id)
        assert now.status is OrderStatus.CANCELLED
        assert {ln.status for ln in now.lines} == {LineStatus.CANCELLED}
    assert await hub.level() == (10, 0)
    assert sorted(await releases(hub)) == [-3, -2]
    await hub.assert_ledger_clean()


async def test_a_cancellation_in_the_second_the_order_was_placed_is_taken_in_once(
    hub: Hub,
) -> None:
    # The channel's stamps are whole seconds: placed and cancelled carry the same one.
    await hub.receive(4)
    placed = channel_order("X-5", [(SKU, 2)])
    order = await hub.take(hub.shop, placed)
    gone = replace(placed, status="cancelled")

    taken = [await ingest(hub.container.uow, hub.shop, gone, actor="ch") for _ in range(2)]
    # The placing version delivered late, in the same second: it changes nothing back.
    late = await ingest(hub.container.uow, hub.shop, placed, actor="ch")

    assert [t.applied for t in (*taken, late)] == [True, False, False]
    now = await hub.order(order.id)
    assert (now.status, [ln.status for ln in now.lines]) == (
        OrderStatus.CANCELLED, [LineStatus.CANCELLED],
    )  # fmt: skip
    assert await hub.level() == (4, 0)
    assert await releases(hub) == [-2]
    async with hub.container.uow(readonly=True) as uow:
        steps = [(t.from_status, t.to_status) for t in await uow.orders.transitions(order.id)]
    assert steps.count((OrderStatus.ALLOCATED, OrderStatus.CANCELLED)) == 1


async def test_fees_made_known_in_the_same_second_are_taken_once(hub: Hub) -> None:
    placed = channel_order("X-6", [(SKU, 1)])
    await ingest(hub.container.uow, hub.shop, placed, actor="ch")
    billed = replace(placed, fees=(ChannelFee("sale_fee", Money(120, "USD")),))

    taken = [await ingest(hub.container.uow, hub.shop, billed, actor="ch") for _ in range(2)]
    quiet = await ingest(hub.container.uow, hub.shop, placed, actor="ch")  # knows no fees

    assert [t.applied for t in (*taken, quiet)] == [True, False, False]
    assert [(f.kind, f.amount_minor) for f in quiet.order.fees] == [("sale_fee", 120)]


async def test_a_cancellation_on_the_channel_is_told_as_a_cancellation(hub: Hub) -> None:
    await hub.receive(2)
    order = await hub.take(hub.shop, channel_order("X-9", [(SKU, 1)]))
    bus = hub.container.bus
    assert isinstance(bus, InProcessEventBus)

    async with bus.subscribe(ORDER_TOPIC) as events:
        await ingest(hub.container.uow, hub.shop, cancelled(order, [(SKU, 1)]).order, actor="c")
        async with asyncio.timeout(5):
            told = await anext(aiter(events))

    assert (told["kind"], told["orderId"], told["status"]) == (
        "cancelled",
        str(order.id),
        "cancelled",
    )
    assert told["detail"] == "cancelled on the channel"
