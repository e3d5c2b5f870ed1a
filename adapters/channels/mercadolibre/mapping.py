"""A listing draft as MercadoLibre takes it: one classic `POST /items` with its variations, or,
for a seller on the User Products model, one `POST /items` per variant.

MercadoLibre publishes no machine-readable spec; the shape follows the "Create listing" row of
the channel contracts. Variations share the item's one price, so a draft whose variants are
priced differently is a problem, not something to average. A variation names its pictures by
their `source` URLs, which MercadoLibre matches against the item's `pictures` on creation.
The item's SKU is its `SELLER_SKU` attribute: on the item itself when the product has no
options, on each variation otherwise.

The listing rule's `listingModel` setting says which model the seller's account is on:
`classic` (the default) or `user_products` (MercadoLibre tags such a seller
`user_product_seller`): then each variant is its own item, with `family_name` (the product's
title, which groups the family), its own title (the product's and the variant's option
values: ~ MercadoLibre would make one from the family without it), the variant's options as
attributes, and its own price.
`shippingMode` (`me2`, the default, or `me1`) is MercadoLibre Envíos or the seller's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from adapters.channels.mercadolibre import categories
from domain.channels.listing import ChannelRequest, DraftVariant, ListingDraft, Problem
from domain.money import Money, exponent

DEFAULT_LISTING_TYPE: Final = "gold_special"
LISTING_MODEL: Final = "listingModel"
USER_PRODUCTS: Final = "user_products"
SHIPPING_MODE: Final = "shippingMode"


def _in(draft: ListingDraft) -> str:
    return f" in category {draft.channel_category_id}" if draft.channel_category_id else ""


def user_products(settings: Mapping[str, str]) -> bool:
    """Whether the listing rule's settings put the seller on the User Products model."""
    return settings.get(LISTING_MODEL, "").strip().lower() == USER_PRODUCTS


class MercadoLibreListingFormat:
    """MercadoLibre's listing shape: a category, titles and variations within the category's
    limits (`categories`: as its settings say once read; until then the widest MercadoLibre
    allows, and the send, which reads them, decides), one price for all of a classic item's
    variations."""

    def problems(self, draft: ListingDraft) -> list[Problem]:
        found: list[Problem] = []
        if not draft.channel_category_id:
            found.append(
                Problem("categoryId", "MercadoLibre needs a category id", "MISSING_CATEGORY")
            )
        limits = categories.known(draft.channel_category_id) or categories.UNREAD
        if limits.title_length is not None and len(draft.title) > limits.title_length:
            found.append(
                Problem(
                    "title",
                    f"MercadoLibre titles have at most {limits.title_length} characters"
                    f"{_in(draft)}",
                    "TITLE_TOO_LONG",
                )
            )
        if len(draft.variants) > limits.variations:
            found.append(
                Problem(
                    "variants",
                    f"a MercadoLibre item has at most {limits.variations} variations{_in(draft)}",
                    "TOO_MANY_VARIANTS",
                )
            )
        if not user_products(draft.settings) and len({v.price for v in draft.variants}) > 1:
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
        if user_products(draft.settings):
            return [ChannelRequest("POST", "/items", family_item(draft, v)) for v in draft.variants]
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
        "shipping": _shipping(draft),
    }
    if draft.options:
        body["variations"] = [_variation(draft, variant) for variant in draft.variants]
    elif first:
        body["attributes"] += _sku_attributes(first)
    return body


def family_item(draft: ListingDraft, variant: DraftVariant) -> dict[str, Any]:
    """A User Products item: one variant, in the family the product's title names."""
    pictures = list(variant.image_urls) or [image.url for image in draft.images]
    options = [{"id": _attribute_id(name), "value_name": value} for name, value in variant.options]
    title = " ".join([draft.title, *(value for _, value in variant.options)])
    return {
        "title": title,
        "family_name": draft.title,
        "category_id": draft.channel_category_id or "",
        "price": number(variant.price),
        "currency_id": draft.currency,
        "available_quantity": variant.quantity,
        "buying_mode": "buy_it_now",
        "listing_type_id": draft.settings.get("listingTypeId") or DEFAULT_LISTING_TYPE,
        "condition": "new",
        "description": {"plain_text": draft.description},
        "pictures": [{"source": url} for url in pictures],
        "attributes": _item_attributes(draft) + options + _sku_attributes(variant),
        "shipping": _shipping(draft),
    }


def _attribute_id(name: str) -> str:
    """An option's name as an attribute id ("Size" -> "SIZE"); ~ MercadoLibre's own ids for
    the category's attributes would be mapped by the rule's attribute map."""
    return "_".join(name.upper().split())


def _shipping(draft: ListingDraft) -> dict[str, str]:
    mode = draft.settings.get(SHIPPING_MODE, "").strip().lower()
    return {"mode": mode if mode in ("me1", "me2") else "me2"}


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
