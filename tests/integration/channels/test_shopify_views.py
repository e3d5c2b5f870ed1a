"""Shopify's product page views become conversion per SKU and day — the hub as the suite
drives it (GraphQL, the real `read_channel_views` job, the suite's clock) against the Shopify
sandbox, which answers the adapter's ShopifyQL (products.view_sessions per product_id)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from adapters.container import Container
from tests.contract.channel import Delivery, Fault
from tests.contract.hub import MUG, SHIRTS, Hub, hub_on
from tests.contract.shopify import ShopifyUnderTest, shopify
from tests.integration.channels.test_ebay_channel import CONVERSION


@pytest.fixture
async def hub(
    http: httpx.AsyncClient, staff_key: str, container: Container, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Hub]:
    async with hub_on(shopify, http, staff_key, container, monkeypatch) as hub:
        yield hub


async def test_the_views_shopify_reports_become_conversion_per_sku_and_day(hub: Hub) -> None:
    """Shopify counts sessions that viewed a product's page: the six shirts are one product,
    so its 8 view sessions today count for each shirt. MUG: 10 sessions yesterday, 40 today
    (25 + 15, the same page); 2 orders of 3 units today, one of 1 unit yesterday.
    Hand-computed: MUG yesterday 1/10 = 10.00 %, today 2/40 = 5.00 %, both days 3/50 =
    6.00 %; TS-M-RED today 1 order of 2 units over 8 = 12.50 %, the other shirts 0.00 %."""
    assert isinstance(hub.channel, ShopifyUnderTest)
    sandbox = hub.channel.sandbox
    yesterday = hub.clock().date()
    await hub.channel.sell([(MUG, 1)], Delivery.ONCE)
    await hub.settle()
    hub.clock.advance(timedelta(days=1).total_seconds())  # a day later, on every clock
    today = hub.clock().date()
    sandbox.view(MUG, 10, yesterday)
    sandbox.view(MUG, 25)
    sandbox.view(MUG, 15)
    sandbox.view("TS-L-BLUE", 8)
    await hub.channel.sell([(MUG, 2)], Delivery.ONCE)
    await hub.channel.sell([(MUG, 1), ("TS-M-RED", 2)], Delivery.ONCE)
    await hub.settle()

    stored = await hub.run("read_channel_views")
    sandbox.view(MUG, 1000)  # read within the hour: not asked again, not stored
    again = await hub.run("read_channel_views")
    span = {"from": f"{yesterday}T00:00:00Z", "to": f"{today + timedelta(days=1)}T00:00:00Z"}
    by_day = (await hub.call(CONVERSION, **span, byDay=True))["conversionReport"]
    whole = (await hub.call(CONVERSION, **span, byDay=False))["conversionReport"]

    assert (stored, again) == (21, 0)  # 7 SKUs x 3 days (today and 2 back), once
    c, d0, d1 = hub.channel_id, str(yesterday), str(today)
    rows = [tuple(r.values()) for r in by_day["rows"]]
    assert rows[:2] == [(c, MUG, d0, 10, 1, 1, "10.00"), (c, MUG, d1, 40, 2, 3, "5.00")]
    shirts = {
        (c, shirt, day, views, orders, units, percent)
        for shirt in SHIRTS
        for day, views, orders, units, percent in (
            (d0, 0, 0, 0, None),
            (d1, 8, *((1, 2, "12.50") if shirt == "TS-M-RED" else (0, 0, "0.00"))),
        )
    }
    assert set(rows[2:]) == shirts
    assert len(rows) == 2 + len(shirts)
    assert tuple(whole["rows"][0].values()) == (c, MUG, None, 50, 3, 4, "6.00")
    assert {r["sku"]: r["conversionPercent"] for r in whole["rows"][1:]} == {
        shirt: "12.50" if shirt == "TS-M-RED" else "0.00" for shirt in SHIRTS
    }
    asked = [call for call in sandbox.calls if "shopifyqlQuery" in str(call)]
    assert len(asked) == 3  # one ShopifyQL question a day (3 days), for every product at once


async def test_a_views_read_that_fails_is_in_the_sync_log_and_read_again(hub: Hub) -> None:
    """A failed read of a channel's views is a channel call that failed like any other: the
    sync log and the channel's sync status show it, and the next run reads again."""
    assert isinstance(hub.channel, ShopifyUnderTest)
    hub.channel.sandbox.view(MUG, 7)
    await hub.channel.inject(Fault.UNAVAILABLE)

    assert await hub.run("read_channel_views") == 0
    [failed] = await hub.calls("read_views")
    assert (failed["outcome"], failed["keys"], bool(failed["message"])) == ("FAILED", [], True)
    assert (await hub.status())["failures"] == 1

    assert await hub.run("read_channel_views") == 21  # 7 SKUs x 3 days, read again at once
    assert [c["outcome"] for c in await hub.calls("read_views")] == ["FAILED"]
