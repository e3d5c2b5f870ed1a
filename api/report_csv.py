"""Reports as CSV, and as series by key for charts: one shape for the CLI, the HTTP download
and the GraphQL `series` field.

Every cell of text is written so that a spreadsheet shows it as text: one starting with =, +,
-, @, a tab or a carriage return (which a spreadsheet would read as a formula: a product's SKU
or a customer's name comes from a channel, that is from anyone) gets an apostrophe in front.
Figures are written as numbers, a negative margin's minus sign included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.analytics.channels import CallStats, ConflictCount
from domain.analytics.conversion import METRICS as CONVERSION_METRICS
from domain.analytics.conversion import Conversion, ConversionReport
from domain.analytics.sales import TIME, SalesFigures, SalesReport
from domain.analytics.stock import BestSeller, Cover
from domain.analytics.stockouts import Stockout
from domain.customers.model import Customer
from domain.errors import InvalidInput
from domain.money import Money
from domain.sync.model import CallOutcome

Cell = str | int | Decimal | datetime | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Cell) -> str:
    """A cell's text: numbers as they are, times in ISO form, text made inert."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str):
        return str(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()


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


def figure(currency: str, metric: str, figures: SalesFigures) -> int | Decimal | None:
    """A figure: amounts as decimals of `currency`, counts as integers."""
    found = METRICS[metric](figures)
    if found is not None and metric in AMOUNTS:
        return Money(int(found), currency).amount
    return found


def value(report: SalesReport, metric: str, figures: SalesFigures) -> str:
    """A figure as text ("" for none)."""
    return cell(figure(report.query.currency, metric, figures))


def _figures(currency: str, figures: SalesFigures) -> list[Cell]:
    return [currency, *(figure(currency, m, figures) for m in METRICS)]


def sales_csv(report: SalesReport) -> str:
    """One row per group, then `total`; amounts in the report's currency."""
    dims = report.query.group_by
    currency = report.query.currency
    total: list[Cell] = ["total", *[None] * (len(dims) - 1)] if dims else []
    rows = [[*row.key, *_figures(currency, row.figures)] for row in report.rows]
    return csv_text(
        [*(d.value for d in dims), "currency", *METRICS],
        [*rows, [*total, *_figures(currency, report.totals)]],
    )


def best_sellers_csv(found: Sequence[BestSeller], currency: str) -> str:
    """Best first, each SKU's sales figures as the sales report has them."""
    return csv_text(
        ["rank", "sku", "currency", *METRICS],
        ([n, b.sku, *_figures(currency, b.figures)] for n, b in enumerate(found, 1)),
    )


def stock_cover_csv(found: Sequence[Cover]) -> str:
    return csv_text(
        ["sku", "available", "sold", "per_day", "days"],
        ([c.sku, c.available, c.sold, c.per_day, c.days] for c in found),
    )


def conflicts_csv(found: Sequence[ConflictCount]) -> str:
    return csv_text(
        ["channel", "policy", "outcome", "conflicts", "units"],
        ([str(c.channel_id), c.policy, c.outcome, c.conflicts, c.units] for c in found),
    )


def sync_health_csv(found: Sequence[CallStats]) -> str:
    """A column per call outcome (every one, so files of different spans line up)."""
    outcomes = [o.value for o in CallOutcome]
    return csv_text(
        ["channel", "calls", "failure_percent", *outcomes, "average_ms", "p95_ms", "max_ms"],
        (
            [str(s.channel_id), s.calls, s.failure_percent,
             *(s.outcomes.get(o, 0) for o in outcomes), s.average_ms, s.p95_ms, s.max_ms]
            for s in found
        ),
    )  # fmt: skip


def stockouts_csv(found: Sequence[Stockout]) -> str:
    return csv_text(
        ["channel", "sku", "spells", "seconds", "out_now"],
        ([str(o.channel_id), o.sku, o.spells, o.seconds, str(o.out_now).lower()] for o in found),
    )


def _conversion_figure(row: Conversion, metric: str) -> int | Decimal | None:
    found: int | Decimal | None = getattr(row, metric)
    return found


def conversion_csv(report: ConversionReport) -> str:
    """One row per channel and SKU (and day, when by day)."""
    return csv_text(
        ["channel", "sku", "day", "views", "orders", "units", "conversion_percent"],
        ([str(r.channel_id), r.sku, r.day.isoformat() if r.day else None, r.views, r.orders,
          r.units, r.conversion_percent] for r in report.rows),
    )  # fmt: skip


def conversion_series(report: ConversionReport, metric: str) -> list[Series]:
    """One series per channel and SKU ("channel / sku"), a point per day (or one point)."""
    if metric not in CONVERSION_METRICS:
        raise InvalidInput(f"unknown metric {metric!r}", field="metric")
    found: dict[str, list[Point]] = {}
    for row in report.rows:
        x = row.day.isoformat() if row.day else None
        y = cell(_conversion_figure(row, metric))
        found.setdefault(f"{row.channel_id} / {row.sku}", []).append(Point(x, y))
    return [Series(key, tuple(points)) for key, points in found.items()]


def customers_csv(found: Iterable[Customer]) -> str:
    return csv_text(
        ["id", "name", "email", "phone", "created_at", "forgotten_at"],
        ([str(c.id), c.name, c.email, c.phone, c.created_at, c.forgotten_at] for c in found),
    )


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
