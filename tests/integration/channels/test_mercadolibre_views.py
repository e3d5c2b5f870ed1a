"""MercadoLibre's item visits become conversion per SKU and day — the hub as the suite drives
it (GraphQL, the real `read_channel_views` job, the suite's clock) against the MercadoLibre
sandbox, which answers the adapter's `GET /items/visits/time_window` multiget; on both
listing models (a classic item sells every shirt; under User Products each shirt is its
own item)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from adapters.container import Container
from tests.contract.channel import Delivery
from tests.contract.hub import MUG, SHIRTS, Hub, hub_on
from tests.contract.mercadolibre import MeliUnderTest, _started
from tests.integration.channels.test_ebay_channel import CONVERSION

# sku -> (views, orders, units, percent) today, per model, hand-computed. Visits today:
# TS-L-BLUE 8, TS-M-RED 4; one order of 2 TS-M-RED. A classic item's visits (12) count for
# each of its six shirts: TS-M-RED 1/12 = 8.33 %, the others 0/12 = 0.00 %. Under User
# Products each shirt's item is its own: TS-M-RED 1/4 = 25.00 %, TS-L-BLUE 0/8 = 0.00 %, the
# four unvisited shirts have no conversion (no views).
SHIRTS_TODAY = {
    "classic": {s: (12, *((1, 2, "8.33") if s == "TS-M-RED" else (0, 0, "0.00"))) for s in SHIRTS},
    "user_products": {
        s: {"TS-M-RED": (4, 1, 2, "25.00"), "TS-L-BLUE": (8, 0, 0, "0.00")}.get(s, (0, 0, 0, None))
        for s in SHIRTS
    },
}


@pytest.fixture(params=["classic", "user_products"])
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def hub(
    http: httpx.AsyncClient,
    staff_key: str,
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
    model: str,
) -> AsyncIterator[Hub]:
    async with hub_on(
        lambda side: _started(side, model), http, staff_key, container, monkeypatch
    ) as hub:
        yield hub


async def test_the_visits_mercadolibre_reports_become_conversion_per_sku_and_day(
    hub: Hub, model: str
) -> None:
    """MUG: 10 visits yesterday, 40 today (25 + 15, the same item); 1 order of 1 unit
    yesterday, 2 orders of 3 units today. Hand-computed: MUG yesterday 1/10 = 10.00 %, today
    2/40 = 5.00 %, both days 3/50 = 6.00 %; the shirts as SHIRTS_TODAY says."""
    assert isinstance(hub.channel, MeliUnderTest)
    sandbox = hub.channel.sandbox
    await hub.receive(MUG, 3)  # 6 on hand: MercadoLibre sells no more than it shows
    await hub.settle()
    yesterday = hub.clock().date()
    await hub.channel.sell([(MUG, 1)], Delivery.ONCE)
    await hub.settle()
    hub.clock.advance(timedelta(days=1).total_seconds())  # a day later, on every clock
    today = hub.clock().date()
    sandbox.visits.record(MUG, 10, yesterday)
    sandbox.visits.record(MUG, 25)
    sandbox.visits.record(MUG, 15)
    sandbox.visits.record("TS-L-BLUE", 8)
    sandbox.visits.record("TS-M-RED", 4)
    await hub.channel.sell([(MUG, 2)], Delivery.ONCE)
    await hub.channel.sell([(MUG, 1), ("TS-M-RED", 2)], Delivery.ONCE)
    await hub.settle()

    stored = await hub.run("read_channel_views")
    sandbox.visits.record(MUG, 1000)  # read within the hour: not asked again, not stored
    again = await hub.run("read_channel_views")
    span = {"from": f"{yesterday}T00:00:00Z", "to": f"{today + timedelta(days=1)}T00:00:00Z"}
    by_day = (await hub.call(CONVERSION, **span, byDay=True))["conversionReport"]
    whole = (await hub.call(CONVERSION, **span, byDay=False))["conversionReport"]

    assert (stored, again) == (28, 0)  # 7 SKUs x 4 days (today and 3 back), once
    c, d0, d1 = hub.channel_id, str(yesterday), str(today)
    rows = [tuple(r.values()) for r in by_day["rows"]]
    assert rows[:2] == [(c, MUG, d0, 10, 1, 1, "10.00"), (c, MUG, d1, 40, 2, 3, "5.00")]
    expected = SHIRTS_TODAY[model]
    shirts = {(c, s, d0, 0, 0, 0, None) for s in SHIRTS} | {
        (c, s, d1, *figures) for s, figures in expected.items()
    }
    assert set(rows[2:]) == shirts
    assert len(rows) == 2 + len(shirts)
    assert tuple(whole["rows"][0].values()) == (c, MUG, None, 50, 3, 4, "6.00")
    assert {r["sku"]: r["conversionPercent"] for r in whole["rows"][1:]} == {
        s: figures[3] for s, figures in expected.items()
    }
    asked = [call for call in sandbox.calls if call["path"] == "/items/visits/time_window"]
    assert [call["status"] for call in asked] == [200] * 4  # a multiget a day, every item


async def _views_on(hub: Hub, day: date) -> dict[str, int]:
    span = {"from": f"{day}T00:00:00Z", "to": f"{day + timedelta(days=1)}T00:00:00Z"}
    report = (await hub.call(CONVERSION, **span, byDay=True))["conversionReport"]
    return {r["sku"]: r["views"] for r in report["rows"] if r["day"] == str(day)}


async def test_visits_mercadolibre_settles_three_days_late_are_picked_up_by_the_next_read(
    hub: Hub,
) -> None:
    """MUG: 5 visits on day X, read two days later; MercadoLibre then counts 7 more for X
    (visits settle 48-72 h late): the read a day later, X now 3 days back, stores 12."""
    assert isinstance(hub.channel, MeliUnderTest)
    sandbox = hub.channel.sandbox
    day = hub.clock().date()
    sandbox.visits.record(MUG, 5, day)
    hub.clock.advance(timedelta(days=2).total_seconds())
    await hub.run("read_channel_views")
    assert (await _views_on(hub, day))[MUG] == 5

    sandbox.visits.record(MUG, 7, day)  # counted late
    hub.clock.advance(timedelta(days=1).total_seconds())
    await hub.run("read_channel_views")

    assert (await _views_on(hub, day))[MUG] == 12
