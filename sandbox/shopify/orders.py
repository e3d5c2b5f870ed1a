"""Orders as a shop takes them, `fulfillmentCreate`, and cancellation.

An order commits stock of tracked items at its location (available moves to committed, on_hand
stays), gets one fulfillment order per location, and sends `orders/create`. Fulfilling moves
committed stock out of on_hand, closes what is done and sends `orders/updated`. The fulfillment
orders of one fulfillment must belong to the same order and location, as Shopify requires.
Cancelling (in Shopify admin, or an app's `orderCancel`) closes what is left to fulfil, gives its
committed stock back to available (restock) or takes it out of on_hand, sets `cancelled_at` and
sends `orders/cancelled` and `orders/updated`, as Shopify does. `orderCancel` refuses an order
cancelled already or with a fulfillment (Shopify's INVALID: cancel the fulfillment first).
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.shopify.ids import parse_gid
from sandbox.shopify.inventory import adjust_named_quantity
from sandbox.shopify.models import (
    Customer,
    Fulfillment,
    FulfillmentOrder,
    FulfillmentOrderLine,
    LineItem,
    Location,
    MailingAddress,
    Order,
    Tracking,
)
from sandbox.shopify.payloads import order_body
from sandbox.shopify.store import Store

UserError = dict[str, Any]


def place_order(
    store: Store,
    lines: list[tuple[str, int]],
    customer: dict[str, Any] | None,
    location: Location,
    shipping_address: dict[str, Any] | None = None,
) -> Order:
    """A customer checks out (to `shipping_address`, REST words, when given): the order, its
    stock commitments and its fulfillment order."""
    now = store.now()
    ship_to = _mailing_address(store, shipping_address)
    line_items = []
    for sku, quantity in lines:
        matches = store.variants_by_sku(sku)
        if not matches:
            raise ValueError(f"no variant has SKU {sku!r}")
        if quantity < 1:
            raise ValueError(f"quantity for {sku!r} must be at least 1")
        variant = matches[0]
        title = variant.product.title
        if variant.title != "Default Title":
            title = f"{title} - {variant.title}"
        line_items.append(
            LineItem(store.next_id(), variant, variant.sku, title, quantity, variant.price)
        )
    buyer = _customer(store, customer)
    order = Order(
        id=store.next_id(),
        number=store.next_order_number(),
        customer=buyer,
        email=buyer.email if buyer else None,
        line_items=line_items,
        currency_code=store.currency,
        created_at=now,
        updated_at=now,
        shipping_address=ship_to,
    )
    store.orders[order.id] = order
    fulfillment_order = FulfillmentOrder(
        id=store.next_id(),
        order=order,
        location=location,
        lines=[
            FulfillmentOrderLine(store.next_id(), line, line.quantity, line.quantity)
            for line in line_items
        ],
        created_at=now,
        updated_at=now,
    )
    order.fulfillment_orders.append(fulfillment_order)
    store.fulfillment_orders[fulfillment_order.id] = fulfillment_order
    store.publish("orders/create", order_body(order))
    for line in line_items:
        item = line.variant.inventory_item if line.variant else None
        if item is None or not item.tracked:
            continue
        # Overselling is possible (POS, "continue selling"): available may go below zero.
        level = store.stock(item, location)
        adjust_named_quantity(store, level, "available", -line.quantity)
        adjust_named_quantity(store, level, "committed", line.quantity)
    return order


def cancel_order(store: Store, order: Order, *, restock: bool) -> None:
    now = store.now()
    for fulfillment_order in order.fulfillment_orders:
        for line in fulfillment_order.lines:
            item = line.line_item.variant.inventory_item if line.line_item.variant else None
            level = store.level(item.id, fulfillment_order.location.id) if item else None
            if level is not None and item is not None and item.tracked:
                adjust_named_quantity(store, level, "committed", -line.remaining_quantity)
                if restock:
                    adjust_named_quantity(store, level, "available", line.remaining_quantity)
            line.remaining_quantity = 0
        fulfillment_order.status = "CLOSED"
        fulfillment_order.updated_at = now
    order.cancelled_at = order.updated_at = now
    store.publish("orders/cancelled", order_body(order))
    store.publish("orders/updated", order_body(order))


def order_cancel(
    store: Store, order_id: str, *, restock: bool
) -> tuple[dict[str, Any] | None, list[UserError]]:
    """orderCancel: the job that cancelled the order (done at once here), or why not."""
    order = store.orders.get(parse_gid(order_id, "Order") or -1)
    if order is None:
        return None, [_cancel_error("Order does not exist.", "NOT_FOUND")]
    if order.cancelled_at is not None:
        return None, [_cancel_error("Cannot cancel an order that is already cancelled.")]
    if any(f.status == "SUCCESS" for f in order.fulfillments):
        return None, [_cancel_error("Cannot cancel an order that has fulfillments.")]
    cancel_order(store, order, restock=restock)
    return {"id": f"gid://shopify/Job/{store.next_id()}", "done": True}, []


def _cancel_error(message: str, code: str = "INVALID") -> UserError:
    return {"field": ["orderId"], "message": message, "code": code}


def _customer(store: Store, data: dict[str, Any] | None) -> Customer | None:
    if not data:
        return None
    email = data.get("email")
    existing = next((c for c in store.customers.values() if email and c.email == email), None)
    if existing:
        return existing
    now = store.now()
    customer = Customer(
        id=store.next_id(),
        email=email,
        first_name=data.get("first_name", data.get("firstName")),
        last_name=data.get("last_name", data.get("lastName")),
        phone=data.get("phone"),
        created_at=now,
        updated_at=now,
    )
    store.customers[customer.id] = customer
    return customer


def _mailing_address(store: Store, data: dict[str, Any] | None) -> MailingAddress | None:
    """The address as the REST Order's `shipping_address` gives it (camelCase also taken)."""
    if not data:
        return None
    given = {key: str(value) for key, value in data.items() if value is not None}
    country = given.get("country_code", given.get("countryCode", "")).upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError(f"a shipping address needs a two-letter country_code, not {country!r}")
    return MailingAddress(
        id=store.next_id(),
        first_name=given.get("first_name", given.get("firstName")),
        last_name=given.get("last_name", given.get("lastName")),
        address1=given.get("address1"),
        address2=given.get("address2"),
        city=given.get("city"),
        province=given.get("province"),
        province_code=given.get("province_code", given.get("provinceCode")),
        zip=given.get("zip"),
        country=given.get("country"),
        country_code_v2=country,
        phone=given.get("phone"),
    )


