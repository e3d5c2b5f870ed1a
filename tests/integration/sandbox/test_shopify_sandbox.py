"""The Shopify sandbox behaves as the Admin GraphQL API 2026-01 and its webhooks do.

Driven over HTTP through ASGI transports: the sandbox answers the Admin API, and a tiny Starlette
app stands in for the webhook endpoint. Time is a fake clock, moved by the tests (the real one
where the shop's own clock is what is tested).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.channels.shopify.documents import ORDER_CANCEL
from sandbox.shopify import ShopifySandbox

SHOP_URL = "https://nexo-demo.myshopify.com"
GRAPHQL = "/admin/api/2026-01/graphql.json"
TOKEN = "shpat_sandbox"
SECRET = "sandbox-secret"
LOCATION = "gid://shopify/Location/1"

PRODUCT_SET = """
mutation ProductSet($identifier: ProductSetIdentifiers, $input: ProductSetInput!) {
  productSet(identifier: $identifier, input: $input, synchronous: true) {
    product {
      id
      handle
      variants(first: 10) {
        nodes { id sku price inventoryItem { id } }
        pageInfo { hasNextPage }
      }
    }
    userErrors { field message code }
  }
}
"""

SET_QUANTITIES = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}
"""

ADJUST_QUANTITIES = """
mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta } }
    userErrors { field message code }
  }
}
"""

ORDERS = """
query Orders($after: String, $query: String) {
  orders(first: 1, after: $after, sortKey: UPDATED_AT, query: $query) {
    edges {
      cursor
      node {
        id name createdAt updatedAt displayFinancialStatus displayFulfillmentStatus
        lineItems(first: 5) {
          nodes {
            id sku quantity variant { id }
            originalUnitPriceSet { shopMoney { amount currencyCode } }
          }
        }
        fulfillmentOrders(first: 5) { nodes { id } }
        customer { id displayName defaultEmailAddress { emailAddress } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def wall(self) -> datetime:
        return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=self.now)


@dataclass
class Receiver:
    """The app's webhook endpoint: records every POST, answers the queued statuses (else 200)."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        self.received.append((dict(request.headers), await request.body()))
        return Response(status_code=self.answers.pop(0) if self.answers else 200)

    def topics(self) -> list[str]:
        return [headers["x-shopify-topic"] for headers, _ in self.received]

    def of(self, topic: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return [
            (headers, json.loads(body))
            for headers, body in self.received
            if headers["x-shopify-topic"] == topic
        ]


@dataclass
class Shop:
    sandbox: ShopifySandbox
    http: httpx.AsyncClient
    clock: FakeClock
    receiver: Receiver

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(GRAPHQL, json={"query": query, "variables": variables or {}})

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def product(self, handle: str, variants: list[dict[str, Any]]) -> dict[str, Any]:
        values = [{"name": v["size"]} for v in variants]
        data = await self.graphql(
            PRODUCT_SET,
            {
                "identifier": {"handle": handle},
                "input": {
                    "title": handle.title(),
                    "productOptions": [{"name": "Size", "values": values}],
                    "variants": [_variant(**v) for v in variants],
                },
            },
        )
        payload: dict[str, Any] = data["productSet"]
        return payload


def _variant(size: str, sku: str, price: str = "20.00", stock: int | None = None) -> dict[str, Any]:
    variant: dict[str, Any] = {
        "optionValues": [{"optionName": "Size", "name": size}],
        "sku": sku,
        "price": price,
        "inventoryItem": {"tracked": True},
    }
    if stock is not None:
        variant["inventoryQuantities"] = [
            {"locationId": LOCATION, "name": "available", "quantity": stock}
        ]
    return variant


async def _shop(*, live: bool = False, **options: Any) -> AsyncIterator[Shop]:
    """A shop on the fake clock, or on the real clocks when `live`."""
    clock, receiver = FakeClock(), Receiver()
    clocks: dict[str, Any] = {} if live else {"clock": clock, "wall_clock": clock.wall}
    hooks = httpx.AsyncClient(
        transport=httpx.ASGITransport(
            app=Starlette(routes=[Route("/webhooks", receiver.endpoint, methods=["POST"])])
        ),
        base_url="https://nexo.test",
    )
    sandbox = ShopifySandbox(
        **clocks,
        webhook_url="https://nexo.test/webhooks",
        webhook_client=hooks,
        seed=7,
        **options,
    )
    async with (
        hooks,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sandbox.app),
            base_url=SHOP_URL,
            headers={"X-Shopify-Access-Token": TOKEN},
        ) as http,
    ):
        yield Shop(sandbox, http, clock, receiver)


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    async for made in _shop():
        yield made


@pytest.fixture
async def live_shop() -> AsyncIterator[Shop]:
    async for made in _shop(live=True):
        yield made


@pytest.fixture
async def tight_shop() -> AsyncIterator[Shop]:
    """A shop whose bucket holds 50 points and refills 10 a second."""
    async for made in _shop(bucket_size=50.0, restore_rate=10.0):
        yield made


# -- products ----------------------------------------------------------------------------------


