"""Inventory quantities as Shopify keeps them, and the mutations that change them.

A level holds named quantities; `on_hand` is the sum of available, committed and the unavailable
states, so setting `available` moves `on_hand` by the same delta and setting `on_hand` moves
`available`. `inventorySetQuantities` is a compare-and-swap in 2026-01: a non-null
`changeFromQuantity` must equal the stored quantity (else CHANGE_FROM_QUANTITY_STALE); when the
field is absent the legacy `compareQuantity`/`ignoreCompareQuantity` pair decides. Any user error
rejects the whole request. Every change of `available` sends `inventory_levels/update`, whoever
made it (Shopify does not spare the app its own changes).
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.shopify.ids import parse_gid
from sandbox.shopify.models import ON_HAND_PARTS, AdjustmentGroup, Change, Level
from sandbox.shopify.payloads import inventory_level_body
from sandbox.shopify.store import Store

SET_NAMES = ("available", "on_hand")
ADJUST_NAMES = (
    "available",
    "on_hand",
    "damaged",
    "quality_control",
    "reserved",
    "safety_stock",
    "incoming",
)
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
SET_LIMIT = 1_000_000_000
ADJUST_LIMIT = 2_000_000_000
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_GID_URI = re.compile(r"^gid://[^/\s]+/[^/\s]+/[^/\s]+$")

UserError = dict[str, Any]


def _valid_uri(uri: str) -> bool:
    # "A URI with scheme and content; for the GID format, app, entity and id must be present."
    if uri.startswith("gid://"):
        return bool(_GID_URI.match(uri))
    return bool(_URI.match(uri))


def _error(field: list[str | int], message: str, code: str) -> UserError:
    return {"field": [str(part) for part in field], "message": message, "code": code}


def apply_named_quantity(
    store: Store, level: Level, name: str, quantity: int
) -> list[tuple[str, int]]:
    """Set one named quantity; returns the (name, delta) pairs that moved, on_hand included."""
    if name == "on_hand":
        others = sum(level.get(part) for part in ON_HAND_PARTS if part != "available")
        return apply_named_quantity(store, level, "available", quantity - others)
    return adjust_named_quantity(store, level, name, quantity - level.get(name))


def adjust_named_quantity(
    store: Store, level: Level, name: str, delta: int
) -> list[tuple[str, int]]:
    if name == "on_hand":
        name = "available"
    if delta == 0:
        return []
    level.quantities[name] = level.get(name) + delta
    level.updated_at = level.item.updated_at = store.now()
    moved = [(name, delta)]
    if name in ON_HAND_PARTS:
        moved.append(("on_hand", delta))
    if name == "available":
        store.publish("inventory_levels/update", inventory_level_body(level))
    return moved


def _check_common(store: Store, data: dict[str, Any]) -> list[UserError]:
    errors = []
    if data["reason"] not in REASONS:
        errors.append(
            _error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
        )
    uri = data.get("referenceDocumentUri")
    if uri is not None and not _valid_uri(uri):
        message = "The specified reference document is invalid."
        errors.append(
            _error(["input", "referenceDocumentUri"], message, "INVALID_REFERENCE_DOCUMENT")
        )
    return errors


def _locate(
    store: Store, entry: dict[str, Any], path: list[str | int]
) -> tuple[Level | None, list[UserError]]:
    item = store.items.get(parse_gid(entry["inventoryItemId"], "InventoryItem") or -1)
    if item is None:
        message = "The specified inventory item could not be found."
        return None, [_error([*path, "inventoryItemId"], message, "INVALID_INVENTORY_ITEM")]
    location = store.locations.get(parse_gid(entry["locationId"], "Location") or -1)
    if location is None:
        message = "The specified location could not be found."
        return None, [_error([*path, "locationId"], message, "INVALID_LOCATION")]
    level = store.level(item.id, location.id)
    if level is None:
        message = "The specified inventory item is not stocked at the location."
        return None, [_error([*path, "locationId"], message, "ITEM_NOT_STOCKED_AT_LOCATION")]
    return level, []


def _compare(
    level: Level, name: str, entry: dict[str, Any], ignore: bool | None, path: list[str | int]
) -> list[UserError]:
    current = level.get(name)
    if "changeFromQuantity" in entry:
        # Passing any value, null included, overrides compareQuantity and ignoreCompareQuantity.
        expected = entry["changeFromQuantity"]
        if expected is not None and expected != current:
            message = "The changeFromQuantity value does not match persisted value."
            return [_error([*path, "changeFromQuantity"], message, "CHANGE_FROM_QUANTITY_STALE")]
        return []
    if ignore:
        return []
    if entry.get("compareQuantity") is None:
        message = (
            "The compareQuantity argument must be given to each quantity or ignored using "
            "ignoreCompareQuantity."
        )
        return [_error([*path, "compareQuantity"], message, "COMPARE_QUANTITY_REQUIRED")]
    if entry["compareQuantity"] != current:
        message = "The compareQuantity value does not match persisted value."
        return [_error([*path, "compareQuantity"], message, "COMPARE_QUANTITY_STALE")]
    return []


def set_quantities(
    store: Store, data: dict[str, Any]
) -> tuple[AdjustmentGroup | None, list[UserError]]:
    """inventorySetQuantities: absolute quantities, all or nothing."""
    errors = _check_common(store, data)
    name = data["name"]
    if name not in SET_NAMES:
        message = "The quantity name must be either 'available' or 'on_hand'."
        errors.append(_error(["input", "name"], message, "INVALID_NAME"))
    targets: list[tuple[Level, int]] = []
    seen: set[tuple[int, int]] = set()
    for index, entry in enumerate(data["quantities"]):
        path: list[str | int] = ["input", "quantities", index]
        level, found = _locate(store, entry, path)
        errors += found
        quantity = entry["quantity"]
        if quantity < 0:
            errors.append(
                _error(
                    [*path, "quantity"],
                    "The quantity can't be negative.",
                    "INVALID_QUANTITY_NEGATIVE",
                )
            )
        elif quantity > SET_LIMIT:
            message = "The total quantity can't be higher than 1,000,000,000."
            errors.append(_error([*path, "quantity"], message, "INVALID_QUANTITY_TOO_HIGH"))
        if level is None:
            continue
        key = (level.item.id, level.location.id)
        if key in seen:
            message = "The combination of inventoryItemId and locationId must be unique."
            errors.append(_error(path, message, "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"))
        seen.add(key)
        if name in SET_NAMES:
            errors += _compare(level, name, entry, data.get("ignoreCompareQuantity"), path)
        targets.append((level, quantity))
    if errors:
        return None, errors
    group = _group(store, data)
    for level, quantity in targets:
        for moved, delta in apply_named_quantity(store, level, name, quantity):
            group.changes.append(Change(moved, delta, level.get(moved), level.item, level.location))
    return group, []


def adjust_quantities(
    store: Store, data: dict[str, Any]
) -> tuple[AdjustmentGroup | None, list[UserError]]:
    """inventoryAdjustQuantities: deltas, all or nothing."""
    errors = _check_common(store, data)
    name = data["name"]
    if name not in ADJUST_NAMES:
        errors.append(
            _error(
                ["input", "name"],
                "The specified quantity name is invalid.",
                "INVALID_QUANTITY_NAME",
            )
        )
    documents = {entry.get("ledgerDocumentUri") for entry in data["changes"]}
    if len(documents) > 1:
        message = (
            "All changes must have the same ledger document URI or, in the case of adjusting "
            "available, no ledger document URI."
        )
        errors.append(_error(["input", "changes"], message, "MAX_ONE_LEDGER_DOCUMENT"))
    targets: list[tuple[Level, int, str | None]] = []
    for index, entry in enumerate(data["changes"]):
        path: list[str | int] = ["input", "changes", index]
        errors += _check_ledger(name, entry.get("ledgerDocumentUri"), path)
        level, found = _locate(store, entry, path)
        errors += found
        if level is None:
            continue
        current = level.get(name if name in ADJUST_NAMES else "available")
        expected = entry.get("changeFromQuantity")
        if expected is not None and expected != current:
            message = "The changeFromQuantity argument no longer matches the persisted quantity."
            errors.append(
                _error([*path, "changeFromQuantity"], message, "CHANGE_FROM_QUANTITY_STALE")
            )
        after = current + entry["delta"]
        if after > ADJUST_LIMIT:
            errors.append(
                _error(
                    [*path, "delta"],
                    "The quantity can't be higher than 2,000,000,000.",
                    "INVALID_QUANTITY_TOO_HIGH",
                )
            )
        if after < -ADJUST_LIMIT:
            errors.append(
                _error(
                    [*path, "delta"],
                    "The quantity can't be lower than -2,000,000,000.",
                    "INVALID_QUANTITY_TOO_LOW",
                )
            )
        targets.append((level, entry["delta"], entry.get("ledgerDocumentUri")))
    if errors:
        return None, errors
    group = _group(store, data)
    for level, delta, ledger in targets:
        for moved, moved_delta in adjust_named_quantity(store, level, name, delta):
            change = Change(
                moved, moved_delta, level.get(moved), level.item, level.location, ledger
            )
            group.changes.append(change)
    return group, []


def _check_ledger(name: str, ledger: str | None, path: list[str | int]) -> list[UserError]:
    where = [*path, "ledgerDocumentUri"]
    if name == "available":
        if ledger is not None:
            return [
                _error(
                    where,
                    "A ledger document URI is not allowed when adjusting available.",
                    "INVALID_AVAILABLE_DOCUMENT",
                )
            ]
        return []
    if ledger is None:
        return [
            _error(
                where,
                "A ledger document URI is required except when adjusting available.",
                "INVALID_QUANTITY_DOCUMENT",
            )
        ]
    if ledger.startswith("gid://shopify/"):
        return [
            _error(
                where,
                "Internal (gid://shopify/) ledger documents are not allowed to be adjusted "
                "via API.",
                "INTERNAL_LEDGER_DOCUMENT",
            )
        ]
    if not _valid_uri(ledger):
        return [
            _error(where, "The specified ledger document is invalid.", "INVALID_LEDGER_DOCUMENT")
        ]
    return []


def _group(store: Store, data: dict[str, Any]) -> AdjustmentGroup:
    group = AdjustmentGroup(
        id=store.next_id(),
        reason=data["reason"],
        reference_document_uri=data.get("referenceDocumentUri"),
        created_at=store.now(),
        changes=[],
    )
    store.adjustment_groups[group.id] = group
    return group


def activate(
    store: Store, item_id: str, location_id: str, available: int | None, on_hand: int | None
) -> tuple[Level | None, list[UserError]]:
    """inventoryActivate: stock an item at a location, optionally with starting quantities."""
    level, errors = None, []
    item = store.items.get(parse_gid(item_id, "InventoryItem") or -1)
    location = store.locations.get(parse_gid(location_id, "Location") or -1)
    if item is None:
        errors.append(
            _error(["inventoryItemId"], "Inventory item does not exist", "INVALID_INVENTORY_ITEM")
        )
    if location is None:
        errors.append(_error(["locationId"], "Location does not exist", "INVALID_LOCATION"))
    if item is None or location is None:
        return None, errors
    existed = store.level(item.id, location.id) is not None
    level = store.stock(item, location)
    if not existed:
        if on_hand is not None:
            apply_named_quantity(store, level, "on_hand", on_hand)
        if available is not None:
            apply_named_quantity(store, level, "available", available)
    return level, []