def create_fulfillment(
    store: Store, data: dict[str, Any]
) -> tuple[Fulfillment | None, list[UserError]]:
    """fulfillmentCreate: ship some or all remaining lines of fulfillment orders of one order."""
    picked: list[tuple[FulfillmentOrderLine, int]] = []
    orders_seen: set[int] = set()
    locations_seen: set[int] = set()
    groups = data["lineItemsByFulfillmentOrder"]
    if not groups:
        return None, [
            _error(
                ["fulfillment", "lineItemsByFulfillmentOrder"],
                "Line items by fulfillment order can't be blank",
            )
        ]
    for index, group in enumerate(groups):
        path: list[str | int] = ["fulfillment", "lineItemsByFulfillmentOrder", index]
        fulfillment_order = store.fulfillment_orders.get(
            parse_gid(group["fulfillmentOrderId"], "FulfillmentOrder") or -1
        )
        if fulfillment_order is None:
            return None, [
                _error([*path, "fulfillmentOrderId"], "Fulfillment order does not exist.")
            ]
        if fulfillment_order.status in ("CLOSED", "CANCELLED"):
            status = fulfillment_order.status.lower()
            message = (
                f"Fulfillment order {fulfillment_order.id} has an unfulfillable status= {status}."
            )
            return None, [_error([*path, "fulfillmentOrderId"], message)]
        orders_seen.add(fulfillment_order.order.id)
        locations_seen.add(fulfillment_order.location.id)
        lines, errors = _pick_lines(fulfillment_order, group.get("fulfillmentOrderLineItems"), path)
        if errors:
            return None, errors
        picked += lines
    if len(orders_seen) > 1 or len(locations_seen) > 1:
        message = (
            "All fulfillment orders must belong to the same order and be assigned to the same "
            "location."
        )
        return None, [_error(["fulfillment", "lineItemsByFulfillmentOrder"], message)]
    if not picked:
        return None, [_error(["fulfillment"], "Fulfillment must contain at least one line item.")]
    order = store.orders[orders_seen.pop()]
    return _fulfill(store, order, picked, data.get("trackingInfo") or {}), []