async def test_product_set_creates_then_replaces_the_variant_list(shop: Shop) -> None:
    created = await shop.product(
        "tee", [{"size": "S", "sku": "TEE-S", "stock": 4}, {"size": "M", "sku": "TEE-M"}]
    )
    assert created["userErrors"] == []
    first_ids = {v["sku"]: v for v in created["product"]["variants"]["nodes"]}
    assert set(first_ids) == {"TEE-S", "TEE-M"}

    replaced = await shop.product(
        "tee", [{"size": "S", "sku": "TEE-S", "price": "25.00"}, {"size": "L", "sku": "TEE-L"}]
    )

    product = replaced["product"]
    assert product["id"] == created["product"]["id"]
    nodes = {v["sku"]: v for v in product["variants"]["nodes"]}
    assert set(nodes) == {"TEE-S", "TEE-L"}
    # The kept variant (matched by its option values) keeps its ids and its stock.
    assert nodes["TEE-S"]["id"] == first_ids["TEE-S"]["id"]
    assert nodes["TEE-S"]["inventoryItem"] == first_ids["TEE-S"]["inventoryItem"]
    assert nodes["TEE-S"]["price"] == "25.00"
    assert shop.sandbox.inventory_quantity("TEE-S", LOCATION) == 4
    # The omitted variant is gone, with its inventory item.
    assert shop.sandbox.inventory_quantity("TEE-M", LOCATION) is None
    gone = await shop.graphql(
        "query($id: ID!) { inventoryItem(id: $id) { id } }",
        {"id": first_ids["TEE-M"]["inventoryItem"]["id"]},
    )
    assert gone == {"inventoryItem": None}
    stored = shop.sandbox.product_by_handle("tee")
    assert stored is not None
    assert stored["options"] == [{"name": "Size", "values": ["S", "L"]}]


async def test_product_set_refuses_invalid_input_and_changes_nothing(shop: Shop) -> None:
    untitled = await shop.graphql(
        PRODUCT_SET, {"identifier": {"handle": "nameless"}, "input": {"status": "ACTIVE"}}
    )
    four_options = {
        "title": "Too many",
        "productOptions": [{"name": n, "values": [{"name": "x"}]} for n in "ABCD"],
        "variants": [{"optionValues": [{"optionName": n, "name": "x"} for n in "ABCD"]}],
    }
    too_many = await shop.graphql(PRODUCT_SET, {"input": four_options})
    twice = {
        "title": "Twice",
        "productOptions": [{"name": "Size", "values": [{"name": "S"}]}],
        "variants": [_variant("S", "A"), _variant("S", "B")],
    }
    duplicated = await shop.graphql(PRODUCT_SET, {"input": twice})

    assert [e["code"] for e in untitled["productSet"]["userErrors"]] == ["INVALID_PRODUCT"]
    assert untitled["productSet"]["userErrors"][0]["field"] == ["input", "title"]
    assert [e["code"] for e in too_many["productSet"]["userErrors"]] == ["OPTIONS_OVER_LIMIT"]
    assert [e["code"] for e in duplicated["productSet"]["userErrors"]] == ["INVALID_VARIANT"]
    assert all(p["productSet"]["product"] is None for p in (untitled, too_many, duplicated))
    assert (await shop.http.get("/_sandbox/state")).json()["products"] == []


async def test_product_variants_bulk_update_changes_prices(shop: Shop) -> None:
    created = await shop.product("cap", [{"size": "One", "sku": "CAP-1", "price": "9.00"}])
    variant = created["product"]["variants"]["nodes"][0]["id"]

    data = await shop.graphql(
        """
        mutation($product: ID!, $variants: [ProductVariantsBulkInput!]!) {
          productVariantsBulkUpdate(productId: $product, variants: $variants) {
            productVariants { id price compareAtPrice }
            userErrors { field message code }
          }
        }
        """,
        {
            "product": created["product"]["id"],
            "variants": [{"id": variant, "price": "7.50", "compareAtPrice": "9.00"}],
        },
    )
    read = await shop.graphql(
        "query($id: ID!) { productVariant(id: $id) { price compareAtPrice } }", {"id": variant}
    )

    assert data["productVariantsBulkUpdate"]["userErrors"] == []
    assert read == {"productVariant": {"price": "7.50", "compareAtPrice": "9.00"}}


async def test_product_update_changes_the_status_and_sends_products_update(shop: Shop) -> None:
    created = await shop.product("scarf", [{"size": "One", "sku": "SCARF-1"}])
    await shop.sandbox.deliver_pending_webhooks()

    data = await shop.graphql(
        """
        mutation($product: ProductUpdateInput!) {
          productUpdate(product: $product) { product { status } userErrors { field message } }
        }
        """,
        {"product": {"id": created["product"]["id"], "status": "ARCHIVED"}},
    )
    await shop.sandbox.deliver_pending_webhooks()

    assert data["productUpdate"] == {"product": {"status": "ARCHIVED"}, "userErrors": []}
    [(_, body)] = shop.receiver.of("products/update")
    assert body["status"] == "archived"
    assert body["variants"][0]["sku"] == "SCARF-1"


async def test_variants_are_found_by_sku_and_quantities_read_per_location(shop: Shop) -> None:
    await shop.product("mug", [{"size": "One", "sku": "MUG-1", "stock": 6}])

    found = await shop.graphql(
        """
        {
          productVariants(first: 5, query: "sku:MUG-1 OR sku:NOPE") {
            nodes {
              id sku
              inventoryItem {
                id
                inventoryLevel(locationId: "gid://shopify/Location/1") {
                  id quantities(names: ["available", "on_hand", "committed"]) { name quantity }
                }
              }
            }
          }
        }
        """
    )
    [variant] = found["productVariants"]["nodes"]
    level = variant["inventoryItem"]["inventoryLevel"]
    by_id = await shop.graphql(
        'query($id: ID!) { inventoryLevel(id: $id) { quantities(names: ["available"]) { quantity } '
        "location { id } item { sku } } }",
        {"id": level["id"]},
    )

    assert variant["sku"] == "MUG-1"
    assert level["quantities"] == [
        {"name": "available", "quantity": 6},
        {"name": "on_hand", "quantity": 6},
        {"name": "committed", "quantity": 0},
    ]
    assert by_id["inventoryLevel"] == {
        "quantities": [{"quantity": 6}],
        "location": {"id": LOCATION},
        "item": {"sku": "MUG-1"},
    }


