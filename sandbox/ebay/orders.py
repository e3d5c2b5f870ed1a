"""The seller's orders as the Fulfillment API keeps them: sales, buyer cancellations, shipping
fulfillments and line refunds.

- getOrders filters by `lastmodifieddate:[from..to]` (either end open), pages by `offset`
  and `limit` (<= 200, default 50) with `total` and a `next` link, oldest change first
  (~ eBay does not say in which order; a caller must not rely on it);
- `lineItemCost` is the unit price times the quantity; `totalMarketplaceFee` is the fee for
  the order (~ 13.25% of its items here);
- a shipping fulfillment names line items and quantities, a carrier and a tracking number:
  201 with its id in `Location`; a tracking number this order already shipped under is a
  409 (the fulfillment exists); shipping more than is left of a line is a 400;
- a refund of line items (issue_refund) is how a seller drops lines it cannot fill;
- each change moves `lastModifiedDate` on by at least a millisecond.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from sandbox.ebay.errors import (
    DUPLICATE_FULFILLMENT,
    FULFILLMENT,
    INVALID_LINE_ITEM,
    INVALID_ORDER,
    INVALID_TRACKING,
    INVALID_VALUE,
    refused,
)
from sandbox.ebay.store import Store

FEE_RATE: Final = Decimal("0.1325")
MAX_LIMIT: Final = 200
DEFAULT_LIMIT: Final = 50
_FILTER = re.compile(r"lastmodifieddate:\[(?P<start>[^\].]*(?:\.\d+)?Z?)\.\.(?P<end>[^\]]*)\]")


def stamp(moment: datetime) -> str:
    """eBay's timestamps: UTC, milliseconds, Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Line:
    line_id: str
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str
    listing_id: str
    title: str
    shipped: int = 0
    refunded: int = 0


@dataclass
class Fulfillment:
    fulfillment_id: str
    lines: list[tuple[str, int]]
    carrier: str
    tracking: str
    shipped_at: str


@dataclass
class Order:
    order_id: str
    created: datetime
    modified: datetime
    lines: list[Line]
    buyer: str
    cancelled: bool = False
    fulfillments: list[Fulfillment] = field(default_factory=list)
    # Where it ships (an Address: addressLine1, city, stateOrProvince, postalCode, countryCode);
    # None: the sandbox shows no fulfillment instructions.
    ship_to: dict[str, str] | None = None

    def shown(self) -> dict[str, Any]:
        """The Order resource."""
        currency = self.lines[0].currency
        total = sum((ln.unit_price * ln.quantity for ln in self.lines), Decimal(0))
        fee = (total * FEE_RATE).quantize(Decimal("0.01"), ROUND_HALF_UP)
        shipped = all(ln.shipped + ln.refunded >= ln.quantity for ln in self.lines)
        started = any(ln.shipped for ln in self.lines)
        return {
            "orderId": self.order_id,
            "creationDate": stamp(self.created),
            "lastModifiedDate": stamp(self.modified),
            "orderFulfillmentStatus": (
                "FULFILLED" if shipped else "IN_PROGRESS" if started else "NOT_STARTED"
            ),
            "orderPaymentStatus": "FULLY_REFUNDED" if self.cancelled else "PAID",
            "cancelStatus": {
                "cancelState": "CANCELED" if self.cancelled else "NONE_REQUESTED",
                "cancelRequests": [],
            },
            "buyer": {"username": self.buyer},
            "salesRecordReference": self.order_id.rsplit("-", 1)[-1],
            "pricingSummary": {"total": _amount(total, currency)},
            "totalMarketplaceFee": _amount(fee, currency),
            "lineItems": [
                {
                    "lineItemId": ln.line_id,
                    "legacyItemId": ln.listing_id,
                    "sku": ln.sku,
                    "title": ln.title,
                    "quantity": ln.quantity,
                    "lineItemCost": _amount(ln.unit_price * ln.quantity, ln.currency),
                    "lineItemFulfillmentStatus": (
                        "FULFILLED" if ln.shipped + ln.refunded >= ln.quantity
                        else "IN_PROGRESS" if ln.shipped else "NOT_STARTED"
                    ),
                    "refunds": [
                        {"amount": _amount(ln.unit_price * ln.refunded, ln.currency)}
                    ] if ln.refunded else [],
                }
                for ln in self.lines
            ],
            "fulfillmentHrefs": [f.fulfillment_id for f in self.fulfillments],
            **self._instructions(),
        }  # fmt: skip

    def _instructions(self) -> dict[str, Any]:
        if self.ship_to is None:
            return {}
        step = {"shipTo": {"fullName": self.buyer, "contactAddress": dict(self.ship_to)},
                "shippingCarrierCode": "USPS", "shippingServiceCode": "USPSPriority"}  # fmt: skip
        return {"fulfillmentStartInstructions": [
            {"fulfillmentInstructionsType": "SHIP_TO", "ebaySupportedFulfillment": False,
             "shippingStep": step}
        ]}  # fmt: skip

    def fulfillment_shown(self, fulfillment: Fulfillment) -> dict[str, Any]:
        return {
            "fulfillmentId": fulfillment.fulfillment_id,
            "lineItems": [{"lineItemId": i, "quantity": q} for i, q in fulfillment.lines],
            "shippingCarrierCode": fulfillment.carrier,
            "shipmentTrackingNumber": fulfillment.tracking,
            "shippedDate": fulfillment.shipped_at,
        }


