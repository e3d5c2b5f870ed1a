"""Conversion per channel and SKU: how many of the views a channel reported became orders.

Views are the channel's own count (see `views`), per UTC day; orders and units are those of
the order lines placed on the same days (every order placed, cancelled ones included, as
`salesReport`'s `orders` and `unitsOrdered`). Conversion is orders over views, in %, two
decimals, half up (eBay's SALES_CONVERSION_RATE: transactions over views); none without views.
A channel that reports no views shows its orders with no conversion.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import InvalidInput
from domain.ports import UnitOfWorkFactory

MAX_DAYS = 366
METRICS = ("views", "orders", "units", "conversion_percent")


@dataclass(frozen=True, slots=True)
class DayCount:
    """What storage counts for one channel, SKU and UTC day."""

    channel_id: uuid.UUID
    sku: str
    day: date
    views: int = 0
    orders: int = 0
    units: int = 0


@dataclass(frozen=True, slots=True)
class Conversion:
    channel_id: uuid.UUID
    sku: str
    day: date | None  # None: the whole span
    views: int
    orders: int
    units: int

    @property
    def conversion_percent(self) -> Decimal | None:
        if not self.views:
            return None
        share = Decimal(self.orders * 100) / self.views
        return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class ConversionReport:
    first_day: date
    last_day: date  # inclusive
    by_day: bool
    rows: tuple[Conversion, ...]


def days_of(start: datetime, end: datetime) -> tuple[date, date]:
    """The UTC days [start, end) touches, as (first, last): whole days only."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("times carry their zone (UTC)", field="from")
    if not start < end:
        raise InvalidInput("`from` is before `to`", field="to")
    first = start.astimezone(UTC).date()
    stop = end.astimezone(UTC)
    last = stop.date() - timedelta(days=1) if stop.time() == time(0) else stop.date()
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(f"a conversion report spans at most {MAX_DAYS} days", field="to")
    return first, last


def conversions(counts: Iterable[DayCount], by_day: bool) -> list[Conversion]:
    """Counts added per channel and SKU (and day, when `by_day`), in that order."""
    found: dict[tuple[uuid.UUID, str, date | None], list[int]] = {}
    for c in counts:
        sums = found.setdefault((c.channel_id, c.sku, c.day if by_day else None), [0, 0, 0])
        sums[0] += c.views
        sums[1] += c.orders
        sums[2] += c.units
    return [
        Conversion(channel_id, sku, day, *sums)
        for (channel_id, sku, day), sums in sorted(
            found.items(), key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2] or date.min)
        )
    ]


async def conversion_report(
    uows: UnitOfWorkFactory, start: datetime, end: datetime, *, by_day: bool = False
) -> ConversionReport:
    first, last = days_of(start, end)
    async with uows(readonly=True) as uow:
        counts = await uow.sales.conversion_counts(first, last)
    return ConversionReport(first, last, by_day, tuple(conversions(counts, by_day)))
