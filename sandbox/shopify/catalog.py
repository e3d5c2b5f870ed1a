"""`productSet` as Shopify applies it.

productSet is an upsert (by id or handle) where list fields REPLACE: variants left out of the
input are deleted with their inventory items and levels, options are rebuilt from the input.
Other fields change only when given. Variants given without an id are matched to existing ones
by their option values (as Shopify matches them), so re-sending a catalog keeps inventory item ids.
Validation happens before anything changes: one user error means nothing was applied.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

from sandbox.shopify.ids import parse_gid
from sandbox.shopify.inventory import apply_named_quantity
from sandbox.shopify.models import InventoryItem, OptionValue, Product, ProductOption, Variant
from sandbox.shopify.payloads import product_body
from sandbox.shopify.store import Store

MAX_VARIANTS = 2048
MAX_OPTIONS = 3
MAX_INVENTORY_QUANTITIES = 50_000
DEFAULT_OPTION = ("Title", "Default Title")

UserError = dict[str, Any]


def user_error(field: list[str | int] | None, message: str, code: str | None) -> UserError:
    return {
        "field": [str(part) for part in field] if field else None,
        "message": message,
        "code": code,
    }


def product_set(
    store: Store, identifier: dict[str, Any] | None, data: dict[str, Any]
) -> tuple[Product | None, list[UserError]]:
    """Create or update one product from a ProductSetInput; returns it or the user errors."""
    product, errors = _target(store, identifier, data)
    if errors:
        return None, errors
    if data.get("variants") is not None:
        data = {**data, "variants": [_named_options(product, v) for v in data["variants"]]}
    handle = _handle(store, product, identifier, data)
    errors = _validate(store, product, data, handle)
    if errors:
        return None, errors
    created = product is None
    now = store.now()
    if product is None:
        product = Product(
            id=store.next_id(), handle=handle, title=data["title"], created_at=now, updated_at=now
        )
        store.products[product.id] = product
    _apply_fields(product, data, handle)
    options = data.get("productOptions")
    variants = data.get("variants")
    # A Shopify product always has a variant: with none given it gets "Default Title".
    if (created and options is None and variants is None) or (options == [] and variants == []):
        options = [{"name": DEFAULT_OPTION[0], "values": [{"name": DEFAULT_OPTION[1]}]}]
        variants = [
            {"optionValues": [{"optionName": DEFAULT_OPTION[0], "name": DEFAULT_OPTION[1]}]}
        ]
    if options is not None and variants is not None:
        _replace_options(store, product, options)
        _replace_variants(store, product, variants)
    product.updated_at = now
    store.publish("products/create" if created else "products/update", product_body(product))
    return product, []


def _target(
    store: Store, identifier: dict[str, Any] | None, data: dict[str, Any]
) -> tuple[Product | None, list[UserError]]:
    if identifier is None:
        if "id" not in data or data["id"] is None:
            return None, []
        product = store.products.get(parse_gid(data["id"], "Product") or -1)
        if product is None:
            return None, [
                user_error(["input", "id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
            ]
        return product, []
    if data.get("id") is not None:
        message = "The id field is not allowed if identifier is provided."
        return None, [user_error(["input", "id"], message, "ID_NOT_ALLOWED")]
    given = [key for key in ("id", "handle", "customId") if identifier.get(key) is not None]
    if len(given) != 1:
        message = "Exactly one of id, handle or customId must be provided."
        return None, [user_error(["identifier"], message, "INVALID_INPUT")]
    if given == ["customId"]:
        message = "customId identifiers need metafields, which the sandbox does not keep."
        return None, [user_error(["identifier", "customId"], message, "INVALID_INPUT")]
    if given == ["id"]:
        product = store.products.get(parse_gid(identifier["id"], "Product") or -1)
        if product is None:
            message = "Resource matching the identifier was not found."
            return None, [user_error(["identifier", "id"], message, "NOT_FOUND")]
        return product, []
    if data.get("handle") is not None and data["handle"] != identifier["handle"]:
        message = (
            "The identifier value does not match the value of the corresponding field in the input."
        )
        return None, [user_error(["input", "handle"], message, "INPUT_MISMATCH")]
    return store.product_by_handle(identifier["handle"]), []


def _named_options(product: Product | None, variant: dict[str, Any]) -> dict[str, Any]:
    """Option values given by id (`optionId`, `id`) read as names: Shopify takes either."""
    options = {option.id: option for option in product.options} if product else {}
    named = []
    for entry in variant.get("optionValues") or []:
        entry = dict(entry)
        option = options.get(parse_gid(entry.get("optionId"), "ProductOption") or -1)
        if option is not None and not entry.get("optionName"):
            entry["optionName"] = option.name
        values = {v.id: v.name for o in options.values() for v in o.option_values}
        value_id = parse_gid(entry.get("id"), "ProductOptionValue")
        if value_id in values and not entry.get("name"):
            entry["name"] = values[value_id]
        named.append(entry)
    return {**variant, "optionValues": named}


def _handle(
    store: Store, product: Product | None, identifier: dict[str, Any] | None, data: dict[str, Any]
) -> str:
    if data.get("handle"):
        return str(data["handle"])
    if identifier and identifier.get("handle"):
        return str(identifier["handle"])
    if product is not None:
        return product.handle
    # Shopify derives the handle from the title and adds -1, -2… until it is free.
    base = re.sub(r"[^a-z0-9]+", "-", str(data.get("title") or "").lower()).strip("-") or "product"
    taken = {p.handle for p in store.products.values()}
    handle, suffix = base, 0
    while handle in taken:
        suffix += 1
        handle = f"{base}-{suffix}"
    return handle


def _validate(
    store: Store, product: Product | None, data: dict[str, Any], handle: str
) -> list[UserError]:
    errors: list[UserError] = []
    if (product is None or "title" in data) and not str(data.get("title") or "").strip():
        errors.append(user_error(["input", "title"], "Title can't be blank", "INVALID_PRODUCT"))
    owner = store.product_by_handle(handle)
    if owner is not None and owner is not product:
        message = f"Handle '{handle}' already in use. Please provide a new handle."
        errors.append(user_error(["input", "handle"], message, "HANDLE_NOT_UNIQUE"))
    options, variants = data.get("productOptions"), data.get("variants")
    if variants is not None and options is None:
        message = "Must specify product options when updating variants."
        errors.append(
            user_error(["input", "productOptions"], message, "PRODUCT_OPTIONS_INPUT_MISSING")
        )
    if options is not None and variants is None:
        message = "Must specify variants when updating options."
        errors.append(user_error(["input", "variants"], message, "VARIANTS_INPUT_MISSING"))
    if options is not None:
        errors += _validate_options(options)
    if options is not None and variants is not None and not errors:
        errors += _validate_variants(store, product, options, variants)
    return errors


def _validate_options(options: list[dict[str, Any]]) -> list[UserError]:
    errors: list[UserError] = []
    if len(options) > MAX_OPTIONS:
        message = f"Options over limit: a product can have at most {MAX_OPTIONS} options."
        errors.append(user_error(["input", "productOptions"], message, "OPTIONS_OVER_LIMIT"))
    names = Counter(str(o.get("name") or "").strip().lower() for o in options)
    for index, option in enumerate(options):
        path: list[str | int] = ["input", "productOptions", index]
        name = str(option.get("name") or "").strip()
        if not name:
            errors.append(
                user_error([*path, "name"], "Option name can't be blank", "INVALID_INPUT")
            )
        elif names[name.lower()] > 1:
            errors.append(
                user_error([*path, "name"], "Duplicated option name.", "DUPLICATED_OPTION_NAME")
            )
        values = [str(v.get("name") or "") for v in option.get("values") or []]
        if not values:
            message = "Each option must have at least one option value specified."
            errors.append(user_error([*path, "values"], message, "OPTION_VALUES_MISSING"))
        if len(values) != len({v.lower() for v in values}):
            errors.append(
                user_error([*path, "values"], "Duplicated option value.", "DUPLICATED_OPTION_VALUE")
            )
    return errors


def _validate_variants(
    store: Store,
    product: Product | None,
    options: list[dict[str, Any]],
    variants: list[dict[str, Any]],
) -> list[UserError]:
    errors: list[UserError] = []
    if len(variants) > MAX_VARIANTS:
        message = f"Number of product variants exceeds shop limit of {MAX_VARIANTS}."
        return [user_error(["input", "variants"], message, "VARIANTS_OVER_LIMIT")]
    values = {str(o["name"]).strip(): {str(v["name"]) for v in o["values"]} for o in options}
    seen: dict[tuple[str, ...], int] = {}
    quantities = 0
    for index, variant in enumerate(variants):
        path: list[str | int] = ["input", "variants", index]
        chosen, option_errors = _chosen_options(variant, values, path)
        errors += option_errors
        combination = tuple(chosen.get(name, "") for name in values)
        if not option_errors and combination in seen:
            title = " / ".join(combination)
            message = (
                f"The variant '{title}' already exists. Please change at least one option value."
            )
            errors.append(user_error(path, message, "INVALID_VARIANT"))
        seen.setdefault(combination, index)
        existing = _variant_by_input_id(store, product, variant, path, errors)
        for key in ("price", "compareAtPrice"):
            if variant.get(key) is not None and variant[key] < 0:
                message = f"{key} must be greater than or equal to 0"
                errors.append(user_error([*path, key], message, "INVALID_VARIANT"))
        for q_index, entry in enumerate(variant.get("inventoryQuantities") or []):
            quantities += 1
            errors += _validate_quantity(
                store, existing, entry, [*path, "inventoryQuantities", q_index]
            )
    if quantities > MAX_INVENTORY_QUANTITIES:
        message = "Inventory quantity input exceeds the limit of 50000."
        errors.append(
            user_error(["input", "variants"], message, "INVENTORY_QUANTITIES_LIMIT_EXCEEDED")
        )
    return errors


def _chosen_options(
    variant: dict[str, Any], values: dict[str, set[str]], path: list[str | int]
) -> tuple[dict[str, str], list[UserError]]:
    chosen: dict[str, str] = {}
    errors: list[UserError] = []
    for index, entry in enumerate(variant.get("optionValues") or []):
        where = [*path, "optionValues", index]
        name = str(entry.get("optionName") or "").strip()
        if name not in values:
            errors.append(
                user_error(where, f"Option '{name}' does not exist.", "OPTION_DOES_NOT_EXIST")
            )
            continue
        value = str(entry.get("name") or "")
        if value not in values[name]:
            message = f"Option value '{value}' does not exist for option '{name}'."
            errors.append(user_error(where, message, "OPTION_VALUE_DOES_NOT_EXIST"))
            continue
        chosen[name] = value
    missing = [name for name in values if name not in chosen]
    if missing and not errors:
        message = f"The variant must have a value for each option; missing {', '.join(missing)}."
        errors.append(user_error([*path, "optionValues"], message, "INVALID_VARIANT"))
    return chosen, errors


def _variant_by_input_id(
    store: Store,
    product: Product | None,
    variant: dict[str, Any],
    path: list[str | int],
    errors: list[UserError],
) -> Variant | None:
    if variant.get("id") is None:
        return None
    found = store.variants.get(parse_gid(variant["id"], "ProductVariant") or -1)
    if found is None or product is None or found.product is not product:
        message = "Product variant does not exist."
        errors.append(user_error([*path, "id"], message, "PRODUCT_VARIANT_DOES_NOT_EXIST"))
        return None
    return found


def _validate_quantity(
    store: Store, existing: Variant | None, entry: dict[str, Any], path: list[str | int]
) -> list[UserError]:
    if entry["name"] not in ("available", "on_hand"):
        message = "The quantity name must be either 'available' or 'on_hand'."
        return [user_error([*path, "name"], message, "INVALID_INPUT")]
    location_id = parse_gid(entry["locationId"], "Location")
    if location_id not in store.locations:
        return [
            user_error([*path, "locationId"], "The location could not be found.", "INVALID_INPUT")
        ]
    if entry["quantity"] < 0:
        return [user_error([*path, "quantity"], "The quantity can't be negative.", "INVALID_INPUT")]
    if existing is not None and store.level(existing.inventory_item.id, location_id) is None:
        # Shopify: an existing variant's quantities can only be set where it is already stocked.
        message = "The variant is not stocked at this location; activate it there first."
        return [user_error([*path, "locationId"], message, "INVALID_INPUT")]
    return []


def _apply_fields(product: Product, data: dict[str, Any], handle: str) -> None:
    product.handle = handle
    for key, attribute in (
        ("title", "title"),
        ("vendor", "vendor"),
        ("productType", "product_type"),
        ("descriptionHtml", "description_html"),
        ("status", "status"),
        ("tags", "tags"),
        ("category", "category"),
        ("files", "files"),
    ):
        if data.get(key) is not None:
            setattr(product, attribute, data[key])


def _replace_options(store: Store, product: Product, options: list[dict[str, Any]]) -> None:
    old = {option.name: option for option in product.options}
    rebuilt = []
    for position, entry in enumerate(options, start=1):
        name = str(entry["name"]).strip()
        previous = old.get(name)
        old_values = {v.name: v for v in previous.option_values} if previous else {}
        values = [
            old_values.get(str(v["name"])) or OptionValue(id=store.next_id(), name=str(v["name"]))
            for v in entry["values"]
        ]
        option_id = previous.id if previous else store.next_id()
        rebuilt.append(
            ProductOption(id=option_id, name=name, position=position, option_values=values)
        )
    product.options = rebuilt


def _replace_variants(store: Store, product: Product, variants: list[dict[str, Any]]) -> None:
    claimed = {parse_gid(entry.get("id"), "ProductVariant") for entry in variants}
    by_options = {tuple(v.options.items()): v for v in product.variants if v.id not in claimed}
    kept: list[Variant] = []
    for position, entry in enumerate(variants, start=1):
        chosen = {str(o["optionName"]).strip(): str(o["name"]) for o in entry["optionValues"]}
        ordered = {option.name: chosen[option.name] for option in product.options}
        if entry.get("id") is not None:
            variant = store.variants[parse_gid(entry["id"], "ProductVariant") or -1]
        else:
            # Matched by option values; a variant claimed by id elsewhere is not matched twice.
            key = tuple(ordered.items())
            matched = by_options.pop(key) if key in by_options else None
            variant = matched or _new_variant(store, product, entry)
        variant.options = ordered
        variant.position = position
        apply_variant(store, variant, entry)
        kept.append(variant)
    for variant in product.variants:
        if variant not in kept:
            _delete_variant(store, variant)
    product.variants = kept


def _new_variant(store: Store, product: Product, entry: dict[str, Any]) -> Variant:
    now = store.now()
    variant = Variant(
        id=store.next_id(),
        product=product,
        options={},
        sku=None,
        price=Decimal("0.00"),
        compare_at_price=None,
        barcode=None,
        position=0,
        created_at=now,
        updated_at=now,
    )
    # Shopify creates API variants untracked unless inventoryItem.tracked says otherwise.
    variant.inventory_item = InventoryItem(
        id=store.next_id(),
        variant=variant,
        tracked=False,
        requires_shipping=True,
        cost=None,
        created_at=now,
        updated_at=now,
    )
    store.variants[variant.id] = variant
    store.items[variant.inventory_item.id] = variant.inventory_item
    given = [parse_gid(q["locationId"], "Location") for q in entry.get("inventoryQuantities") or []]
    for location_id in given or [store.primary_location.id]:
        store.stock(variant.inventory_item, store.locations[location_id or -1])
    return variant


def apply_variant(store: Store, variant: Variant, entry: dict[str, Any]) -> None:
    item_input = entry.get("inventoryItem") or {}
    if "sku" in entry:
        variant.sku = entry["sku"]
    elif "sku" in item_input:
        variant.sku = item_input["sku"]
    for key, attribute in (
        ("price", "price"),
        ("barcode", "barcode"),
        ("taxable", "taxable"),
        ("inventoryPolicy", "inventory_policy"),
    ):
        if entry.get(key) is not None:
            setattr(variant, attribute, entry[key])
    if "compareAtPrice" in entry:
        variant.compare_at_price = entry["compareAtPrice"]
    if "file" in entry:
        variant.file = entry["file"]
    item = variant.inventory_item
    for key, attribute in (
        ("tracked", "tracked"),
        ("requiresShipping", "requires_shipping"),
        ("cost", "cost"),
    ):
        if item_input.get(key) is not None:
            setattr(item, attribute, item_input[key])
    variant.updated_at = item.updated_at = store.now()
    for quantity in entry.get("inventoryQuantities") or []:
        location = store.locations[parse_gid(quantity["locationId"], "Location") or -1]
        level = store.stock(item, location)
        apply_named_quantity(store, level, quantity["name"], quantity["quantity"])


def _delete_variant(store: Store, variant: Variant) -> None:
    item = variant.inventory_item
    for key in [key for key in store.levels if key[0] == item.id]:
        del store.levels[key]
    store.items.pop(item.id, None)
    store.variants.pop(variant.id, None)


def product_update(store: Store, data: dict[str, Any]) -> tuple[Product | None, list[UserError]]:
    """productUpdate(product: {id, …}): the product's own fields; variants are not touched."""
    product = store.products.get(parse_gid(data.get("id"), "Product") or -1)
    if product is None:
        return None, [user_error(["id"], "Product does not exist", None)]
    if "title" in data and not str(data.get("title") or "").strip():
        return None, [user_error(["title"], "Title can't be blank", None)]
    handle = data.get("handle") or product.handle
    owner = store.product_by_handle(handle)
    if owner is not None and owner is not product:
        return None, [user_error(["handle"], f"Handle '{handle}' already in use.", None)]
    _apply_fields(product, {k: v for k, v in data.items() if k != "files"}, handle)
    product.updated_at = store.now()
    store.publish("products/update", product_body(product))
    return product, []
