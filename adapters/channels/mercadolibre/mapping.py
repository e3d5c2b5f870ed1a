"""A listing draft as MercadoLibre takes it: one classic `POST /items` with its variations.

MercadoLibre publishes no machine-readable spec; the shape follows the "Create listing" row of
the channel contracts. Variations share the item's one price, so a draft whose variants are
priced differently is a problem, not something to average. A variation names its pictures by
their `source` URLs, which MercadoLibre matches against the item's `pictures` on creation.
The item's SKU is its `SELLER_SKU` attribute: on the item itself when the product has no
options, on each variation otherwise.
"""

from __future__ import annotations

from typing import Any, Final

from domain.channels.listing import ChannelRequest, DraftVariant, ListingDraft, Problem
from domain.money import Money, exponent

MAX_TITLE: Final = 60  # the common category limit; some categories allow more
MAX_VARIATIONS: Final = 100
DEFAULT_LISTING_TYPE: Final = "gold_special"


class MercadoLibreListingFormat:
    """MercadoLibre's listing shape: a category, titles up to 60, at most 100 variations,
    one price for all of them."""

    def problems(self, draft: ListingDraft) -> list[Problem]:
        found: list[Problem] = []
        if not draft.channel_category_id:
            found.append(
                Problem("categoryId", "MercadoLibre needs a category id", "MISSING_CATEGORY")
            )
        if len(draft.title) > MAX_TITLE:
            found.append(
                Problem(
                    "title",
                    f"MercadoLibre titles have at most {MAX_TITLE} characters",
                    "TITLE_TOO_LONG",
                )
            )
        if len(draft.variants) > MAX_VARIATIONS:
            found.append(
                Problem(
                    "variants",
                    f"a MercadoLibre item has at most {MAX_VARIATIONS} variations",
                    "TOO_MANY_VARIANTS",
                )
            )
        if len({variant.price for variant in draft.variants}) > 1:
            found.append(
                Problem(
                    "variants.price",
                    "MercadoLibre variations share one price; these variants' prices differ",
                    "PRICES_DIFFER",
                )
            )
        for variant in draft.variants:
            if variant.price.currency != draft.currency:
                found.append(
                    Problem(
                        f"variants[{variant.sku}].price",
                        f"the item sells in {draft.currency}, not {variant.price.currency}",
                        "CURRENCY_MISMATCH",
                    )
                )
        return found

    def requests(self, draft: ListingDraft) -> list[ChannelRequest]:
        return [ChannelRequest("POST", "/items", item(draft))]


def item(draft: ListingDraft) -> dict[str, Any]:
    """The item to create, with one variation per variant when the product has options."""
    first = draft.variants[0] if draft.variants else None
    body: dict[str, Any] = {
        "title": draft.title,
        "category_id": draft.channel_category_id or "",
        "price": number(first.price) if first else 0,
        "currency_id": draft.currency,
        "available_quantity": sum(variant.quantity for variant in draft.variants),
        "buying_mode": "buy_it_now",
        "listing_type_id": draft.settings.get("listingTypeId") or DEFAULT_LISTING_TYPE,
        "condition": "new",
        "description": {"plain_text": draft.description},
        "pictures": [{"source": image.url} for image in draft.images],
        "attributes": _item_attributes(draft),
    }
    if draft.options:
        body["variations"] = [_variation(draft, variant) for variant in draft.variants]
    elif first:
        body["attributes"] += _sku_attributes(first)
    return body


def _item_attributes(draft: ListingDraft) -> list[dict[str, str]]:
    attributes = [{"id": name, "value_name": value} for name, value in draft.attributes]
    if draft.brand and not any(attribute["id"] == "BRAND" for attribute in attributes):
        attributes.insert(0, {"id": "BRAND", "value_name": draft.brand})
    return attributes


def _variation(draft: ListingDraft, variant: DraftVariant) -> dict[str, Any]:
    pictures = list(variant.image_urls) or [image.url for image in draft.images]
    return {
        "attribute_combinations": [
            {"name": name, "value_name": value} for name, value in variant.options
        ],
        "price": number(variant.price),
        "available_quantity": variant.quantity,
        "picture_ids": pictures,
        "attributes": _sku_attributes(variant),
    }


def _sku_attributes(variant: DraftVariant) -> list[dict[str, str]]:
    attributes = [{"id": "SELLER_SKU", "value_name": variant.sku}]
    if variant.barcode:
        attributes.append({"id": "GTIN", "value_name": variant.barcode})
    return attributes


def number(money: Money) -> int | float:
    """A JSON number for MercadoLibre's prices: whole for zero-decimal currencies."""
    return int(money.amount) if exponent(money.currency) == 0 else float(money.amount)
