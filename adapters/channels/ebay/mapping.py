"""A listing draft as eBay takes it: the Sell Inventory API v1 (OpenAPI 1.18.4).

A product with options becomes a multiple-variation listing, in this order:
1. `PUT /sell/inventory/v1/inventory_item/{sku}` for each variant (InventoryItem);
2. `PUT /sell/inventory/v1/inventory_item_group/{handle}` tying them together (InventoryItemGroup);
3. `POST /sell/inventory/v1/offer` for each variant: its price on one marketplace;
4. `POST /sell/inventory/v1/offer/publish_by_inventory_item_group` to list them all.

A product without options is one inventory item and one offer, listed by publishing that
offer (`POST /offer/{offerId}/publish`). Its id exists only once createOffer has answered (or
getOffers found it), so that last call is the adapter's to make with the id it got: no path
here holds a value that is not known yet.

The quantity lives in the inventory item's ship-to-location availability only: offers carry
no `availableQuantity` of their own, so what buyers can buy is the one figure the hub sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import quote

from domain.catalog.model import Dimensions
from domain.channels.listing import ChannelRequest, DraftVariant, ListingDraft, Problem
from domain.money import Money, exponent

API_PATH: Final = "/sell/inventory/v1"
REQUIRED_SETTINGS: Final = (
    "marketplaceId",
    "merchantLocationKey",
    "fulfillmentPolicyId",
    "paymentPolicyId",
    "returnPolicyId",
)
MAX_TITLE: Final = 80
MAX_SKU: Final = 50  # also the longest inventory item group key
MAX_DESCRIPTION: Final = 4000  # an inventory item's; the group's takes 500000
MAX_ASPECT_NAME: Final = 40
MAX_ASPECT_VALUE: Final = 50
MAX_VARIANTS: Final = 250
MAX_VARYING_ASPECTS: Final = 5
MAX_IMAGES_IN_GROUP: Final = 12  # per inventory item of a group; 24 for a lone item


class EbayListingFormat:
    """eBay's listing shape: marketplace, location and policy settings, a category, titles
    up to 80, SKUs up to 50, aspects 40/50, at most 250 variants varying by at most 5."""

    def problems(self, draft: ListingDraft) -> list[Problem]:
        found = [
            Problem(f"settings.{name}", f"eBay listings need the {name} setting", "MISSING_SETTING")
            for name in REQUIRED_SETTINGS
            if not draft.settings.get(name, "").strip()
        ]
        if not draft.channel_category_id:
            found.append(Problem("categoryId", "eBay needs a leaf category id", "MISSING_CATEGORY"))
        if len(draft.variants) > MAX_VARIANTS:
            found.append(
                Problem(
                    "variants",
                    f"an eBay listing has at most {MAX_VARIANTS} variations",
                    "TOO_MANY_VARIANTS",
                )
            )
        if len(draft.options) > MAX_VARYING_ASPECTS:
            found.append(
                Problem(
                    "options",
                    f"eBay variations vary by at most {MAX_VARYING_ASPECTS} aspects",
                    "TOO_MANY_OPTIONS",
                )
            )
        found += _too_long("title", draft.title, MAX_TITLE, "TITLE_TOO_LONG")
        found += _too_long("descriptionHtml", draft.description, MAX_DESCRIPTION)
        if draft.options:
            found += _too_long("handle", draft.handle, MAX_SKU)
        for name_field, name, values_field, values in _aspects_by_field(draft):
            found += _too_long(name_field, name, MAX_ASPECT_NAME)
            for value in values:
                found += _too_long(values_field, value, MAX_ASPECT_VALUE)
        if draft.brand:
            found += _too_long("brand", draft.brand, MAX_ASPECT_VALUE)
        for variant in draft.variants:
            at = f"variants[{variant.sku}]"  # by SKU, as the domain's draft problems
            found += _too_long(f"{at}.title", variant.title, MAX_TITLE, "TITLE_TOO_LONG")
            found += _too_long(f"{at}.sku", variant.sku, MAX_SKU)
            if variant.price.currency != draft.currency:
                found.append(
                    Problem(
                        f"{at}.price",
                        f"the listing sells in {draft.currency}, not {variant.price.currency}",
                        "CURRENCY_MISMATCH",
                    )
                )
        return found

    def requests(self, draft: ListingDraft) -> list[ChannelRequest]:
        marketplace = draft.settings.get("marketplaceId", "").strip()
        calls = [
            ChannelRequest(
                "PUT",
                f"{API_PATH}/inventory_item/{quote(v.sku, safe='')}",
                inventory_item(draft, v),
            )
            for v in draft.variants
        ]
        if draft.options:
            calls.append(
                ChannelRequest(
                    "PUT",
                    f"{API_PATH}/inventory_item_group/{quote(draft.handle, safe='')}",
                    inventory_item_group(draft),
                )
            )
        calls += [
            ChannelRequest("POST", f"{API_PATH}/offer", offer(draft, v)) for v in draft.variants
        ]
        if draft.options:
            publish = {"inventoryItemGroupKey": draft.handle, "marketplaceId": marketplace}
            calls.append(
                ChannelRequest("POST", f"{API_PATH}/offer/publish_by_inventory_item_group", publish)
            )
        return calls


def inventory_item(draft: ListingDraft, variant: DraftVariant) -> dict[str, Any]:
    """The InventoryItem for one SKU: its product details, condition and quantity."""
    aspects = shared_aspects(draft)
    for name, value in variant.options:
        aspects[name] = [value]
    urls = list(variant.image_urls) or [image.url for image in draft.images]
    product: dict[str, Any] = {
        "title": variant.title,
        "description": draft.description,
        "aspects": aspects,
        "imageUrls": urls[:MAX_IMAGES_IN_GROUP] if draft.options else urls,
    }
    if draft.brand:
        product["brand"] = draft.brand
    if variant.barcode:
        # UPC-A is 12 digits; EAN-8 and EAN-13 go in `ean`; eBay has no field for GTIN-14.
        if len(variant.barcode) == 12:
            product["upc"] = [variant.barcode]
        elif len(variant.barcode) in (8, 13):
            product["ean"] = [variant.barcode]
    item: dict[str, Any] = {
        "product": product,
        "condition": "NEW",
        "availability": {"shipToLocationAvailability": {"quantity": variant.quantity}},
    }
    package = _package(variant.weight_grams, variant.dimensions)
    if package:
        item["packageWeightAndSize"] = package
    return item


def inventory_item_group(draft: ListingDraft) -> dict[str, Any]:
    """The InventoryItemGroup: the listing's title, shared aspects and what the SKUs vary by."""
    varies_by: dict[str, Any] = {
        "specifications": [
            {"name": option.name, "values": list(option.values)} for option in draft.options
        ]
    }
    pictured = images_vary_by(draft)
    if pictured:
        varies_by["aspectsImageVariesBy"] = [pictured]
    return {
        "title": draft.title,
        "description": draft.description,
        "aspects": shared_aspects(draft),
        "imageUrls": [image.url for image in draft.images],
        "variantSKUs": [variant.sku for variant in draft.variants],
        "variesBy": varies_by,
    }


