"""Every GraphQL document the Shopify adapter sends is valid against the Admin 2026-01 SDL,
with the variables the adapter really gives it, and uses nothing the SDL deprecates."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLInputObjectType,
    NoDeprecatedCustomRule,
    OperationDefinitionNode,
    get_variable_values,
    parse,
    validate,
)

from adapters.channels.shopify import documents
from adapters.channels.shopify.adapter import ShopifyChannel
from adapters.channels.shopify.client import ShopifyClient, operation_name
from adapters.channels.shopify.mapping import ShopifyListingFormat
from adapters.ratelimit.memory import MemoryRateLimiter
from domain.channels.port import (
    LineCancelNotice,
    ListingRefs,
    PriceUpdate,
    QuantityUpdate,
    ShipmentNotice,
)
from domain.money import Money
from tests.unit.channels.drafts import trail_shirt_draft
from tests.unit.channels.specs import _deprecated_fields, _named, shopify_schema

LOCATION = "gid://shopify/Location/7001"
ORDER = "gid://shopify/Order/9001"
LINE = "gid://shopify/LineItem/9002"
DAY = date(2026, 1, 5)

# Just enough of an answer for the adapter to carry on to its next call.
ANSWERS: dict[str, dict[str, Any]] = {
    "ListingSet": {
        "productSet": {
            "product": {
                "id": "gid://shopify/Product/1",
                "variants": {
                    "nodes": [],
                    "pageInfo": {"hasNextPage": True, "endCursor": "v1"},
                },
            },
            "userErrors": [],
        }
    },
    "ListingVariants": {"product": {"variants": {"nodes": [], "pageInfo": {"hasNextPage": False}}}},
    "ListingEnd": {"productUpdate": {"product": None, "userErrors": []}},
    "QuantitiesSet": {
        "inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "g"}, "userErrors": []}
    },
    "PricesUpdate": {"productVariantsBulkUpdate": {"productVariants": [], "userErrors": []}},
    "LevelsRead": {"shop": {"currencyCode": "USD"}, "nodes": [None]},
    "OrdersSince": {
        "orders": {
            "nodes": [
                {
                    "id": ORDER,
                    "updatedAt": "2026-01-05T10:00:00Z",
                    "lineItems": {
                        "nodes": [],
                        "pageInfo": {"hasNextPage": True, "endCursor": "l1"},
                    },
                }
            ],
            "pageInfo": {"hasNextPage": True, "endCursor": "o1"},
        }
    },
    "OrderLines": {"order": {"lineItems": {"nodes": [], "pageInfo": {"hasNextPage": False}}}},
    "ShipmentLines": {
        "order": {
            "id": ORDER,
            "fulfillmentOrders": {
                "nodes": [
                    {
                        "id": "gid://shopify/FulfillmentOrder/9003",
                        "status": "OPEN",
                        "lineItems": {
                            "nodes": [
                                {
                                    "id": "gid://shopify/FulfillmentOrderLineItem/9004",
                                    "remainingQuantity": 2,
                                    "lineItem": {"id": LINE},
                                }
                            ]
                        },
                    }
                ]
            },
        }
    },
    "ShipmentCreate": {
        "fulfillmentCreate": {
            "fulfillment": {"id": "gid://shopify/Fulfillment/1"},
            "userErrors": [],
        }
    },
    "OrderEditBegin": {
        "orderEditBegin": {
            "calculatedOrder": {
                "id": "gid://shopify/CalculatedOrder/9005",
                "lineItems": {
                    "nodes": [
                        {
                            "id": "gid://shopify/CalculatedLineItem/9002",
                            "quantity": 2,
                            "editableQuantity": 2,
                        }
                    ],
                    "pageInfo": {"hasNextPage": False},
                },
            },
            "userErrors": [],
        }
    },
    "OrderEditSetQuantity": {
        "orderEditSetQuantity": {"calculatedLineItem": {"id": "c"}, "userErrors": []}
    },
    "OrderEditCommit": {"orderEditCommit": {"order": {"id": ORDER}, "userErrors": []}},
    "OrderCancelled": {"order": {"id": ORDER, "cancelledAt": None}},
    "OrderCancel": {
        "orderCancel": {"job": {"id": "gid://shopify/Job/1"}, "orderCancelUserErrors": []}
    },
    "ViewsRead": {
        "shopifyqlQuery": {
            "parseErrors": [],
            "tableData": {
                "columns": [{"name": "product_id"}, {"name": "view_sessions"}],
                "rows": [{"product_id": "1", "view_sessions": 3}],
            },
        }
    },
}


def errors_of(query: str, variables: dict[str, Any]) -> list[str]:
    """specs.shopify_errors, for documents whose variables may also be scalars or lists."""
    schema = shopify_schema()
    document = parse(query)
    errors = [e.message for e in validate(schema, document)]
    errors += [e.message for e in validate(schema, document, rules=[NoDeprecatedCustomRule])]
    if errors:
        return errors
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    definitions = operation.variable_definitions or ()
    coerced = get_variable_values(schema, definitions, variables)
    if isinstance(coerced, list):
        return [error.message for error in coerced]
    for definition in definitions:
        name = definition.variable.name.value
        input_type = schema.get_type(_named(definition.type))
        if isinstance(input_type, GraphQLInputObjectType):
            errors += _deprecated_fields(input_type, variables.get(name), f"${name}")
    return errors


@pytest.mark.parametrize("name", sorted(documents.DOCUMENTS))
def test_each_document_is_valid_against_the_admin_schema(name: str) -> None:
    document = documents.DOCUMENTS[name]
    assert operation_name(document) == name
    rules = [NoDeprecatedCustomRule]
    schema = shopify_schema()
    assert [e.message for e in validate(schema, parse(document))] == []
    assert [e.message for e in validate(schema, parse(document), rules=rules)] == []


async def test_every_request_the_adapter_sends_is_valid_with_its_variables() -> None:
    sent: list[dict[str, Any]] = []

    def shopify(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent.append(body)
        return httpx.Response(200, json={"data": ANSWERS[operation_name(body["query"])]})

    http = httpx.AsyncClient(transport=httpx.MockTransport(shopify))
    client = ShopifyClient("nexo-demo.myshopify.com", "t", http=http, limiter=MemoryRateLimiter())
    channel = ShopifyChannel(client, location_id=LOCATION, webhook_secret="s")
    draft = trail_shirt_draft("shopify")
    refs = {"variant_id": "gid://shopify/ProductVariant/2", "inventory_item_id": "i"}

    await channel.upsert_listing(draft, ShopifyListingFormat().requests(draft), ListingRefs())
    await channel.end_listing(ListingRefs(listing_id="gid://shopify/Product/1"))
    await channel.push_quantities(
        [
            QuantityUpdate("A", 5, {"inventory_item_id": "gid://shopify/InventoryItem/3"}, 4),
            QuantityUpdate("B", 1, {"inventory_item_id": "gid://shopify/InventoryItem/4"}),
        ]
    )
    await channel.push_prices(
        [
            PriceUpdate(
                "A",
                Money(2500, "USD"),
                Money(3500, "USD"),
                refs,
                {"product_id": "gid://shopify/Product/1"},
            ),
            PriceUpdate("B", Money(2700, "USD"), None, refs, {"product_id": "p"}),
        ]
    )
    await channel.read_levels({"A": refs})
    page = await channel.fetch_orders(None)
    await channel.fetch_orders(page.cursor)
    await channel.confirm_shipment(
        ShipmentNotice({"order_id": ORDER}, ((LINE, 2),), "UPS", "1Z999", "https://ups.test/1Z")
    )
    await channel.cancel_lines(LineCancelNotice({"order_id": ORDER}, (LINE,), "lost a unit"))
    await channel.cancel_lines(LineCancelNotice({"order_id": ORDER}, (LINE,), "asked", True))
    viewed = await channel.read_views({"A": {"listing_id": "gid://shopify/Product/1"}}, DAY)

    names = [operation_name(body["query"]) for body in sent]
    assert set(names) == set(ANSWERS)
    assert viewed == {"A": 3}
    for body in sent:
        assert errors_of(body["query"], body["variables"]) == [], operation_name(body["query"])
