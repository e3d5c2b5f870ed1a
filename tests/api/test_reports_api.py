"""The sales report over GraphQL, as a CSV download and from `nexo report sales`: the hand-computed
month of tests/integration/analytics, on both backends."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx
import pytest

from adapters.settings import Settings
from api.cli import main
from tests.graphql import data, gql
from tests.integration.analytics.conftest import Sales, hub, sales

__all__ = ["hub", "sales"]

pytestmark = pytest.mark.usefixtures("app")

REPORT = """
query($from: DateTime!, $to: DateTime!, $groupBy: [SalesDimension!], $currency: String) {
  salesReport(from: $from, to: $to, groupBy: $groupBy, currency: $currency) {
    currency groupBy
    rows { key figures { orders unitsSold netRevenue { amount } grossMargin { amount }
                         marginPercent } }
    totals { orders grossRevenue { amount currencyCode } channelFees { amount } cogs { amount }
             grossMargin { amount } marginPercent unitsWithoutCost }
    series(metric: "net_revenue") { key points { x y } }
  }
}"""
MARCH = {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}


async def test_sales_report_rows_totals_and_series(
    http: httpx.AsyncClient, sales: Sales, readonly_key: str
) -> None:
    shop, market = str(sales.hub.shop), str(sales.hub.market)
    body = await gql(http, REPORT, {**MARCH, "groupBy": ["CHANNEL", "DAY"]}, key=readonly_key)
    report = data(body)["salesReport"]

    assert (report["currency"], report["groupBy"]) == ("USD", ["CHANNEL", "DAY"])
    rows = {tuple(r["key"]): r["figures"] for r in report["rows"]}
    assert rows[(shop, "2026-03-02")] == {
        "orders": 1, "unitsSold": 2, "netRevenue": {"amount": "36.00"},
        "grossMargin": {"amount": "18.50"}, "marginPercent": "51.39",
    }  # fmt: skip
    assert report["totals"] == {
        "orders": 3, "grossRevenue": {"amount": "122.80", "currencyCode": "USD"},
        "channelFees": {"amount": "4.80"}, "cogs": {"amount": "20.40"},
        "grossMargin": {"amount": "31.80"}, "marginPercent": "55.79", "unitsWithoutCost": 2,
    }  # fmt: skip
    series = {s["key"]: s["points"] for s in report["series"]}
    assert series == {
        market: [{"x": "2026-03-02", "y": "11.00"}],
        shop: [{"x": "2026-03-02", "y": "36.00"}, {"x": "2026-03-10", "y": "10.00"}],
    }

    refused = await gql(http, REPORT, {**MARCH, "groupBy": ["SKU", "SKU"]}, key=readonly_key)
    assert refused["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "groupBy"}


async def test_the_csv_download_and_the_cli_give_the_same_file(
    http: httpx.AsyncClient, sales: Sales, readonly_key: str, settings: Settings,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    params = {"from": "2026-03-01", "to": "2026-04-01", "groupBy": "channel,month"}
    denied = await http.get("/reports/sales.csv", params=params)
    assert denied.status_code == 401
    headers = {"Authorization": f"Bearer {readonly_key}"}
    got = await http.get("/reports/sales.csv", params=params, headers=headers)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert 'filename="sales-2026-03-01-2026-04-01.csv"' in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    channels = sorted([(str(sales.hub.shop), "2026-03", "46.00"),
                       (str(sales.hub.market), "2026-03", "11.00")])  # fmt: skip
    assert [(r["channel"], r["month"], r["net_revenue"]) for r in rows] == [
        *channels,
        ("total", "", "57.00"),
    ]
    assert rows[-1]["gross_margin"] == "31.80"
    bad = await http.get("/reports/sales.csv", params={**params, "to": "soon"}, headers=headers)
    assert (bad.status_code, bad.json()["field"]) == (400, "to")

    monkeypatch.setenv("NEXO_DATABASE_URL", settings.database_url)
    argv = ["report", "sales", "--from", "2026-03-01", "--to", "2026-04-01",
            "--group-by", "channel,month"]  # fmt: skip
    assert await asyncio.to_thread(main, argv) == 0
    assert capsys.readouterr().out == got.text


OTHERS = """
query($from: DateTime!, $to: DateTime!) {
  bestSellers(from: $from, to: $to, by: REVENUE, first: 2) {
    sku figures { netRevenue { amount } }
  }
  stockCover(windowDays: 30, first: 5) { sku available sold perDay days }
  conflictsReport(from: $from, to: $to) { channelId outcome conflicts }
  syncHealthReport(from: $from, to: $to) { channelId calls failurePercent }
}"""


async def test_the_other_reports_answer_over_graphql(
    http: httpx.AsyncClient, sales: Sales, readonly_key: str
) -> None:
    found = data(await gql(http, OTHERS, MARCH, key=readonly_key))
    assert found["bestSellers"] == [
        {"sku": "A-1", "figures": {"netRevenue": {"amount": "36.00"}}},
        {"sku": "B-1", "figures": {"netRevenue": {"amount": "11.00"}}},
    ]
    # The fixture's sales are long past: nothing sold in the last 30 days, no cover figure.
    assert {(c["sku"], c["days"]) for c in found["stockCover"]} == {
        ("A-1", None), ("B-1", None), ("PART-1", None)
    }  # fmt: skip
    assert (found["conflictsReport"], found["syncHealthReport"]) == ([], [])
    refused = await gql(http, "{ stockCover(windowDays: 0) { sku } }", key=readonly_key)
    assert refused["errors"][0]["extensions"]["field"] == "windowDays"
