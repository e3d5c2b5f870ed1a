"""Reports as CSV, and as series by key for charts: one shape for the CLI, the HTTP download
and the GraphQL `series` field."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from domain.analytics.sales import TIME, SalesFigures, SalesReport
from domain.errors import InvalidInput
from domain.money import Money

Figure = Callable[[SalesFigures], int | Decimal | None]
COUNTS: dict[str, Figure] = {
    "orders": lambda f: f.orders,
    "cancelled_orders": lambda f: f.cancelled_orders,
    "units_ordered": lambda f: f.units_ordered,
    "units_cancelled": lambda f: f.units_cancelled,
    "units_returned": lambda f: f.units_returned,
    "units_sold": lambda f: f.units_sold,
    "units_without_cost": lambda f: f.units_without_cost,
}
AMOUNTS: dict[str, Figure] = {
    "gross_revenue": lambda f: f.gross_revenue,
    "discounts": lambda f: f.discounts,
    "cancellations": lambda f: f.cancellations,
    "returns": lambda f: f.returns,
    "net_revenue": lambda f: f.net_revenue,
    "channel_fees": lambda f: f.channel_fees,
    "cogs": lambda f: f.cogs,
    "gross_margin": lambda f: f.gross_margin,
}
METRICS: dict[str, Figure] = {
    **COUNTS, **AMOUNTS, "margin_percent": lambda f: f.margin_percent
}  # fmt: skip


def value(report: SalesReport, metric: str, figures: SalesFigures) -> str:
    """A figure as text: amounts as decimals of the report's currency, counts as integers."""
    found = METRICS[metric](figures)
    if found is None:
        return ""
    if metric in AMOUNTS:
        return str(Money(int(found), report.query.currency).amount)
    return str(found)


def sales_csv(report: SalesReport) -> str:
    """One row per group, then `total`; amounts in the report's currency."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*(d.value for d in report.query.group_by), "currency", *METRICS])
    blank = [""] * len(report.query.group_by)
    for row in report.rows:
        keys = ["" if k is None else k for k in row.key]
        writer.writerow([*keys, report.query.currency,
                         *(value(report, m, row.figures) for m in METRICS)])  # fmt: skip
    total = ["total", *blank[1:]] if blank else []
    writer.writerow([*total, report.query.currency,
                     *(value(report, m, report.totals) for m in METRICS)])  # fmt: skip
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class Point:
    x: str | None  # the period (day, week's Monday, month); None when not grouped by time
    y: str


@dataclass(frozen=True, slots=True)
class Series:
    key: str  # the group's other dimensions' values, joined by " / " ("all" when none)
    points: tuple[Point, ...]


def series(report: SalesReport, metric: str) -> list[Series]:
    """One series per group of the non-time dimensions, a point per period, in order."""
    if metric not in METRICS:
        raise InvalidInput(f"unknown metric {metric!r}", field="metric")
    dims = report.query.group_by
    at = next((n for n, d in enumerate(dims) if d in TIME), None)
    found: dict[str, list[Point]] = {}
    for row in report.rows:
        rest = [k or "-" for n, k in enumerate(row.key) if n != at]
        key = " / ".join(rest) or "all"
        x = row.key[at] if at is not None else None
        found.setdefault(key, []).append(Point(x, value(report, metric, row.figures)))
    return [Series(key, tuple(points)) for key, points in found.items()]