# -- the API's envelope: validation, auth, cost ----------------------------------------------


async def test_documents_invalid_against_the_real_schema_are_rejected(shop: Shop) -> None:
    unknown_field = await shop.post("{ shop { name colour } }")
    missing_reason = await shop.post(
        'mutation { inventorySetQuantities(input: {name: "available", quantities: []}) '
        "{ userErrors { code } } }"
    )
    syntax = await shop.post("{ shop { name ")

    for response in (unknown_field, missing_reason, syntax):
        assert response.status_code == 200
        body = response.json()
        assert body["errors"]
        assert "data" not in body
        assert "cost" in body["extensions"]
    assert "colour" in unknown_field.json()["errors"][0]["message"]
    assert "reason" in missing_reason.json()["errors"][0]["message"]


async def test_calls_without_a_valid_token_get_401(shop: Shop) -> None:
    query = {"query": "{ shop { name } }"}
    missing = await shop.http.post(GRAPHQL, json=query, headers={"X-Shopify-Access-Token": ""})
    wrong = await shop.http.post(GRAPHQL, json=query, headers={"X-Shopify-Access-Token": "nope"})

    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json() == {
            "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
        }


async def test_a_body_that_is_not_json_gets_400(shop: Shop) -> None:
    response = await shop.http.post(
        GRAPHQL, content=b"query { shop", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400


async def test_every_answer_reports_cost_and_the_bucket_drains_then_restores(shop: Shop) -> None:
    query = "{ products(first: 10) { nodes { id variants(first: 5) { nodes { sku } } } } }"

    first = (await shop.post(query)).json()["extensions"]["cost"]
    second = (await shop.post(query)).json()["extensions"]["cost"]
    shop.clock.advance(1.0)
    third = (await shop.post(query)).json()["extensions"]["cost"]

    # 2 + 10 x (1 + (2 + 5 x 1)) asked; nothing stored, so only the connection's 2 spent.
    assert first["requestedQueryCost"] == 82
    assert first["actualQueryCost"] == 2
    assert first["throttleStatus"] == {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 1998.0,
        "restoreRate": 100.0,
    }
    assert second["throttleStatus"]["currentlyAvailable"] == 1996.0
    assert third["throttleStatus"]["currentlyAvailable"] == 1998.0  # +100/s, capped at the size


async def test_throttled_when_the_bucket_cannot_pay_and_nothing_runs(tight_shop: Shop) -> None:
    shop = tight_shop
    read = "{ products(first: 4) { nodes { id } } }"  # asks 2 + 4 x 1 = 6
    for _ in range(7):
        assert (await shop.post(read)).status_code == 200  # each refunded down to 2
    mutation_input = {
        "identifier": {"handle": "late"},
        "input": {"title": "Late", "variants": [], "productOptions": []},
    }
    await shop.post(PRODUCT_SET, mutation_input)  # costs 10 + 2 + 10 x 2 = 32 asked
    refused = await shop.post(PRODUCT_SET, mutation_input | {"identifier": {"handle": "later"}})

    body = refused.json()
    assert refused.status_code == 200
    assert body["errors"] == [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
    ]
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert "data" not in body
    assert shop.sandbox.product_by_handle("later") is None
    assert shop.sandbox.calls[-1]["throttled"] is True

    shop.clock.advance(5.0)
    retried = await shop.post(PRODUCT_SET, mutation_input | {"identifier": {"handle": "later"}})
    assert "errors" not in retried.json()
    assert shop.sandbox.product_by_handle("later") is not None


async def test_a_query_asking_more_than_1000_points_is_refused(shop: Shop) -> None:
    response = await shop.post(
        "{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { sku } } } } }"
    )

    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"


# -- inventory -------------------------------------------------------------------------------


async def _two_items(shop: Shop) -> tuple[str, str]:
    created = await shop.product(
        "sock",
        [{"size": "S", "sku": "SOCK-S", "stock": 5}, {"size": "M", "sku": "SOCK-M", "stock": 3}],
    )
    items = [v["inventoryItem"]["id"] for v in created["product"]["variants"]["nodes"]]
    return items[0], items[1]


def _set_input(*quantities: tuple[str, int, int | None]) -> dict[str, Any]:
    return {
        "input": {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": "gid://nexo/Sync/1",
            "quantities": [
                {
                    "inventoryItemId": item,
                    "locationId": LOCATION,
                    "quantity": q,
                    "changeFromQuantity": c,
                }
                for item, q, c in quantities
            ],
        }
    }


async def test_set_quantities_applies_when_change_from_quantity_matches(shop: Shop) -> None:
    small, _ = await _two_items(shop)

    data = await shop.graphql(SET_QUANTITIES, _set_input((small, 9, 5)))

    payload = data["inventorySetQuantities"]
    assert payload["userErrors"] == []
    assert {"name": "available", "delta": 4, "quantityAfterChange": 9} in (
        payload["inventoryAdjustmentGroup"]["changes"]
    )
    assert shop.sandbox.inventory_quantity("SOCK-S", LOCATION) == 9


async def test_set_quantities_with_a_stale_change_from_quantity_changes_nothing(shop: Shop) -> None:
    small, medium = await _two_items(shop)

    data = await shop.graphql(SET_QUANTITIES, _set_input((small, 9, 5), (medium, 1, 2)))

    payload = data["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("CHANGE_FROM_QUANTITY_STALE", ["input", "quantities", "1", "changeFromQuantity"])
    ]
    # The matching quantity in the same request was not applied either.
    assert shop.sandbox.inventory_quantity("SOCK-S", LOCATION) == 5
    assert shop.sandbox.inventory_quantity("SOCK-M", LOCATION) == 3


async def test_set_quantities_without_change_from_falls_back_to_compare_quantity(
    shop: Shop,
) -> None:
    small, _ = await _two_items(shop)
    legacy = _set_input((small, 9, None))
    del legacy["input"]["quantities"][0]["changeFromQuantity"]
    opted_out = _set_input((small, 8, None))  # an explicit null skips the check

    refused = await shop.graphql(SET_QUANTITIES, legacy)
    applied = await shop.graphql(SET_QUANTITIES, opted_out)

    assert [e["code"] for e in refused["inventorySetQuantities"]["userErrors"]] == [
        "COMPARE_QUANTITY_REQUIRED"
    ]
    assert applied["inventorySetQuantities"]["userErrors"] == []
    assert shop.sandbox.inventory_quantity("SOCK-S", LOCATION) == 8


async def test_adjust_quantities_replayed_with_the_same_key_applies_once(shop: Shop) -> None:
    small, _ = await _two_items(shop)
    change = {
        "inventoryItemId": small,
        "locationId": LOCATION,
        "delta": -2,
        "changeFromQuantity": 5,
    }
    variables = {
        "key": "6f1c1a4e-1111-4c1e-9d1e-000000000001",
        "input": {"name": "available", "reason": "correction", "changes": [change]},
    }

    first = await shop.graphql(ADJUST_QUANTITIES, variables)
    replay = await shop.graphql(ADJUST_QUANTITIES, variables)
    other_input = {**variables, "input": {**variables["input"], "reason": "received"}}
    misuse = await shop.graphql(ADJUST_QUANTITIES, other_input)

    assert first["inventoryAdjustQuantities"]["userErrors"] == []
    assert replay == first
    assert shop.sandbox.inventory_quantity("SOCK-S", LOCATION) == 3
    assert [e["code"] for e in misuse["inventoryAdjustQuantities"]["userErrors"]] == [
        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    ]


async def test_idempotent_is_refused_on_mutations_that_do_not_support_it(shop: Shop) -> None:
    response = await shop.post(
        'mutation { productSet(input: {title: "x"}) @idempotent(key: "k") { userErrors { code } } }'
    )

    assert "not supported" in response.json()["errors"][0]["message"]
    assert shop.sandbox.product_by_handle("x") is None


# -- orders and fulfillment ------------------------------------------------------------------


ORDER_TIMES = "query($id: ID!) { order(id: $id) { createdAt updatedAt } }"
WHOLE_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


async def test_order_times_are_the_wall_clock_to_the_whole_second(live_shop: Shop) -> None:
    """Over more than a second, every new order is stamped with the current second: never a
    second behind (as when the shop's clock was its truncated start time plus elapsed)."""
    await live_shop.product("pen", [{"size": "One", "sku": "PEN-1", "stock": 100_000}])
    began, orders = time.monotonic(), 0
    while time.monotonic() - began < 1.5:
        before = datetime.now(UTC)
        order_id = await live_shop.sandbox.place_order([("PEN-1", 1)])
        after = datetime.now(UTC)
        times = (await live_shop.graphql(ORDER_TIMES, {"id": order_id}))["order"]
        for stamp in (times["createdAt"], times["updatedAt"]):
            assert WHOLE_SECONDS.fullmatch(stamp), stamp
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            assert before.replace(microsecond=0) <= moment <= after, (before, stamp, after)
        orders += 1
    assert orders > 1


async def test_orders_filter_by_updated_at_and_page_with_cursors(shop: Shop) -> None:
    await shop.product("hat", [{"size": "One", "sku": "HAT-1", "stock": 10}])
    await shop.sandbox.place_order([("HAT-1", 1)])
    shop.clock.advance(2)
    since = shop.sandbox.store.now().isoformat().replace("+00:00", "Z")
    shop.clock.advance(2)
    second = await shop.sandbox.place_order(
        [("HAT-1", 2)], customer={"email": "ana@example.com", "first_name": "Ana"}
    )
    shop.clock.advance(2)
    third = await shop.sandbox.place_order([("HAT-1", 1)])

    query = f"updated_at:>'{since}'"
    page = (await shop.graphql(ORDERS, {"query": query}))["orders"]
    after = (await shop.graphql(ORDERS, {"query": query, "after": page["pageInfo"]["endCursor"]}))[
        "orders"
    ]

    [edge] = page["edges"]
    node = edge["node"]
    assert node["id"] == second
    assert node["name"] == "#1002"
    assert node["displayFinancialStatus"] == "PAID"
    assert node["displayFulfillmentStatus"] == "UNFULFILLED"
    assert node["lineItems"]["nodes"][0]["sku"] == "HAT-1"
    assert node["lineItems"]["nodes"][0]["quantity"] == 2
    assert node["lineItems"]["nodes"][0]["originalUnitPriceSet"]["shopMoney"] == {
        "amount": "20.0",
        "currencyCode": "USD",
    }
    assert node["customer"]["defaultEmailAddress"] == {"emailAddress": "ana@example.com"}
    assert page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in after["edges"]] == [third]
    assert after["pageInfo"]["hasNextPage"] is False
    # Stock committed to the orders leaves available, not on_hand.
    assert shop.sandbox.inventory_quantity("HAT-1", LOCATION) == 6
    assert shop.sandbox.inventory_quantity("HAT-1", LOCATION, "on_hand") == 10


