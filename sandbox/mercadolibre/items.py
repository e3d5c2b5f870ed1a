"""The seller's items as MercadoLibre keeps them: classic items with `variations`, and User
Products (UP) items, one per variation, whose stock belongs to the user product.

What the sandbox enforces (channel-contracts §4; ~ where the digest is unsure):
- `POST /items`: a known category, a title within the category's `settings.max_title_length`,
  `buy_it_now`, a known listing type and condition, a SELLER_SKU on the item or on every
  variation (~ a hub always sends one: the sandbox refuses an item without it), at most the
  category's variations (100), unique attribute combinations, one price for all variations;
- `PUT /items/{id}`: a variation id the body does not name is DELETED (kept in `deleted`,
  for tests); an entry without an id adds a variation; category, currency, listing type and
  buying mode cannot change here; the title is locked once the item sold (~ 400); an item
  with variations takes its stock and price through them (~ 400 otherwise); a closed item
  is refused and comes back with `POST /items/{id}/relist`, under a new id;
- a UP seller (`GET /users/{id}` tag `user_product_seller`) posts one item per variation with
  `family_name` and no `variations`; MercadoLibre gives it a `user_product_id` (one per
  SELLER_SKU here) and the family's `family_id`; its stock is the UP's, by location, at
  `/user-products/{id}/stock` with an `x-version` compare-and-set (409 when stale);
  `meli_facility` is read-only (Fulfillment).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sandbox.mercadolibre import errors
from sandbox.mercadolibre.errors import MeliError, cause, invalid, not_found
from sandbox.mercadolibre.validation import (
    is_count,
    is_number,
    plain_field_problems,
    seller_sku,
    variation_problems,
)

FIXED: Final = frozenset(
    {
        "category_id",
        "currency_id",
        "listing_type_id",
        "buying_mode",
        "site_id",
        "seller_id",
        "id",
        "family_name",
        "user_product_id",
        "family_id",
        "description",
    }
)
LOCATION_TYPES: Final = ("selling_address", "seller_warehouse", "meli_facility")
DEFAULT_CATEGORIES: Final[dict[str, dict[str, Any]]] = {
    "MLA109282": {"name": "Remeras", "max_title_length": 60, "max_variations_allowed": 100},
    "MLA1055": {"name": "Celulares", "max_title_length": 120, "max_variations_allowed": 250},
}


@dataclass
class UserProduct:
    id: str
    sku: str
    family_id: str
    locations: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LOCATION_TYPES, 0))
    version: int = 1

    def total(self) -> int:
        return sum(self.locations.values())

    def shown(self, seller_id: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": seller_id,
            "locations": [
                {"type": t, "quantity": q}
                for t, q in self.locations.items()
                if q or t == "selling_address"
            ],
        }


class Store:
    def __init__(self, now: Callable[[], datetime], seller_id: int, *, user_products: bool):
        self._now = now
        self.seller_id = seller_id
        self.user_product_seller = user_products
        self.items: dict[str, dict[str, Any]] = {}
        self.descriptions: dict[str, str] = {}
        self.user_products: dict[str, UserProduct] = {}
        # Each user product's items (a relisted one too), and each SKU's user product.
        self.up_items: dict[str, list[str]] = {}
        self._up_of_sku: dict[str, str] = {}
        self.families: dict[str, str] = {}
        self.categories = copy.deepcopy(DEFAULT_CATEGORIES)
        self.deleted: list[tuple[str, int]] = []  # (item id, variation id) a PUT deleted
        self._ids = itertools.count(1_000_000_001)

    def next_id(self) -> int:
        return next(self._ids)

    # Reading ---------------------------------------------------------------------------------

    def get(self, item_id: str) -> dict[str, Any]:
        item = self.items.get(item_id)
        if item is None:
            raise not_found(f"Item with id {item_id}")
        return self.shown(item)

    def shown(self, item: dict[str, Any]) -> dict[str, Any]:
        shown = copy.deepcopy(item)
        up = self.user_products.get(item.get("user_product_id") or "")
        if up is not None:
            shown["available_quantity"] = up.total()
        elif item.get("variations"):
            shown["available_quantity"] = sum(v["available_quantity"] for v in item["variations"])
        return shown

    def category(self, category_id: str) -> dict[str, Any]:
        found = self.categories.get(category_id)
        if found is None:
            raise not_found(f"Category {category_id}")
        return {
            "id": category_id,
            "name": found["name"],
            "settings": {
                "max_title_length": found["max_title_length"],
                "max_variations_allowed": found["max_variations_allowed"],
            },
        }

    def search(self, sku: str | None, status: str | None) -> list[str]:
        found = []
        for item in self.items.values():
            if status and item["status"] != status:
                continue
            skus = {seller_sku(item.get("attributes"))} | {
                seller_sku(v.get("attributes")) for v in item.get("variations") or []
            }
            if sku is None or sku in skus:
                found.append(item["id"])
        return found

    def listed(self, sku: str) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        """The active items (and variation) selling the SKU."""
        found: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        for item in self.items.values():
            if item["status"] != "active":
                continue
            if seller_sku(item.get("attributes")) == sku:
                found.append((item, None))
            for variation in item.get("variations") or []:
                if seller_sku(variation.get("attributes")) == sku:
                    found.append((item, variation))
        return found

    def buyable(self, item: dict[str, Any], variation: dict[str, Any] | None) -> int:
        if variation is not None:
            return int(variation["available_quantity"])
        up = self.user_products.get(item.get("user_product_id") or "")
        return up.total() if up is not None else int(item["available_quantity"])

    # Creating --------------------------------------------------------------------------------

    def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid(cause(errors.INVALID_FIELD, "body must be an item", "item"))
        problems = self._new_item_problems(body)
        if problems:
            raise invalid(*problems)
        now = self._stamp()
        item_id = f"MLA{self.next_id()}"
        pictures = [
            {"id": f"{self.next_id()}-MLA", "source": p["source"]}
            for p in body.get("pictures") or []
        ]
        item: dict[str, Any] = {
            "id": item_id,
            "site_id": "MLA",
            "seller_id": self.seller_id,
            "title": body.get("title") or "",
            "category_id": body["category_id"],
            "price": body["price"],
            "currency_id": body["currency_id"],
            "available_quantity": int(body.get("available_quantity") or 0),
            "sold_quantity": 0,
            "buying_mode": body["buying_mode"],
            "listing_type_id": body["listing_type_id"],
            "condition": body["condition"],
            "pictures": pictures,
            "attributes": copy.deepcopy(body.get("attributes") or []),
            "variations": [],
            "status": "active",
            "date_created": now,
            "last_updated": now,
            "shipping": copy.deepcopy(body.get("shipping") or {"mode": "me2"}),
        }
        for given in body.get("variations") or []:
            item["variations"].append(self._variation({"price": body["price"], **given}, pictures))
        if body.get("family_name"):
            self._user_product(item, body)
        self.items[item_id] = item
        description = body.get("description")
        if isinstance(description, dict):
            self.descriptions[item_id] = str(description.get("plain_text") or "")
        return self.shown(item)

    def _user_product(self, item: dict[str, Any], body: dict[str, Any]) -> None:
        family = str(body["family_name"])
        sku = seller_sku(body.get("attributes")) or ""
        family_id = self.families.setdefault(family, str(self.next_id()))
        up = self.user_products.get(self._up_of_sku.get(sku, ""))
        if up is None:
            up = UserProduct(f"MLAU{self.next_id()}", sku, family_id)
            up.locations["selling_address"] = item["available_quantity"]
            self.user_products[up.id] = up
            self._up_of_sku[sku] = up.id
        self.up_items.setdefault(up.id, []).append(item["id"])
        item.update(family_name=family, family_id=family_id, user_product_id=up.id)
        if not item["title"]:
            values = [
                str(a.get("value_name"))
                for a in body.get("attributes") or []
                if a.get("id") not in ("SELLER_SKU", "GTIN", "BRAND")
            ]
            item["title"] = " ".join([family, *values])[: self._title_limit(item)]

    def _variation(self, given: dict[str, Any], pictures: list[dict[str, str]]) -> dict[str, Any]:
        by_source = {p["source"]: p["id"] for p in pictures}
        ids = [by_source.get(str(p), str(p)) for p in given.get("picture_ids") or []]
        return {
            "id": self.next_id(),
            "attribute_combinations": copy.deepcopy(given.get("attribute_combinations") or []),
            "price": given.get("price"),
            "available_quantity": int(given.get("available_quantity") or 0),
            "sold_quantity": 0,
            "picture_ids": ids,
            "attributes": copy.deepcopy(given.get("attributes") or []),
        }

    def _new_item_problems(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        category = self.categories.get(str(body.get("category_id") or ""))
        if category is None:
            found.append(
                cause(errors.INVALID_FIELD, "category_id is not a category", "item.category_id")
            )
        up_item = bool(body.get("family_name"))
        if self.user_product_seller and not up_item:
            found.append(
                cause(
                    errors.INVALID_FIELD,
                    "a user_product_seller lists with family_name",
                    "item.family_name",
                )
            )
        if up_item and not self.user_product_seller:
            found.append(
                cause(
                    errors.INVALID_FIELD,
                    "family_name is for user products sellers",
                    "item.family_name",
                )
            )
        if up_item and body.get("variations"):
            found.append(
                cause(
                    errors.VARIATIONS_NOT_ALLOWED,
                    "a user product item has no variations: list each as its own item",
                    "item.variations",
                )
            )
        title = body.get("title")
        if not up_item and (not isinstance(title, str) or not title.strip()):
            found.append(cause(errors.INVALID_FIELD, "title is required", "item.title"))
        if isinstance(title, str) and category and len(title) > category["max_title_length"]:
            found.append(
                cause(
                    errors.TITLE_TOO_LONG,
                    f"title has more than {category['max_title_length']} characters",
                    "item.title",
                )
            )
        found += plain_field_problems(body)
        for n, picture in enumerate(body.get("pictures") or []):
            if not isinstance(picture, dict) or not isinstance(picture.get("source"), str):
                found.append(
                    cause(errors.INVALID_FIELD, "a picture needs its source", f"item.pictures[{n}]")
                )
        variations = body.get("variations") or []
        if not variations and not seller_sku(body.get("attributes")):
            found.append(
                cause(errors.SELLER_SKU_MISSING, "the item has no SELLER_SKU", "item.attributes")
            )
        limit = category["max_variations_allowed"] if category else 100
        found += variation_problems(variations, limit, body.get("price"))
        return found

    # Updating --------------------------------------------------------------------------------

    def update(self, item_id: str, body: Any) -> dict[str, Any]:
        item = self.items.get(item_id)
        if item is None:
            raise not_found(f"Item with id {item_id}")
        if not isinstance(body, dict) or not body:
            raise invalid(cause(errors.INVALID_FIELD, "nothing to update", "item"))
        fixed = sorted(k for k in body if k in FIXED)
        if fixed:
            raise invalid(
                *(
                    cause(errors.NOT_MODIFIABLE, f"{k} cannot be modified", f"item.{k}")
                    for k in fixed
                )
            )
        if item["status"] == "closed" and body.get("status") != "closed":
            raise invalid(
                cause(errors.INVALID_FIELD, "the item is closed: relist it", "item.status")
            )
        up = self.user_products.get(item.get("user_product_id") or "")
        found = self._field_problems(item, body, up is not None)
        variations = None
        if "variations" in body and up is None:
            variations, more = self._next_variations(item, body["variations"])
            found += more
        if found:
            raise invalid(*found)
        for name in ("title", "available_quantity", "price", "status", "attributes", "shipping"):
            if name in body:
                item[name] = copy.deepcopy(body[name])
        if "pictures" in body:
            item["pictures"] = [
                {"id": f"{self.next_id()}-MLA", "source": p.get("source")}
                for p in body["pictures"] or []
            ]
        if variations is not None:
            kept = {v["id"] for v in variations}
            self.deleted += [(item_id, v["id"]) for v in item["variations"] if v["id"] not in kept]
            item["variations"] = variations
            if variations:
                item["price"] = variations[0]["price"]
        item["last_updated"] = self._stamp()
        return self.shown(item)

    def _field_problems(
        self, item: dict[str, Any], body: dict[str, Any], up_item: bool
    ) -> list[dict[str, Any]]:
        """What a PUT's title, stock, price and status would break (variations aside)."""
        found: list[dict[str, Any]] = []
        title = body.get("title")
        if title is not None and title != item["title"]:
            if item["sold_quantity"] > 0:
                found.append(
                    cause(
                        errors.TITLE_LOCKED,
                        "the title cannot change once the item has sold",
                        "item.title",
                    )
                )
            elif not isinstance(title, str) or len(title) > self._title_limit(item):
                found.append(cause(errors.TITLE_TOO_LONG, "title is too long", "item.title"))
        if "available_quantity" in body:
            if up_item:
                found.append(
                    cause(
                        errors.INVALID_FIELD,
                        "stock belongs to the user product: PUT /user-products/{id}/stock",
                        "item.available_quantity",
                    )
                )
            elif item["variations"]:
                found.append(
                    cause(
                        errors.INVALID_FIELD,
                        "an item with variations takes its stock through them",
                        "item.available_quantity",
                    )
                )
            elif not is_count(body["available_quantity"]):
                found.append(
                    cause(
                        errors.INVALID_FIELD,
                        "available_quantity is invalid",
                        "item.available_quantity",
                    )
                )
        if "price" in body:
            if item["variations"]:
                found.append(
                    cause(
                        errors.PRICES_DIFFER,
                        "an item with variations takes its price through them",
                        "item.price",
                    )
                )
            elif not is_number(body["price"]) or body["price"] <= 0:
                found.append(cause(errors.INVALID_FIELD, "price must be positive", "item.price"))
        if body.get("status") not in (None, "active", "paused", "closed"):
            found.append(cause(errors.INVALID_FIELD, "status is invalid", "item.status"))
        if "variations" in body and up_item:
            found.append(
                cause(
                    errors.VARIATIONS_NOT_ALLOWED,
                    "a user product item has no variations",
                    "item.variations",
                )
            )
        return found

    def _next_variations(
        self, item: dict[str, Any], given: Any
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The item's variations after a PUT naming `given`: those not named are gone."""
        if not isinstance(given, list):
            return [], [cause(errors.INVALID_FIELD, "variations must be a list", "item.variations")]
        current = {v["id"]: v for v in item["variations"]}
        result: list[dict[str, Any]] = []
        found: list[dict[str, Any]] = []
        for n, entry in enumerate(given):
            if not isinstance(entry, dict):
                found.append(
                    cause(errors.INVALID_FIELD, "a variation is an object", f"item.variations[{n}]")
                )
                continue
            if "id" in entry:
                old = current.get(entry["id"])
                if old is None:
                    found.append(
                        cause(
                            errors.INVALID_FIELD,
                            f"variation {entry['id']} does not exist",
                            f"item.variations[{n}].id",
                        )
                    )
                    continue
                merged = copy.deepcopy(old)
                for name in (
                    "available_quantity",
                    "price",
                    "attribute_combinations",
                    "picture_ids",
                    "attributes",
                ):
                    if name in entry:
                        merged[name] = copy.deepcopy(entry[name])
                if "available_quantity" in entry and not is_count(entry["available_quantity"]):
                    found.append(
                        cause(
                            errors.INVALID_FIELD,
                            "available_quantity is invalid",
                            f"item.variations[{n}].available_quantity",
                        )
                    )
                result.append(merged)
            else:
                if not seller_sku(entry.get("attributes")):
                    found.append(
                        cause(
                            errors.SELLER_SKU_MISSING,
                            "the variation has no SELLER_SKU",
                            f"item.variations[{n}].attributes",
                        )
                    )
                result.append(self._variation({"price": item["price"], **entry}, item["pictures"]))
        category = self.categories.get(item["category_id"], {})
        found += variation_problems(result, category.get("max_variations_allowed", 100), None)
        return result, found

    def relist(self, item_id: str, body: Any) -> dict[str, Any]:
        """A closed item listed again: a new item, with a new id (`parent_item_id` the old)."""
        old = self.items.get(item_id)
        if old is None:
            raise not_found(f"Item with id {item_id}")
        if old["status"] != "closed":
            raise invalid(
                cause(errors.INVALID_FIELD, "only a closed item is relisted", "item.status")
            )
        body = body if isinstance(body, dict) else {}
        item = copy.deepcopy(old)
        now = self._stamp()
        item.update(
            id=f"MLA{self.next_id()}",
            status="active",
            sold_quantity=0,
            date_created=now,
            last_updated=now,
            parent_item_id=item_id,
        )
        if is_number(body.get("price")):
            item["price"] = body["price"]
            for variation in item["variations"]:
                variation["price"] = body["price"]
        if is_count(body.get("quantity")) and not item["variations"]:
            item["available_quantity"] = body["quantity"]
        for variation in item["variations"]:
            variation["sold_quantity"] = 0
        self.items[item["id"]] = item
        if item.get("user_product_id"):
            self.up_items.setdefault(item["user_product_id"], []).append(item["id"])
        self.descriptions[item["id"]] = self.descriptions.get(item_id, "")
        return self.shown(item)

    # Stock of user products ------------------------------------------------------------------

    def up(self, up_id: str) -> UserProduct:
        found = self.user_products.get(up_id)
        if found is None:
            raise not_found(f"User product {up_id}")
        return found

    def set_up_stock(self, up_id: str, kind: str, version: str | None, body: Any) -> UserProduct:
        up = self.up(up_id)
        if kind not in LOCATION_TYPES:
            raise invalid(cause(errors.INVALID_FIELD, f"unknown location type {kind}", "type"))
        if kind == "meli_facility":
            raise MeliError(403, "forbidden", "meli_facility stock is managed by MercadoLibre")
        if version is None or not version.isdigit():
            raise invalid(cause(errors.INVALID_FIELD, "x-version header is required", "x-version"))
        if int(version) != up.version:
            raise MeliError(409, "conflict", "the stock changed: read it again (x-version)")
        quantity = body.get("quantity") if isinstance(body, dict) else None
        if not is_count(quantity):
            raise invalid(cause(errors.INVALID_FIELD, "quantity is invalid", "quantity"))
        up.locations[kind] = int(quantity or 0)
        up.version += 1
        self._touch_up(up)
        return up

    def _touch_up(self, up: UserProduct) -> None:
        now = self._stamp()
        for item_id in self.up_items.get(up.id, []):
            self.items[item_id]["last_updated"] = now

    # Sales -------------------------------------------------------------------------------------

    def take(self, item: dict[str, Any], variation: dict[str, Any] | None, quantity: int) -> None:
        """Sell `quantity` (negative: put back) of the item or its variation."""
        if variation is not None:
            variation["available_quantity"] -= quantity
            variation["sold_quantity"] = max(variation["sold_quantity"] + quantity, 0)
        else:
            up = self.user_products.get(item.get("user_product_id") or "")
            if up is not None:
                up.locations["selling_address"] -= quantity
                up.version += 1
            else:
                item["available_quantity"] -= quantity
        item["sold_quantity"] = max(item["sold_quantity"] + quantity, 0)
        item["last_updated"] = self._stamp()

    def _title_limit(self, item: dict[str, Any]) -> int:
        return int(self.categories.get(item["category_id"], {}).get("max_title_length", 60))

    def _stamp(self) -> str:
        from sandbox.mercadolibre.orders import stamp

        return stamp(self._now())
