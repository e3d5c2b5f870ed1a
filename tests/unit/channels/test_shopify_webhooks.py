"""Shopify webhooks: the HMAC check over the raw body, and the topics as hub events."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from adapters.channels.shopify.webhooks import identify, parse, verify
from domain.channels.port import ChannelRejected, InboundIdentity, InboundKind
from domain.money import Money

SECRET = "app-secret"

ORDER: dict[str, Any] = {
    "id": 820982911946154508,
    "name": "#1001",
    "email": "jon@example.com",
    "phone": None,
    "created_at": "2026-01-05T10:00:00-05:00",
    "processed_at": "2026-01-05T10:00:01-05:00",
    "updated_at": "2026-01-05T10:05:00-05:00",
    "cancelled_at": None,
    "financial_status": "paid",
    "fulfillment_status": None,
    "currency": "USD",
    "customer": {"id": 115310627314723954, "email": "jon@example.com"},
    "line_items": [
        {"id": 866550311766439020, "sku": "TRAIL-S-RED", "quantity": 2, "price": "25.00"},
        {"id": 141249953214522974, "sku": "", "quantity": 1, "price": "5.50"},
    ],
}

STOCK: dict[str, Any] = {
    "inventory_item_id": 271878346596884015,
    "location_id": 24826418,
    "available": 6,
    "updated_at": "2026-01-05T10:06:00-05:00",
    "admin_graphql_api_id": "gid://shopify/InventoryLevel/24826418?inventory_item_id=271878346596884015",
}


def signed(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def delivery(topic: str, payload: Any, **extra: str) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signed(body),
        "X-Shopify-Shop-Domain": "nexo-demo.myshopify.com",
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-Triggered-At": "2026-01-05T15:06:01.123Z",
        **extra,
    }
    return headers, body


# Signature


def test_a_body_signed_with_the_app_secret_verifies() -> None:
    headers, body = delivery("orders/create", ORDER)
    assert verify(headers, body, SECRET)


def test_header_names_are_matched_whatever_their_case() -> None:
    headers, body = delivery("orders/create", ORDER)
    lowered = {name.lower(): value for name, value in headers.items()}
    assert verify(lowered, body, SECRET)


def test_a_tampered_body_does_not_verify() -> None:
    headers, body = delivery("orders/create", ORDER)
    assert not verify(headers, body.replace(b"25.00", b"2.50"), SECRET)


def test_a_body_re_serialised_does_not_verify() -> None:
    # The signature covers the raw bytes: parsing and dumping again changes them.
    headers, body = delivery("orders/create", ORDER)
    assert not verify(headers, json.dumps(json.loads(body), indent=1).encode(), SECRET)


def test_another_secret_does_not_verify() -> None:
    headers, body = delivery("orders/create", ORDER)
    assert not verify(headers, body, "someone-else")


@pytest.mark.parametrize("value", [None, "", "not base64 at all", "ÿÿ"])
def test_a_missing_or_garbled_signature_does_not_verify(value: str | None) -> None:
    headers, body = delivery("orders/create", ORDER)
    del headers["X-Shopify-Hmac-Sha256"]
    if value is not None:
        headers["X-Shopify-Hmac-Sha256"] = value
    assert not verify(headers, body, SECRET)


def test_nothing_verifies_without_a_secret() -> None:
    headers, body = delivery("orders/create", ORDER)
    headers["X-Shopify-Hmac-Sha256"] = signed(body, "")
    assert not verify(headers, body, "")


# Orders


@pytest.mark.parametrize("topic", ["orders/create", "orders/updated"])
def test_an_order_webhook_is_an_order_event_keyed_by_global_ids(topic: str) -> None:
    event = parse(*delivery(topic, ORDER))
    assert event.kind is InboundKind.ORDER
    assert event.topic == topic
    assert event.event_id == "98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert event.occurred_at == datetime(2026, 1, 5, 15, 6, 1, 123000, tzinfo=UTC)
    order = event.order
    assert order is not None
    assert order.external_id == "gid://shopify/Order/820982911946154508"
    assert order.number == "#1001"
    assert order.status == "paid"
    assert order.updated_at == datetime(2026, 1, 5, 10, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert order.placed_at == datetime(2026, 1, 5, 10, 0, 1, tzinfo=timezone(timedelta(hours=-5)))
    assert [(line.line_id, line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("gid://shopify/LineItem/866550311766439020", "TRAIL-S-RED", 2, Money(2500, "USD")),
        ("gid://shopify/LineItem/141249953214522974", None, 1, Money(550, "USD")),
    ]
    assert order.customer == {
        "id": "gid://shopify/Customer/115310627314723954",
        "email": "jon@example.com",
        "phone": None,
    }


def test_a_cancelled_order_says_so() -> None:
    event = parse(*delivery("orders/updated", {**ORDER, "cancelled_at": "2026-01-06T09:00:00Z"}))
    assert event.order is not None
    assert event.order.status == "cancelled"


def test_a_guest_order_has_no_customer_id() -> None:
    event = parse(*delivery("orders/create", {**ORDER, "customer": None}))
    assert event.order is not None
    assert event.order.customer["id"] is None
    assert event.order.customer["email"] == "jon@example.com"


def test_a_redelivery_carries_the_same_event_id() -> None:
    first = parse(*delivery("orders/create", ORDER))
    again = parse(*delivery("orders/create", ORDER, **{"X-Shopify-Webhook-Id": "other"}))
    assert first.event_id == again.event_id


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        ({"id": None}, "id"),
        ({"updated_at": None}, "updated_at"),
        ({"line_items": None}, "line_items"),
        ({"line_items": [{"sku": "A", "quantity": 1}]}, "line_items[0].id"),
        ({"line_items": [{"id": 1, "sku": "A"}]}, "line_items[0].quantity"),
        ({"line_items": [{"id": 1, "quantity": "two"}]}, "line_items[0].quantity"),
    ],
)
def test_an_order_lacking_a_required_field_is_rejected_naming_it(
    broken: dict[str, Any], named: str
) -> None:
    with pytest.raises(ChannelRejected, match=rf"orders/create payload .*{re.escape(named)}"):
        parse(*delivery("orders/create", {**ORDER, **broken}))


# Stock


def test_an_inventory_level_update_is_a_stock_edit_at_an_item_and_location() -> None:
    event = parse(*delivery("inventory_levels/update", STOCK))
    assert event.kind is InboundKind.STOCK_EDIT
    edit = event.stock_edit
    assert edit is not None
    assert edit.event_id == event.event_id
    assert edit.sku_refs == {
        "inventory_item_id": "gid://shopify/InventoryItem/271878346596884015",
        "location_id": "gid://shopify/Location/24826418",
    }
    assert edit.quantity == 6
    assert edit.occurred_at == datetime(2026, 1, 5, 15, 6, tzinfo=UTC)


@pytest.mark.parametrize("missing", ["inventory_item_id", "location_id", "available"])
def test_a_stock_edit_lacking_a_field_is_rejected_naming_it(missing: str) -> None:
    with pytest.raises(ChannelRejected, match=missing):
        parse(*delivery("inventory_levels/update", {**STOCK, missing: None}))


# Everything else


def test_other_topics_are_other_events() -> None:
    event = parse(*delivery("products/update", {"id": 1, "title": "Trail shirt"}))
    assert event.kind is InboundKind.OTHER
    assert event.topic == "products/update"
    assert event.order is None
    assert event.stock_edit is None


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"{not json", "not JSON"), (b"[1, 2]", "not a JSON object"), (b"\xff\xfe", "not JSON")],
)
def test_a_body_that_does_not_parse_is_rejected(body: bytes, message: str) -> None:
    headers, _ = delivery("orders/create", ORDER)
    with pytest.raises(ChannelRejected, match=message):
        parse(headers, body)


@pytest.mark.parametrize("missing", ["X-Shopify-Topic", "X-Shopify-Event-Id"])
def test_a_webhook_without_its_topic_or_event_id_is_rejected(missing: str) -> None:
    headers, body = delivery("orders/create", ORDER)
    del headers[missing]
    if missing == "X-Shopify-Event-Id":
        del headers["X-Shopify-Webhook-Id"]
    with pytest.raises(ChannelRejected, match=missing):
        parse(headers, body)


def test_the_webhook_id_stands_in_for_a_missing_event_id() -> None:
    headers, body = delivery("orders/create", ORDER)
    del headers["X-Shopify-Event-Id"]
    assert parse(headers, body).event_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


# Identified by the headers alone


@pytest.mark.parametrize(
    ("topic", "kind"),
    [
        ("orders/create", InboundKind.ORDER),
        ("orders/updated", InboundKind.ORDER),
        ("inventory_levels/update", InboundKind.STOCK_EDIT),
        ("products/update", InboundKind.OTHER),
    ],
)
def test_the_headers_name_the_event_as_parsing_it_would(topic: str, kind: InboundKind) -> None:
    headers, body = delivery(topic, STOCK if kind is InboundKind.STOCK_EDIT else ORDER)
    event = parse(headers, body)
    assert identify(headers) == InboundIdentity(event.event_id, topic, kind)


def test_header_names_are_found_in_any_case() -> None:
    headers, _ = delivery("orders/create", ORDER)
    lower = {name.lower(): value for name, value in headers.items()}
    assert identify(headers) == identify(lower)
    assert identify(lower) is not None


def test_an_older_delivery_without_an_event_id_is_named_by_its_webhook_id() -> None:
    headers, _ = delivery("orders/create", ORDER)
    del headers["X-Shopify-Event-Id"]
    named = identify(headers)
    assert named is not None
    assert named.event_id == headers["X-Shopify-Webhook-Id"]


@pytest.mark.parametrize("missing", ["X-Shopify-Topic", "X-Shopify-Event-Id"])
def test_headers_that_do_not_name_the_event_leave_it_to_the_payload(missing: str) -> None:
    headers, _ = delivery("orders/create", ORDER)
    del headers[missing]
    if missing == "X-Shopify-Event-Id":
        del headers["X-Shopify-Webhook-Id"]
    assert identify(headers) is None