async def test_fulfillment_create_records_tracking_and_fulfills_the_order(shop: Shop) -> None:
    await shop.product("bag", [{"size": "One", "sku": "BAG-1", "stock": 4}])
    order_id = await shop.sandbox.place_order([("BAG-1", 3)])
    order = await shop.graphql(
        "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id } } } }",
        {"id": order_id},
    )
    fulfillment_order = order["order"]["fulfillmentOrders"]["nodes"][0]["id"]
    shop.clock.advance(3)

    created = await shop.graphql(
        """
        mutation($fulfillment: FulfillmentInput!) {
          fulfillmentCreate(fulfillment: $fulfillment) {
            fulfillment { id status trackingInfo { company number url } }
            userErrors { field message }
          }
        }
        """,
        {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order}],
                "trackingInfo": {
                    "company": "UPS",
                    "number": "1Z999",
                    "url": "https://ups.example/1Z999",
                },
                "notifyCustomer": False,
            }
        },
    )
    after = await shop.graphql(
        "query($id: ID!) { order(id: $id) { displayFulfillmentStatus fulfillments { name } } }",
        {"id": order_id},
    )
    await shop.sandbox.deliver_pending_webhooks()

    payload = created["fulfillmentCreate"]
    assert payload["userErrors"] == []
    assert payload["fulfillment"]["status"] == "SUCCESS"
    assert payload["fulfillment"]["trackingInfo"] == [
        {"company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"}
    ]
    assert after["order"] == {
        "displayFulfillmentStatus": "FULFILLED",
        "fulfillments": [{"name": "#1001.1"}],
    }
    assert shop.sandbox.inventory_quantity("BAG-1", LOCATION) == 1
    assert shop.sandbox.inventory_quantity("BAG-1", LOCATION, "on_hand") == 1
    [(_, updated)] = shop.receiver.of("orders/updated")
    assert updated["fulfillment_status"] == "fulfilled"
    assert updated["fulfillments"][0]["tracking_number"] == "1Z999"


