"""The sales report: orders, units, revenue, discounts, fees, cost of goods and margin, grouped
by channel, time, SKU, product or location, in one currency.

Storage sums each figure per group, day of sale and currency, converts each sum at its day's
rate (`RateHistory.segments`) and adds them up per group, in SQL; when grouped by time, per
day, which this module adds into weeks (starting Monday) or months. Figures:

- units: ordered; cancelled (a cancelled line's units that had not shipped); returned; sold
  (ordered, less cancelled and returned).
- gross revenue: price x units ordered. Cancellations and returns: price x those units.
  Discounts: a line's discount on the units sold (pro rata, rounded down). Net revenue:
  gross less cancellations, returns and discounts.
- channel fees: as the channels reported them (a fee of a line goes with the line's SKU,
  product and location; a fee of the whole order has none of those).
- cost of goods: each line's cost at the time of sale x units sold; units sold without a
  known cost are counted (`units_without_cost`) rather than guessed.
- gross margin: net revenue less fees and cost of goods; margin % of net revenue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from domain.errors import InvalidInput
from domain.money import exponent
from domain.ports import UnitOfWorkFactory

MAX_DAYS = 1830  # five years
MAX_DIMENSIONS = 3


class Dimension(StrEnum):
    CHANNEL = "channel"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    SKU = "sku"
    PRODUCT = "product"
    LOCATION = "location"


TIME = (Dimension.DAY, Dimension.WEEK, Dimension.MONTH)
# Dimensions of an order line rather than of the order: counted per line.
LINE_DIMENSIONS = frozenset({Dimension.SKU, Dimension.PRODUCT, Dimension.LOCATION})


@dataclass(frozen=True, slots=True)
class SalesQuery:
    start: datetime  # inclusive
    end: datetime  # exclusive
    group_by: tuple[Dimension, ...]
    currency: str

    def __post_init__(self) -> None:
        exponent(self.currency, field="currency")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidInput("times carry their zone (UTC)", field="from")
        if not self.start < self.end:
            raise InvalidInput("`from` is before `to`", field="to")
        if self.end - self.start > timedelta(days=MAX_DAYS):
            raise InvalidInput(f"a report spans at most {MAX_DAYS} days", field="to")
        if len(set(self.group_by)) != len(self.group_by):
            raise InvalidInput("a dimension is grouped by once", field="groupBy")
        if len(self.group_by) > MAX_DIMENSIONS:
            raise InvalidInput(f"at most {MAX_DIMENSIONS} dimensions", field="groupBy")

    @property
    def stored_dimensions(self) -> tuple[Dimension, ...]:
        """The dimensions storage groups by (time is always grouped by day)."""
        return tuple(d for d in self.group_by if d not in TIME)

    @property
    def by_time(self) -> bool:
        return any(d in TIME for d in self.group_by)

    @property
    def by_line(self) -> bool:
        return any(d in LINE_DIMENSIONS for d in self.group_by)


Keys = tuple[str | None, ...]  # a group's value of each stored dimension, in order


@dataclass(frozen=True, slots=True)
class LineSums:
    """Order lines' sums for one group (and day, when grouped by time), money converted."""

    keys: Keys
    day: date | None
    units_ordered: int
    units_cancelled: int
    units_returned: int
    gross: int
    discounts: int
    cancellations: int
    returns: int
    cogs: int
    units_without_cost: int


@dataclass(frozen=True, slots=True)
class FeeSums:
    keys: Keys
    day: date | None
    amount: int


@dataclass(frozen=True, slots=True)
class OrderCounts:
    keys: Keys
    day: date | None
    orders: int
    cancelled_orders: int


@dataclass(slots=True)
class SalesFigures:
    """One group's figures, money in minor units of the report's currency."""

    orders: int = 0
    cancelled_orders: int = 0
    units_ordered: int = 0
    units_cancelled: int = 0
    units_returned: int = 0
    gross_revenue: int = 0
    discounts: int = 0
    cancellations: int = 0
    returns: int = 0
    channel_fees: int = 0
    cogs: int = 0
    units_without_cost: int = 0

    @property
    def units_sold(self) -> int:
        return self.units_ordered - self.units_cancelled - self.units_returned

    @property
    def net_revenue(self) -> int:
        return self.gross_revenue - self.cancellations - self.returns - self.discounts

    @property
    def gross_margin(self) -> int:
        return self.net_revenue - self.channel_fees - self.cogs

    @property
    def margin_percent(self) -> Decimal | None:
        if self.net_revenue == 0:
            return None
        share = Decimal(self.gross_margin) * 100 / Decimal(self.net_revenue)
        return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def add(self, other: SalesFigures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True, slots=True)
class SalesRow:
    key: tuple[str | None, ...]  # the value of each dimension asked for, in order
    figures: SalesFigures


@dataclass(frozen=True, slots=True)
class SalesReport:
    query: SalesQuery
    rows: tuple[SalesRow, ...]
    totals: SalesFigures = field(default_factory=SalesFigures)


def period(dimension: Dimension, day: date) -> str:
    if dimension is Dimension.DAY:
        return day.isoformat()
    if dimension is Dimension.WEEK:
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.strftime("%Y-%m")


def build(
    query: SalesQuery,
    lines: Iterable[LineSums],
    fees: Iterable[FeeSums],
    counts: Iterable[OrderCounts],
) -> SalesReport:
    """The report from storage's sums (converted already): days into weeks or months."""
    groups: dict[tuple[str | None, ...], SalesFigures] = {}

    def into(keys: Keys, day: date | None) -> SalesFigures:
        return groups.setdefault(_key(query, keys, day), SalesFigures())

    for s in lines:
        into(s.keys, s.day).add(
            SalesFigures(
                units_ordered=s.units_ordered, units_cancelled=s.units_cancelled,
                units_returned=s.units_returned, gross_revenue=s.gross, discounts=s.discounts,
                cancellations=s.cancellations, returns=s.returns, cogs=s.cogs,
                units_without_cost=s.units_without_cost,
            )
        )  # fmt: skip
    for fee in fees:
        into(fee.keys, fee.day).channel_fees += fee.amount
    for count in counts:
        figures = into(count.keys, count.day)
        figures.orders += count.orders
        figures.cancelled_orders += count.cancelled_orders
    totals = SalesFigures()
    for figures in groups.values():
        totals.add(figures)
    rows = tuple(SalesRow(k, groups[k]) for k in sorted(groups, key=_sortable))
    return SalesReport(query, rows, totals)


def _key(query: SalesQuery, keys: Keys, day: date | None) -> tuple[str | None, ...]:
    stored = dict(zip(query.stored_dimensions, keys, strict=True))
    return tuple(
        period(d, day) if d in TIME and day is not None else stored.get(d) for d in query.group_by
    )


def _sortable(key: Sequence[str | None]) -> tuple[tuple[bool, str], ...]:
    return tuple((value is None, value or "") for value in key)


async def sales_report(uows: UnitOfWorkFactory, query: SalesQuery) -> SalesReport:
    async with uows(readonly=True) as uow:
        rates = (await uow.pricing.rate_history()).segments(query.currency)
        lines, fees, counts = await uow.sales.sums(query, rates)
    return build(query, lines, fees, counts)
