"""Listing views from eBay's Analytics API: `GET /sell/analytics/v1/traffic_report` with
`dimension=LISTING`, `metric=LISTING_VIEWS_TOTAL` and a one-day `date_range`, per marketplace,
at most 200 listing ids a call. eBay counts views per listing: a multiple-variation listing's
views are the same figure for each of its SKUs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

from adapters.channel_kit.calls import chunks
from adapters.channels.ebay.client import ANALYTICS, EbayClient

METRIC: Final = "LISTING_VIEWS_TOTAL"
LISTINGS_PER_CALL: Final = 200
DEFAULT_MARKETPLACE: Final = "EBAY_US"


async def read_views(
    client: EbayClient, refs: Mapping[str, Mapping[str, str]], day: date
) -> dict[str, int]:
    """Views on `day` of the listing showing each SKU (SKUs without a listing id are left out)."""
    skus_of: dict[tuple[str, str], list[str]] = {}
    for sku, ids in refs.items():
        if ids.get("listing_id"):
            market = ids.get("marketplace_id") or DEFAULT_MARKETPLACE
            skus_of.setdefault((market, ids["listing_id"]), []).append(sku)
    found: dict[str, int] = {}
    markets = sorted({market for market, _ in skus_of})
    stamp = day.strftime("%Y%m%d")
    for market in markets:
        listings = sorted(listing for m, listing in skus_of if m == market)
        for chunk in chunks(listings, LISTINGS_PER_CALL):
            answer = await client.call(
                "GET", ANALYTICS, "/traffic_report", operation="getTrafficReport",
                params={
                    "dimension": "LISTING", "metric": METRIC,
                    "filter": f"marketplace_ids:{{{market}}},date_range:[{stamp}..{stamp}],"
                              f"listing_ids:{{{'|'.join(chunk)}}}",
                },
            )  # fmt: skip
            for listing, views in _views(answer.body).items():
                for sku in skus_of.get((market, listing), []):
                    found[sku] = views
    return found


def _views(report: object) -> dict[str, int]:
    """listing id -> LISTING_VIEWS_TOTAL, from a Report (the metric at its header's place)."""
    if not isinstance(report, dict):
        return {}
    metrics = [m.get("key") for m in (report.get("header") or {}).get("metrics") or []]
    if METRIC not in metrics:
        return {}
    at = metrics.index(METRIC)
    found: dict[str, int] = {}
    for record in report.get("records") or []:
        keys, values = record.get("dimensionValues") or [], record.get("metricValues") or []
        if not keys or len(values) <= at:
            continue
        value = values[at].get("value")
        if values[at].get("applicable", True) and isinstance(value, int) and value >= 0:
            found[str(keys[0].get("value"))] = value
    return found