ORDER_EDIT_BEGIN = """
mutation($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder { id lineItems(first: 10) { nodes { id sku quantity editableQuantity } } }
    orderEditSession { id }
    userErrors { field message }
  }
}
"""
ORDER_EDIT_SET_QUANTITY = """
mutation($id: ID!, $line: ID!, $quantity: Int!, $restock: Boolean) {
  orderEditSetQuantity(id: $id, lineItemId: $line, quantity: $quantity, restock: $restock) {
    calculatedLineItem { id quantity editableQuantity }
    userErrors { field message }
  }
}
"""
ORDER_EDIT_COMMIT = """
mutation($id: ID!) {
  orderEditCommit(id: $id, notifyCustomer: false, staffNote: "out of stock") {
    order { id }
    userErrors { field message }
  }
}
"""
ORDER_LINES = """
query($id: ID!) {
  order(id: $id) {
    lineItems(first: 5) { nodes { id sku quantity currentQuantity } }
    fulfillmentOrders(first: 5) {
      nodes { status lineItems(first: 5) { nodes { totalQuantity remainingQuantity } } }
    }
  }
}
"""


async def _edit(shop: Shop, order_id: str) -> tuple[str, dict[str, str]]:
    """An order edit begun: its id, and its calculated line ids by SKU."""
    begun = (await shop.graphql(ORDER_EDIT_BEGIN, {"id": order_id}))["orderEditBegin"]
    assert begun["userErrors"] == []
    calculated = begun["calculatedOrder"]
    assert begun["orderEditSession"]["id"].rsplit("/", 1)[1] == calculated["id"].rsplit("/", 1)[1]
    return calculated["id"], {n["sku"]: n["id"] for n in calculated["lineItems"]["nodes"]}


