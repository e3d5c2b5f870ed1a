"""Listing drafts for the channel formats: a trail shirt in Size S/M/L by Color Red/Blue/Green."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from domain.catalog.gtin import check_digit
from domain.catalog.model import Dimensions, Image, ProductOption
from domain.channels.listing import DraftVariant, ListingDraft
from domain.money import Money

CHANNEL_ID = uuid.UUID("8d6f4c1e-0000-4000-8000-00000000c4a1")
PRODUCT_ID = uuid.UUID("3b0a2e55-0000-4000-8000-000000007501")
SIZES = ("S", "M", "L")
COLORS = ("Red", "Blue", "Green")

HTML = "<p>A light merino shirt for long days on the trail.</p>"
PLAIN = "A light merino shirt for long days on the trail."

# Per channel kind: the currency, the price of S/M and of L, the category, the mapped
# attributes, the description as its rule formats it and the settings its format needs.
# MercadoLibre prices every size alike; it and Amazon take plain-text descriptions.
CHANNELS: dict[str, dict[str, Any]] = {
    "shopify": {
        "description": HTML,
        "currency": "USD",
        "prices": ("25.00", "27.00"),
        "category": "aa-1-13-8",
        "attributes": (),
        "settings": {"locationId": "gid://shopify/Location/7001"},
    },
    "amazon": {
        "description": PLAIN,
        "currency": "USD",
        "prices": ("25.00", "27.00"),
        "category": "1045624",
        "attributes": (("material", "Merino wool"), ("department", "mens")),
        "settings": {
            "sellerId": "A2SELLER0EXAMPLE",
            "marketplaceId": "ATVPDKIKX0DER",
            "productType": "SHIRT",
        },
    },
    "ebay": {
        "description": HTML,
        "currency": "USD",
        "prices": ("25.00", "27.00"),
        "category": "15687",
        "attributes": (("Material", "Merino Wool"), ("Sleeve Length", "Short Sleeve")),
        "settings": {
            "marketplaceId": "EBAY_US",
            "merchantLocationKey": "warehouse-1",
            "fulfillmentPolicyId": "6196932000",
            "paymentPolicyId": "6196944000",
            "returnPolicyId": "6196947000",
        },
    },
    "mercadolibre": {
        "description": PLAIN,
        "currency": "ARS",
        "prices": ("24999.00", "24999.00"),
        "category": "MLA109282",
        "attributes": (("MAIN_MATERIAL", "Lana merino"),),
        "settings": {"listingTypeId": "gold_pro"},
    },
    "webstore": {
        "description": HTML,
        "currency": "USD",
        "prices": ("25.00", "27.00"),
        "category": None,
        "attributes": (("Material", "Merino wool"),),
        "settings": {},
    },
}


def gtin13(n: int) -> str:
    """A valid GTIN-13 under the example company prefix 0614141, item number `n`."""
    body = f"0614141{n:05d}"
    return body + str(check_digit(body))


def image_url(color: str) -> str:
    return f"https://cdn.example.com/trail-shirt-{color.lower()}.jpg"


def trail_shirt_draft(kind: str, **settings: str) -> ListingDraft:
    """The trail shirt as `kind` would receive it: 9 variants, 3 images, one per colour.

    `settings` override the kind's defaults; an empty string stands for a missing setting.
    """
    channel = CHANNELS[kind]
    currency = channel["currency"]
    variants = []
    for i, (size, color) in enumerate((s, c) for s in SIZES for c in COLORS):
        price = channel["prices"][1 if size == "L" else 0]
        variants.append(
            DraftVariant(
                sku=f"TRAIL-{size}-{color.upper()}",
                title=f"Acme Trail Shirt {size} {color}",
                options=(("Size", size), ("Color", color)),
                price=Money.parse(price, currency),
                compare_at=Money.parse("35.00", currency) if kind != "mercadolibre" else None,
                quantity=3 * i % 7 + 1,
                barcode=gtin13(i + 1),
                weight_grams=170 + 10 * SIZES.index(size),
                dimensions=Dimensions(length_mm=300, width_mm=250, height_mm=30),
                image_urls=(image_url(color),),
            )
        )
    images = tuple(
        Image(
            url=image_url(color),
            alt_text=f"Acme Trail Shirt in {color}",
            position=position,
            skus=tuple(v.sku for v in variants if ("Color", color) in v.options),
        )
        for position, color in enumerate(COLORS)
    )
    return ListingDraft(
        channel_id=CHANNEL_ID,
        channel_kind=kind,
        product_id=PRODUCT_ID,
        handle="trail-shirt",
        title="Acme Trail Shirt",
        description=channel["description"],
        brand="Acme",
        channel_category_id=channel["category"],
        attributes=channel["attributes"],
        options=(ProductOption("Size", SIZES), ProductOption("Color", COLORS)),
        images=images,
        variants=tuple(variants),
        currency=currency,
        settings={**channel["settings"], **settings},
    )


def single_variant_draft(kind: str) -> ListingDraft:
    """The trail shirt cut down to one variant and no options: a product sold as one SKU."""
    draft = trail_shirt_draft(kind)
    only = replace(draft.variants[0], options=(), title="Acme Trail Shirt")
    return replace(
        draft,
        options=(),
        variants=(only,),
        images=tuple(replace(image, skus=()) for image in draft.images),
    )
