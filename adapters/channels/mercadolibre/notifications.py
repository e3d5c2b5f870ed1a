"""MercadoLibre's notifications: unsigned pointers, answered at once, read later.

A notification is a POST of `{"_id", "resource": "/orders/123", "user_id", "topic",
"application_id", "attempts", "sent", "received"}`: it carries no data, only where to read
it. MercadoLibre signs nothing (its only origin check is its IP range, which the hub's edge
may enforce): what the port checks is that the pointer is for this seller (`user_id`) and
this application (`application_id`), and well formed. It must be answered 200 within ~500 ms
or it comes again with `attempts + 1` and the same `_id` — the event id, so a resend or a
duplicate is one event.

`orders_v2` names an order the hub then reads with a pull of the seller's orders (the event
says "an order": the inbox asks for one pull however many arrive together), which reads it
with its whole pack; `shipments` too (an ME2 shipment MercadoLibre moved on: shipped, then
delivered, moves its orders' `date_last_updated`, and the pull reads the cart's shipment);
`items` and the others are kept and not acted on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from adapters.channel_kit.timestamps import parse_time
from domain.channels.port import ChannelRejected, InboundEvent, InboundKind

ORDER_TOPICS: Final = frozenset({"orders_v2", "orders", "shipments"})


def read(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ChannelRejected("MercadoLibre notification body is not JSON") from None
    if not isinstance(payload, dict):
        raise ChannelRejected("MercadoLibre notification is not an object")
    for name in ("_id", "topic", "resource"):
        if not isinstance(payload.get(name), str) or not payload[name]:
            raise ChannelRejected(f"MercadoLibre notification lacks {name}")
    if not payload["resource"].startswith("/"):
        raise ChannelRejected("MercadoLibre notification's resource is not a path")
    return payload


def is_ours(body: bytes, seller_id: str, application_id: str) -> bool:
    """Whether the pointer is for this seller and this application."""
    try:
        payload = read(body)
    except ChannelRejected:
        return False
    if str(payload.get("user_id")) != seller_id:
        return False
    given = payload.get("application_id")
    return given is None or not application_id or str(given) == application_id


def parse(headers: Mapping[str, str], body: bytes) -> InboundEvent:
    payload = read(body)
    topic = str(payload["topic"])
    occurred = parse_time(payload.get("received")) or parse_time(payload.get("sent"))
    kind = InboundKind.ORDER if topic in ORDER_TOPICS else InboundKind.OTHER
    return InboundEvent(str(payload["_id"]), kind, topic, occurred)