async def test_an_order_edit_removes_a_line_without_restocking_it(shop: Shop) -> None:
    await shop.product("cup", [{"size": "One", "sku": "CUP-1", "stock": 5}])
    await shop.product("mug", [{"size": "One", "sku": "MUG-1", "stock": 3}])
    order_id = await shop.sandbox.place_order([("CUP-1", 2), ("MUG-1", 1)])
    before = await shop.graphql(ORDER_LINES, {"id": order_id})
    edit, lines = await _edit(shop, order_id)
    cup_line = before["order"]["lineItems"]["nodes"][0]["id"]
    assert lines["CUP-1"].rsplit("/", 1)[1] == cup_line.rsplit("/", 1)[1]  # same number

    staged = await shop.graphql(
        ORDER_EDIT_SET_QUANTITY,
        {"id": edit, "line": lines["CUP-1"], "quantity": 0, "restock": False},
    )
    unchanged = await shop.graphql(ORDER_LINES, {"id": order_id})
    committed = await shop.graphql(ORDER_EDIT_COMMIT, {"id": edit})
    after = await shop.graphql(ORDER_LINES, {"id": order_id})
    again = await shop.graphql(
        ORDER_EDIT_SET_QUANTITY, {"id": edit, "line": lines["MUG-1"], "quantity": 0}
    )
    await shop.sandbox.deliver_pending_webhooks()

    assert staged["orderEditSetQuantity"]["calculatedLineItem"]["quantity"] == 0
    assert unchanged == before  # nothing changes before the commit
    assert committed["orderEditCommit"] == {"order": {"id": order_id}, "userErrors": []}
    items = after["order"]["lineItems"]["nodes"]
    assert [(n["sku"], n["quantity"], n["currentQuantity"]) for n in items] == [
        ("CUP-1", 2, 0), ("MUG-1", 1, 1),
    ]  # fmt: skip
    [fulfillment_order] = after["order"]["fulfillmentOrders"]["nodes"]
    fo_lines = fulfillment_order["lineItems"]["nodes"]
    assert [(n["totalQuantity"], n["remainingQuantity"]) for n in fo_lines] == [(0, 0), (1, 1)]
    # The 2 committed units leave without coming back as available (restock: false).
    assert shop.sandbox.inventory_quantity("CUP-1", LOCATION) == 3
    assert shop.sandbox.inventory_quantity("CUP-1", LOCATION, "on_hand") == 3
    assert again["orderEditSetQuantity"]["userErrors"] == [
        {"field": ["id"], "message": "The order edit has already been committed."}
    ]
    [(_, updated)] = shop.receiver.of("orders/updated")
    assert [ln["current_quantity"] for ln in updated["line_items"]] == [0, 1]


async def test_an_order_edit_refuses_what_shopify_refuses(shop: Shop) -> None:
    await shop.product("jar", [{"size": "One", "sku": "JAR-1", "stock": 4}])
    order_id = await shop.sandbox.place_order([("JAR-1", 3)])
    edit, lines = await _edit(shop, order_id)
    line = lines["JAR-1"]

    refused = [
        ({"id": edit, "line": line, "quantity": -1}, ["quantity"]),
        ({"id": edit, "line": "gid://shopify/CalculatedLineItem/1", "quantity": 0}, ["lineItemId"]),
        ({"id": "gid://shopify/CalculatedOrder/1", "line": line, "quantity": 0}, ["id"]),
    ]
    for variables, at in refused:
        answer = await shop.graphql(ORDER_EDIT_SET_QUANTITY, variables)
        assert [e["field"] for e in answer["orderEditSetQuantity"]["userErrors"]] == [at]
    restocked = await shop.graphql(
        ORDER_EDIT_SET_QUANTITY, {"id": edit, "line": line, "quantity": 1, "restock": True}
    )
    await shop.graphql(ORDER_EDIT_COMMIT, {"id": edit})

    assert restocked["orderEditSetQuantity"]["userErrors"] == []
    assert shop.sandbox.inventory_quantity("JAR-1", LOCATION) == 3  # 1 + the 2 restocked
    assert shop.sandbox.inventory_quantity("JAR-1", LOCATION, "on_hand") == 4


@pytest.mark.parametrize(("restock", "available", "on_hand"), [(True, 5, 5), (False, 3, 3)])
async def test_a_cancelled_order_closes_and_its_committed_units_are_restocked_or_gone(
    shop: Shop, restock: bool, available: int, on_hand: int
) -> None:
    await shop.product("pot", [{"size": "One", "sku": "POT-1", "stock": 5}])
    order_id = await shop.sandbox.place_order([("POT-1", 2)])
    await shop.sandbox.cancel_order(order_id, restock=restock)

    cancelled = await shop.graphql(
        "query($id: ID!) { order(id: $id) { cancelledAt } }", {"id": order_id}
    )
    closed = await shop.graphql(ORDER_LINES, {"id": order_id})
    assert cancelled["order"]["cancelledAt"] is not None
    [fulfillment_order] = closed["order"]["fulfillmentOrders"]["nodes"]
    assert fulfillment_order["status"] == "CLOSED"
    assert shop.sandbox.inventory_quantity("POT-1", LOCATION) == available
    assert shop.sandbox.inventory_quantity("POT-1", LOCATION, "committed") == 0
    assert shop.sandbox.inventory_quantity("POT-1", LOCATION, "on_hand") == on_hand
    [(_, created)], [(_, updated)] = (
        shop.receiver.of("orders/create"),
        shop.receiver.of("orders/updated"),
    )
    assert (created["cancelled_at"], updated["cancelled_at"] is not None) == (None, True)


async def _order_cancel(shop: Shop, order_id: str, restock: bool = False) -> dict[str, Any]:
    variables = {"orderId": order_id, "reason": "CUSTOMER", "restock": restock, "staffNote": "x"}
    cancelled: dict[str, Any] = (await shop.graphql(ORDER_CANCEL, variables))["orderCancel"]
    return cancelled


