"""What the shop hears about its orders: a line the hub cancelled is removed from the Shopify
order (an order edit, not restocked; an order cancelled whole is cancelled there), and a line
shipped in parcels is fulfilled in parcels."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.order_rules import set_order_rules
from domain.channels.outbox import Dirty, OutboxKind, mark_dirty
from domain.channels.policies import ConflictPolicy, LosingLine
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.inventory import stock
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.fulfilment import create_shipment
from domain.orders.ingest import ingest
from domain.orders.model import LineStatus, Order, OrderStatus
from domain.orders.ports import OrderFilter
from domain.orders.pull import pull_orders
from domain.sync.model import CallOutcome
from sandbox.shopify.state import shop_state
from tests.integration.sync.shop import SHOP_LOCATION, Shop

pytestmark = pytest.mark.usefixtures("backend")


async def shop_order(shop: Shop, sku: str, quantity: int) -> Order:
    """An order placed on the shop, pulled into the hub and reserved."""
    await shop.sandbox.place_order([(sku, quantity)], location_gid=SHOP_LOCATION)
    await pull_orders(shop.container.uow, shop.container.connector, shop.channel_id)
    async with shop.container.uow(readonly=True) as uow:
        [order] = await uow.orders.page(
            first=1, after=None, filter=OrderFilter(channel_ids=(shop.channel_id,), sku=sku)
        )
    reserved = await allocate(shop.container.uow, order.id, actor="t")
    assert reserved is not None
    return reserved


def on_shop(shop: Shop, order: Order) -> dict[str, Any]:
    [found] = [o for o in shop_state(shop.sandbox.store)["orders"] if o["id"] == order.external_id]
    return found


async def sync_calls(shop: Shop, operation: str) -> list[CallOutcome]:
    async with shop.container.uow(readonly=True) as uow:
        calls = await uow.sync_log.page(
            channel_id=shop.channel_id, outcome=None, first=100, after=None
        )
    return [c.outcome for c in calls if c.operation == operation]


async def test_a_line_that_lost_its_unit_is_cancelled_on_the_shop(shop: Shop) -> None:
    uows = shop.container.uow
    await stock.receive(uows, sku="TEE-M", location_id=shop.location_id, quantity=1, key="r",
                        actor="t")  # fmt: skip
    await shop.drain()
    lost = await shop_order(shop, "TEE-M", 1)
    assert lost.status is OrderStatus.ALLOCATED
    async with uows() as uow:
        market = await channel_setup.create_channel(
            uow, name="Market", kind="ebay", currency="USD", priority=9,
            location_ids=[shop.location_id], rule=AvailabilityRule(),
        )  # fmt: skip
        now = datetime.now(UTC)
        await set_order_rules(
            uow, market.id, now=now, conflict_policy=ConflictPolicy.CHANNEL_PRIORITY
        )
        await set_order_rules(uow, shop.channel_id, now=now, losing_lines=LosingLine.CANCEL)
        await uow.commit()

    # The higher-priority marketplace sold the same unit: it takes it; the shop's line loses.
    sold = ChannelOrder(
        external_id="M-1", number="M-1", updated_at=now, placed_at=now, status="paid",
        lines=(ChannelOrderLine("M-1-1", "TEE-M", 1, Money(1500, "USD")),),
    )  # fmt: skip
    winner = await ingest(uows, market.id, sold, actor="t")
    await allocate(uows, winner.order.id, actor="t")
    async with uows(readonly=True) as uow:
        loser = await uow.orders.get(lost.id)
        conflicts = await uow.orders.conflicts(lost.id)
    assert loser is not None
    assert (loser.status, [ln.status for ln in loser.lines]) == (
        OrderStatus.CANCELLED, [LineStatus.CANCELLED],
    )  # fmt: skip
    assert conflicts[-1].resolution.endswith("cancelled on its channel")

    await shop.drain()

    # Its only line lost: the whole order is cancelled on the shop (`orderCancel`).
    assert on_shop(shop, lost)["cancelledAt"] is not None
    assert len(shop.calls('"orderCancel"')) == 1
    assert await sync_calls(shop, "cancel_lines") == [CallOutcome.OK]
    # Not restocked on the shop: the hub's only unit went to the marketplace.
    assert shop.sandbox.inventory_quantity("TEE-M", SHOP_LOCATION) == 0
    assert shop.sandbox.inventory_quantity("TEE-M", SHOP_LOCATION, "committed") == 0

    # Told again (the relay runs at least once): nothing more to remove, nothing committed.
    async with uows() as uow:
        dirty = Dirty(shop.channel_id, OutboxKind.LINE_CANCEL, str(lost.lines[0].id))
        await mark_dirty(uow, [dirty], shop.clock())
        await uow.commit()
    await shop.drain()
    assert len(shop.calls('"orderCancel"')) == 1  # Shopify has it cancelled: not asked again
    assert await sync_calls(shop, "cancel_lines") == [CallOutcome.OK, CallOutcome.OK]


async def test_a_line_cancelled_on_an_order_the_shop_lost_is_dead_lettered(shop: Shop) -> None:
    gone = ChannelOrder(
        external_id="gid://shopify/Order/999999", number="#9", status="paid",
        updated_at=shop.clock(), placed_at=shop.clock(),
        lines=(ChannelOrderLine("gid://shopify/LineItem/999998", "TEE-S", 1, None),),
    )  # fmt: skip
    taken = await ingest(shop.container.uow, shop.channel_id, gone, actor="t")
    async with shop.container.uow() as uow:
        order = await uow.orders.lock(taken.order.id)
        assert order is not None
        line = order.lines[0]
        cancelled = replace(line, status=LineStatus.CANCELLED)
        await uow.orders.save(replace(order, lines=(cancelled,)), [cancelled])
        dirty = Dirty(shop.channel_id, OutboxKind.LINE_CANCEL, str(line.id))
        await mark_dirty(uow, [dirty], shop.clock())
        await uow.commit()

    await shop.drain()

    # The refused call, then the row dead-lettered (as every refused row is).
    assert await sync_calls(shop, "cancel_lines") == [CallOutcome.DEAD, CallOutcome.REJECTED]
    async with shop.container.uow(readonly=True) as uow:
        alerts = await uow.alerts.list(acknowledged=None, sku="TEE-S", first=10, after=None)
    assert [a.channel_id for a in alerts] == [shop.channel_id]
    assert f"line_cancel {line.id}" in (alerts[0].message or "")


async def test_a_line_shipped_in_two_parcels_is_fulfilled_in_two_on_the_shop(shop: Shop) -> None:
    uows = shop.container.uow
    await stock.receive(uows, sku="TEE-L", location_id=shop.location_id, quantity=5, key="r",
                        actor="t")  # fmt: skip
    await shop.drain()
    order = await shop_order(shop, "TEE-L", 3)
    line = order.lines[0]

    for n, quantity in enumerate((1, 2)):
        await create_shipment(
            uows, order_id=order.id, lines=[(line.id, quantity)], location_id=shop.location_id,
            carrier="UPS", tracking_number=f"1Z-{n}", key=f"ship-{n}", actor="t",
        )  # fmt: skip
        await shop.drain()
        seen = on_shop(shop, order)
        assert seen["lineItems"][0]["fulfilledQuantity"] == 1 + 2 * n
        assert seen["displayFulfillmentStatus"] == ("PARTIALLY_FULFILLED", "FULFILLED")[n]

    fulfilments = [f for f in shop_state(shop.sandbox.store)["fulfillments"]
                   if f["orderId"] == order.external_id]  # fmt: skip
    assert [(f["totalQuantity"], f["trackingInfo"][0]["number"]) for f in fulfilments] == [
        (1, "1Z-0"), (2, "1Z-1"),
    ]  # fmt: skip
    assert shop.sandbox.inventory_quantity("TEE-L", SHOP_LOCATION, "on_hand") == 2
