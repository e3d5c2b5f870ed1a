"""One parcel for two channels' orders (a grouped shipment): the Shopify sandbox and the web
store each hear, through their own outbox rows, of their own order's lines under the parcel's
one tracking number, and nothing of the other's."""

from __future__ import annotations

import pytest

from domain.catalog import channel_settings
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.inventory import stock
from domain.money import Money
from domain.orders import picking
from domain.orders.allocation import allocate
from domain.orders.fulfilment import ParcelPart, ship_parcel
from domain.orders.ingest import ingest
from domain.orders.model import OrderStatus
from domain.sync.model import CallOutcome
from sandbox.shopify.state import shop_state
from tests.integration.sync.shop import Shop
from tests.integration.sync.test_order_sync import on_shop, shop_order

pytestmark = pytest.mark.usefixtures("backend")


async def test_a_parcel_of_a_shop_order_and_a_web_order_tells_each_channel_its_own(
    shop: Shop,
) -> None:
    uows = shop.container.uow
    await stock.receive(uows, sku="TEE-M", location_id=shop.location_id, quantity=3, key="r",
                        actor="t")  # fmt: skip
    await shop.drain()
    from_shop = await shop_order(shop, "TEE-M", 1)
    async with uows() as uow:
        web = await channel_setup.create_channel(
            uow, name="Web", kind="webstore", currency="USD", priority=2,
            location_ids=[shop.location_id], rule=AvailabilityRule(),
        )  # fmt: skip
        await channel_settings.set_sync_enabled(uow, web.id, True, now=shop.clock())
        await uow.commit()
    placed = ChannelOrder(
        external_id="W-1", number="W-1", updated_at=shop.clock(), placed_at=shop.clock(),
        status="paid", lines=(ChannelOrderLine("W-1-1", "TEE-M", 2, Money(1500, "USD")),),
    )  # fmt: skip
    from_web = await allocate(uows, (await ingest(uows, web.id, placed, actor="t")).order.id,
                              actor="t")  # fmt: skip
    assert from_web is not None
    lines = [from_shop.lines[0].id, from_web.lines[0].id]
    for mark in (picking.mark_picked, picking.mark_packed):
        await mark(uows, location_id=shop.location_id, line_ids=lines, actor="packer")

    shipped = await ship_parcel(
        uows, parts=[ParcelPart(from_shop.id, ((lines[0], 1),)),
                     ParcelPart(from_web.id, ((lines[1], 2),))],
        location_id=shop.location_id, carrier="UPS", tracking_number="1Z-GROUP",
        key="parcel-1", actor="packer",
    )  # fmt: skip
    assert [o.status for o, _ in shipped] == [OrderStatus.SHIPPED, OrderStatus.SHIPPED]
    assert len({s.parcel for _, s in shipped}) == 1
    await shop.drain()
    while await shop.relay.drain(web.id):
        pass

    # The shop: its own order fulfilled, one unit, under the parcel's tracking number.
    assert on_shop(shop, from_shop)["displayFulfillmentStatus"] == "FULFILLED"
    fulfilments = shop_state(shop.sandbox.store)["fulfillments"]
    assert [(f["orderId"], f["totalQuantity"], f["trackingInfo"][0]["number"])
            for f in fulfilments] == [(from_shop.external_id, 1, "1Z-GROUP")]  # fmt: skip
    # Each channel confirmed its own shipment once: its lines only, the one tracking number.
    async with uows(readonly=True) as uow:
        told = [await uow.orders.get_shipment(s.id) for _, s in shipped]
        calls = {
            channel: [c.outcome for c in await uow.sync_log.page(
                channel_id=channel, outcome=None, first=50, after=None,
            ) if c.operation == "confirm_shipment"]
            for channel in (shop.channel_id, web.id)
        }  # fmt: skip
    assert [(s.order_id, s.lines, s.tracking_number) for s in told if s] == [
        (from_shop.id, ((lines[0], 1),), "1Z-GROUP"), (from_web.id, ((lines[1], 2),), "1Z-GROUP"),
    ]  # fmt: skip
    assert all(s is not None and s.channel_shipment_id for s in told)
    assert calls == {shop.channel_id: [CallOutcome.OK], web.id: [CallOutcome.OK]}
