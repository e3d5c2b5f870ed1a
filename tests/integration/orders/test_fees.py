"""Channel fees are kept with the order when the channel makes them known."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.channels.mercadolibre.orders import channel_order as meli_order
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.port import ChannelFee
from domain.money import Money
from domain.orders.ingest import ingest
from domain.orders.model import OrderFee
from domain.orders.ports import OrderFilter
from tests.integration.orders.conftest import SKU, T0, Hub, channel_order

pytestmark = pytest.mark.usefixtures("backend")

MELI_ORDER = {
    "id": 2000000001,
    "status": "paid",
    "date_created": "2026-11-27T12:00:00.000-03:00",
    "date_last_updated": "2026-11-27T12:01:00.000-03:00",
    "buyer": {"id": 9, "nickname": "ADA"},
    "order_items": [
        {
            "item": {"id": "MLA1", "variation_id": None, "seller_sku": SKU},
            "quantity": 2,
            "unit_price": 100.5,
            "currency_id": "ARS",
            "sale_fee": 13.07,
        }
    ],
}


async def test_a_marketplace_orders_fees_are_kept_with_it(hub: Hub) -> None:
    async with hub.container.uow() as uow:
        meli = await channel_setup.create_channel(
            uow, name="Meli", kind="mercadolibre", currency="ARS", priority=1,
            location_ids=[hub.warehouse], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()

    taken = await ingest(hub.container.uow, meli.id, meli_order(MELI_ORDER), actor="pull")

    stored = await hub.order(taken.order.id)
    assert stored.fees == (OrderFee("sale_fee", 2614, "ARS", "MLA1"),)
    async with hub.container.uow(readonly=True) as uow:
        [listed] = await uow.orders.page(first=10, after=None, filter=OrderFilter())
    assert listed.fees == stored.fees  # the order book's pages carry them too


async def test_fees_known_later_replace_the_kept_ones_and_silence_keeps_them(hub: Hub) -> None:
    first = await ingest(hub.container.uow, hub.market, channel_order("E-1"), actor="t")
    assert (await hub.order(first.order.id)).fees == ()  # none known yet

    billed = replace(
        channel_order("E-1", fees=(ChannelFee("marketplace_fee", Money(795, "USD")),)),
        updated_at=T0 + timedelta(minutes=5),
    )
    await ingest(hub.container.uow, hub.market, billed, actor="t")
    quiet = replace(channel_order("E-1"), updated_at=T0 + timedelta(minutes=9))
    await ingest(hub.container.uow, hub.market, quiet, actor="t")

    assert (await hub.order(first.order.id)).fees == (
        OrderFee("marketplace_fee", 795, "USD", None),
    )
