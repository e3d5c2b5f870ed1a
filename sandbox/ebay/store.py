"""The seller's eBay account as the Inventory API keeps it: inventory items, item groups,
offers, listings, and how often each listing was revised today.

Rules emulated (channel-contracts §3, Sell Inventory 1.18.4):
- an inventory item (key: SKU, at most 50 characters) is replaced whole by each PUT: a field
  left out is gone; title <= 80, description <= 4000, at most 24 image URLs, aspect names
  <= 40 and values <= 50 characters;
- one offer per SKU, marketplace and format ("Offer entity already exists", naming it);
- a lone SKU is listed by publishing its offer; a group (variesBy, variantSKUs) by
  publish_by_inventory_item_group, once every variant has an offer on that marketplace;
- what a buyer can buy is min(the item's ship-to-location quantity, the offer's
  availableQuantity); a sale takes from both, a buyer's cancellation gives back to both;
- a listing is revised at most 250 times a calendar day (here the UTC day; eBay's is the
  Pacific one): each call changing a published listing counts once for it, and past the cap
  the change is refused until the next day.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sandbox.ebay.errors import (
    INVALID_PRICE,
    INVALID_QUANTITY,
    INVALID_VALUE,
    OFFER_NOT_FOUND,
    SKU_NOT_FOUND,
    USER_ERROR,
    EbayError,
    error,
    refused,
)

MAX_SKU: Final = 50
MAX_TITLE: Final = 80
MAX_DESCRIPTION: Final = 4000
MAX_IMAGES: Final = 24
MAX_ASPECT_NAME: Final = 40
MAX_ASPECT_VALUE: Final = 50
REVISIONS_PER_DAY: Final = 250
PUBLISH_NEEDS: Final = ("categoryId", "merchantLocationKey", "listingPolicies", "pricingSummary")


@dataclass
class Offer:
    offer_id: str
    sku: str
    marketplace_id: str
    body: dict[str, Any]  # every field the seller gave (EbayOfferDetailsWithKeys)
    listing_id: str | None = None  # set while published

    @property
    def status(self) -> str:
        return "PUBLISHED" if self.listing_id else "UNPUBLISHED"

    def price(self) -> Decimal | None:
        value = self.body.get("pricingSummary", {}).get("price", {}).get("value")
        return Decimal(value) if value is not None else None

    def currency(self) -> str:
        return str(self.body.get("pricingSummary", {}).get("price", {}).get("currency", "USD"))

    def shown(self) -> dict[str, Any]:
        """EbayOfferDetailsWithAll."""
        found = {**copy.deepcopy(self.body), "offerId": self.offer_id, "status": self.status}
        if self.listing_id:
            found["listing"] = {"listingId": self.listing_id, "listingStatus": "ACTIVE"}
        return found


@dataclass
class Listing:
    listing_id: str
    group_key: str | None  # a multiple-variation listing's group, else None
    skus: tuple[str, ...]
    revisions: dict[date, int] = field(default_factory=dict)


class Store:
    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self.items: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.offers: dict[str, Offer] = {}
        self.listings: dict[str, Listing] = {}
        self._ids = itertools.count(1)
        self._by_sku: dict[str, list[Listing]] | None = None  # rebuilt after listings change

    def next_id(self, width: int = 12) -> str:
        return str(next(self._ids)).rjust(width, "0")

    # Inventory items and groups --------------------------------------------------------

    def put_item(self, sku: str, body: dict[str, Any]) -> bool:
        """createOrReplaceInventoryItem; True when the item is new. A published listing
        showing it is revised."""
        _check_sku(sku)
        problems = list(_item_limits(body))
        if problems:
            raise EbayError(400, problems)
        listings = self._listings_of([sku])
        self._revise(listings)
        created = sku not in self.items
        self.items[sku] = copy.deepcopy(body)
        return created

    def item(self, sku: str) -> dict[str, Any]:
        if sku not in self.items:
            raise refused(404, SKU_NOT_FOUND, f"SKU {sku} is not available in the system")
        return self.items[sku]

    def item_shown(self, sku: str) -> dict[str, Any]:
        """InventoryItemWithSkuLocaleGroupid."""
        found = {**copy.deepcopy(self.item(sku)), "sku": sku, "locale": "en_US"}
        groups = [key for key, g in self.groups.items() if sku in g.get("variantSKUs", [])]
        if groups:
            found["inventoryItemGroupKeys"] = groups
        return found

    def delete_item(self, sku: str) -> None:
        self.item(sku)
        for offer in [o for o in self.offers.values() if o.sku == sku]:
            self._unlist(offer)
            del self.offers[offer.offer_id]
        del self.items[sku]

    def put_group(self, key: str, body: dict[str, Any]) -> bool:
        _check_sku(key, "inventoryItemGroupKey")
        problems = list(_text_limits(body, "title", "aspects", "imageUrls"))
        for sku in body.get("variantSKUs", []):
            if sku not in self.items:
                problems.append(error(SKU_NOT_FOUND, f"SKU {sku} is not available in the system"))
        if problems:
            raise EbayError(400, problems)
        self._revise([lst for lst in self.listings.values() if lst.group_key == key])
        created = key not in self.groups
        self.groups[key] = copy.deepcopy(body)
        return created

    def group(self, key: str) -> dict[str, Any]:
        if key not in self.groups:
            raise refused(404, 25705, f"The Inventory Item Group named {key} could not be found")
        return {**copy.deepcopy(self.groups[key]), "inventoryItemGroupKey": key}

    # Offers ----------------------------------------------------------------------------

    def create_offer(self, body: dict[str, Any]) -> Offer:
        sku = str(body.get("sku", ""))
        self.item(sku)
        marketplace = str(body.get("marketplaceId", ""))
        for offer in self.offers.values():
            if (offer.sku, offer.marketplace_id) == (sku, marketplace):
                raise refused(
                    400, USER_ERROR, "Offer entity already exists.",
                    parameters={"offerId": offer.offer_id},
                )  # fmt: skip
        _check_offer(body)
        offer = Offer(self.next_id(), sku, marketplace, copy.deepcopy(body))
        self.offers[offer.offer_id] = offer
        return offer

    def offer(self, offer_id: str) -> Offer:
        if offer_id not in self.offers:
            raise refused(404, OFFER_NOT_FOUND, f"Offer {offer_id} is not available")
        return self.offers[offer_id]

    def update_offer(self, offer_id: str, body: dict[str, Any]) -> Offer:
        """updateOffer: the offer is replaced (its SKU, marketplace and format stay)."""
        offer = self.offer(offer_id)
        _check_offer(body)
        self._revise(self._listings_of([offer.sku]) if offer.listing_id else [])
        kept: dict[str, Any] = {
            k: offer.body[k] for k in ("sku", "marketplaceId", "format") if k in offer.body
        }
        offer.body = {**copy.deepcopy(body), **kept}
        return offer

    def offers_of(self, sku: str, marketplace: str | None = None) -> list[Offer]:
        self.item(sku)
        return [
            o
            for o in self.offers.values()
            if o.sku == sku and marketplace in (None, o.marketplace_id)
        ]

    def publish_offer(self, offer_id: str) -> str:
        offer = self.offer(offer_id)
        if any(offer.sku in g.get("variantSKUs", []) for g in self.groups.values()):
            raise refused(
                400, USER_ERROR,
                "This SKU is part of an inventory item group: publish the group instead.",
            )  # fmt: skip
        self._ready(offer)
        if offer.listing_id:
            self._revise([self.listings[offer.listing_id]])
            return offer.listing_id
        listing = Listing(self.next_id(), None, (offer.sku,))
        self.listings[listing.listing_id] = listing
        self._by_sku = None
        offer.listing_id = listing.listing_id
        return listing.listing_id

    def publish_group(self, key: str, marketplace: str) -> str:
        group = self.group(key)
        skus = tuple(group.get("variantSKUs", []))
        offers = []
        for sku in skus:
            found = self.offers_of(sku, marketplace)
            if not found:
                raise refused(400, USER_ERROR, f"SKU {sku} has no offer on {marketplace}")
            self._ready(found[0])
            offers.append(found[0])
        listing = next((lst for lst in self.listings.values() if lst.group_key == key), None)
        if listing is None:
            listing = Listing(self.next_id(), key, skus)
            self.listings[listing.listing_id] = listing
        else:
            self._revise([listing])
            listing.skus = skus
        self._by_sku = None
        for offer in offers:
            offer.listing_id = listing.listing_id
        for offer in self.offers.values():  # variants dropped from the group leave it
            if offer.listing_id == listing.listing_id and offer.sku not in skus:
                offer.listing_id = None
        return listing.listing_id

    def withdraw_offer(self, offer_id: str) -> str | None:
        offer = self.offer(offer_id)
        listing = offer.listing_id
        self._unlist(offer)
        return listing

    def withdraw_group(self, key: str, marketplace: str) -> None:
        self.group(key)
        for listing in [lst for lst in self.listings.values() if lst.group_key == key]:
            for offer in self.offers.values():
                if offer.listing_id == listing.listing_id and offer.marketplace_id == marketplace:
                    offer.listing_id = None
            del self.listings[listing.listing_id]
        self._by_sku = None

    def seed(
        self, skus: list[str], group_size: int, offer: dict[str, Any], quantity: int = 0
    ) -> dict[str, str]:
        """Listings made at once, not through the API (for benchmarks): the SKUs in groups of
        `group_size` (1: single-SKU listings), each with an item and an offer (`offer` less
        its SKU), published. Written directly (the API's checks scan every offer: tens of
        thousands of SKUs would take minutes); returns each SKU's listing id."""
        marketplace = str(offer["marketplaceId"])
        listed: dict[str, str] = {}
        for start in range(0, len(skus), group_size):
            chunk = skus[start : start + group_size]
            for sku in chunk:
                _check_sku(sku)
                if sku in self.items:
                    raise refused(400, INVALID_VALUE, f"SKU {sku} exists already")
            key = f"G-{chunk[0]}"[:MAX_SKU] if group_size > 1 else None
            listing = Listing(self.next_id(), key, tuple(chunk))
            self.listings[listing.listing_id] = listing
            self._by_sku = None
            for sku in chunk:
                self.items[sku] = {
                    "product": {"title": f"Seeded {sku}", "aspects": {"Size": [sku[-3:]]}},
                    "condition": "NEW",
                    "availability": {"shipToLocationAvailability": {"quantity": quantity}},
                }
                made = Offer(self.next_id(), sku, marketplace, {**copy.deepcopy(offer), "sku": sku})
                made.listing_id = listing.listing_id
                self.offers[made.offer_id] = made
                listed[sku] = listing.listing_id
            if key is not None:
                self.groups[key] = {
                    "title": f"Seeded group {key}", "aspects": {}, "variantSKUs": chunk,
                    "variesBy": {"specifications": [
                        {"name": "Size", "values": [sku[-3:] for sku in chunk]}]},
                }  # fmt: skip
        return listed

    def buyable_all(self) -> dict[str, int]:
        """`buyable` of every SKU, in one pass over the offers."""
        limits: dict[str, list[int]] = {}
        for offer in self.offers.values():
            if offer.listing_id and "availableQuantity" in offer.body:
                limits.setdefault(offer.sku, []).append(int(offer.body["availableQuantity"]))
        return {
            sku: min([ship_quantity(item), *limits.get(sku, [])])
            for sku, item in self.items.items()
        }

    # Price and quantity ----------------------------------------------------------------

    def update_price_quantity(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """bulkUpdatePriceQuantity: each SKU succeeds or fails alone (PriceQuantityResponse).
        A listing changed by the call is revised once, however many of its SKUs changed."""
        revised: set[str] = set()
        responses = []
        for request in requests:
            sku = str(request.get("sku", ""))
            offers = request.get("offers") or []
            try:
                changes = self._price_quantity(sku, request, offers)
                for listing in self._listings_of([sku]):
                    if listing.listing_id not in revised:
                        self._revise([listing])
                        revised.add(listing.listing_id)
                for apply in changes:
                    apply()
            except EbayError as failure:
                responses.append({"statusCode": failure.status, "sku": sku,
                                  "errors": failure.errors})  # fmt: skip
                continue
            for offer in offers or [{}]:
                answer = {"statusCode": 200, "sku": sku}
                if offer.get("offerId"):
                    answer["offerId"] = str(offer["offerId"])
                responses.append(answer)
        return responses

    def _price_quantity(
        self, sku: str, request: dict[str, Any], offers: list[dict[str, Any]]
    ) -> list[Callable[[], None]]:
        item = self.item(sku)
        changes: list[Callable[[], None]] = []
        ship = request.get("shipToLocationAvailability")
        if ship is not None and "quantity" in ship:
            quantity = _quantity(ship["quantity"])
            changes.append(lambda: _set_ship_quantity(item, quantity))
        for given in offers:
            offer = self.offer(str(given.get("offerId", "")))
            if offer.sku != sku:
                raise refused(400, INVALID_VALUE, f"offer {offer.offer_id} is not for SKU {sku}")
            if "availableQuantity" in given:
                changes.append(_offer_quantity(offer, _quantity(given["availableQuantity"])))
            if "price" in given:
                changes.append(_offer_price(offer, _price(given["price"])))
        return changes

    # What buyers see -------------------------------------------------------------------

    def buyable(self, sku: str) -> int:
        """min(ship-to-location quantity, the offer's availableQuantity)."""
        ship = ship_quantity(self.items.get(sku, {}))
        offers = [o for o in self.offers.values() if o.sku == sku and o.listing_id]
        limits = [int(o.body["availableQuantity"]) for o in offers if "availableQuantity" in o.body]
        return min([ship, *limits])

    def take(self, sku: str, quantity: int) -> None:
        """A buyer bought (or, negative, gave back) units: both figures move."""
        item = self.item(sku)
        _set_ship_quantity(item, ship_quantity(item) - quantity)
        for offer in self.offers.values():
            if offer.sku == sku and offer.listing_id and "availableQuantity" in offer.body:
                offer.body["availableQuantity"] = int(offer.body["availableQuantity"]) - quantity

    def listed_offer(self, sku: str) -> Offer | None:
        return next((o for o in self.offers.values() if o.sku == sku and o.listing_id), None)

    def revisions_today(self, listing_id: str) -> int:
        return self.listings[listing_id].revisions.get(self.now().date(), 0)

    # Internals -------------------------------------------------------------------------

    def _listings_of(self, skus: Iterable[str]) -> list[Listing]:
        if self._by_sku is None:
            self._by_sku = {}
            for listing in self.listings.values():
                for sku in listing.skus:
                    self._by_sku.setdefault(sku, []).append(listing)
        found: dict[str, Listing] = {}
        for sku in skus:
            found.update((lst.listing_id, lst) for lst in self._by_sku.get(sku, ()))
        return list(found.values())

    def _revise(self, listings: Iterable[Listing]) -> None:
        """Count one revision of each listing; refuse the change past the day's cap."""
        today = self.now().date()
        listings = list(listings)
        for listing in listings:
            if listing.revisions.get(today, 0) >= REVISIONS_PER_DAY:
                raise refused(
                    400, USER_ERROR,
                    f"Listing {listing.listing_id} has been revised {REVISIONS_PER_DAY} times "
                    "today, the most a listing can be revised in a calendar day.",
                    parameters={"listingId": listing.listing_id},
                )  # fmt: skip
        for listing in listings:
            listing.revisions[today] = listing.revisions.get(today, 0) + 1

    def _ready(self, offer: Offer) -> None:
        missing = [name for name in PUBLISH_NEEDS if not offer.body.get(name)]
        product = self.items[offer.sku].get("product", {})
        if not product.get("title"):
            missing.append("product.title")
        if missing:
            raise refused(
                400, USER_ERROR, f"The offer is missing {', '.join(missing)} for publishing",
                parameters={"offerId": offer.offer_id},
            )  # fmt: skip

    def _unlist(self, offer: Offer) -> None:
        listing = self.listings.get(offer.listing_id or "")
        offer.listing_id = None
        if listing is not None and listing.group_key is None:
            del self.listings[listing.listing_id]
            self._by_sku = None


def ship_quantity(item: dict[str, Any]) -> int:
    ship = item.get("availability", {}).get("shipToLocationAvailability", {})
    return int(ship.get("quantity", 0))


def _set_ship_quantity(item: dict[str, Any], quantity: int) -> None:
    availability = item.setdefault("availability", {})
    availability.setdefault("shipToLocationAvailability", {})["quantity"] = quantity


def _offer_quantity(offer: Offer, quantity: int) -> Callable[[], None]:
    return lambda: offer.body.update(availableQuantity=quantity)


def _offer_price(offer: Offer, price: dict[str, str]) -> Callable[[], None]:
    return lambda: offer.body.setdefault("pricingSummary", {}).update(price=price)


def _quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise refused(400, INVALID_QUANTITY, f"Invalid quantity {value!r}", refs=["quantity"])
    return value


def _price(amount: Any) -> dict[str, str]:
    try:
        value = Decimal(str(amount.get("value")))
    except (AttributeError, InvalidOperation):
        value = Decimal(-1)
    if not value.is_finite() or value <= 0 or not amount.get("currency"):
        raise refused(400, INVALID_PRICE, f"Invalid price {amount!r}", refs=["price"])
    return {"value": str(amount["value"]), "currency": str(amount["currency"])}


def _check_offer(body: dict[str, Any]) -> None:
    if "availableQuantity" in body:
        _quantity(body["availableQuantity"])
    price = body.get("pricingSummary", {}).get("price")
    if price is not None:
        _price(price)


def _check_sku(sku: str, name: str = "sku") -> None:
    if not sku or len(sku) > MAX_SKU:
        raise refused(
            400, INVALID_VALUE, f"Invalid value for {name}: at most {MAX_SKU} characters",
            parameters={name: sku[:100]},
        )  # fmt: skip


def _item_limits(body: dict[str, Any]) -> Iterable[dict[str, Any]]:
    product = body.get("product") or {}
    yield from _text_limits(product, "title", "aspects", "imageUrls", "description")
    ship = body.get("availability", {}).get("shipToLocationAvailability", {})
    if "quantity" in ship and (not isinstance(ship["quantity"], int) or ship["quantity"] < 0):
        yield error(INVALID_QUANTITY, f"Invalid quantity {ship['quantity']!r}")


def _text_limits(node: dict[str, Any], *names: str) -> Iterable[dict[str, Any]]:
    """The field limits eBay checks in a product or a group, as errors[] entries."""
    if "title" in names and len(str(node.get("title", ""))) > MAX_TITLE:
        yield _too_long("title", MAX_TITLE)
    if "description" in names and len(str(node.get("description", ""))) > MAX_DESCRIPTION:
        yield _too_long("description", MAX_DESCRIPTION)
    if "imageUrls" in names and len(node.get("imageUrls") or []) > MAX_IMAGES:
        yield error(USER_ERROR, f"At most {MAX_IMAGES} images are allowed",
                    parameters={"field": "imageUrls"})  # fmt: skip
    for name, values in (node.get("aspects") or {}).items():
        if len(name) > MAX_ASPECT_NAME:
            yield _too_long(f"aspect name {name[:60]}", MAX_ASPECT_NAME)
        for value in values:
            if len(value) > MAX_ASPECT_VALUE:
                yield _too_long(f"aspect value {value[:60]}", MAX_ASPECT_VALUE)


def _too_long(what: str, limit: int) -> dict[str, Any]:
    return error(USER_ERROR, f"The {what} is longer than {limit} characters",
                 parameters={"field": what, "limit": str(limit)})  # fmt: skip
