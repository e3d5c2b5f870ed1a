"""A Shopify order's shipping address, from the orders pull (Admin GraphQL MailingAddress) and
from the order webhooks (the REST Order), reaches the hub in the words zone routing reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from graphql import (
    FieldNode,
    GraphQLObjectType,
    Node,
    NoDeprecatedCustomRule,
    parse,
    specified_rules,
    validate,
)

from adapters.channels.shopify import documents, webhooks
from adapters.channels.shopify.adapter import ADDRESS_WORDS, graphql_order
from domain.inventory.zones import Destination, destination
from sandbox.shopify.models import MailingAddress, Order
from sandbox.shopify.payloads import order_body
from tests.unit.channels.specs import shopify_schema

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
HUB_WORDS = {"line1": "Marienplatz 1", "city": "München", "province_code": "BY",
             "zip": "80331", "country": "DE"}  # fmt: skip


def _selected(field: str) -> set[str]:
    """The fields OrdersSince asks for under `field`."""
    return {
        selection.name.value
        for node in _walk(parse(documents.ORDERS_SINCE))
        if isinstance(node, FieldNode) and node.name.value == field and node.selection_set
        for selection in node.selection_set.selections
        if isinstance(selection, FieldNode)
    }


def _walk(node: Node) -> list[Node]:
    found = [node]
    for key in node.keys:
        value = getattr(node, key)
        for child in value if isinstance(value, tuple | list) else (value,):
            if isinstance(child, Node):
                found += _walk(child)
    return found


def test_the_orders_pull_asks_for_the_mailing_address_fields_the_hub_maps() -> None:
    schema = shopify_schema()
    mailing = schema.type_map["MailingAddress"]
    assert isinstance(mailing, GraphQLObjectType)

    asked = _selected("shippingAddress")

    assert (
        validate(schema, parse(documents.ORDERS_SINCE), [*specified_rules, NoDeprecatedCustomRule])
        == []
    )
    assert asked == set(ADDRESS_WORDS)
    assert all(name in mailing.fields for name in asked)


def test_a_pulled_orders_mailing_address_becomes_its_destination() -> None:
    node = {"id": "gid://shopify/Order/1", "updatedAt": "2026-03-01T12:00:00Z",
            "shippingAddress": {"address1": "Marienplatz 1", "address2": None,
                                "city": "München", "provinceCode": "BY", "zip": "80331",
                                "countryCodeV2": "DE"}}  # fmt: skip

    order = graphql_order(node, [])

    assert order.raw["shipping_address"] == HUB_WORDS
    assert destination(order.raw["shipping_address"]) == Destination("DE", "BY")


def test_a_webhook_orders_shipping_address_maps_to_the_same_words() -> None:
    address = MailingAddress(7, first_name="Ana", address1="Marienplatz 1", city="München",
                             province="Bavaria", province_code="BY", zip="80331",
                             country="Germany", country_code_v2="DE")  # fmt: skip
    body = order_body(Order(1, 1001, None, None, [], "EUR", AT, AT, shipping_address=address))

    order = webhooks.rest_order(json.loads(json.dumps(body)), "orders/create")

    assert body["shipping_address"]["country_code"] == "DE"  # the REST Order's words
    assert order.raw["shipping_address"] == HUB_WORDS


def test_an_order_without_a_shipping_address_has_no_destination() -> None:
    body = order_body(Order(1, 1001, None, None, [], "EUR", AT, AT))
    node = {
        "id": "gid://shopify/Order/1",
        "updatedAt": "2026-03-01T12:00:00Z",
        "shippingAddress": None,
    }

    assert webhooks.rest_order(body, "orders/create").raw["shipping_address"] == {}
    assert graphql_order(node, []).raw["shipping_address"] == {}
