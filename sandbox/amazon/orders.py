"""Orders as Amazon keeps them, in the shapes of Orders 2026-01-01 and of ORDER_CHANGE."""

from __future__ import annotations

import itertools
import random
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

_numbers = itertools.count(1)
# The CustomerAddress fields Amazon gives without a Restricted Data Token (the sandbox issues
# none): the place, not the person (no name, address lines or phone).
UNRESTRICTED_ADDRESS = ("city", "stateOrRegion", "postalCode", "countryCode")


def iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Line:
    item_id: str
    sku: str
    quantity: int
    price: Decimal
    currency: str
    shipped: int = 0
    cancelled: int = 0

    @property
    def unshipped(self) -> int:
        return self.quantity - self.shipped - self.cancelled


@dataclass
class Package:
    reference: str
    carrier: str
    tracking: str
    items: list[tuple[str, int]]


@dataclass
class Order:
    order_id: str
    marketplace_id: str
    fulfilled_by: str  # MERCHANT (MFN) or AMAZON (AFN)
    created: float
    updated: float
    lines: list[Line]
    packages: list[Package] = field(default_factory=list)
    cancelled: bool = False
    # Where it ships (a CustomerAddress: countryCode, stateOrRegion, city, postalCode…).
    ship_to: dict[str, str] | None = None

    @staticmethod
    def new_id(seed: random.Random) -> str:
        n = next(_numbers)
        return f"114-{seed.randrange(10**7):07d}-{n:07d}"

    @property
    def status(self) -> str:
        """FulfillmentStatus (2026-01-01)."""
        if self.cancelled or all(line.unshipped == 0 and line.shipped == 0 for line in self.lines):
            return "CANCELLED"
        if all(line.unshipped == 0 for line in self.lines):
            return "SHIPPED"
        if any(line.shipped for line in self.lines):
            return "PARTIALLY_SHIPPED"
        return "UNSHIPPED"

    @property
    def legacy_status(self) -> str:
        """OrderStatus as ORDER_CHANGE and Orders v0 say it."""
        return {
            "CANCELLED": "Canceled",
            "SHIPPED": "Shipped",
            "PARTIALLY_SHIPPED": "PartiallyShipped",
            "UNSHIPPED": "Unshipped",
        }[self.status]

    def line(self, item_id: str) -> Line | None:
        return next((line for line in self.lines if line.item_id == item_id), None)

    def as_2026(self, included: Collection[str] = ()) -> dict[str, Any]:
        """The Order of Orders 2026-01-01 (with FULFILLMENT; RECIPIENT when `included`)."""
        return {
            "orderId": self.order_id,
            "createdTime": iso(self.created),
            "lastUpdatedTime": iso(self.updated),
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": self.marketplace_id},
            "fulfillment": {"fulfillmentStatus": self.status, "fulfilledBy": self.fulfilled_by},
            "orderItems": [
                {
                    "orderItemId": line.item_id,
                    "quantityOrdered": line.quantity,
                    "product": {
                        "sellerSku": line.sku,
                        "price": {
                            "unitPrice": {"amount": str(line.price), "currencyCode": line.currency}
                        },
                    },
                    "fulfillment": {
                        "quantityFulfilled": line.shipped,
                        "quantityUnfulfilled": line.unshipped,
                    },
                    **(
                        {"cancellation": {"cancellationExecution": {"cancelledBy": "MERCHANT"}}}
                        if line.cancelled
                        else {}
                    ),
                }
                for line in self.lines
            ],
            **self._recipient(included),
        }

    def _recipient(self, included: Collection[str]) -> dict[str, Any]:
        if "RECIPIENT" not in included or self.ship_to is None:
            return {}
        shown = {k: self.ship_to[k] for k in UNRESTRICTED_ADDRESS if k in self.ship_to}
        return {"recipient": {"deliveryAddress": shown}}

    def order_change(
        self, seller_id: str, reason: str, notification_id: str, published: float
    ) -> dict[str, Any]:
        """The ORDER_CHANGE notification of the order as it is now."""
        return {
            "NotificationVersion": "1.0",
            "NotificationType": "ORDER_CHANGE",
            "PayloadVersion": "1.0",
            "EventTime": iso(published),
            "Payload": {
                "OrderChangeNotification": {
                    "NotificationLevel": "OrderLevel",
                    "SellerId": seller_id,
                    "AmazonOrderId": self.order_id,
                    "OrderChangeType": "OrderStatusChange",
                    "OrderChangeTrigger": {
                        "TimeOfOrderChange": iso(self.updated),
                        "ChangeReason": reason,
                    },
                    "Summary": {
                        "MarketplaceId": self.marketplace_id,
                        "OrderStatus": self.legacy_status,
                        "PurchaseDate": iso(self.created),
                        "DestinationPostalCode": (self.ship_to or {}).get("postalCode"),
                        "FulfillmentType": "AFN" if self.fulfilled_by == "AMAZON" else "MFN",
                        "OrderType": "StandardOrder",
                        "NumberOfItemsShipped": sum(line.shipped for line in self.lines),
                        "NumberOfItemsUnshipped": sum(line.unshipped for line in self.lines),
                        "OrderItems": [
                            {
                                "OrderItemId": line.item_id,
                                "SellerSKU": line.sku,
                                "SupplySourceId": None,
                                "Quantity": line.quantity - line.cancelled,
                                "QuantityShipped": line.shipped,
                            }
                            for line in self.lines
                        ],
                    },
                }
            },
            "NotificationMetadata": {
                "ApplicationId": "amzn1.sellerapps.app.nexo-sandbox",
                "SubscriptionId": "sandbox-order-change",
                "PublishTime": iso(published),
                "NotificationId": notification_id,
            },
        }


def quantity_change(
    seller_id: str, sku: str, quantity: int, notification_id: str, published: float
) -> dict[str, Any]:
    """LISTINGS_ITEM_MFN_QUANTITY_CHANGE for a merchant-fulfilled quantity that moved."""
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": iso(published),
        "Payload": {
            "SellerId": seller_id,
            "FulfillmentChannelCode": "DEFAULT",
            "Sku": sku,
            "Quantity": quantity,
        },
        "NotificationMetadata": {
            "ApplicationId": "amzn1.sellerapps.app.nexo-sandbox",
            "SubscriptionId": "sandbox-mfn-quantity",
            "PublishTime": iso(published),
            "NotificationId": notification_id,
        },
    }