def offer(draft: ListingDraft, variant: DraftVariant) -> dict[str, Any]:
    """The offer (EbayOfferDetailsWithKeys) of one SKU on the marketplace, with its price."""
    settings = draft.settings
    return {
        "sku": variant.sku,
        "marketplaceId": settings.get("marketplaceId", "").strip(),
        "format": "FIXED_PRICE",
        "listingDuration": "GTC",  # the only duration fixed-price listings take
        "categoryId": draft.channel_category_id or "",
        "merchantLocationKey": settings.get("merchantLocationKey", "").strip(),
        "listingPolicies": {
            "fulfillmentPolicyId": settings.get("fulfillmentPolicyId", "").strip(),
            "paymentPolicyId": settings.get("paymentPolicyId", "").strip(),
            "returnPolicyId": settings.get("returnPolicyId", "").strip(),
        },
        "pricingSummary": {"price": amount(variant.price)},
    }


def shared_aspects(draft: ListingDraft) -> dict[str, list[str]]:
    """Item specifics every variant shares: the mapped attributes and the brand.

    Option names stay out: eBay refuses a name that is both shared and varying.
    """
    aspects: dict[str, list[str]] = {}
    for name, value in draft.attributes:
        aspects.setdefault(name, []).append(value)
    if draft.brand and not any(name.lower() == "brand" for name in aspects):
        aspects["Brand"] = [draft.brand]
    return aspects


def images_vary_by(draft: ListingDraft) -> str | None:
    """The option the pictures follow: the first whose value is the same across the SKUs
    of every image that names SKUs (Color, when each colour has its picture)."""
    options = {variant.sku: dict(variant.options) for variant in draft.variants}
    linked = [image.skus for image in draft.images if image.skus]
    if not linked:
        return None
    for option in draft.options:
        if all(
            len({options.get(sku, {}).get(option.name) for sku in skus}) == 1 for skus in linked
        ):
            return option.name
    return None


def amount(money: Money) -> dict[str, str]:
    """eBay's Amount: the value as a decimal string, with its currency."""
    return {"value": f"{money.amount:.{exponent(money.currency)}f}", "currency": money.currency}


def _package(weight_grams: int | None, dimensions: Dimensions | None) -> dict[str, Any]:
    package: dict[str, Any] = {}
    if weight_grams is not None:
        package["weight"] = {"value": weight_grams, "unit": "GRAM"}
    if dimensions is not None:
        # eBay's metric dimension units are METER and CENTIMETER, so millimetres go to cm.
        package["dimensions"] = {
            "length": dimensions.length_mm / 10,
            "width": dimensions.width_mm / 10,
            "height": dimensions.height_mm / 10,
            "unit": "CENTIMETER",
        }
    return package


def _aspects_by_field(draft: ListingDraft) -> Iterator[tuple[str, str, str, tuple[str, ...]]]:
    """Each aspect name and its values, with the draft fields they come from."""
    for i, (name, value) in enumerate(draft.attributes):
        yield f"attributes[{i}].name", name, f"attributes[{i}].value", (value,)
    for i, option in enumerate(draft.options):
        yield f"options[{i}].name", option.name, f"options[{i}].values", option.values


def _too_long(field: str, value: str, limit: int, code: str = "VALUE_TOO_LONG") -> list[Problem]:
    if len(value) <= limit:
        return []
    return [Problem(field, f"eBay takes at most {limit} characters here", code)]
