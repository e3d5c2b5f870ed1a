"""eBay's Analytics API traffic report (`GET /sell/analytics/v1/traffic_report`), for the one
metric the hub reads: LISTING_VIEWS_TOTAL (views of each listing's View Item page).

As the Analytics API documents it: `dimension` DAY or LISTING (one of them); `filter`
`marketplace_ids:{EBAY_US},date_range:[YYYYMMDD..YYYYMMDD],listing_ids:{id|id}` (the range
at most 90 days, not in the future; at most 200 listing ids, each the seller's); `metric` a
comma-separated list (names case-insensitive). The answer is a `Report`: `header`
(`dimensionKeys`, `metrics`: key, dataType, localizedName), `records` (`dimensionValues`,
`metricValues`: value and applicable), `startDate`, `endDate`, `lastUpdatedDate`. Errors
are the API's 400s (50001 dimension, 50002 metric, 50004/50013/50014/50018/50026 dates,
50028/50029 listing ids, 50031 no date range, 50021 filter field). Data counts up to
`lastUpdatedDate`: the sandbox's today (eBay's lags about a day). Only LISTING_VIEWS_TOTAL
and TRANSACTION are kept; other metrics are refused as unknown to the sandbox (50002).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, Final

from sandbox.ebay.errors import EbayError, refused

ANALYTICS: Final = "API_ANALYTICS"
MAX_DAYS: Final = 90
MAX_LISTINGS: Final = 200
METRICS: Final = {"LISTING_VIEWS_TOTAL": "Total views", "TRANSACTION": "Transaction count"}
MARKETPLACES: Final = frozenset({"EBAY_AU", "EBAY_DE", "EBAY_GB", "EBAY_US", "EBAY_MOTORS"})
_FIELD = re.compile(r"(\w+):(\{[^}]*\}|\[[^\]]*\])")

Views = dict[tuple[str, date], int]  # (listing id, day) -> views


def _bad(error_id: int, message: str) -> EbayError:
    return refused(400, error_id, message, domain=ANALYTICS)


def _day(text: str, error_id: int, which: str) -> date:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise _bad(
            error_id, f"Invalid date range format - {which}. The format is yyyyMMdd."
        ) from None


def _filters(text: str) -> dict[str, str]:
    found = {name: value[1:-1] for name, value in _FIELD.findall(text)}
    for name in found:
        if name not in ("marketplace_ids", "date_range", "listing_ids", "traffic_source"):
            raise _bad(50021, f"Invalid filter field {name} specified.")
    return found


def _span(given: str | None, today: date) -> tuple[date, date]:
    if not given:
        raise _bad(50031, "Date range is required.")
    start_text, _, end_text = given.partition("..")
    start = _day(start_text, 50013, "Start Date")
    end = _day(end_text, 50014, "End Date")
    if start > end:
        raise _bad(50004, "Invalid date range. Start date must be before or equal to end date.")
    if start > today or end > today:
        raise _bad(50018, "Neither the start date nor the end date can be in the future.")
    if (end - start).days + 1 > MAX_DAYS:
        raise _bad(50026, f"The date range is too long. The date range must be less than or "
                          f"equal to {MAX_DAYS}.")  # fmt: skip
    return start, end


def _listing_ids(given: str | None, known: set[str]) -> list[str]:
    ids = [i for i in (given or "").split("|") if i]
    if not ids:
        raise _bad(50027, "The 'listing_id' value is empty.")
    if len(ids) > MAX_LISTINGS:
        raise _bad(50028, f"The maximum number of listing IDs has been exceeded. The maximum "
                          f"number of listing IDs is {MAX_LISTINGS}.")  # fmt: skip
    for listing_id in ids:
        if listing_id not in known:
            raise _bad(50029, f"Invalid listing ID {listing_id}.")
    return ids


def traffic_report(
    query: dict[str, str], views: Views, sold: Views, known: set[str], today: date
) -> dict[str, Any]:
    """The Report a getTrafficReport with `query` answers, or the API's EbayError."""
    dimension = query.get("dimension", "")
    if dimension not in ("DAY", "LISTING"):
        raise _bad(50001, "Invalid dimension specified. For help, see the documentation.")
    metrics = [m.strip().upper() for m in query.get("metric", "").split(",") if m.strip()]
    if not metrics:
        raise _bad(50008, "The call requires at least one metric.")
    for metric in metrics:
        if metric not in METRICS:
            raise _bad(50002, f"Invalid metric {metric} specified.")
    filters = _filters(query.get("filter", ""))
    if not filters:
        raise _bad(50005, "No filter is specified, which is required.")
    marketplace = filters.get("marketplace_ids", "")
    if not marketplace:
        raise _bad(50022, "Specify at least one marketplace ID.")
    if marketplace not in MARKETPLACES:
        raise _bad(50024, f"The marketplace ID {marketplace} is not valid.")
    start, end = _span(filters.get("date_range"), today)
    ids = _listing_ids(filters.get("listing_ids"), known)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    tables = {"LISTING_VIEWS_TOTAL": views, "TRANSACTION": sold}

    def values(listings: list[str], on: list[date]) -> list[dict[str, Any]]:
        return [
            {"value": sum(tables[m].get((i, d), 0) for i in listings for d in on),
             "applicable": True}
            for m in metrics
        ]  # fmt: skip

    if dimension == "DAY":
        records = [
            {"dimensionValues": [{"value": d.strftime("%Y%m%d"), "applicable": True}],
             "metricValues": values(ids, [d])}
            for d in days
        ]  # fmt: skip
    else:
        records = [
            {"dimensionValues": [{"value": i, "applicable": True}],
             "metricValues": values([i], days)}
            for i in ids
        ]  # fmt: skip
    key_type = "DATE" if dimension == "DAY" else "STRING"
    return {
        "header": {
            "dimensionKeys": [
                {"key": dimension, "dataType": key_type, "localizedName": dimension.title()}
            ],
            "metrics": [
                {"key": m, "dataType": "INTEGER", "localizedName": METRICS[m]} for m in metrics
            ],
        },
        "records": records,
        "startDate": f"{start.isoformat()}T00:00:00.000Z",
        "endDate": f"{end.isoformat()}T00:00:00.000Z",
        "lastUpdatedDate": f"{today.isoformat()}T00:00:00.000Z",
    }
