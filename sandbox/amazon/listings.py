"""The seller's listings items, as the Listings Items API 2021-08-01 keeps them.

A submission (PUT, PATCH, DELETE, a feed message) is checked at once: `INVALID` with issues
inside a 200, nothing changes. An accepted one (`ACCEPTED`) is queued and applied
`apply_delay` seconds later, as Amazon applies it minutes later: until then a GET shows the
item as it was. Applying a change of the `DEFAULT` (merchant-fulfilled) quantity publishes
`LISTINGS_ITEM_MFN_QUANTITY_CHANGE`, whoever made it.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_ITEM_NAME = 200
MAX_SKU = 40
LISTING_REQUIRED = ("item_name", "brand")


@dataclass
class Item:
    sku: str
    product_type: str
    attributes: dict[str, Any]
    created: float
    updated: float

    @property
    def asin(self) -> str:
        return "B0" + hashlib.sha1(self.sku.encode()).hexdigest()[:8].upper()

    @property
    def quantity(self) -> int | None:
        for entry in self.attributes.get("fulfillment_availability") or ():
            if isinstance(entry, dict) and entry.get("fulfillment_channel_code") == "DEFAULT":
                value = entry.get("quantity")
                return value if isinstance(value, int) else None
        return None

    def set_quantity(self, quantity: int) -> None:
        self.attributes["fulfillment_availability"] = [
            {"fulfillment_channel_code": "DEFAULT", "quantity": quantity}
        ]

    @property
    def offer(self) -> tuple[str, Decimal] | None:
        """(currency, our price) of the offer to all buyers."""
        for offer in self.attributes.get("purchasable_offer") or ():
            if not isinstance(offer, dict) or offer.get("audience", "ALL") != "ALL":
                continue
            try:
                value = offer["our_price"][0]["schedule"][0]["value_with_tax"]
                return str(offer.get("currency")), Decimal(str(value))
            except (KeyError, IndexError, TypeError, InvalidOperation):
                return None
        return None

    @property
    def parent_sku(self) -> str | None:
        for relation in self.attributes.get("child_parent_sku_relationship") or ():
            if isinstance(relation, dict) and relation.get("parent_sku"):
                return str(relation["parent_sku"])
        return None

    @property
    def is_parent(self) -> bool:
        levels = self.attributes.get("parentage_level") or ()
        return any(isinstance(v, dict) and v.get("value") == "parent" for v in levels)

    @property
    def title(self) -> str:
        names = self.attributes.get("item_name") or [{}]
        return str(names[0].get("value", "")) if isinstance(names[0], dict) else ""


def issue(
    code: str, message: str, *names: str, severity: str = "ERROR", category: str | None = None
) -> dict[str, Any]:
    """An issue as Listings Items answers it (categories: what kind of problem it is)."""
    kind = category or ("MISSING_ATTRIBUTE" if "required" in message else "INVALID_ATTRIBUTE")
    found: dict[str, Any] = {
        "code": code,
        "message": message,
        "severity": severity,
        "categories": [kind],
    }
    if names:
        found["attributeNames"] = list(names)
    return found


def put_issues(
    sku: str, product_type: str, requirements: str, attrs: dict[str, Any]
) -> list[dict[str, Any]]:
    """What Amazon would refuse in a full listing (a small part of its product type rules)."""
    found = []
    if len(sku) > MAX_SKU:
        found.append(issue("8541", f"The SKU is longer than {MAX_SKU} characters"))
    if not product_type.strip() or not product_type.isupper():
        found.append(issue("4000001", f"'{product_type}' is not a valid product type"))
    if requirements != "LISTING_OFFER_ONLY":
        for name in LISTING_REQUIRED:
            if not attrs.get(name):
                found.append(issue("90220", f"'{name}' is required but not supplied.", name))
    found += attribute_issues(attrs)
    is_parent = any(
        isinstance(v, dict) and v.get("value") == "parent" for v in attrs.get("parentage_level", ())
    )
    if requirements == "LISTING" and not is_parent:
        identified = attrs.get("externally_assigned_product_identifier") or attrs.get(
            "supplier_declared_has_product_identifier_exemption"
        )
        if not identified:
            found.append(
                issue(
                    "90220",
                    "'externally_assigned_product_identifier' is required but not supplied.",
                    "externally_assigned_product_identifier",
                )
            )
    return found


def attribute_issues(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    """Checks of single attributes, for PUT, PATCH and feed messages alike."""
    found = []
    for value in attrs.get("item_name") or ():
        if isinstance(value, dict) and len(str(value.get("value", ""))) > MAX_ITEM_NAME:
            found.append(
                issue("8560", f"'item_name' exceeds {MAX_ITEM_NAME} characters.", "item_name")
            )
    for entry in attrs.get("fulfillment_availability") or ():
        quantity = entry.get("quantity") if isinstance(entry, dict) else None
        if quantity is not None and (not isinstance(quantity, int) or quantity < 0):
            found.append(
                issue(
                    "90244",
                    "'quantity' must be a whole number of 0 or more.",
                    "fulfillment_availability",
                )
            )
    for offer in attrs.get("purchasable_offer") or ():
        try:
            value = Decimal(str(offer["our_price"][0]["schedule"][0]["value_with_tax"]))
        except (KeyError, IndexError, TypeError, InvalidOperation):
            found.append(issue("90244", "'our_price' needs a schedule value.",
                               "purchasable_offer", category="MISSING_PRICE"))  # fmt: skip
            continue
        if value <= 0:
            found.append(issue("90244", "'our_price' must be above 0.",
                               "purchasable_offer", category="INVALID_PRICE"))  # fmt: skip
    return found


def apply_patches(
    attributes: dict[str, Any], patches: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """JSON Patch ops on `/attributes/<name>` (add, replace, merge, delete); returns issues."""
    found = []
    for patch in patches:
        path = str(patch.get("path", ""))
        if not path.startswith("/attributes/") or path.count("/") != 2:
            found.append(issue("4000002", f"'{path}' is not a patchable path"))
            continue
        name = path.removeprefix("/attributes/")
        op, value = patch.get("op"), patch.get("value")
        if op in ("add", "replace"):
            attributes[name] = copy.deepcopy(value)
        elif op == "merge":
            current = attributes.get(name) or []
            merged = [
                {**(current[i] if i < len(current) else {}), **entry}
                for i, entry in enumerate(value or [])
            ]
            attributes[name] = merged + current[len(merged) :]
        elif op == "delete":
            attributes.pop(name, None)
    return found


@dataclass
class Pending:
    due: float
    apply: Callable[[], None]


@dataclass
class Listings:
    """The items of one seller in one marketplace, with changes waiting to apply."""

    clock: Callable[[], float]
    apply_delay: float
    on_quantity: Callable[[Item, int | None], None]  # an applied change moved the quantity
    items: dict[str, Item] = field(default_factory=dict)
    pending: list[Pending] = field(default_factory=list)

    def submit(self, change: Callable[[], None]) -> str:
        self.pending.append(Pending(self.clock() + self.apply_delay, change))
        return uuid.uuid4().hex

    def settle(self) -> int:
        """Apply every queued change now due; returns how many."""
        now = self.clock()
        due = [p for p in self.pending if p.due <= now]
        self.pending = [p for p in self.pending if p.due > now]
        for change in due:
            change.apply()
        return len(due)

    def put(self, sku: str, product_type: str, attributes: dict[str, Any]) -> None:
        """Create or replace now (a submission's application)."""
        before = self.items.get(sku)
        now = self.clock()
        self.items[sku] = Item(
            sku, product_type, copy.deepcopy(attributes), before.created if before else now, now
        )
        self._moved(self.items[sku], before.quantity if before else None)

    def patch(self, sku: str, patches: list[dict[str, Any]]) -> None:
        item = self.items.get(sku)
        if item is None:
            return
        before = item.quantity
        apply_patches(item.attributes, patches)
        item.updated = self.clock()
        self._moved(item, before)

    def delete(self, sku: str) -> None:
        self.items.pop(sku, None)

    def set_quantity(self, sku: str, quantity: int) -> None:
        """The quantity moved by Amazon itself (a sale, a cancellation, the seller's edit)."""
        item = self.items[sku]
        before = item.quantity
        item.set_quantity(quantity)
        item.updated = self.clock()
        self._moved(item, before)

    def _moved(self, item: Item, before: int | None) -> None:
        if item.quantity is not None and item.quantity != before:
            self.on_quantity(item, before)
