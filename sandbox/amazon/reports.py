"""Reports 2021-06-30: GET_SALES_AND_TRAFFIC_REPORT, requested, processed, downloaded.

`createReport` queues a report: IN_QUEUE for `queue_seconds`, IN_PROGRESS for
`processing_seconds`, then DONE with a `reportDocumentId` whose document (GZIP-compressed
JSON, checked against the official sellerSalesAndTrafficReport schema) is fetched from a
pre-signed URL. A report with nothing to say (no traffic and no sales in its dates) is
CANCELLED instead, as Amazon cancels "if there is no data to return".

What the sandbox serves of the report: `dateGranularity` DAY and `asinGranularity` SKU (the
others are refused 400, not modelled). As Amazon builds it, `salesAndTrafficByDate` has one
entry per day of the range while `salesAndTrafficByAsin` sums the whole range per SKU: a
figure per SKU and day needs one report per day. Page views and sessions are recorded per
SKU and day (`view`); sales come from the seller's orders created in the range. Every view is
a browser view (the mobile-app figures are 0).
"""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sandbox.amazon.orders import Order, iso

REPORT_TYPE: Final = "GET_SALES_AND_TRAFFIC_REPORT"
QUEUE_SECONDS: Final = 2.0
PROCESSING_SECONDS: Final = 8.0
MAX_DAYS: Final = 731  # a start more than two years back is cancelled

_ids = itertools.count(70_001)


@dataclass
class Traffic:
    page_views: int = 0
    sessions: int = 0


@dataclass
class Report:
    report_id: str
    marketplace_ids: list[str]
    options: dict[str, str]
    first: date
    last: date
    asked: tuple[str, str]  # dataStartTime and dataEndTime, as the request gave them
    created: float
    starts: float
    ends: float
    status: str = "IN_QUEUE"  # DONE or CANCELLED once it has ended
    document_id: str | None = None

    def view(self, now: float) -> dict[str, Any]:
        status = self.status
        if status == "IN_QUEUE" and now >= self.starts:
            status = "IN_PROGRESS"
        found: dict[str, Any] = {
            "reportId": self.report_id,
            "reportType": REPORT_TYPE,
            "marketplaceIds": self.marketplace_ids,
            "dataStartTime": self.asked[0],
            "dataEndTime": self.asked[1],
            "createdTime": iso(self.created),
            "processingStatus": status,
        }
        if status != "IN_QUEUE":
            found["processingStartTime"] = iso(self.starts)
        if status in ("DONE", "CANCELLED"):
            found["processingEndTime"] = iso(self.ends)
        if self.document_id:
            found["reportDocumentId"] = self.document_id
        return found


