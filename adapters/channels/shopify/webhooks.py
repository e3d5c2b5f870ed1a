"""Shopify webhooks: the signature check and the topics the hub acts on.

Shopify POSTs the REST-shaped resource, signed with `X-Shopify-Hmac-Sha256` =
base64(HMAC-SHA256(app secret, raw body)), and names it in `X-Shopify-Topic`. A redelivery
of the same event carries the same `X-Shopify-Event-Id`. Ids in the body are numeric (REST);
they are turned into the Admin GraphQL global ids the adapter uses everywhere else, so an
order from a webhook and the same order from `fetch_orders` have one `external_id`.

No replay window (see `SignedSendTime`): the HMAC covers the body alone, so
`X-Shopify-Triggered-At` (like the event id) is anyone's to rewrite, and the body's
`updated_at` is the resource's time, which Shopify's retries keep for hours. A replayed
body is an old version of its order or level, which the hub does not apply over a newer one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from adapters.channel_kit.addresses import in_hub_words
from adapters.channel_kit.timestamps import parse_time
from domain.channels.port import (
    ChannelOrder,
    ChannelOrderLine,
    ChannelRejected,
    InboundEvent,
    InboundIdentity,
    InboundKind,
    InboundStockEdit,
)
from domain.errors import InvalidInput
from domain.money import Money

# orders/cancelled carries the order with its `cancelled_at`: taken in as any newer version.
ORDER_TOPICS: Final = frozenset({"orders/create", "orders/updated", "orders/cancelled"})
STOCK_TOPIC: Final = "inventory_levels/update"
# The REST order's shipping_address -> the hub's address words.
REST_ADDRESS_WORDS: Final = {
    "address1": "line1", "address2": "line2", "city": "city", "province_code": "province_code",
    "zip": "zip", "country_code": "country",
}  # fmt: skip


def gid(resource: str, numeric_id: object) -> str:
    """The Admin GraphQL global id of a REST resource id: gid://shopify/Order/450789469."""
    return f"gid://shopify/{resource}/{numeric_id}"


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name (proxies and frameworks differ)."""
    wanted = name.lower()
    found = headers.get(wanted)  # ASGI servers give lower-case names: no scan needed
    if found is not None:
        return found
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def verify(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Whether `X-Shopify-Hmac-Sha256` is the signature of exactly these bytes."""
    given = header(headers, "X-Shopify-Hmac-Sha256")
    if not given or not secret:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, given.strip().encode("utf-8", "replace"))


def _event_id(headers: Mapping[str, str]) -> str | None:
    # The event id is what repeats on redelivery; older deliveries only had the webhook id.
    return header(headers, "X-Shopify-Event-Id") or header(headers, "X-Shopify-Webhook-Id")


def kind_of(topic: str) -> InboundKind:
    """What a topic carries: an order, a stock edit, or nothing the hub acts on."""
    if topic in ORDER_TOPICS:
        return InboundKind.ORDER
    if topic == STOCK_TOPIC:
        return InboundKind.STOCK_EDIT
    return InboundKind.OTHER


def identify(headers: Mapping[str, str]) -> InboundIdentity | None:
    """The event's id, topic and kind from its headers alone; None when one is missing.

    Shopify names all three in headers, so a webhook is stored without its body being read:
    a payload that turns out unreadable fails when it is processed, under its own id.
    """
    topic, event_id = header(headers, "X-Shopify-Topic"), _event_id(headers)
    if not topic or not event_id:
        return None
    return InboundIdentity(event_id, topic, kind_of(topic))


def parse(headers: Mapping[str, str], body: bytes) -> InboundEvent:
    """A (verified) webhook as an event; ChannelRejected names what a bad one lacks."""
    topic = header(headers, "X-Shopify-Topic")
    if not topic:
        raise ChannelRejected("webhook lacks the X-Shopify-Topic header")
    event_id = _event_id(headers)
    if not event_id:
        raise ChannelRejected("webhook lacks the X-Shopify-Event-Id header")
    occurred_at = parse_time(header(headers, "X-Shopify-Triggered-At"))
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ChannelRejected(f"{topic} webhook body is not JSON") from None
    if not isinstance(payload, dict):
        raise ChannelRejected(f"{topic} webhook body is not a JSON object")
    if topic in ORDER_TOPICS:
        order = rest_order(payload, topic)
        return InboundEvent(event_id, InboundKind.ORDER, topic, occurred_at, order=order)
    if topic == STOCK_TOPIC:
        edit = _stock_edit(payload, event_id, occurred_at)
        return InboundEvent(event_id, InboundKind.STOCK_EDIT, topic, occurred_at, stock_edit=edit)
    return InboundEvent(event_id, InboundKind.OTHER, topic, occurred_at)


