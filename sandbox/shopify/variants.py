"""`productVariantsBulkUpdate`: change prices (and a few other fields) of existing variants.

All or nothing unless `allowPartialUpdates`; inventory quantities are refused here, as Shopify
refuses them on update (NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE); sends `products/update`.
"""

from __future__ import annotations

from typing import Any

from sandbox.shopify.catalog import UserError, apply_variant, user_error
from sandbox.shopify.ids import parse_gid
from sandbox.shopify.models import Product, Variant
from sandbox.shopify.payloads import product_body
from sandbox.shopify.store import Store


def variants_bulk_update(
    store: Store, product_id: str, inputs: list[dict[str, Any]], allow_partial: bool
) -> tuple[Product | None, list[Variant] | None, list[UserError]]:
    """Update prices (and a few other fields) of existing variants of one product."""
    product = store.products.get(parse_gid(product_id, "Product") or -1)
    if product is None:
        return (
            None,
            None,
            [user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")],
        )
    errors: list[UserError] = []
    valid: list[tuple[Variant, dict[str, Any]]] = []
    for index, entry in enumerate(inputs):
        variant, entry_errors = _bulk_entry(store, product, entry, ["variants", index])
        errors += entry_errors
        if variant is not None and not entry_errors:
            valid.append((variant, entry))
    if errors and not allow_partial:
        return product, None, errors
    for variant, entry in valid:
        apply_variant(store, variant, {k: v for k, v in entry.items() if k != "optionValues"})
    if valid:
        product.updated_at = store.now()
        store.publish("products/update", product_body(product))
    return product, [variant for variant, _ in valid], errors


def _bulk_entry(
    store: Store, product: Product, entry: dict[str, Any], path: list[str | int]
) -> tuple[Variant | None, list[UserError]]:
    if entry.get("id") is None:
        return None, [
            user_error(
                [*path, "id"],
                "Product variant is missing ID attribute.",
                "PRODUCT_VARIANT_ID_MISSING",
            )
        ]
    variant = store.variants.get(parse_gid(entry["id"], "ProductVariant") or -1)
    if variant is None or variant.product is not product:
        return None, [
            user_error(
                [*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST"
            )
        ]
    errors: list[UserError] = []
    for key in ("price", "compareAtPrice"):
        if entry.get(key) is not None and entry[key] < 0:
            message = "Price must be greater than or equal to 0"
            errors.append(user_error([*path, key], message, "GREATER_THAN_OR_EQUAL_TO"))
    if entry.get("inventoryQuantities"):
        message = (
            "Inventory quantities can only be provided during create. To update inventory for "
            "existing variants, use inventoryAdjustQuantities."
        )
        errors.append(
            user_error(
                [*path, "inventoryQuantities"],
                message,
                "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE",
            )
        )
    if entry.get("optionValues"):
        message = "The sandbox does not change option values through productVariantsBulkUpdate."
        errors.append(user_error([*path, "optionValues"], message, "INVALID_INPUT"))
    return variant, errors