@dataclass
class Reports:
    clock: Callable[[], float]
    queue_seconds: float = QUEUE_SECONDS
    processing_seconds: float = PROCESSING_SECONDS
    traffic: dict[tuple[str, date], Traffic] = field(default_factory=dict)
    reports: dict[str, Report] = field(default_factory=dict)
    documents: dict[str, bytes] = field(default_factory=dict)  # id -> GZIP content

    def view(self, sku: str, page_views: int, day: date, sessions: int | None = None) -> Traffic:
        """Buyers open `sku`'s detail page `page_views` times on `day`, in `sessions` visits
        (as many as the views unless said)."""
        if page_views < 0 or (sessions is not None and not 0 <= sessions <= page_views):
            raise ValueError("page views >= 0, and 0 <= sessions <= page views")
        held = self.traffic.setdefault((sku, day), Traffic())
        held.page_views += page_views
        held.sessions += page_views if sessions is None else sessions
        return held

    def create(
        self, marketplaces: list[str], options: dict[str, str], asked: tuple[str, str]
    ) -> Report:
        """A report of the days from `asked`'s start to its end (the time of day ignored)."""
        now = self.clock()
        starts = now + self.queue_seconds
        first, last = (date.fromisoformat(at[:10]) for at in asked)
        report = Report(
            str(next(_ids)), marketplaces, options, first, last, asked, now, starts,
            starts + self.processing_seconds,
        )  # fmt: skip
        self.reports[report.report_id] = report
        return report

    def due(self) -> list[Report]:
        """Reports whose processing has ended by now and whose outcome is not yet recorded."""
        now = self.clock()
        return [r for r in self.reports.values() if r.status == "IN_QUEUE" and r.ends <= now]

    def finish(self, report: Report, document: dict[str, Any] | None) -> None:
        if document is None:
            report.status = "CANCELLED"
            return
        document_id = f"amzn1.spdoc.1.4.na.{next(_ids)}"
        self.documents[document_id] = gzip.compress(json.dumps(document).encode())
        report.document_id, report.status = document_id, "DONE"

    def document(
        self, report: Report, orders: Iterable[Order], asin_of: Callable[[str], str], currency: str
    ) -> dict[str, Any] | None:
        """The report's JSON document; None when its dates hold no traffic and no sales."""
        days = [
            report.first + timedelta(days=n) for n in range((report.last - report.first).days + 1)
        ]
        sold = _sales(orders, report.first, report.last)
        traffic: dict[str, Traffic] = {}
        for (sku, day), held in self.traffic.items():
            if report.first <= day <= report.last:
                total = traffic.setdefault(sku, Traffic())
                total.page_views += held.page_views
                total.sessions += held.sessions
        skus = sorted(set(traffic) | {sku for sku, _day in sold})
        if not skus:
            return None
        views = sum(t.page_views for t in traffic.values())
        sessions = sum(t.sessions for t in traffic.values())
        return {
            "reportSpecification": {
                "reportType": REPORT_TYPE, "reportOptions": report.options,
                "dataStartTime": report.first.isoformat(), "dataEndTime": report.last.isoformat(),
                "marketplaceIds": report.marketplace_ids,
            },
            "salesAndTrafficByDate": [self._by_date(day, sold, currency) for day in days],
            "salesAndTrafficByAsin": [
                _by_sku(sku, asin_of(sku), traffic.get(sku, Traffic()), sold, views, sessions,
                        currency)
                for sku in skus
            ],
        }  # fmt: skip

    def _by_date(
        self, day: date, sold: dict[tuple[str, date], _Sold], currency: str
    ) -> dict[str, Any]:
        views = sum(t.page_views for (_s, d), t in self.traffic.items() if d == day)
        sessions = sum(t.sessions for (_s, d), t in self.traffic.items() if d == day)
        units = sum(s.units for (_s, d), s in sold.items() if d == day)
        items = sum(s.items for (_s, d), s in sold.items() if d == day)
        amount = sum((s.amount for (_s, d), s in sold.items() if d == day), Decimal(0))
        return {
            "date": day.isoformat(),
            "salesByDate": {
                "orderedProductSales": _money(amount, currency), "unitsOrdered": units,
                "totalOrderItems": items,
                "averageSalesPerOrderItem": _money(amount / items if items else 0, currency),
                "averageUnitsPerOrderItem": round(units / items, 2) if items else 0,
                "averageSellingPrice": _money(amount / units if units else 0, currency),
                "unitsRefunded": 0, "refundRate": 0, "claimsGranted": 0,
                "claimsAmount": _money(0, currency), "shippedProductSales": _money(0, currency),
                "unitsShipped": 0, "ordersShipped": 0,
            },
            "trafficByDate": {
                "browserPageViews": views, "mobileAppPageViews": 0, "pageViews": views,
                "browserSessions": sessions, "mobileAppSessions": 0, "sessions": sessions,
                "buyBoxPercentage": 100, "orderItemSessionPercentage": _percent(items, sessions),
                "unitSessionPercentage": _percent(units, sessions), "averageOfferCount": 1,
                "averageParentItems": 0, "feedbackReceived": 0, "negativeFeedbackReceived": 0,
                "receivedNegativeFeedbackRate": 0,
            },
        }  # fmt: skip


@dataclass
class _Sold:
    units: int = 0
    items: int = 0
    amount: Decimal = Decimal(0)


def _sales(orders: Iterable[Order], first: date, last: date) -> dict[tuple[str, date], _Sold]:
    """Units, order items and sales per SKU and day of the orders created in the dates."""
    found: dict[tuple[str, date], _Sold] = {}
    for order in orders:
        day = datetime.fromtimestamp(order.created, UTC).date()
        if order.cancelled or not first <= day <= last:
            continue
        for line in order.lines:
            sold = found.setdefault((line.sku, day), _Sold())
            sold.units += line.quantity
            sold.items += 1
            sold.amount += line.price * line.quantity
    return found


def _by_sku(
    sku: str, asin: str, traffic: Traffic, sold: dict[tuple[str, date], _Sold],
    views: int, sessions: int, currency: str,
) -> dict[str, Any]:  # fmt: skip
    units = sum(s.units for (k, _d), s in sold.items() if k == sku)
    items = sum(s.items for (k, _d), s in sold.items() if k == sku)
    amount = sum((s.amount for (k, _d), s in sold.items() if k == sku), Decimal(0))
    return {
        "parentAsin": asin, "childAsin": asin, "sku": sku,
        "salesByAsin": {
            "unitsOrdered": units, "orderedProductSales": _money(amount, currency),
            "totalOrderItems": items,
        },
        "trafficByAsin": {
            "browserSessions": traffic.sessions, "mobileAppSessions": 0,
            "sessions": traffic.sessions,
            "browserSessionPercentage": _percent(traffic.sessions, sessions),
            "mobileAppSessionPercentage": 0,
            "sessionPercentage": _percent(traffic.sessions, sessions),
            "browserPageViews": traffic.page_views, "mobileAppPageViews": 0,
            "pageViews": traffic.page_views,
            "browserPageViewsPercentage": _percent(traffic.page_views, views),
            "mobileAppPageViewsPercentage": 0,
            "pageViewsPercentage": _percent(traffic.page_views, views),
            "buyBoxPercentage": 100, "unitSessionPercentage": _percent(units, traffic.sessions),
        },
    }  # fmt: skip


def _money(amount: Decimal | int, currency: str) -> dict[str, Any]:
    return {"amount": float(round(Decimal(amount), 2)), "currencyCode": currency}


def _percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 2) if whole else 0
