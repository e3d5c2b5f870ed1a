"""Best sellers, stock cover, conflicts and sync health, against figures worked out by hand,
on both backends."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.analytics.channels import conflicts_report, sync_health
from domain.analytics.sales import SalesQuery
from domain.analytics.stock import Ranking, best_sellers, stock_cover
from domain.clock import utcnow
from domain.errors import InvalidInput
from domain.sync.model import CallOutcome, SyncCall
from tests.integration.analytics.conftest import APRIL, MARCH, Sales
from tests.integration.orders.conftest import T0, Hub, channel_order

pytestmark = pytest.mark.usefixtures("backend")


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (Ranking.UNITS, ["A-1", "PART-1", "B-1"]),  # 2, 2 (A-1 first by name), 1
        (Ranking.REVENUE, ["A-1", "B-1", "PART-1"]),  # 36.00, 11.00, 10.00
        (Ranking.MARGIN, ["A-1", "PART-1", "B-1"]),  # 20.00, 10.00, 4.40
    ],
)
async def test_best_sellers_rank_by_units_revenue_or_margin(
    sales: Sales, by: Ranking, expected: list[str]
) -> None:
    query = SalesQuery(MARCH, APRIL, (), "USD")
    found = await best_sellers(sales.hub.container.uow, query, by=by, first=3)
    assert [b.sku for b in found] == expected
    assert found[0].figures.units_sold == 2
    assert len(await best_sellers(sales.hub.container.uow, query, by=by, first=1)) == 1


async def test_stock_cover_is_available_over_daily_sales(sales: Sales) -> None:
    # March (31 days) kept: A 2 (O1; O2's was cancelled, O3's returned), B 1, PART-1 2.
    # Available now: A 10 - 2 shipped - 1 held by April's O4 = 7 (O3's came back); B 10 - 1
    # shipped = 9; PART-1 10 - 2 held = 8.
    found = await stock_cover(sales.hub.container.uow, now=APRIL, window_days=31, first=10)
    assert [(c.sku, c.available, c.sold, c.per_day, c.days) for c in found] == [
        ("A-1", 7, 2, Decimal("0.06"), Decimal("108.5")),
        ("PART-1", 8, 2, Decimal("0.06"), Decimal("124.0")),
        ("B-1", 9, 1, Decimal("0.03"), Decimal("279.0")),
    ]
    quiet = await stock_cover(sales.hub.container.uow, now=MARCH, window_days=7, first=10)
    assert {c.days for c in quiet} == {None}  # nothing sold before March: no figure
    with pytest.raises(InvalidInput):
        await stock_cover(sales.hub.container.uow, now=APRIL, window_days=0, first=10)


async def test_conflicts_by_channel_policy_and_outcome(hub: Hub) -> None:
    await hub.receive(1)
    await hub.take(hub.shop, channel_order("S-1", placed=T0))
    await hub.take(hub.market, channel_order("E-1", placed=T0 + timedelta(seconds=5)))

    now = utcnow()  # conflicts are recorded at the time of allocation
    found = await conflicts_report(hub.container.uow, now - timedelta(hours=1), now)

    assert [(c.channel_id, c.outcome, c.conflicts, c.units) for c in found] == [
        (hub.market, "short", 1, 1)
    ]


async def test_sync_health_counts_outcomes_and_latency(hub: Hub) -> None:
    latencies = [10, 20, 30, 40, 50, 60, 70, 80, 90, 1000]  # p95: the 10th of 10
    outcomes = [CallOutcome.OK] * 7 + [CallOutcome.THROTTLED] * 2 + [CallOutcome.FAILED]
    calls = [
        SyncCall(uuid.uuid4(), hub.shop, "push_quantities", ("SKU",), outcome, 1, ms, None,
                 T0 + timedelta(seconds=n))
        for n, (outcome, ms) in enumerate(zip(outcomes, latencies, strict=True))
    ]  # fmt: skip
    old = SyncCall(uuid.uuid4(), hub.shop, "push", (), CallOutcome.DEAD, 1, 5, None,
                   T0 - timedelta(days=2))  # fmt: skip
    async with hub.container.uow() as uow:
        await uow.sync_log.add([*calls, old])
        await uow.commit()

    [shop] = await sync_health(hub.container.uow, T0 - timedelta(days=1), T0 + timedelta(days=1))

    assert (shop.channel_id, shop.calls, shop.outcomes) == (
        hub.shop, 10, {"ok": 7, "throttled": 2, "failed": 1}
    )  # fmt: skip
    assert (shop.average_ms, shop.p95_ms, shop.max_ms) == (145, 1000, 1000)
    assert shop.failure_percent == Decimal("30.00")
