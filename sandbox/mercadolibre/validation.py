"""What MercadoLibre refuses in an item's body, as `validation_error` causes: the rules that
need no item already listed (the store checks those against the category and the item)."""

from __future__ import annotations

from typing import Any, Final

from sandbox.mercadolibre import errors
from sandbox.mercadolibre.errors import cause

LISTING_TYPES: Final = frozenset({"gold_special", "gold_pro", "free"})
CONDITIONS: Final = frozenset({"new", "used", "not_specified"})
CURRENCIES: Final = frozenset({"ARS", "BRL", "MXN", "USD", "CLP", "COP", "UYU", "PEN"})


def seller_sku(attributes: Any) -> str | None:
    for attribute in attributes or []:
        if isinstance(attribute, dict) and attribute.get("id") == "SELLER_SKU":
            value = attribute.get("value_name")
            return str(value) if value else None
    return None


def variation_problems(variations: Any, limit: int, item_price: Any) -> list[dict[str, Any]]:
    if not isinstance(variations, list):
        return [cause(errors.INVALID_FIELD, "variations must be a list", "item.variations")]
    found = []
    if len(variations) > limit:
        found.append(
            cause(errors.TOO_MANY_VARIATIONS, f"at most {limit} variations", "item.variations")
        )
    combos = set()
    prices = set()
    for n, variation in enumerate(variations):
        where = f"item.variations[{n}]"
        if not isinstance(variation, dict):
            found.append(cause(errors.INVALID_FIELD, "a variation is an object", where))
            continue
        combination = variation.get("attribute_combinations")
        if (
            not isinstance(combination, list)
            or not combination
            or not all(
                isinstance(c, dict)
                and (c.get("id") or c.get("name"))
                and (c.get("value_id") or c.get("value_name"))
                for c in combination
            )
        ):
            found.append(
                cause(
                    errors.INVALID_FIELD,
                    "attribute_combinations are required",
                    f"{where}.attribute_combinations",
                )
            )
        else:
            key = tuple(
                sorted(
                    (
                        str(c.get("id") or c.get("name")),
                        str(c.get("value_id") or c.get("value_name")),
                    )
                    for c in combination
                )
            )
            if key in combos:
                found.append(
                    cause(
                        errors.INVALID_FIELD,
                        "two variations have the same attribute combination",
                        where,
                    )
                )
            combos.add(key)
        if "id" not in variation and not seller_sku(variation.get("attributes")):
            found.append(
                cause(
                    errors.SELLER_SKU_MISSING,
                    "the variation has no SELLER_SKU",
                    f"{where}.attributes",
                )
            )
        price = variation.get("price", item_price)
        if not is_number(price) or price <= 0:
            found.append(cause(errors.INVALID_FIELD, "price must be positive", f"{where}.price"))
        else:
            prices.add(float(price))
    if len(prices) > 1:
        found.append(
            cause(errors.PRICES_DIFFER, "variations share one price", "item.variations.price")
        )
    return found


def plain_field_problems(body: dict[str, Any]) -> list[dict[str, Any]]:
    """What a new item's price, currency, mode, type, condition and stock would break."""
    found: list[dict[str, Any]] = []
    if not is_number(body.get("price")) or body["price"] <= 0:
        found.append(cause(errors.INVALID_FIELD, "price must be a positive number", "item.price"))
    if body.get("currency_id") not in CURRENCIES:
        found.append(cause(errors.INVALID_FIELD, "currency_id is invalid", "item.currency_id"))
    if body.get("buying_mode") != "buy_it_now":
        found.append(
            cause(errors.INVALID_FIELD, "buying_mode must be buy_it_now", "item.buying_mode")
        )
    if body.get("listing_type_id") not in LISTING_TYPES:
        found.append(
            cause(errors.INVALID_FIELD, "listing_type_id is invalid", "item.listing_type_id")
        )
    if body.get("condition") not in CONDITIONS:
        found.append(cause(errors.INVALID_FIELD, "condition is invalid", "item.condition"))
    quantity = body.get("available_quantity", 0)
    if not is_count(quantity):
        found.append(
            cause(errors.INVALID_FIELD, "available_quantity is invalid", "item.available_quantity")
        )
    return found


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
