"""The eBay sandbox's traffic report, as the Analytics API documents it: figures and errors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from sandbox.ebay.errors import EbayError
from sandbox.ebay.traffic import traffic_report

TODAY = date(2026, 3, 10)
VIEWS = {("111", date(2026, 3, 8)): 5, ("111", date(2026, 3, 9)): 7, ("222", date(2026, 3, 9)): 1}
SOLD = {("111", date(2026, 3, 9)): 2}
KNOWN = {"111", "222"}


def report(
    dimension: str, span: str, ids: str = "111|222", metric: str = "listing_views_total"
) -> dict[str, Any]:
    where = f"marketplace_ids:{{EBAY_US}},date_range:[{span}],listing_ids:{{{ids}}}"
    query = {"dimension": dimension, "metric": metric, "filter": where}
    return traffic_report(query, VIEWS, SOLD, KNOWN, TODAY)


def test_views_per_listing_and_per_day() -> None:
    by_listing = report("LISTING", "20260308..20260309", metric="LISTING_VIEWS_TOTAL,transaction")
    by_day = report("DAY", "20260309..20260310")

    assert [(r["dimensionValues"][0]["value"], [v["value"] for v in r["metricValues"]])
            for r in by_listing["records"]] == [("111", [12, 2]), ("222", [1, 0])]  # fmt: skip
    assert [m["key"] for m in by_listing["header"]["metrics"]] == [
        "LISTING_VIEWS_TOTAL", "TRANSACTION"
    ]  # fmt: skip
    assert [(r["dimensionValues"][0]["value"], r["metricValues"][0]["value"])
            for r in by_day["records"]] == [("20260309", 8), ("20260310", 0)]  # fmt: skip
    assert by_day["lastUpdatedDate"] == "2026-03-10T00:00:00.000Z"


@pytest.mark.parametrize(
    ("dimension", "span", "ids", "metric", "error_id"),
    [
        ("WEEK", "20260301..20260302", "111", "LISTING_VIEWS_TOTAL", 50001),
        ("DAY", "20260301..20260302", "111", "CLICKS", 50002),
        ("DAY", "20260302..20260301", "111", "LISTING_VIEWS_TOTAL", 50004),
        ("DAY", "2026-03-01..20260302", "111", "LISTING_VIEWS_TOTAL", 50013),
        ("DAY", "20260301..20260311", "111", "LISTING_VIEWS_TOTAL", 50018),
        ("DAY", "20251201..20260302", "111", "LISTING_VIEWS_TOTAL", 50026),
        ("DAY", "20260301..20260302", "999", "LISTING_VIEWS_TOTAL", 50029),
        ("DAY", "20260301..20260302", "|".join(["111"] * 201), "LISTING_VIEWS_TOTAL", 50028),
    ],
)
def test_bad_requests_get_the_apis_errors(
    dimension: str, span: str, ids: str, metric: str, error_id: int
) -> None:
    with pytest.raises(EbayError) as refused:
        report(dimension, span, ids, metric)
    assert refused.value.status == 400
    assert refused.value.errors[0]["errorId"] == error_id
    assert refused.value.errors[0]["domain"] == "API_ANALYTICS"