async def test_order_cancel_cancels_once_and_sends_orders_cancelled_signed(shop: Shop) -> None:
    await shop.product("tin", [{"size": "One", "sku": "TIN-1", "stock": 5}])
    order_id = await shop.sandbox.place_order([("TIN-1", 2)])
    shop.receiver.received.clear()

    cancelled = await _order_cancel(shop, order_id)
    await shop.sandbox.deliver_pending_webhooks()
    again = await _order_cancel(shop, order_id)
    unknown = await _order_cancel(shop, "gid://shopify/Order/999999")

    assert (cancelled["orderCancelUserErrors"], cancelled["job"]["done"]) == ([], True)
    shown = await shop.graphql("query($id: ID!) { order(id: $id) { cancelledAt } }",
                               {"id": order_id})  # fmt: skip
    assert shown["order"]["cancelledAt"] is not None
    assert shop.receiver.topics() == ["orders/cancelled", "orders/updated"]
    for headers, _body in shop.receiver.received:
        assert _valid_signature(headers, _body)
    [(_, body)] = shop.receiver.of("orders/cancelled")
    assert (body["admin_graphql_api_id"], body["cancelled_at"] is not None) == (order_id, True)
    assert [e["code"] for e in again["orderCancelUserErrors"]] == ["INVALID"]
    assert [e["code"] for e in unknown["orderCancelUserErrors"]] == ["NOT_FOUND"]
    await shop.sandbox.deliver_pending_webhooks()
    assert len(shop.receiver.received) == 2  # refused: nothing more sent
    # Not restocked: the two committed units left on hand.
    assert shop.sandbox.inventory_quantity("TIN-1", LOCATION) == 3
    assert shop.sandbox.inventory_quantity("TIN-1", LOCATION, "committed") == 0


