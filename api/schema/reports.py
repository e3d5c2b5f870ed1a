"""Reports: the sales report (figures per channel, time, SKU, product or location, in one
currency) as rows, totals and chart-ready series."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from api.report_csv import METRICS, conversion_series, series
from api.schema.catalog.types import Money
from api.schema.context import Info
from api.schema.errors import query_errors
from domain.analytics.channels import conflicts_report, sync_health
from domain.analytics.conversion import METRICS as CONVERSION_METRICS
from domain.analytics.conversion import ConversionReport, conversion_report
from domain.analytics.sales import Dimension, SalesFigures, SalesQuery, SalesReport, sales_report
from domain.analytics.stock import Ranking, best_sellers, stock_cover
from domain.analytics.stockouts import stockout_report
from domain.clock import utcnow
from domain.money import Money as DomainMoney

SalesDimension = Dimension
strawberry.enum(
    SalesDimension,
    name="SalesDimension",
    description="CHANNEL; DAY, WEEK (starting Monday), MONTH (UTC days of sale); SKU, PRODUCT, "
    "LOCATION (where the line was reserved or shipped from).",
)


@strawberry.type(
    name="SalesFigures", description="One group's figures; money in the report's currency."
)
class SalesFiguresType:
    orders: int
    cancelled_orders: int
    units_ordered: int
    units_cancelled: int
    units_returned: int
    units_sold: int
    units_without_cost: int = strawberry.field(
        description="Units sold whose variant had no cost: cogs leaves them out."
    )
    gross_revenue: Money
    discounts: Money
    cancellations: Money
    returns: Money
    net_revenue: Money
    channel_fees: Money
    cogs: Money
    gross_margin: Money
    margin_percent: str | None = strawberry.field(
        description="Gross margin over net revenue, in %, 2 decimals; null without revenue."
    )

    @classmethod
    def of(cls, f: SalesFigures, currency: str) -> SalesFiguresType:
        def money(minor: int) -> Money:
            return Money.from_domain(DomainMoney(minor, currency))

        return cls(
            orders=f.orders, cancelled_orders=f.cancelled_orders, units_ordered=f.units_ordered,
            units_cancelled=f.units_cancelled, units_returned=f.units_returned,
            units_sold=f.units_sold, units_without_cost=f.units_without_cost,
            gross_revenue=money(f.gross_revenue), discounts=money(f.discounts),
            cancellations=money(f.cancellations), returns=money(f.returns),
            net_revenue=money(f.net_revenue), channel_fees=money(f.channel_fees),
            cogs=money(f.cogs), gross_margin=money(f.gross_margin),
            margin_percent=str(f.margin_percent) if f.margin_percent is not None else None,
        )  # fmt: skip


@strawberry.type(name="SalesRow")
class SalesRowType:
    key: list[str | None] = strawberry.field(
        description="The value of each groupBy dimension, in order: a channel, product or "
        "location id, a SKU, or a period (2026-03-02 for a day or a week's Monday, 2026-03 for "
        "a month). Null: a fee of a whole order under SKU/PRODUCT/LOCATION, or a line without."
    )
    figures: SalesFiguresType


@strawberry.type
class SeriesPoint:
    x: str | None
    y: str


@strawberry.type(description="A chart's line: one group of the non-time dimensions.")
class SalesSeries:
    key: str
    points: list[SeriesPoint]


@strawberry.type(name="SalesReport")
class SalesReportType:
    currency: str
    group_by: list[SalesDimension]
    rows: list[SalesRowType]
    totals: SalesFiguresType
    report: strawberry.Private[SalesReport]

    @strawberry.field(
        description="Chart-ready: one series per group of the non-time dimensions, a point "
        f"per period. metric: one of {', '.join(METRICS)}."
    )
    def series(self, metric: str) -> list[SalesSeries]:
        with query_errors():
            found = series(self.report, metric)
        return [
            SalesSeries(key=s.key, points=[SeriesPoint(x=p.x, y=p.y) for p in s.points])
            for s in found
        ]


@strawberry.type
class ReportsQuery:
    @strawberry.field(
        description="Sales of the orders placed in [from, to): orders, units, revenue, "
        "discounts, channel fees, cost of goods (each line's cost at the time of sale), gross "
        "margin, cancellations and returns; each day's sales converted at that day's stored "
        "rate into `currency` (the merchant's, NEXO_CURRENCY, by default). At most 3 "
        "dimensions, 5 years."
    )
    async def sales_report(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        group_by: list[SalesDimension] | None = None,
        currency: str | None = None,
    ) -> SalesReportType:
        with query_errors():
            wanted = (currency or info.context.container.settings.currency).upper()
            query = SalesQuery(from_, to, tuple(group_by or ()), wanted)
            report = await sales_report(info.context.container.uow, query)
        return SalesReportType(
            currency=wanted,
            group_by=list(query.group_by),
            rows=[
                SalesRowType(key=list(r.key), figures=SalesFiguresType.of(r.figures, wanted))
                for r in report.rows
            ],
            totals=SalesFiguresType.of(report.totals, wanted),
            report=report,
        )


BestSellerRanking = Ranking
strawberry.enum(
    BestSellerRanking,
    name="BestSellerRanking",
    description="UNITS sold, net REVENUE, or gross MARGIN.",
)


@strawberry.type
class BestSeller:
    sku: str
    figures: SalesFiguresType


@strawberry.type(description="Days of cover: units available now over units sold per day.")
class StockCover:
    sku: str
    available: int
    sold: int = strawberry.field(description="Units kept by buyers over the window.")
    per_day: str
    days: str | None = strawberry.field(description="Null: nothing sold in the window.")


@strawberry.type(description="Last-unit conflicts of one channel, policy and outcome.")
class ConflictOutcome:
    channel_id: strawberry.ID
    policy: str
    outcome: str = strawberry.field(
        description="The losing line's status now: short (backordered or held for a person), "
        "cancelled, allocated (stock came), shipped…"
    )
    conflicts: int
    units: int


@strawberry.type
class OutcomeCount:
    outcome: str
    calls: int


@strawberry.type(description="One channel's API calls over the span.")
class ChannelSyncHealth:
    channel_id: strawberry.ID
    calls: int
    failure_percent: str = strawberry.field(description="Calls not OK, in %.")
    outcomes: list[OutcomeCount]
    average_ms: int
    p95_ms: int
    max_ms: int


@strawberry.type(description="How long one channel showed one SKU at 0 over the span.")
class ChannelStockout:
    channel_id: strawberry.ID
    sku: str
    spells: int = strawberry.field(description="Spells at 0 that overlap the span.")
    seconds: int = strawberry.field(description="Time at 0 within the span, up to now.")
    out_now: bool = strawberry.field(description="The channel shows 0 still.")


@strawberry.type(description="Views a channel reported, and the orders they became.")
class ConversionRow:
    channel_id: strawberry.ID
    sku: str
    day: date | None = strawberry.field(description="Null: the report's whole span.")
    views: int = strawberry.field(
        description="As the channel counts them: views of the listing showing the SKU "
        "(a listing of several SKUs counts its views for each)."
    )
    orders: int
    units: int
    conversion_percent: str | None = strawberry.field(
        description="Orders over views, in %, 2 decimals; null without views."
    )


@strawberry.type(name="ConversionReport")
class ConversionReportType:
    first_day: date
    last_day: date = strawberry.field(description="Inclusive.")
    rows: list[ConversionRow]
    report: strawberry.Private[ConversionReport]

    @strawberry.field(
        description="Chart-ready: one series per channel and SKU, a point per day (byDay) or "
        f"one. metric: one of {', '.join(CONVERSION_METRICS)}."
    )
    def series(self, metric: str) -> list[SalesSeries]:
        with query_errors():
            found = conversion_series(self.report, metric)
        return [
            SalesSeries(key=s.key, points=[SeriesPoint(x=p.x, y=p.y) for p in s.points])
            for s in found
        ]


@strawberry.type
class StockReportsQuery:
    @strawberry.field(description="The SKUs that sold most in [from, to), best first.")
    async def best_sellers(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        by: BestSellerRanking = Ranking.UNITS,
        first: int = 20,
        currency: str | None = None,
    ) -> list[BestSeller]:
        with query_errors():
            wanted = (currency or info.context.container.settings.currency).upper()
            query = SalesQuery(from_, to, (), wanted)
            found = await best_sellers(info.context.container.uow, query, by=by, first=first)
        return [BestSeller(sku=b.sku, figures=SalesFiguresType.of(b.figures, wanted))
                for b in found]  # fmt: skip

    @strawberry.field(
        description="SKUs by days of cover, shortest first (those that sold nothing last), "
        "from sales over the last `windowDays` (1 to 365)."
    )
    async def stock_cover(
        self, info: Info, window_days: int = 30, first: int = 50
    ) -> list[StockCover]:
        with query_errors():
            found = await stock_cover(
                info.context.container.uow, now=utcnow(), window_days=window_days, first=first
            )
        return [
            StockCover(sku=c.sku, available=c.available, sold=c.sold, per_day=str(c.per_day),
                       days=str(c.days) if c.days is not None else None)
            for c in found
        ]  # fmt: skip

    @strawberry.field(description="Last-unit conflicts recorded in [from, to).")
    async def conflicts_report(
        self, info: Info, from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime
    ) -> list[ConflictOutcome]:
        with query_errors():
            found = await conflicts_report(info.context.container.uow, from_, to)
        return [
            ConflictOutcome(channel_id=strawberry.ID(str(c.channel_id)), policy=c.policy,
                            outcome=c.outcome, conflicts=c.conflicts, units=c.units)
            for c in found
        ]  # fmt: skip

    @strawberry.field(description="Each channel's API calls in [from, to): outcomes, latency.")
    async def sync_health_report(
        self, info: Info, from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime
    ) -> list[ChannelSyncHealth]:
        with query_errors():
            found = await sync_health(info.context.container.uow, from_, to)
        return [
            ChannelSyncHealth(
                channel_id=strawberry.ID(str(s.channel_id)), calls=s.calls,
                failure_percent=str(s.failure_percent),
                outcomes=[OutcomeCount(outcome=k, calls=v) for k, v in sorted(s.outcomes.items())],
                average_ms=s.average_ms, p95_ms=s.p95_ms, max_ms=s.max_ms,
            )
            for s in found
        ]  # fmt: skip

    @strawberry.field(
        description="Per channel and SKU, how long the channel showed it at 0 in [from, to), "
        "longest first: from when the channel confirmed 0 to when it confirmed more (kept "
        "since migration 0022; SKUs already at 0 then count from their last confirmation)."
    )
    async def stockouts(
        self, info: Info, from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime
    ) -> list[ChannelStockout]:
        with query_errors():
            found = await stockout_report(info.context.container.uow, from_, to, utcnow())
        return [
            ChannelStockout(channel_id=strawberry.ID(str(o.channel_id)), sku=o.sku,
                            spells=o.spells, seconds=o.seconds, out_now=o.out_now)
            for o in found
        ]  # fmt: skip

    @strawberry.field(
        description="Per channel and SKU (and day, with byDay) over the UTC days [from, to) "
        "touches: the views the channel reported (eBay's traffic report, Shopify's product "
        "page sessions, MercadoLibre's item visits, Amazon's page views from the sales and "
        "traffic report; read hourly), the "
        "orders and units placed, and conversion. At most 366 days."
    )
    async def conversion_report(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        by_day: bool = False,
    ) -> ConversionReportType:
        with query_errors():
            found = await conversion_report(info.context.container.uow, from_, to, by_day=by_day)
        return ConversionReportType(
            first_day=found.first_day, last_day=found.last_day, report=found,
            rows=[
                ConversionRow(
                    channel_id=strawberry.ID(str(r.channel_id)), sku=r.sku, day=r.day,
                    views=r.views, orders=r.orders, units=r.units,
                    conversion_percent=str(r.conversion_percent)
                    if r.conversion_percent is not None else None,
                )
                for r in found.rows
            ],
        )  # fmt: skip
