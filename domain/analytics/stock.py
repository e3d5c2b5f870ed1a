"""Stock reports: best sellers over a span, and days of cover per SKU from recent sales.

Days of cover: units available now over units sold per day in the window before now (units
kept by buyers, as the sales report counts them). A SKU that sold nothing in the window has
no cover figure (it would last for ever at that pace); one with nothing available has 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from domain.analytics.sales import Dimension, SalesFigures, SalesQuery, sales_report
from domain.errors import InvalidInput
from domain.ports import UnitOfWorkFactory

MAX_LIST = 500
MAX_WINDOW_DAYS = 365


class Ranking(StrEnum):
    UNITS = "units"
    REVENUE = "revenue"
    MARGIN = "margin"


@dataclass(frozen=True, slots=True)
class BestSeller:
    sku: str
    figures: SalesFigures


async def best_sellers(
    uows: UnitOfWorkFactory, query: SalesQuery, *, by: Ranking, first: int
) -> list[BestSeller]:
    """The SKUs that sold most over the query's span (its dimensions are SKU's), best first;
    ties by SKU."""
    if not 1 <= first <= MAX_LIST:
        raise InvalidInput(f"first is 1 to {MAX_LIST}", field="first")
    report = await sales_report(uows, SalesQuery(query.start, query.end, (Dimension.SKU,),
                                                 query.currency))  # fmt: skip
    sold = [BestSeller(row.key[0], row.figures) for row in report.rows if row.key[0] is not None]
    sold.sort(key=lambda b: (-_score(b.figures, by), b.sku))
    return sold[:first]


def _score(figures: SalesFigures, by: Ranking) -> int:
    if by is Ranking.UNITS:
        return figures.units_sold
    return figures.net_revenue if by is Ranking.REVENUE else figures.gross_margin


@dataclass(frozen=True, slots=True)
class Cover:
    sku: str
    available: int
    sold: int  # units kept by buyers in the window
    per_day: Decimal  # sold / window days, 2 decimals
    days: Decimal | None  # available / per day, 1 decimal; None: nothing sold


def cover(sku: str, available: int, sold: int, window_days: int) -> Cover:
    per_day = Decimal(sold) / window_days
    days = None
    if sold > 0:
        days = (max(available, 0) / per_day).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    rounded = per_day.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Cover(sku, available, sold, rounded, days)


async def stock_cover(
    uows: UnitOfWorkFactory, *, now: datetime, window_days: int, first: int
) -> list[Cover]:
    """SKUs by days of cover, shortest first (those that sold nothing last)."""
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise InvalidInput(f"a window of 1 to {MAX_WINDOW_DAYS} days", field="windowDays")
    if not 1 <= first <= MAX_LIST:
        raise InvalidInput(f"first is 1 to {MAX_LIST}", field="first")
    async with uows(readonly=True) as uow:
        sold = await uow.sales.units_kept(now - timedelta(days=window_days), now)
        available = await uow.sales.available()
    found = [cover(sku, units, sold.get(sku, 0), window_days) for sku, units in available.items()]
    found.sort(key=lambda c: (c.days is None, c.days or 0, c.sku))
    return found[:first]
