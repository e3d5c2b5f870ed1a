"""Amazon's detail page views become conversion per SKU and day — the hub as the suite drives
it (GraphQL, the real `read_channel_views` job, the suite's clock) against the Amazon sandbox,
which builds GET_SALES_AND_TRAFFIC_REPORT (DAY x SKU) from the page views it was told of."""

from __future__ import annotations

from datetime import date, timedelta

from tests.contract.amazon import AmazonUnderTest
from tests.contract.channel import Delivery
from tests.contract.hub import MUG, SHIRTS, Hub
from tests.integration.channels.test_ebay_channel import CONVERSION


async def test_the_page_views_amazon_reports_become_conversion_per_sku_and_day(hub: Hub) -> None:
    """Amazon counts each SKU's own detail page (a child ASIN's), so the shirts do not share
    their views. MUG: 10 page views yesterday, 40 today (25 + 15); 1 order of 1 unit
    yesterday, 2 orders of 3 units today. TS-M-RED: 8 views today, 1 order of 2 units;
    TS-L-BLUE: 4 views today, no order; the other shirts: no views, no orders.
    Hand-computed: MUG yesterday 1/10 = 10.00 %, today 2/40 = 5.00 %, both days 3/50 =
    6.00 %; TS-M-RED today 1/8 = 12.50 %; TS-L-BLUE today 0/4 = 0.00 %; no views: none."""
    assert isinstance(hub.channel, AmazonUnderTest)
    sandbox = hub.channel.sandbox
    yesterday = hub.clock().date()
    await hub.receive(MUG, 10)  # enough on Amazon for every order below
    await hub.settle()
    await hub.channel.sell([(MUG, 1)], Delivery.ONCE)
    await hub.settle()
    hub.clock.advance(timedelta(days=1).total_seconds())  # a day later, on every clock
    today = hub.clock().date()
    sandbox.view(MUG, 10, yesterday)
    sandbox.view(MUG, 25, today)
    sandbox.view(MUG, 15, today, sessions=9)
    sandbox.view("TS-M-RED", 8, today)
    sandbox.view("TS-L-BLUE", 4, today)
    await hub.channel.sell([(MUG, 2)], Delivery.ONCE)
    await hub.channel.sell([(MUG, 1), ("TS-M-RED", 2)], Delivery.ONCE)
    await hub.settle()

    stored = await hub.run("read_channel_views")
    sandbox.view(MUG, 1000, today)  # read within the hour: not asked again, not stored
    again = await hub.run("read_channel_views")
    span = {"from": f"{yesterday}T00:00:00Z", "to": f"{today + timedelta(days=1)}T00:00:00Z"}
    by_day = (await hub.call(CONVERSION, **span, byDay=True))["conversionReport"]
    whole = (await hub.call(CONVERSION, **span, byDay=False))["conversionReport"]

    assert (stored, again) == (28, 0)  # 7 SKUs x 4 days (today and 3 back), once
    c, d0, d1 = hub.channel_id, str(yesterday), str(today)
    expected = {
        (c, MUG, d0, 10, 1, 1, "10.00"),
        (c, MUG, d1, 40, 2, 3, "5.00"),
        (c, "TS-M-RED", d1, 8, 1, 2, "12.50"),
        (c, "TS-L-BLUE", d1, 4, 0, 0, "0.00"),
    }
    expected |= {
        (c, shirt, day, 0, 0, 0, None)
        for shirt in SHIRTS
        for day in (d0, d1)
        if (shirt, day) not in {("TS-M-RED", d1), ("TS-L-BLUE", d1)}
    }
    rows = [tuple(r.values()) for r in by_day["rows"]]
    assert sorted(rows, key=str) == sorted(expected, key=str)
    assert {r["sku"]: (r["views"], r["conversionPercent"]) for r in whole["rows"]} == {
        MUG: (50, "6.00"),
        "TS-M-RED": (8, "12.50"),
        "TS-L-BLUE": (4, "0.00"),
        **{s: (0, None) for s in SHIRTS if s not in ("TS-M-RED", "TS-L-BLUE")},
    }
    created = [c for c in sandbox.calls if c["operation"] == "createReport"]
    assert [c["status"] for c in created] == [202] * 4  # one report a day, every SKU in it
    assert sandbox.violations == []


async def _views_on(hub: Hub, day: date) -> dict[str, int]:
    span = {"from": f"{day}T00:00:00Z", "to": f"{day + timedelta(days=1)}T00:00:00Z"}
    report = (await hub.call(CONVERSION, **span, byDay=True))["conversionReport"]
    return {r["sku"]: r["views"] for r in report["rows"] if r["day"] == str(day)}


async def test_a_figure_amazon_settles_three_days_late_is_picked_up_by_the_next_read(
    hub: Hub,
) -> None:
    """MUG: 5 page views on day X, read two days later; Amazon then counts 7 more for X (its
    figures settle up to 72 h late): the read a day later, X now 3 days back, stores 12."""
    assert isinstance(hub.channel, AmazonUnderTest)
    sandbox = hub.channel.sandbox
    day = hub.clock().date()
    sandbox.view(MUG, 5, day)
    hub.clock.advance(timedelta(days=2).total_seconds())
    await hub.run("read_channel_views")
    assert (await _views_on(hub, day))[MUG] == 5

    sandbox.view(MUG, 7, day)  # settled late
    hub.clock.advance(timedelta(days=1).total_seconds())
    await hub.run("read_channel_views")

    assert (await _views_on(hub, day))[MUG] == 12
    assert sandbox.violations == []  # createReport's quota kept: 4 reports a read
