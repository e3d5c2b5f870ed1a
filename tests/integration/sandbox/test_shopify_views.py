"""The Shopify sandbox answers `shopifyqlQuery` for product page views (ShopifyQL's
products.view_sessions), recorded through `/_sandbox/views`, and refuses what it cannot
parse as Shopify does: `parseErrors`, no table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from adapters.channels.shopify.documents import VIEWS_READ
from adapters.channels.shopify.views import views_query
from tests.integration.sandbox.test_shopify_sandbox import Shop, _shop

# The fake clock's wall: 2026-01-01 (UTC).
TODAY = "2026-01-01"
YESTERDAY = "2025-12-31"


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    async for made in _shop():
        yield made


async def _viewed(shop: Shop) -> tuple[str, str]:
    """Two products: a tee of two sizes, a mug; views recorded over HTTP as the demo does."""
    tee = await shop.product("tee", [{"size": "S", "sku": "TEE-S"}, {"size": "M", "sku": "TEE-M"}])
    mug = await shop.product("mug", [{"size": "One", "sku": "MUG"}])
    for body in (
        {"sku": "TEE-S", "views": 4},
        {"sku": "TEE-M", "views": 3},  # the same product page: 7 today
        {"sku": "TEE-M", "views": 5, "day": YESTERDAY},
        {"sku": "MUG", "views": 2},
    ):
        answer = await shop.http.post("/_sandbox/views", json=body)
        assert answer.status_code == 200, answer.text
    assert answer.json() == {"productId": mug["product"]["id"]}
    return tee["product"]["id"], mug["product"]["id"]


def _number(product_gid: str) -> str:
    return product_gid.rsplit("/", 1)[1]


async def _ask(shop: Shop, query: str) -> dict[str, Any]:
    data = await shop.graphql(VIEWS_READ, {"query": query})
    answer: dict[str, Any] = data["shopifyqlQuery"]
    return answer


async def test_the_adapters_query_gets_view_sessions_per_product_of_one_day(shop: Shop) -> None:
    tee, mug = await _viewed(shop)
    answer = await _ask(shop, views_query(date.fromisoformat(TODAY)))

    assert answer["parseErrors"] == []
    assert answer["tableData"]["columns"] == [
        {"name": "product_id", "dataType": "IDENTITY", "displayName": "Product ID"},
        {"name": "view_sessions", "dataType": "INTEGER", "displayName": "Product view sessions"},
    ]
    assert answer["tableData"]["rows"] == sorted(
        [{"product_id": _number(tee), "view_sessions": 7},
         {"product_id": _number(mug), "view_sessions": 2}],
        key=lambda row: row["product_id"],
    )  # fmt: skip


async def test_a_timeseries_by_day_of_one_product(shop: Shop) -> None:
    tee, _ = await _viewed(shop)
    query = (f"FROM products\n  SHOW view_sessions\n  WHERE product_id = {_number(tee)}\n"
             f"  SINCE -2d UNTIL today\n  TIMESERIES day")  # fmt: skip

    answer = await _ask(shop, query)

    assert answer["parseErrors"] == []
    assert answer["tableData"]["rows"] == [
        {"day": "2025-12-30", "view_sessions": 0},
        {"day": YESTERDAY, "view_sessions": 5},
        {"day": TODAY, "view_sessions": 7},
    ]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("FROM sales SHOW total_sales", "Table 'sales' is not supported"),
        ("FROM products SHOW gross_sales", "Column 'gross_sales' is not in the products table"),
        (
            "FROM products SHOW view_sessions GROUP BY product_id ORDER BY view_sessions DESC",
            "ORDER BY is not supported",
        ),
        ("FROM products SHOW view_sessions GROUP BY product_id SINCE -1d", "out of order"),
        ("FROM products SHOW view_sessions, product_id", "shown but not grouped by"),
        ("FROM products SHOW view_sessions SINCE last_fortnight", "Invalid date"),
        ("SHOW view_sessions", "starts with FROM"),
    ],
)
async def test_anything_else_is_a_parse_error_and_no_table(
    shop: Shop, query: str, error: str
) -> None:
    await _viewed(shop)

    answer = await _ask(shop, query)

    assert answer["tableData"] is None
    [message] = answer["parseErrors"]
    assert error in message


async def test_views_of_a_sku_the_shop_does_not_sell_are_refused(shop: Shop) -> None:
    answer = await shop.http.post("/_sandbox/views", json={"sku": "NOPE", "views": 1})

    assert answer.status_code == 400
    assert shop.sandbox.store.views == {}