async def test_order_cancel_refuses_an_order_with_a_fulfillment(shop: Shop) -> None:
    await shop.product("jug", [{"size": "One", "sku": "JUG-1", "stock": 5}])
    order_id = await shop.sandbox.place_order([("JUG-1", 2)])
    order = await shop.graphql(
        "query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id } } } }",
        {"id": order_id},
    )
    [node] = order["order"]["fulfillmentOrders"]["nodes"]
    ship = {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": node["id"]}]}  # all of it
    created = await shop.graphql(
        "mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) "
        "{ fulfillment { id } userErrors { message } } }",
        {"f": ship},
    )
    assert created["fulfillmentCreate"]["userErrors"] == [], created

    refused = await _order_cancel(shop, order_id, restock=True)

    assert [e["code"] for e in refused["orderCancelUserErrors"]] == ["INVALID"]
    assert shop.sandbox.store.orders[int(order_id.rsplit("/", 1)[1])].cancelled_at is None


# -- webhooks --------------------------------------------------------------------------------


def _valid_signature(headers: dict[str, str], body: bytes) -> bool:
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(headers["x-shopify-hmac-sha256"], expected)


async def test_webhooks_are_signed_rest_shaped_and_carry_shopify_headers(shop: Shop) -> None:
    await shop.product("pin", [{"size": "One", "sku": "PIN-1", "stock": 2}])
    await shop.sandbox.deliver_pending_webhooks()
    shop.receiver.received.clear()

    order_id = await shop.sandbox.place_order([("PIN-1", 1)], customer={"email": "bo@example.com"})

    assert shop.receiver.topics() == ["orders/create", "inventory_levels/update"]
    for headers, body in shop.receiver.received:
        assert _valid_signature(headers, body)
        assert headers["x-shopify-shop-domain"] == "nexo-demo.myshopify.com"
        assert headers["x-shopify-api-version"] == "2026-01"
        assert headers["x-shopify-webhook-id"]
        assert headers["x-shopify-event-id"]
        assert headers["x-shopify-triggered-at"]
    [(_, order)] = shop.receiver.of("orders/create")
    assert order["admin_graphql_api_id"] == order_id
    assert order["id"] == int(order_id.rsplit("/", 1)[1])
    assert order["name"] == "#1001"
    assert order["financial_status"] == "paid"
    assert order["fulfillment_status"] is None
    assert order["customer"]["email"] == "bo@example.com"
    [line] = order["line_items"]
    assert (line["sku"], line["quantity"], line["price"]) == ("PIN-1", 1, "20.00")
    [(_, level)] = shop.receiver.of("inventory_levels/update")
    assert level["available"] == 1
    assert level["location_id"] == 1
    assert level["admin_graphql_api_id"].startswith(
        "gid://shopify/InventoryLevel/1?inventory_item_id="
    )


async def test_merchant_edits_send_inventory_levels_update(shop: Shop) -> None:
    await shop.product("pen", [{"size": "One", "sku": "PEN-1", "stock": 2}])
    await shop.sandbox.deliver_pending_webhooks()
    shop.receiver.received.clear()

    await shop.sandbox.edit_inventory("PEN-1", LOCATION, 12)

    [(headers, level)] = shop.receiver.of("inventory_levels/update")
    assert level["available"] == 12
    assert _valid_signature(headers, shop.receiver.received[0][1])


async def test_a_webhook_answered_with_an_error_is_retried_with_the_same_event_id(
    shop: Shop,
) -> None:
    await shop.product("cup", [{"size": "One", "sku": "CUP-1"}])
    shop.receiver.answers = [500, 503]

    await shop.sandbox.edit_inventory("CUP-1", LOCATION, 5)  # first attempt: 500
    shop.clock.advance(9)
    assert await shop.sandbox.deliver_pending_webhooks() == 0  # not yet due
    shop.clock.advance(1)
    assert await shop.sandbox.deliver_pending_webhooks() == 1
    shop.clock.advance(30)
    assert await shop.sandbox.deliver_pending_webhooks() == 1

    attempts = [headers for headers, _ in shop.receiver.received]
    assert len(attempts) == 3
    assert len({h["x-shopify-event-id"] for h in attempts}) == 1
    assert len({h["x-shopify-webhook-id"] for h in attempts}) == 3
    outcomes = [(e["status"], e["outcome"]) for e in shop.sandbox.webhook_log]
    assert outcomes == [(500, "retry_scheduled"), (503, "retry_scheduled"), (200, "delivered")]


async def test_a_webhook_that_keeps_failing_is_given_up_after_eight_retries(shop: Shop) -> None:
    await shop.product("box", [{"size": "One", "sku": "BOX-1"}])
    shop.receiver.answers = [500] * 20

    await shop.sandbox.edit_inventory("BOX-1", LOCATION, 5)
    for _ in range(12):
        shop.clock.advance(7200)
        await shop.sandbox.deliver_pending_webhooks()

    assert len(shop.receiver.received) == 9
    assert shop.sandbox.webhook_log[-1]["outcome"] == "gave_up"


async def test_duplicated_webhooks_share_the_event_id(shop: Shop) -> None:
    await shop.product("tag", [{"size": "One", "sku": "TAG-1"}])
    shop.sandbox.faults.duplicate_webhooks = 1

    await shop.sandbox.edit_inventory("TAG-1", LOCATION, 5)

    first, second = (headers for headers, _ in shop.receiver.received)
    assert first["x-shopify-event-id"] == second["x-shopify-event-id"]
    assert first["x-shopify-webhook-id"] != second["x-shopify-webhook-id"]


async def test_dropped_webhooks_never_arrive(shop: Shop) -> None:
    await shop.product("key", [{"size": "One", "sku": "KEY-1", "stock": 3}])
    await shop.sandbox.deliver_pending_webhooks()
    shop.receiver.received.clear()
    shop.sandbox.faults.drop_webhooks = 1.0

    await shop.sandbox.place_order([("KEY-1", 1)])
    shop.clock.advance(86_400)
    await shop.sandbox.deliver_pending_webhooks()

    assert shop.receiver.received == []
    assert {e["outcome"] for e in shop.sandbox.webhook_log[-2:]} == {"dropped"}


# -- faults and control routes --------------------------------------------------------------


async def test_fail_next_answers_the_status_then_recovers(shop: Shop) -> None:
    shop.sandbox.faults.fail_next(2, status=503)

    statuses = [(await shop.post("{ shop { name } }")).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert [c["fault"] for c in shop.sandbox.calls] == ["fail_503", "fail_503", None]


async def test_throttle_next_can_answer_429_with_retry_after(shop: Shop) -> None:
    await shop.http.post("/_sandbox/faults", json={"throttle_next": 1, "throttle_status": 429})

    throttled = await shop.post("{ shop { name } }")
    recovered = await shop.post("{ shop { name } }")

    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "2"
    assert throttled.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert recovered.json()["data"] == {"shop": {"name": "nexo-demo"}}


async def test_garble_next_carries_the_call_out_and_cuts_its_answer_short(shop: Shop) -> None:
    await shop.http.post("/_sandbox/faults", json={"garble_next": 1})

    cut = await shop.post(PRODUCT_SET, {"identifier": {"handle": "cut"}, "input": {"title": "Cut"}})
    whole = await shop.post("{ shop { name } }")

    assert cut.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    assert shop.sandbox.product_by_handle("cut") is not None  # done: only the answer was lost
    assert whole.json()["data"] == {"shop": {"name": "nexo-demo"}}
    assert [c["fault"] for c in shop.sandbox.calls] == ["garbled", None]


async def test_hang_next_holds_the_call_undone_until_the_client_hangs_up(shop: Shop) -> None:
    shop.sandbox.faults.hang_next(1)
    body = json.dumps({"query": PRODUCT_SET, "variables": {
        "identifier": {"handle": "stuck"}, "input": {"title": "Stuck"}}}).encode()  # fmt: skip
    waiting, hung_up = asyncio.Event(), asyncio.Event()
    request = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if request:
            return request.pop()
        waiting.set()
        await hung_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": GRAPHQL, "raw_path": GRAPHQL.encode(),
        "query_string": b"", "headers": [(b"x-shopify-access-token", TOKEN.encode()),
                                         (b"content-type", b"application/json")],
    }  # fmt: skip
    call = asyncio.ensure_future(shop.sandbox.app(scope, receive, send))
    async with asyncio.timeout(5):
        await waiting.wait()
    assert sent == []  # no answer while the client waits
    hung_up.set()
    async with asyncio.timeout(5):
        await call

    assert shop.sandbox.product_by_handle("stuck") is None
    assert [c["fault"] for c in shop.sandbox.calls] == ["hang"]
    assert (await shop.post("{ shop { name } }")).status_code == 200  # the next one is answered


async def test_control_routes_place_orders_edit_stock_and_show_state(shop: Shop) -> None:
    await shop.product("kit", [{"size": "One", "sku": "KIT-1", "stock": 5}])
    warehouse = (await shop.http.post("/_sandbox/locations", json={"name": "Warehouse"})).json()

    ordered = await shop.http.post("/_sandbox/orders", json={"lines": [["KIT-1", 2]]})
    edited = await shop.http.post(
        "/_sandbox/inventory", json={"sku": "KIT-1", "locationId": LOCATION, "available": 7}
    )
    state = (await shop.http.get("/_sandbox/state")).json()

    assert warehouse["id"] == "gid://shopify/Location/2"
    assert ordered.status_code == 201
    assert edited.json() == {"available": 7}
    assert [o["id"] for o in state["orders"]] == [ordered.json()["id"]]
    [level] = state["inventoryLevels"]
    assert level["quantities"]["available"] == 7
    assert level["quantities"]["committed"] == 2
    assert [loc["name"] for loc in state["locations"]] == ["Shop location", "Warehouse"]