def _required(payload: Mapping[str, Any], name: str, topic: str, path: str = "") -> Any:
    value = payload.get(name)
    if value is None or value == "":
        raise ChannelRejected(f"{topic} payload lacks {path}{name}")
    return value


def _integer(payload: Mapping[str, Any], name: str, topic: str, path: str = "") -> int:
    value = _required(payload, name, topic, path)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ChannelRejected(f"{topic} payload has a non-integer {path}{name}: {value!r}")
    return value


def _stock_edit(
    payload: Mapping[str, Any], event_id: str, triggered_at: datetime | None
) -> InboundStockEdit:
    item = _integer(payload, "inventory_item_id", STOCK_TOPIC)
    location = _integer(payload, "location_id", STOCK_TOPIC)
    available = _integer(payload, "available", STOCK_TOPIC)
    occurred_at = parse_time(payload.get("updated_at")) or triggered_at
    if occurred_at is None:
        raise ChannelRejected(f"{STOCK_TOPIC} payload lacks updated_at")
    return InboundStockEdit(
        event_id=event_id,
        sku_refs={
            "inventory_item_id": gid("InventoryItem", item),
            "location_id": gid("Location", location),
        },
        quantity=available,
        occurred_at=occurred_at,
    )


def order_status(cancelled: bool, financial_status: object) -> str:
    """One word for the hub: "cancelled", else Shopify's financial status ("paid", …)."""
    if cancelled:
        return "cancelled"
    return str(financial_status or "pending").lower()


def money_or_none(amount: object, currency: object) -> Money | None:
    """A price Shopify gave as a decimal string; None when absent or in a currency Nexo lacks."""
    if not isinstance(amount, str | int | float) or not isinstance(currency, str):
        return None
    try:
        return Money.parse(str(amount), currency)
    except InvalidInput:
        return None


def rest_order(payload: Mapping[str, Any], topic: str) -> ChannelOrder:
    """The REST Order resource (webhook shape) as a ChannelOrder keyed by global ids."""
    order_id = _required(payload, "id", topic)
    updated_at = parse_time(_required(payload, "updated_at", topic))
    if updated_at is None:
        raise ChannelRejected(f"{topic} payload has an unreadable updated_at")
    items = _required(payload, "line_items", topic)
    if not isinstance(items, list):
        raise ChannelRejected(f"{topic} payload has line_items that are not a list")
    currency = payload.get("currency")
    lines = []
    for i, item in enumerate(items):
        path = f"line_items[{i}]."
        if not isinstance(item, dict):
            raise ChannelRejected(f"{topic} payload has a line_items[{i}] that is not an object")
        lines.append(
            ChannelOrderLine(
                line_id=gid("LineItem", _required(item, "id", topic, path)),
                sku=item.get("sku") or None,
                quantity=_integer(item, "quantity", topic, path),
                unit_price=money_or_none(item.get("price"), currency),
                # REST line items: the discounts applied to the line, all its units.
                discount=money_or_none(item.get("total_discount"), currency),
            )
        )
    customer = payload.get("customer")
    if not isinstance(customer, dict):
        customer = {}  # guest checkout
    return ChannelOrder(
        external_id=gid("Order", order_id),
        number=payload.get("name"),
        updated_at=updated_at,
        placed_at=parse_time(payload.get("processed_at")) or parse_time(payload.get("created_at")),
        status=order_status(bool(payload.get("cancelled_at")), payload.get("financial_status")),
        lines=tuple(lines),
        customer={
            "id": gid("Customer", customer["id"]) if customer.get("id") else None,
            "email": payload.get("email") or customer.get("email"),
            "phone": payload.get("phone") or customer.get("phone"),
        },
        raw={
            **payload,
            "shipping_address": in_hub_words(payload.get("shipping_address"), REST_ADDRESS_WORDS),
        },
    )
