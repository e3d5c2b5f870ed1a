"""Orders in the shapes of the (deprecated, still served) Orders API v0: Order, OrderItem.

Without a Restricted Data Token (the sandbox issues none) an order's ShippingAddress shows the
place only (City, StateOrRegion, PostalCode, CountryCode), as Amazon shows it.
"""

from __future__ import annotations

import zlib
from typing import Any

from sandbox.amazon.orders import Order, iso

_ADDRESS = {"city": "City", "stateOrRegion": "StateOrRegion", "postalCode": "PostalCode",
            "countryCode": "CountryCode"}  # fmt: skip


def order_v0(order: Order) -> dict[str, Any]:
    """The v0 Order."""
    currency = order.lines[0].currency if order.lines else "USD"
    total = sum((line.price * (line.quantity - line.cancelled) for line in order.lines), start=0)
    found: dict[str, Any] = {
        "AmazonOrderId": order.order_id,
        "PurchaseDate": iso(order.created),
        "LastUpdateDate": iso(order.updated),
        "OrderStatus": order.legacy_status,
        "FulfillmentChannel": "AFN" if order.fulfilled_by == "AMAZON" else "MFN",
        "SalesChannel": "Amazon.com",
        "OrderTotal": {"CurrencyCode": currency, "Amount": f"{total:.2f}"},
        "NumberOfItemsShipped": sum(line.shipped for line in order.lines),
        "NumberOfItemsUnshipped": sum(line.unshipped for line in order.lines),
        "MarketplaceId": order.marketplace_id,
        "OrderType": "StandardOrder",
        "IsBusinessOrder": False,
        "IsPrime": False,
    }
    if order.ship_to:
        found["ShippingAddress"] = {
            theirs: order.ship_to[ours]
            for ours, theirs in _ADDRESS.items()
            if ours in order.ship_to
        }
    return found


def order_items_v0(order: Order) -> dict[str, Any]:
    """The v0 OrderItemsList of the order."""
    return {
        "AmazonOrderId": order.order_id,
        "OrderItems": [
            {
                "ASIN": f"B0{zlib.crc32(line.sku.encode()) % 10**8:08d}",
                "SellerSKU": line.sku,
                "OrderItemId": line.item_id,
                "QuantityOrdered": line.quantity - line.cancelled,
                "QuantityShipped": line.shipped,
                "ItemPrice": {
                    "CurrencyCode": line.currency,
                    "Amount": f"{line.price * line.quantity:.2f}",
                },
            }
            for line in order.lines
        ],
    }
