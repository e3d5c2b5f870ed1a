"""The sales report against figures worked out by hand (conftest.py's month), on both
backends: mixed currencies at each day's rate, a partial shipment then a cancellation, a
return, discounts, fees of lines and of orders, a SKU without a cost."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.analytics.sales import Dimension, SalesFigures, SalesQuery, sales_report
from domain.errors import InvalidInput
from tests.integration.analytics.conftest import APRIL, MARCH, Sales

pytestmark = pytest.mark.usefixtures("backend")

# By channel, in USD (EUR at 1.10 on day 1):
# shop:   O1 gross 40.00, discount 4.00, cogs 2 x 8.00, fee 1.50;
#         O3 gross 20.00 + 10.00, A returned (20.00), PART-1 sold without a cost (2 units).
# market: O2 gross (18.00 + 30.00) EUR = 52.80; cancelled A (18.00) and 2 B (20.00) EUR = 41.80;
#         1 B kept: cogs 4.00 EUR = 4.40; fees 2.00 + 1.00 EUR = 3.30.
SHOP = SalesFigures(
    orders=2, cancelled_orders=0, units_ordered=5, units_cancelled=0, units_returned=1,
    gross_revenue=7000, discounts=400, cancellations=0, returns=2000, channel_fees=150,
    cogs=1600, units_without_cost=2,
)  # fmt: skip
MARKET = SalesFigures(
    orders=1, cancelled_orders=1, units_ordered=4, units_cancelled=3, units_returned=0,
    gross_revenue=5280, discounts=0, cancellations=4180, returns=0, channel_fees=330, cogs=440,
    units_without_cost=0,
)  # fmt: skip


def _query(*group_by: Dimension, currency: str = "USD") -> SalesQuery:
    return SalesQuery(MARCH, APRIL, group_by, currency)


async def test_by_channel_every_figure_is_the_hand_computed_one(sales: Sales) -> None:
    report = await sales_report(sales.hub.container.uow, _query(Dimension.CHANNEL))

    rows = {row.key: row.figures for row in report.rows}
    assert rows == {(str(sales.hub.shop),): SHOP, (str(sales.hub.market),): MARKET}
    shop = rows[(str(sales.hub.shop),)]
    assert (shop.units_sold, shop.net_revenue, shop.gross_margin) == (4, 4600, 2850)
    assert shop.margin_percent == Decimal("61.96")  # 28.50 / 46.00
    market = rows[(str(sales.hub.market),)]
    assert (market.units_sold, market.net_revenue, market.gross_margin) == (1, 1100, 330)
    assert market.margin_percent == Decimal("30.00")
    totals = report.totals
    assert (totals.orders, totals.gross_revenue, totals.net_revenue) == (3, 12280, 5700)
    assert (totals.channel_fees, totals.cogs, totals.gross_margin) == (480, 2040, 3180)
    assert totals.margin_percent == Decimal("55.79")


async def test_by_sku_fees_follow_their_lines_and_an_orders_fee_has_no_sku(sales: Sales) -> None:
    report = await sales_report(sales.hub.container.uow, _query(Dimension.SKU))

    rows = {row.key: row.figures for row in report.rows}
    # A: O1 (2 x 20.00, 4.00 off), O2 (18.00 EUR = 19.80, cancelled), O3 (20.00, returned).
    assert rows[("A-1",)] == SalesFigures(
        orders=3, cancelled_orders=1, units_ordered=4, units_cancelled=1, units_returned=1,
        gross_revenue=7980, discounts=400, cancellations=1980, returns=2000, channel_fees=0,
        cogs=1600,
    )  # fmt: skip
    # B: 3 x 10.00 EUR = 33.00, 2 cancelled (22.00), its line's fee 2.00 EUR, 1 kept at 4.00 EUR.
    assert rows[("B-1",)] == SalesFigures(
        orders=1, cancelled_orders=1, units_ordered=3, units_cancelled=2, gross_revenue=3300,
        cancellations=2200, channel_fees=220, cogs=440,
    )  # fmt: skip
    assert rows[("PART-1",)] == SalesFigures(
        orders=1, units_ordered=2, gross_revenue=1000, units_without_cost=2
    )
    # O1's payment fee (1.50) and O2's marketplace fee (1.00 EUR) belong to no line.
    assert rows[(None,)] == SalesFigures(channel_fees=260)
    assert rows[(None,)].margin_percent is None
    assert report.totals.gross_margin == 3180  # the same money as by channel
    assert report.totals.orders == 5  # an order counts once in each SKU it has


async def test_by_product_and_month_and_week(sales: Sales) -> None:
    by_product = await sales_report(
        sales.hub.container.uow, _query(Dimension.PRODUCT, Dimension.MONTH)
    )
    rows = {row.key: row.figures for row in by_product.rows}
    assert rows[(sales.product_a, "2026-03")].gross_revenue == 7980
    assert rows[(sales.product_b, "2026-03")].channel_fees == 220
    assert rows[(None, "2026-03")].gross_revenue == 1000  # PART-1 has no product

    by_week = await sales_report(sales.hub.container.uow, _query(Dimension.WEEK))
    weeks = {row.key: row.figures for row in by_week.rows}
    assert set(weeks) == {("2026-03-02",), ("2026-03-09",)}
    assert weeks[("2026-03-09",)].gross_revenue == 3000  # O3 alone


async def test_each_days_sales_convert_at_that_days_rate(sales: Sales) -> None:
    report = await sales_report(
        sales.hub.container.uow, _query(Dimension.CHANNEL, Dimension.DAY, currency="EUR")
    )
    rows = {row.key: row.figures for row in report.rows}
    assert rows[(str(sales.hub.market), "2026-03-02")].gross_revenue == 4800  # its own currency
    # 40.00 USD at 1/1.10 on day 1; on day 2 at 1/1.20: 20.00 (A) and 10.00 (PART-1) apart.
    assert rows[(str(sales.hub.shop), "2026-03-02")].gross_revenue == 3636
    assert rows[(str(sales.hub.shop), "2026-03-10")].gross_revenue == 1667 + 833


async def test_a_bad_query_is_refused_before_reading(sales: Sales) -> None:
    with pytest.raises(InvalidInput) as refused:
        SalesQuery(APRIL, MARCH, (), "USD")
    assert refused.value.field == "to"
    with pytest.raises(InvalidInput):
        SalesQuery(MARCH, APRIL, (Dimension.SKU, Dimension.SKU), "USD")
    with pytest.raises(InvalidInput):
        await sales_report(sales.hub.container.uow, _query(currency="GBP"))  # no GBP rate
