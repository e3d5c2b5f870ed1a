"""Amazon orders as the hub's `ChannelOrder`: from Orders 2026-01-01 and from ORDER_CHANGE.

Both carry the order id, its lines (order item id, seller SKU, quantity) and a time of change:
the pull's `lastUpdatedTime`, the notification's `OrderChangeTrigger.TimeOfOrderChange`, the
same instant for the same change, so the order book takes each version once, whichever comes
first. A line's quantity is what is still ordered: cancelled units are off it. The
notification has no prices (Amazon's summary carries none); the pull has each line's unit
price. `raw` keeps `fulfilledBy` (MERCHANT or AMAZON): an AMAZON (FBA, AFN) order ships from
Amazon's stock; and where it goes as `shipping_address`: the pull's RECIPIENT delivery
address, or, from a notification (which carries no address), the country of its marketplace
and its `DestinationPostalCode`, so an order first known from one routes by country at least.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from adapters.channel_kit.addresses import in_hub_words
from adapters.channel_kit.timestamps import parse_time
from domain.channels.port import ChannelOrder, ChannelOrderLine, ChannelRejected
from domain.errors import InvalidInput
from domain.money import Money

CANCELLED: Final = "cancelled"
# ORDER_CHANGE's OrderStatus in the words of Orders 2026-01-01's FulfillmentStatus.
LEGACY_STATUSES: Final = {
    "Pending": "pending",
    "Unshipped": "unshipped",
    "PartiallyShipped": "partially_shipped",
    "Shipped": "shipped",
    "Canceled": CANCELLED,
    "Unfulfillable": "unfulfillable",
    "InvoiceUnconfirmed": "pending",
    "PendingAvailability": "pending_availability",
}
# Orders 2026-01-01 CustomerAddress -> the hub's address words. Without a Restricted Data
# Token Amazon gives only the place (city, state or region, postal code, country).
ADDRESS_WORDS: Final = {
    "addressLine1": "line1", "addressLine2": "line2", "city": "city",
    "stateOrRegion": "province_code", "postalCode": "zip", "countryCode": "country",
}  # fmt: skip


# Amazon's marketplace ids (the Selling Partner API's) -> the country their buyers are in.
MARKETPLACE_COUNTRIES: Final = {
    "ATVPDKIKX0DER": "US", "A2EUQ1WTGCTBG2": "CA", "A1AM78C64UM0Y8": "MX",
    "A2Q3Y263D00KWC": "BR", "A1F83G8C2ARO7P": "GB", "A1PA6795UKMFR9": "DE",
    "A13V1IB3VIYZZH": "FR", "APJ6JRA9NG5V4": "IT", "A1RKKUPIHCS9HS": "ES",
    "A1805IZSGTT6HS": "NL", "A2NODRKZP88ZB9": "SE", "A1C3SOZRARQ6R3": "PL",
    "AMEN7PMS3EDWL": "BE", "A33AVAJ2PDY3EV": "TR", "A2VIGQ35RCS4UG": "AE",
    "A17E79C6D8DWNP": "SA", "ARBP9OOSHTCHU": "EG", "A21TJRUUN4KGV": "IN",
    "A1VC38T7YXB528": "JP", "A39IBJ37TRP1C6": "AU", "A19VAU5U5O7RUS": "SG",
}  # fmt: skip


def channel_order(order: Mapping[str, Any]) -> ChannelOrder:
    """An Orders 2026-01-01 `Order` (with FULFILLMENT included)."""
    order_id = order.get("orderId")
    updated_at = parse_time(order.get("lastUpdatedTime"))
    items = order.get("orderItems")
    if not order_id or updated_at is None or not isinstance(items, list):
        raise ChannelRejected("Amazon order without orderId, lastUpdatedTime or orderItems")
    lines = []
    for n, item in enumerate(items):
        if not isinstance(item, Mapping) or not item.get("orderItemId"):
            raise ChannelRejected(f"Amazon order {order_id}: orderItems[{n}] has no orderItemId")
        ordered = item.get("quantityOrdered")
        if isinstance(ordered, bool) or not isinstance(ordered, int):
            raise ChannelRejected(f"Amazon order {order_id}: orderItems[{n}].quantityOrdered")
        done = _dig(item, "fulfillment") or {}
        fulfilled, unfulfilled = done.get("quantityFulfilled"), done.get("quantityUnfulfilled")
        quantity = ordered
        if isinstance(fulfilled, int) and isinstance(unfulfilled, int):
            quantity = fulfilled + unfulfilled  # the cancelled units are neither
        price = _dig(item, "product", "price", "unitPrice") or {}
        lines.append(
            ChannelOrderLine(
                str(item["orderItemId"]),
                _dig(item, "product", "sellerSku"),
                quantity,
                _money(price.get("amount"), price.get("currencyCode")),
            )
        )
    status = str(_dig(order, "fulfillment", "fulfillmentStatus") or "UNSHIPPED").lower()
    return ChannelOrder(
        external_id=str(order_id),
        number=str(order_id),
        updated_at=updated_at,
        placed_at=parse_time(order.get("createdTime")),
        status=status,
        lines=tuple(lines),
        customer={
            "name": _dig(order, "buyer", "buyerName"),
            "email": _dig(order, "buyer", "buyerEmail"),
        },
        raw={**order, "fulfilledBy": _dig(order, "fulfillment", "fulfilledBy") or "MERCHANT",
             "shipping_address": in_hub_words(_dig(order, "recipient", "deliveryAddress"),
                                              ADDRESS_WORDS)},
    )  # fmt: skip


def notified_order(notification: Mapping[str, Any]) -> ChannelOrder:
    """The order an ORDER_CHANGE notification summarises."""
    change = _dig(notification, "Payload", "OrderChangeNotification")
    if not isinstance(change, Mapping):
        raise ChannelRejected("ORDER_CHANGE without Payload.OrderChangeNotification")
    order_id = change.get("AmazonOrderId")
    summary = change.get("Summary")
    at = parse_time(_dig(change, "OrderChangeTrigger", "TimeOfOrderChange")) or parse_time(
        notification.get("EventTime")
    )
    if not order_id or not isinstance(summary, Mapping) or at is None:
        raise ChannelRejected("ORDER_CHANGE without AmazonOrderId, Summary or a time")
    items = summary.get("OrderItems")
    if not isinstance(items, list):
        raise ChannelRejected(f"ORDER_CHANGE of {order_id} has no OrderItems list")
    lines = []
    for n, item in enumerate(items):
        quantity = item.get("Quantity") if isinstance(item, Mapping) else None
        if not isinstance(item, Mapping) or not item.get("OrderItemId"):
            raise ChannelRejected(f"ORDER_CHANGE of {order_id}: OrderItems[{n}] has no id")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ChannelRejected(f"ORDER_CHANGE of {order_id}: OrderItems[{n}].Quantity")
        lines.append(ChannelOrderLine(str(item["OrderItemId"]), item.get("SellerSKU"), quantity,
                                      None))  # fmt: skip
    fulfilled_by = "AMAZON" if summary.get("FulfillmentType") == "AFN" else "MERCHANT"
    return ChannelOrder(
        external_id=str(order_id),
        number=str(order_id),
        updated_at=at,
        placed_at=parse_time(summary.get("PurchaseDate")),
        status=LEGACY_STATUSES.get(str(summary.get("OrderStatus")), "unshipped"),
        lines=tuple(lines),
        raw={**change, "fulfilledBy": fulfilled_by, "shipping_address": _destination(summary)},
    )


def _destination(summary: Mapping[str, Any]) -> dict[str, str]:
    """The notification's hint of where the order goes: its marketplace's country and the
    destination postal code (null when Amazon has none)."""
    country = MARKETPLACE_COUNTRIES.get(str(summary.get("MarketplaceId")))
    if country is None:
        return {}
    postal = summary.get("DestinationPostalCode")
    return {"country": country, **({"zip": postal} if isinstance(postal, str) and postal else {})}


def _money(amount: object, currency: object) -> Money | None:
    if not isinstance(amount, str | int | float) or not isinstance(currency, str):
        return None
    try:
        return Money.parse(str(amount), currency)
    except InvalidInput:
        return None


def _dig(node: Any, *path: str) -> Any:
    for name in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(name)
    return node
