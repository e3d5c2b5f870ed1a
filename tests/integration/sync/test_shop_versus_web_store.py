"""The shop-versus-web-store race of issue 13: a web store order holds the last unit; the
shop then sells it too, and its order is pulled in with the shop's whole-second time (earlier
than the web store's by Nexo's clock). The web store's customer was told "order placed": the
web store order keeps its unit and the shop's line loses, recorded as a conflict."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.inventory import stock
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.ingest import ingest
from domain.orders.model import LineStatus, OrderStatus
from domain.orders.ports import OrderFilter
from domain.orders.pull import pull_orders
from tests.integration.sync.shop import SHOP_LOCATION, SKUS, Shop

pytestmark = pytest.mark.usefixtures("backend")


async def test_a_shop_order_pulled_after_a_web_store_order_does_not_take_its_unit(
    shop: Shop,
) -> None:
    uows = shop.container.uow
    async with uows() as uow:
        web = await channel_setup.create_channel(
            uow, name="Web", kind="webstore", currency="USD", priority=0,
            location_ids=[shop.location_id], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    for sku in SKUS:
        await stock.receive(uows, sku=sku, location_id=shop.location_id, quantity=1,
                            key=f"r-{sku}", actor="t")  # fmt: skip
    await shop.drain()

    for n, sku in enumerate(SKUS):  # a few rounds, as the race was run
        # The web store's checkout: its order placed by Nexo's clock, and reserved.
        cart = ChannelOrder(
            external_id=f"cart-{n}", number=f"W-{n}", updated_at=datetime.now(UTC),
            placed_at=datetime.now(UTC), status="paid",
            lines=(ChannelOrderLine("1", sku, 1, Money(1500, "USD")),),
        )  # fmt: skip
        placed = await ingest(uows, web.id, cart, actor="checkout")
        web_order = await allocate(uows, placed.order.id, actor="checkout")
        assert web_order is not None
        assert web_order.status is OrderStatus.ALLOCATED

        before = datetime.now(UTC)
        await shop.sandbox.place_order([(sku, 1)], location_gid=SHOP_LOCATION)
        after = datetime.now(UTC)
        await pull_orders(uows, shop.container.connector, shop.channel_id)
        async with uows(readonly=True) as uow:
            [pulled] = await uow.orders.page(
                first=1, after=None, filter=OrderFilter(channel_ids=(shop.channel_id,), sku=sku)
            )
        # The shop's clock: the current second, never behind it.
        assert before.replace(microsecond=0) <= pulled.placed_at <= after
        shop_order = await allocate(uows, pulled.id, actor="order-job")

        assert shop_order is not None
        assert [ln.status for ln in shop_order.lines] == [LineStatus.SHORT]
        async with uows(readonly=True) as uow:
            kept = await uow.orders.get(web_order.id)
            conflicts = await uow.orders.conflicts(shop_order.id)
        assert kept is not None
        assert (kept.status, [ln.status for ln in kept.lines]) == (
            OrderStatus.ALLOCATED, [LineStatus.ALLOCATED],
        )  # fmt: skip
        assert len(conflicts) == 1
