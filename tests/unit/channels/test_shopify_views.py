"""The Shopify adapter's views: one ShopifyQL question a day, its table mapped to SKUs by the
product each SKU's listing is (every SKU of a product gets the product page's figure), and a
query Shopify cannot parse refused, not read as no views."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest

from adapters.channels.shopify.adapter import ShopifyChannel
from adapters.channels.shopify.client import ShopifyClient
from adapters.channels.shopify.views import product_views
from adapters.ratelimit.memory import MemoryRateLimiter
from domain.channels.port import ChannelRejected, ChannelUnavailable, ListingViews

TEE, MUG = "gid://shopify/Product/11", "gid://shopify/Product/12"
REFS = {
    "TEE-S": {"variant_id": "gid://shopify/ProductVariant/1", "listing_id": TEE},
    "TEE-M": {"variant_id": "gid://shopify/ProductVariant/2", "listing_id": TEE},
    "MUG": {"variant_id": "gid://shopify/ProductVariant/3", "listing_id": MUG},
    "LOOSE": {"variant_id": "gid://shopify/ProductVariant/4"},  # no product known: left out
}
COLUMNS = [
    {"name": "product_id", "dataType": "IDENTITY", "displayName": "Product ID"},
    {"name": "view_sessions", "dataType": "INTEGER", "displayName": "View sessions"},
]


def _channel(answer: dict[str, Any], sent: list[dict[str, Any]]) -> ShopifyChannel:
    def shopify(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"data": {"shopifyqlQuery": answer}})

    http = httpx.AsyncClient(transport=httpx.MockTransport(shopify))
    client = ShopifyClient("nexo-demo.myshopify.com", "t", http=http, limiter=MemoryRateLimiter())
    return ShopifyChannel(client, location_id="gid://shopify/Location/1", webhook_secret="s")


async def test_each_sku_gets_its_product_pages_view_sessions_of_the_day() -> None:
    sent: list[dict[str, Any]] = []
    rows = [{"product_id": "11", "view_sessions": "7"}, {"product_id": "99", "view_sessions": 3}]
    channel = _channel({"parseErrors": [], "tableData": {"columns": COLUMNS, "rows": rows}}, sent)

    assert isinstance(channel, ListingViews)
    viewed = await channel.read_views(REFS, date(2026, 12, 6))

    assert viewed == {"TEE-S": 7, "TEE-M": 7, "MUG": 0}
    [body] = sent
    assert body["variables"] == {
        "query": "FROM products SHOW sum(view_sessions) AS view_sessions "
        "SINCE 2026-12-06 UNTIL 2026-12-06 GROUP BY product_id"
    }


async def test_no_question_without_a_product_to_ask_about() -> None:
    sent: list[dict[str, Any]] = []
    channel = _channel({"parseErrors": [], "tableData": None}, sent)

    assert await channel.read_views({"LOOSE": REFS["LOOSE"]}, date(2026, 12, 6)) == {}
    assert sent == []


async def test_a_parse_error_is_a_refusal_not_zero_views() -> None:
    channel = _channel({"parseErrors": ["Table 'products' is unknown."], "tableData": None}, [])

    with pytest.raises(ChannelRejected, match="Table 'products' is unknown"):
        await channel.read_views(REFS, date(2026, 12, 6))


def test_rows_given_as_lists_are_read_by_the_columns_order() -> None:
    table = {"columns": COLUMNS, "rows": [["11", 4], ["12", 2.0], ["13", -1], ["14", "x"]]}

    assert product_views(table) == {"11": 4, "12": 2}


def test_a_table_without_the_asked_columns_is_a_garbage_answer() -> None:
    with pytest.raises(ChannelUnavailable, match="lacks"):
        product_views({"columns": COLUMNS[:1], "rows": []})
