"""The demo's catalog: three products in one category, and the stock each SKU starts with."""

from __future__ import annotations

import uuid

from domain.catalog.gtin import check_digit
from domain.catalog.model import Attribute, Image, ProductOption, ProductSpec, VariantSpec
from domain.money import Money

CATEGORY = "Outdoor"
# The SKU a flash sale sells hard, and the one whose last units the channels race for.
HOT_SKU = "TEE-M"
RACE_SKU = "SOCK-L"


def _gtin(n: int) -> str:
    body = f"061414199{n:03d}"
    return body + str(check_digit(body))


def catalog(category_id: uuid.UUID | None = None) -> list[tuple[ProductSpec, dict[str, int]]]:
    sizes = ("S", "M", "L")
    tee = ProductSpec(
        handle="trail-tee", title="Trail Tee", brand="Nexo Outdoors", tags=("summer",),
        description_html="<p>A light merino tee for long days on the trail.</p>",
        attributes=(Attribute("Material", "Merino wool"),),
        options=(ProductOption("Size", sizes),),
        images=(Image("https://img.example/nexo/trail-tee.jpg", "Trail Tee"),),
        variants=tuple(
            VariantSpec(f"TEE-{s}", (s,), Money(2500, "USD"), barcode=_gtin(n),
                        cost=Money(900, "USD"))
            for n, s in enumerate(sizes)
        ),
        category_id=category_id,
    )  # fmt: skip
    mug = ProductSpec(
        handle="camp-mug", title="Camp Mug", brand="Nexo Outdoors",
        description_html="<p>Enamel mug for the camp stove.</p>",
        images=(Image("https://img.example/nexo/camp-mug.jpg", "Camp Mug"),),
        options=(), variants=(VariantSpec("MUG-1", (), Money(1400, "USD"), barcode=_gtin(10)),),
        category_id=category_id,
    )  # fmt: skip
    socks = ProductSpec(
        handle="wool-socks", title="Wool Socks", brand="Nexo Outdoors", tags=("winter",),
        description_html="<p>Warm socks that dry overnight.</p>",
        images=(Image("https://img.example/nexo/wool-socks.jpg", "Wool Socks"),),
        options=(ProductOption("Size", ("M", "L")),),
        variants=(
            VariantSpec("SOCK-M", ("M",), Money(1200, "USD"), barcode=_gtin(20)),
            VariantSpec("SOCK-L", ("L",), Money(1200, "USD"), barcode=_gtin(21)),
        ),
        category_id=category_id,
    )  # fmt: skip
    return [
        (tee, {"TEE-S": 12, "TEE-M": 20, "TEE-L": 8}),
        (mug, {"MUG-1": 30}),
        (socks, {"SOCK-M": 15, "SOCK-L": 4}),
    ]


def skus() -> list[str]:
    return [sku for _, stock in catalog() for sku in stock]