def _pick_lines(
    fulfillment_order: FulfillmentOrder, wanted: list[dict[str, Any]] | None, path: list[str | int]
) -> tuple[list[tuple[FulfillmentOrderLine, int]], list[UserError]]:
    if wanted is None:
        return [
            (line, line.remaining_quantity)
            for line in fulfillment_order.lines
            if line.remaining_quantity
        ], []
    by_id = {line.id: line for line in fulfillment_order.lines}
    picked = []
    for index, entry in enumerate(wanted):
        where = [*path, "fulfillmentOrderLineItems", index]
        line = by_id.get(parse_gid(entry["id"], "FulfillmentOrderLineItem") or -1)
        if line is None:
            return [], [_error([*where, "id"], "Fulfillment order line item does not exist.")]
        if entry["quantity"] < 1 or entry["quantity"] > line.remaining_quantity:
            message = (
                f"Invalid fulfillment order line item quantity requested: {entry['quantity']} "
                f"(remaining {line.remaining_quantity})."
            )
            return [], [_error([*where, "quantity"], message)]
        picked.append((line, entry["quantity"]))
    return picked, []


def _fulfill(
    store: Store,
    order: Order,
    picked: list[tuple[FulfillmentOrderLine, int]],
    tracking: dict[str, Any],
) -> Fulfillment:
    now = store.now()
    location = next(
        fo.location
        for fo in order.fulfillment_orders
        if any(line in fo.lines for line, _ in picked)
    )
    for line, quantity in picked:
        line.remaining_quantity -= quantity
        line.line_item.fulfilled_quantity += quantity
        item = line.line_item.variant.inventory_item if line.line_item.variant else None
        level = store.level(item.id, location.id) if item and item.tracked else None
        if level is not None:
            # Shipped goods leave the building: committed (and so on_hand) drops, available stays.
            adjust_named_quantity(store, level, "committed", -quantity)
    for fulfillment_order in order.fulfillment_orders:
        if any(line in fulfillment_order.lines for line, _ in picked):
            done = all(line.remaining_quantity == 0 for line in fulfillment_order.lines)
            fulfillment_order.status = "CLOSED" if done else "IN_PROGRESS"
            fulfillment_order.updated_at = now
    fulfillment = Fulfillment(
        id=store.next_id(),
        order=order,
        name=f"{order.name}.{len(order.fulfillments) + 1}",
        lines=picked,
        tracking=_tracking(tracking),
        created_at=now,
        updated_at=now,
    )
    order.fulfillments.append(fulfillment)
    store.fulfillments[fulfillment.id] = fulfillment
    order.updated_at = now
    store.publish("orders/updated", order_body(order))
    return fulfillment


def _tracking(data: dict[str, Any]) -> list[Tracking]:
    numbers = list(data.get("numbers") or ([data["number"]] if data.get("number") else []))
    urls = list(data.get("urls") or ([data["url"]] if data.get("url") else []))
    company = data.get("company")
    count = max(len(numbers), len(urls), 1 if company else 0)
    return [
        Tracking(
            company, numbers[i] if i < len(numbers) else None, urls[i] if i < len(urls) else None
        )
        for i in range(count)
    ]


def _error(field: list[str | int], message: str) -> UserError:
    return {"field": [str(part) for part in field], "message": message, "code": None}