def _amount(value: Decimal, currency: str) -> dict[str, str]:
    return {"value": f"{value:.2f}", "currency": currency}


class OrderBook:
    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self._store = store
        self._now = now
        self.orders: dict[str, Order] = {}

    def _tick(self, order: Order | None = None) -> datetime:
        """Now, at least a millisecond after the order's last change."""
        moment = self._now()
        if order is not None and moment <= order.modified:
            moment = order.modified + timedelta(milliseconds=1)
        return moment

    def place(
        self,
        lines: list[tuple[str, int]],
        buyer: str = "buyer_one",
        ship_to: dict[str, str] | None = None,
    ) -> Order:
        """A buyer checks out: each line as the listing's stock allows (refused otherwise)."""
        now = self._tick()
        number = self._store.next_id(5)
        order = Order(f"12-{number[:5]}-{self._store.next_id(5)}", now, now, [], buyer,
                      ship_to=ship_to)  # fmt: skip
        for sku, quantity in lines:
            offer = self._store.listed_offer(sku)
            if offer is None or self._store.buyable(sku) < quantity:
                raise ValueError(f"{sku}: not {quantity} for sale on eBay")
            price = offer.price() or Decimal(0)
            title = self._store.items[sku].get("product", {}).get("title", sku)
            order.lines.append(
                Line(self._store.next_id(), sku, quantity, price, offer.currency(),
                     offer.listing_id or "", title)
            )  # fmt: skip
        for line in order.lines:
            self._store.take(line.sku, line.quantity)
        self.orders[order.order_id] = order
        return order

    def get(self, order_id: str) -> Order:
        if order_id not in self.orders:
            raise refused(404, INVALID_ORDER, f"Invalid order id {order_id}", domain=FULFILLMENT)
        return self.orders[order_id]

    def cancel(self, order_id: str) -> Order:
        """The buyer's cancellation, agreed before shipping: the units go back on sale."""
        order = self.get(order_id)
        if not order.cancelled:
            order.cancelled = True
            for line in order.lines:
                self._store.take(line.sku, -(line.quantity - line.shipped - line.refunded))
            order.modified = self._tick(order)
        return order

    def search(self, filter_text: str | None, limit: int, offset: int) -> tuple[list[Order], int]:
        found = sorted(self.orders.values(), key=lambda o: (o.modified, o.order_id))
        if filter_text:
            match = _FILTER.search(filter_text)
            if match is None:
                raise refused(400, 30800, f"Invalid filter {filter_text}", domain=FULFILLMENT)
            start, end = _moment(match["start"]), _moment(match["end"])
            found = [
                o for o in found
                if (start is None or o.modified >= start) and (end is None or o.modified <= end)
            ]  # fmt: skip
        return found[offset : offset + limit], len(found)

    def ship(self, order_id: str, body: dict[str, Any]) -> Fulfillment:
        order = self.get(order_id)
        tracking = str(body.get("trackingNumber") or "")
        if not tracking or not body.get("shippingCarrierCode"):
            raise refused(400, INVALID_TRACKING, "Invalid tracking number or carrier",
                          domain=FULFILLMENT)  # fmt: skip
        done = next((f for f in order.fulfillments if f.tracking == tracking), None)
        if done is not None:
            raise refused(
                409, DUPLICATE_FULFILLMENT,
                f"A shipping fulfillment with tracking number {tracking} already exists",
                domain=FULFILLMENT, parameters={"fulfillmentId": done.fulfillment_id},
            )  # fmt: skip
        by_id = {line.line_id: line for line in order.lines}
        wanted: list[tuple[Line, int]] = []
        for given in body.get("lineItems") or []:
            line = by_id.get(str(given.get("lineItemId")))
            quantity = given.get("quantity") or (line.quantity if line else 0)
            if line is None or order.cancelled:
                raise refused(400, INVALID_LINE_ITEM, f"Invalid line item {given}",
                              domain=FULFILLMENT)  # fmt: skip
            if quantity > line.quantity - line.shipped - line.refunded:
                raise refused(400, INVALID_VALUE, f"Line item {line.line_id}: too many to ship",
                              domain=FULFILLMENT)  # fmt: skip
            wanted.append((line, quantity))
        if not wanted:
            raise refused(400, INVALID_LINE_ITEM, "No line items", domain=FULFILLMENT)
        for line, quantity in wanted:
            line.shipped += quantity
        shipped_at = str(body.get("shippedDate") or stamp(self._now()))
        fulfillment = Fulfillment(
            tracking, [(ln.line_id, q) for ln, q in wanted],
            str(body["shippingCarrierCode"]), tracking, shipped_at,
        )  # fmt: skip
        order.fulfillments.append(fulfillment)
        order.modified = self._tick(order)
        return fulfillment

    def refund(self, order_id: str, body: dict[str, Any]) -> str:
        """issue_refund of line items: what is left of each line will not ship."""
        order = self.get(order_id)
        by_id = {line.line_id: line for line in order.lines}
        items = body.get("refundItems") or []
        for given in items:
            if str(given.get("lineItemId")) not in by_id:
                raise refused(400, INVALID_LINE_ITEM, f"Invalid line item {given}",
                              domain=FULFILLMENT)  # fmt: skip
        for given in items:
            line = by_id[str(given["lineItemId"])]
            line.refunded = line.quantity - line.shipped
        order.modified = self._tick(order)
        return f"R-{self._store.next_id()}"


def _moment(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise refused(400, 30800, f"Invalid date {text}", domain=FULFILLMENT) from None
