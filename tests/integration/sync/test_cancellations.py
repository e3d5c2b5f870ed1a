"""Cancellations both ways between the hub and the Shopify sandbox, each one cancellation
however often it is asked for or heard: cancelled in Nexo, the shop shows the order cancelled
(`orderCancel`, through the relay); cancelled on the shop, its `orders/cancelled` and
`orders/updated` webhooks make the hub let the order's units go, once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest

from adapters.channels.shopify import webhooks
from domain.channels.port import ChannelOrder
from domain.errors import IllegalState
from domain.inventory import stock
from domain.inventory.model import MovementReason
from domain.orders.allocation import allocate
from domain.orders.cancelling import cancel_order
from domain.orders.fulfilment import create_shipment
from domain.orders.ingest import ingest
from domain.orders.model import LineStatus, Order, OrderStatus
from domain.orders.pull import pull_orders
from domain.sync.model import CallOutcome
from sandbox.shopify import orders as shop_orders
from sandbox.shopify.ids import parse_gid
from tests.integration.sync.shop import SHOP_LOCATION, Shop
from tests.integration.sync.test_order_sync import on_shop, sync_calls

pytestmark = pytest.mark.usefixtures("backend")
HOOKS = "https://hub.invalid/webhooks/shopify"  # queued on the sandbox, never sent: read here


async def placed(shop: Shop, lines: Sequence[tuple[str, int]]) -> Order:
    """An order placed on the shop, pulled into the hub and reserved."""
    for sku, quantity in lines:
        await stock.receive(shop.container.uow, sku=sku, location_id=shop.location_id,
                            quantity=quantity + 3, key=f"r-{sku}", actor="t")  # fmt: skip
    await shop.drain()
    external = await shop.sandbox.place_order(list(lines), location_gid=SHOP_LOCATION)
    await pull_orders(shop.container.uow, shop.container.connector, shop.channel_id)
    async with shop.container.uow(readonly=True) as uow:
        order = await uow.orders.by_external(shop.channel_id, external)
    assert order is not None
    reserved = await allocate(shop.container.uow, order.id, actor="t")
    assert reserved is not None
    assert reserved.status is OrderStatus.ALLOCATED
    return reserved


def heard(shop: Shop) -> list[tuple[str, ChannelOrder]]:
    """The order webhooks the shop queued, as the hub's adapter reads them."""
    found = []
    for delivery in shop.sandbox.webhooks.pending:
        event = delivery.event
        headers = {"X-Shopify-Topic": event.topic, "X-Shopify-Event-Id": event.event_id,
                   "X-Shopify-Triggered-At": event.triggered_at}  # fmt: skip
        parsed = webhooks.parse(headers, event.body)
        if parsed.order is not None:
            found.append((event.topic, parsed.order))
    return found


async def take_in(shop: Shop, orders: list[tuple[str, ChannelOrder]], times: int) -> None:
    for _ in range(times):
        for _topic, order in orders:
            await ingest(shop.container.uow, shop.channel_id, order, actor="webhook")


async def state(shop: Shop, order_id: uuid.UUID, sku: str) -> tuple[Order, int, list[int], int]:
    """The order, how many transitions made it cancelled, the SKU's releases in the ledger
    and its units reserved."""
    async with shop.container.uow(readonly=True) as uow:
        order = await uow.orders.get(order_id)
        transitions = await uow.orders.transitions(order_id)
        movements = await uow.inventory.list_movements(sku, first=100, after=None)
        snapshot = await uow.inventory.snapshot(sku)
    assert order is not None
    assert snapshot is not None
    level = snapshot.level_at(shop.location_id)
    assert level is not None
    cancellations = [t for t in transitions if t.to_status is OrderStatus.CANCELLED]
    releases = [m.reserved_delta for m in movements if m.reason is MovementReason.RELEASE]
    return order, len(cancellations), releases, level.reserved


async def test_an_order_cancelled_in_nexo_is_cancelled_on_the_shop_once(shop: Shop) -> None:
    order = await placed(shop, [("TEE-M", 2)])
    shop.sandbox.webhooks.url = HOOKS

    for n in range(10):
        await cancel_order(shop.container.uow, order_id=order.id, reason="customer asked",
                           key=f"cancel-{n % 2}", actor="merchant")  # fmt: skip
        await shop.drain()

    assert on_shop(shop, order)["cancelledAt"] is not None
    assert len(shop.calls('"orderCancel"')) == 1
    assert await sync_calls(shop, "cancel_lines") == [CallOutcome.OK]
    # What the shop says of it, heard ten times over: the hub has it cancelled already.
    told = heard(shop)
    assert sorted(topic for topic, _ in told) == ["orders/cancelled", "orders/updated"]
    await take_in(shop, told, 10)
    await shop.drain()
    assert len(shop.calls('"orderCancel"')) == 1
    cancelled, transitions, releases, reserved = await state(shop, order.id, "TEE-M")
    assert cancelled.status is OrderStatus.CANCELLED
    assert [ln.status for ln in cancelled.lines] == [LineStatus.CANCELLED]
    assert (transitions, releases, reserved) == (1, [-2], 0)


