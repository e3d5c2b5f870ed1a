"""The Amazon sandbox's Reports 2021-06-30 for GET_SALES_AND_TRAFFIC_REPORT: the request and
every answer against the official Reports model, the document against the report's own JSON
Schema, the state machine by the sandbox's clock, and the documented rate limits."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from sandbox.amazon import contract
from sandbox.amazon.reports import PROCESSING_SECONDS, QUEUE_SECONDS
from tests.integration.sandbox.test_amazon_contract import ITEMS, MARKETPLACE, MUG, Account, account

__all__ = ["account"]

REPORTS = "/reports/2021-06-30"
BY_SKU = {"dateGranularity": "DAY", "asinGranularity": "SKU"}


def today(account: Account) -> date:
    return datetime.fromtimestamp(account.now, UTC).date()


def asking(day: date, **changes: Any) -> dict[str, Any]:
    return {
        "reportType": "GET_SALES_AND_TRAFFIC_REPORT", "reportOptions": BY_SKU,
        "dataStartTime": f"{day}T00:00:00Z", "dataEndTime": f"{day}T23:59:59Z",
        "marketplaceIds": [MARKETPLACE], **changes,
    }  # fmt: skip


async def status(account: Account, report_id: str) -> dict[str, Any]:
    answer = await account.call("GET", f"{REPORTS}/reports/{report_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_a_report_of_one_day_queues_runs_and_gives_each_skus_page_views_of_that_day(
    account: Account,
) -> None:
    """MUG: 7 page views in 5 sessions and 2 units sold today, 100 views yesterday (another
    report's); BOTTLE: 3 views today. Today's report names each with today's figures only."""
    await account.call("PUT", f"{ITEMS}/MUG", MUG)
    account.later()  # Amazon applies the listing
    day = today(account)
    account.sandbox.view("MUG", 100, day - timedelta(days=1))
    account.sandbox.view("MUG", 4, sessions=3)
    account.sandbox.view("MUG", 3, sessions=2)
    account.sandbox.view("BOTTLE", 3)
    account.sandbox.place_order([("MUG", 2)])

    created = await account.call("POST", f"{REPORTS}/reports", asking(day))
    report_id = created.json()["reportId"]
    states = [(await status(account, report_id))["processingStatus"]]
    account.later(QUEUE_SECONDS)
    states.append((await status(account, report_id))["processingStatus"])
    account.later(PROCESSING_SECONDS)
    done = await status(account, report_id)
    states.append(done["processingStatus"])
    located = await account.call("GET", f"{REPORTS}/documents/{done['reportDocumentId']}")
    raw = (await account.http.get(located.json()["url"])).content
    report = json.loads(gzip.decompress(raw))

    assert created.status_code == 202
    assert states == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    assert located.json()["compressionAlgorithm"] == "GZIP"
    contract.check_document(contract.SALES_AND_TRAFFIC_SCHEMA, report, "report")
    by_sku = {row["sku"]: row for row in report["salesAndTrafficByAsin"]}
    assert {sku: row["trafficByAsin"]["pageViews"] for sku, row in by_sku.items()} == {
        "BOTTLE": 3, "MUG": 7,
    }  # fmt: skip
    assert by_sku["MUG"]["trafficByAsin"]["sessions"] == 5
    assert by_sku["MUG"]["salesByAsin"]["unitsOrdered"] == 2
    assert by_sku["MUG"]["childAsin"] == account.sandbox.seller.listings.items["MUG"].asin
    assert [d["date"] for d in report["salesAndTrafficByDate"]] == [str(day)]
    assert report["salesAndTrafficByDate"][0]["trafficByDate"]["pageViews"] == 10
    assert account.sandbox.violations == []


async def test_a_day_without_traffic_or_sales_is_cancelled_with_no_document(
    account: Account,
) -> None:
    account.sandbox.view("MUG", 9)  # today's, not yesterday's
    created = await account.call(
        "POST", f"{REPORTS}/reports", asking(today(account) - timedelta(days=1))
    )
    account.later(QUEUE_SECONDS + PROCESSING_SECONDS)

    done = await status(account, created.json()["reportId"])
    assert done["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in done
    assert account.sandbox.violations == []


@pytest.mark.parametrize(
    ("change", "wrong"),
    [
        ({"marketplaceIds": "ATVPDKIKX0DER"}, "marketplaceIds"),  # the model: an array
        ({"reportOptions": {"dateGranularity": 1}}, "dateGranularity"),  # the model: strings
        ({"reportOptions": {"dateGranularity": "WEEK", "asinGranularity": "SKU"}}, "DAY"),
        ({"reportOptions": {"dateGranularity": "DAY", "asinGranularity": "PARENT"}}, "SKU"),
        ({"reportType": "GET_FLAT_FILE_OPEN_LISTINGS_DATA"}, "not supported"),
        ({"dataEndTime": "2099-01-01T00:00:00Z"}, "two years to today"),
    ],
)
async def test_a_report_request_the_model_or_the_report_refuses_creates_nothing(
    account: Account, change: dict[str, Any], wrong: str
) -> None:
    answer = await account.call("POST", f"{REPORTS}/reports", asking(today(account), **change))

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "InvalidInput"
    assert wrong in answer.json()["errors"][0]["message"]
    assert account.sandbox.seller.reports.reports == {}


async def test_create_report_allows_its_documented_burst_then_one_a_minute(
    account: Account,
) -> None:
    """createReport: 0.0167 requests a second, burst 15 (the Reports model's usage plan)."""
    day = today(account)
    burst = [
        (await account.call("POST", f"{REPORTS}/reports", asking(day))).status_code
        for _ in range(16)
    ]
    account.later(60)
    after_a_minute = await account.call("POST", f"{REPORTS}/reports", asking(day))

    assert burst == [202] * 15 + [429]
    assert after_a_minute.status_code == 202
    assert after_a_minute.headers["x-amzn-RateLimit-Limit"] == "0.0167"


async def test_an_unknown_report_or_document_is_404_against_the_model(account: Account) -> None:
    report = await account.call("GET", f"{REPORTS}/reports/999")
    document = await account.call("GET", f"{REPORTS}/documents/amzn1.spdoc.1.4.na.0")

    assert (report.status_code, document.status_code) == (404, 404)
    assert account.sandbox.violations == []


TRAFFIC = ("browserSessions", "mobileAppSessions", "sessions", "browserSessionPercentage",
           "mobileAppSessionPercentage", "sessionPercentage", "browserPageViews",
           "mobileAppPageViews", "browserPageViewsPercentage", "mobileAppPageViewsPercentage",
           "pageViewsPercentage", "buyBoxPercentage", "unitSessionPercentage")  # fmt: skip


def test_the_report_schema_refuses_a_row_without_page_views() -> None:
    """Every traffic figure the schema requires but pageViews."""
    row = {"parentAsin": "B0X", "sku": "MUG",
           "salesByAsin": {"unitsOrdered": 0, "totalOrderItems": 0,
                           "orderedProductSales": {"amount": 0, "currencyCode": "USD"}},
           "trafficByAsin": dict.fromkeys(TRAFFIC, 0)}  # fmt: skip
    document = {
        "reportSpecification": {
            "reportType": "GET_SALES_AND_TRAFFIC_REPORT", "reportOptions": BY_SKU,
            "dataStartTime": "2026-12-06", "dataEndTime": "2026-12-06",
            "marketplaceIds": [MARKETPLACE],
        },
        "salesAndTrafficByDate": [], "salesAndTrafficByAsin": [row],
    }  # fmt: skip
    with pytest.raises(contract.ContractViolation, match="pageViews"):
        contract.check_document(contract.SALES_AND_TRAFFIC_SCHEMA, document, "report")
