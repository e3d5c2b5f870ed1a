"""A listing draft as Nexo's own webstore takes it: the whole draft, as JSON, in one PUT.

The webstore is ours, so it takes the channel-neutral draft as it is and has no limits of
its own beyond those the domain already applied.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from domain.channels.listing import ChannelRequest, DraftVariant, ListingDraft, Problem
from domain.money import Money, exponent


class WebstoreListingFormat:
    """The webstore's listing shape: the draft itself."""

    def problems(self, draft: ListingDraft) -> list[Problem]:
        return []

    def requests(self, draft: ListingDraft) -> list[ChannelRequest]:
        return [ChannelRequest("PUT", f"/listings/{quote(draft.handle, safe='')}", listing(draft))]


def listing(draft: ListingDraft) -> dict[str, Any]:
    """The draft as JSON: ids as strings, money as decimal strings with their currency."""
    return {
        "channelId": str(draft.channel_id),
        "productId": str(draft.product_id),
        "handle": draft.handle,
        "title": draft.title,
        "description": draft.description,
        "brand": draft.brand,
        "categoryId": draft.channel_category_id,
        "attributes": [{"name": name, "value": value} for name, value in draft.attributes],
        "options": [{"name": o.name, "values": list(o.values)} for o in draft.options],
        "images": [
            {"url": i.url, "altText": i.alt_text, "position": i.position, "skus": list(i.skus)}
            for i in draft.images
        ],
        "variants": [_variant(variant) for variant in draft.variants],
        "currency": draft.currency,
    }


def _variant(variant: DraftVariant) -> dict[str, Any]:
    dimensions = variant.dimensions
    return {
        "sku": variant.sku,
        "title": variant.title,
        "options": [{"name": name, "value": value} for name, value in variant.options],
        "price": _money(variant.price),
        "compareAt": _money(variant.compare_at) if variant.compare_at else None,
        "quantity": variant.quantity,
        "barcode": variant.barcode,
        "weightGrams": variant.weight_grams,
        "dimensionsMm": None
        if dimensions is None
        else {
            "length": dimensions.length_mm,
            "width": dimensions.width_mm,
            "height": dimensions.height_mm,
        },
        "imageUrls": list(variant.image_urls),
    }


def _money(money: Money) -> dict[str, str]:
    return {"amount": f"{money.amount:.{exponent(money.currency)}f}", "currency": money.currency}