async def test_an_order_cancelled_on_the_shop_is_let_go_once(shop: Shop) -> None:
    order = await placed(shop, [("TEE-M", 2), ("TEE-L", 1)])
    shop.sandbox.webhooks.url = HOOKS
    on_the_shop = shop.sandbox.store.orders[parse_gid(order.external_id, "Order") or 0]

    shop_orders.cancel_order(shop.sandbox.store, on_the_shop, restock=True)
    told = heard(shop)
    await take_in(shop, told, 10)
    await pull_orders(shop.container.uow, shop.container.connector, shop.channel_id)

    assert sorted(topic for topic, _ in told) == ["orders/cancelled", "orders/updated"]
    cancelled, transitions, releases, reserved = await state(shop, order.id, "TEE-M")
    assert cancelled.status is OrderStatus.CANCELLED
    assert [ln.status for ln in cancelled.lines] == [LineStatus.CANCELLED] * 2
    assert (transitions, releases, reserved) == (1, [-2], 0)
    async with shop.container.uow(readonly=True) as uow:
        [last] = [
            t for t in await uow.orders.transitions(order.id) if t.to_status.value == "cancelled"
        ]
    assert last.reason == "cancelled on Shopify"
    await shop.drain()
    assert shop.calls('"orderCancel"') == []  # the shop's own: not told back


async def test_one_line_cancelled_in_nexo_is_removed_from_the_shop_order(shop: Shop) -> None:
    order = await placed(shop, [("TEE-M", 2), ("TEE-L", 1)])
    tee_l = order.lines[1]

    for n in range(10):
        cut = await cancel_order(shop.container.uow, order_id=order.id, reason="out of stock",
                                 key=f"cut-{n}", actor="merchant", line_ids=[tee_l.id])  # fmt: skip
    await shop.drain()

    assert cut.status is OrderStatus.ALLOCATED
    assert [ln.status for ln in cut.lines] == [LineStatus.ALLOCATED, LineStatus.CANCELLED]
    shown = on_shop(shop, order)
    assert shown["cancelledAt"] is None
    quantities = {ln["sku"]: ln["currentQuantity"] for ln in shown["lineItems"]}
    assert quantities == {"TEE-M": 2, "TEE-L": 0}
    assert len(shop.calls('"orderEditCommit"')) == 1
    _, transitions, releases, reserved = await state(shop, order.id, "TEE-L")
    assert (transitions, releases, reserved) == (0, [-1], 0)
    assert (await state(shop, order.id, "TEE-M"))[3] == 2


async def test_a_partly_shipped_order_cancels_its_rest_and_refuses_its_shipped_line(
    shop: Shop,
) -> None:
    order = await placed(shop, [("TEE-M", 2), ("TEE-L", 1)])
    tee_m, tee_l = order.lines
    uows = shop.container.uow
    shipped, _ = await create_shipment(
        uows, order_id=order.id, lines=[(tee_m.id, 2)], location_id=shop.location_id,
        carrier="UPS", tracking_number="1Z-C-1", key="ship-c-1", actor="t",
    )  # fmt: skip
    await shop.drain()
    before = await state(shop, order.id, "TEE-L")

    with pytest.raises(IllegalState) as refused:
        await cancel_order(uows, order_id=order.id, reason="no", key="c-shipped",
                           actor="merchant", line_ids=[tee_l.id, tee_m.id])  # fmt: skip

    assert refused.value.field == "lineIds[1]"
    assert await state(shop, order.id, "TEE-L") == before  # nothing changed
    for n in range(10):
        rest = await cancel_order(uows, order_id=order.id, reason="no more", key=f"c-{n}",
                                  actor="merchant")  # fmt: skip
    await shop.drain()

    assert rest.status is OrderStatus.SHIPPED
    assert [ln.status for ln in rest.lines] == [LineStatus.SHIPPED, LineStatus.CANCELLED]
    shown = on_shop(shop, order)
    assert shown["cancelledAt"] is None  # shipped in part: its rest is edited out, not cancelled
    quantities = {ln["sku"]: ln["currentQuantity"] for ln in shown["lineItems"]}
    assert quantities == {"TEE-M": 2, "TEE-L": 0}
    assert shop.calls('"orderCancel"') == []
    _, _, releases, reserved = await state(shop, order.id, "TEE-L")
    assert (releases, reserved) == ([-1], 0)
    with pytest.raises(IllegalState):
        await cancel_order(uows, order_id=shipped.id, reason="x", key="c-m", actor="m",
                           line_ids=[tee_m.id])  # fmt: skip
