"""Mutation fields the sandbox performs, with Shopify's payload shapes and `@idempotent`.

A mutation that supports `@idempotent(key:)` (those whose SDL description says so) runs once per
key: a retry with the same key and the same arguments gets the original payload back without
running again; the same key with other arguments gets IDEMPOTENCY_KEY_PARAMETER_MISMATCH, and a
key whose first attempt ended in user errors gets IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from graphql import GraphQLError
from graphql.execution.values import get_directive_values

from sandbox.shopify import catalog, inventory, order_edits, orders
from sandbox.shopify.context import Info
from sandbox.shopify.ids import gid
from sandbox.shopify.objects import store_of
from sandbox.shopify.store import IdempotentResult
from sandbox.shopify.variants import variants_bulk_update

Resolver = Callable[..., Any]


def idempotency_key(info: Info) -> str | None:
    directive = info.schema.get_directive("idempotent")
    if directive is None:
        return None
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
    if values is None:
        return None
    key = str(values["key"])
    if not key.strip():
        raise GraphQLError("The idempotency key cannot be an empty string or whitespace only.")
    return key


def idempotent(resolve: Resolver) -> Resolver:
    @wraps(resolve)
    def run_once(root: Any, info: Info, **args: Any) -> Any:
        key = idempotency_key(info)
        if key is None:
            return resolve(root, info, **args)
        store = store_of(info)
        fingerprint = json.dumps(args, sort_keys=True, default=str)
        kept = store.idempotency.get(key)
        if kept is not None:
            if kept.field_name != info.field_name or kept.fingerprint != fingerprint:
                message = (
                    "The same idempotency key cannot be used with different operation parameters."
                )
                return {"userErrors": [_error(message, "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")]}
            if kept.failed:
                message = (
                    "A previous request with this idempotency key failed. Retry with a new "
                    "idempotency key."
                )
                return {"userErrors": [_error(message, "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED")]}
            return kept.payload
        payload = resolve(root, info, **args)
        failed = bool(payload.get("userErrors"))
        store.idempotency[key] = IdempotentResult(info.field_name, fingerprint, payload, failed)
        return payload

    return run_once


def _error(message: str, code: str) -> dict[str, Any]:
    return {"field": None, "message": message, "code": code}


def _product_set(
    _root: Any,
    info: Info,
    input: dict[str, Any],
    identifier: dict[str, Any] | None = None,
    synchronous: bool | None = True,
) -> dict[str, Any]:
    store = store_of(info)
    product, errors = catalog.product_set(store, identifier, input)
    if synchronous is not False:
        return {"product": product, "productSetOperation": None, "userErrors": errors}
    # Asynchronous runs finish at once here; the operation reads back through productOperation.
    operation_id = gid("ProductSetOperation", store.next_id())
    operation = {
        "__typename": "ProductSetOperation",
        "id": operation_id,
        "status": "COMPLETE",
        "product": product,
        "userErrors": errors,
    }
    store.operations[operation_id] = operation
    return {"product": None, "productSetOperation": operation, "userErrors": errors}


def _product_update(
    _root: Any,
    info: Info,
    product: dict[str, Any] | None = None,
    input: dict[str, Any] | None = None,  # the deprecated ProductInput: same fields
    **_ignored: Any,
) -> dict[str, Any]:
    updated, errors = catalog.product_update(store_of(info), product or input or {})
    return {"product": updated, "userErrors": errors}


def _variants_bulk_update(
    _root: Any,
    info: Info,
    productId: str,
    variants: list[dict[str, Any]],
    allowPartialUpdates: bool | None = False,
    **_ignored: Any,
) -> dict[str, Any]:
    product, updated, errors = variants_bulk_update(
        store_of(info), productId, variants, bool(allowPartialUpdates)
    )
    return {"product": product, "productVariants": updated, "userErrors": errors}


@idempotent
def _set_quantities(_root: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    group, errors = inventory.set_quantities(store_of(info), input)
    return {"inventoryAdjustmentGroup": group, "userErrors": errors}


@idempotent
def _adjust_quantities(_root: Any, info: Info, input: dict[str, Any]) -> dict[str, Any]:
    group, errors = inventory.adjust_quantities(store_of(info), input)
    return {"inventoryAdjustmentGroup": group, "userErrors": errors}


@idempotent
def _activate(
    _root: Any,
    info: Info,
    inventoryItemId: str,
    locationId: str,
    available: int | None = None,
    onHand: int | None = None,
    **_ignored: Any,
) -> dict[str, Any]:
    level, errors = inventory.activate(
        store_of(info), inventoryItemId, locationId, available, onHand
    )
    return {"inventoryLevel": level, "userErrors": errors}


def _fulfillment_create(
    _root: Any,
    info: Info,
    fulfillment: dict[str, Any],
    message: str | None = None,
) -> dict[str, Any]:
    created, errors = orders.create_fulfillment(store_of(info), fulfillment)
    return {"fulfillment": created, "userErrors": errors}


def _session(edit: Any) -> dict[str, Any] | None:
    return {"id": gid("OrderEditSession", edit.id)} if edit is not None else None


def _order_edit_begin(_root: Any, info: Info, id: str) -> dict[str, Any]:
    edit, errors = order_edits.begin(store_of(info), id)
    return {"calculatedOrder": edit, "orderEditSession": _session(edit), "userErrors": errors}


def _order_edit_set_quantity(
    _root: Any,
    info: Info,
    id: str,
    lineItemId: str,
    quantity: int,
    restock: bool | None = None,
    **_ignored: Any,
) -> dict[str, Any]:
    edit, line, errors = order_edits.set_quantity(
        store_of(info), id, lineItemId, quantity, bool(restock)
    )
    return {
        "calculatedLineItem": line,
        "calculatedOrder": edit,
        "orderEditSession": _session(edit),
        "userErrors": errors,
    }


def _order_edit_commit(
    _root: Any,
    info: Info,
    id: str,
    notifyCustomer: bool | None = None,
    staffNote: str | None = None,
) -> dict[str, Any]:
    order, errors = order_edits.commit(store_of(info), id)
    messages = ["Order updated"] if order is not None else None
    return {"order": order, "successMessages": messages, "userErrors": errors}


def _order_cancel(
    _root: Any, info: Info, orderId: str, restock: bool, **_ignored: Any
) -> dict[str, Any]:
    job, errors = orders.order_cancel(store_of(info), orderId, restock=restock)
    return {"job": job, "orderCancelUserErrors": errors, "userErrors": errors}


MUTATION: dict[str, Resolver] = {
    "productSet": _product_set,
    "productUpdate": _product_update,
    "productVariantsBulkUpdate": _variants_bulk_update,
    "inventorySetQuantities": _set_quantities,
    "inventoryAdjustQuantities": _adjust_quantities,
    "inventoryActivate": _activate,
    "fulfillmentCreate": _fulfillment_create,
    "orderEditBegin": _order_edit_begin,
    "orderEditSetQuantity": _order_edit_set_quantity,
    "orderEditCommit": _order_edit_commit,
    "orderCancel": _order_cancel,
}
