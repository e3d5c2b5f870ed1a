"""Order edits: `orderEditBegin`, `orderEditSetQuantity`, `orderEditCommit`.

Begin opens an edit of an order: a CalculatedOrder (the OrderEditSession shares its number)
whose line items carry the numbers of the order's line items. Set-quantity stages a line's
new quantity, never below what is fulfilled, and nothing changes until commit. Commit
applies what is staged: the line item's current quantity, its fulfillment order line's, and
the stock committed at that location (units removed with `restock` go back to available;
without, they leave on hand, as Shopify does). A fulfillment order left with nothing to do
closes, and `orders/updated` is sent. A committed edit takes no more changes.
"""

from __future__ import annotations

from typing import Any

from sandbox.shopify.ids import parse_gid
from sandbox.shopify.inventory import adjust_named_quantity
from sandbox.shopify.models import CalculatedLine, LineItem, Order, OrderEdit
from sandbox.shopify.payloads import order_body
from sandbox.shopify.store import Store

UserError = dict[str, Any]
OPEN_STATUSES = ("OPEN", "IN_PROGRESS")


def begin(store: Store, order_id: str) -> tuple[OrderEdit | None, list[UserError]]:
    order = store.orders.get(parse_gid(order_id, "Order") or -1)
    if order is None:
        return None, [_error(["id"], "The order does not exist.")]
    edit = OrderEdit(id=store.next_id(), order=order, created_at=store.now())
    store.order_edits[edit.id] = edit
    return edit, []


def _open_edit(store: Store, edit_id: str) -> tuple[OrderEdit | None, list[UserError]]:
    """The edit a CalculatedOrder or OrderEditSession id names, if it can still change."""
    number = parse_gid(edit_id, "CalculatedOrder") or parse_gid(edit_id, "OrderEditSession")
    edit = store.order_edits.get(number or -1)
    if edit is None:
        return None, [_error(["id"], "The calculated order does not exist.")]
    if edit.committed:
        return None, [_error(["id"], "The order edit has already been committed.")]
    return edit, []


def set_quantity(
    store: Store, edit_id: str, line_item_id: str, quantity: int, restock: bool
) -> tuple[OrderEdit | None, CalculatedLine | None, list[UserError]]:
    edit, errors = _open_edit(store, edit_id)
    if edit is None:
        return None, None, errors
    number = parse_gid(line_item_id, "CalculatedLineItem")
    line = next((li for li in edit.order.line_items if li.id == number), None)
    if line is None:
        return None, None, [_error(["lineItemId"], "The line item does not exist.")]
    if quantity < 0:
        return None, None, [_error(["quantity"], "The quantity can't be negative.")]
    if quantity < line.fulfilled_quantity:
        message = (
            f"The quantity can't be less than the fulfilled quantity ({line.fulfilled_quantity})."
        )
        return None, None, [_error(["quantity"], message)]
    edit.staged[line.id] = (quantity, restock)
    return edit, edit.line(line), []


def commit(store: Store, edit_id: str) -> tuple[Order | None, list[UserError]]:
    edit, errors = _open_edit(store, edit_id)
    if edit is None:
        return None, errors
    order, now = edit.order, store.now()
    for line in order.line_items:
        if line.id in edit.staged:
            quantity, restock = edit.staged[line.id]
            _apply(store, order, line, quantity - line.current_quantity, restock)
    for fulfillment_order in order.fulfillment_orders:
        done = all(fo_line.remaining_quantity == 0 for fo_line in fulfillment_order.lines)
        if fulfillment_order.status in OPEN_STATUSES and done:
            fulfillment_order.status = "CLOSED"
            fulfillment_order.updated_at = now
    edit.committed = True
    order.updated_at = now
    store.publish("orders/updated", order_body(order))
    return order, []


def _apply(store: Store, order: Order, line: LineItem, delta: int, restock: bool) -> None:
    if delta == 0:
        return
    line.quantity_change += delta
    for fulfillment_order in order.fulfillment_orders:
        for fo_line in fulfillment_order.lines:
            if fo_line.line_item is not line or fulfillment_order.status not in OPEN_STATUSES:
                continue
            fo_line.total_quantity += delta
            fo_line.remaining_quantity += delta
            item = line.variant.inventory_item if line.variant else None
            if item is None or not item.tracked:
                return
            level = store.stock(item, fulfillment_order.location)
            adjust_named_quantity(store, level, "committed", delta)
            if delta > 0 or restock:
                # Added units are taken from available; removed ones restocked go back to it.
                adjust_named_quantity(store, level, "available", -delta)
            return


def _error(field: list[str], message: str) -> UserError:
    return {"field": field, "message": message}
