"""Applying a channel's listing rule to a product: the channel-neutral listing draft."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from domain.catalog.descriptions import plain_text
from domain.catalog.model import Dimensions, Product
from domain.catalog.selectors import CategoryTree, category_for
from domain.catalog.titles import CHANNEL_TITLE_LIMITS, parse_template, render_title
from domain.channels.listing import (
    CHANNEL_IMAGE_LIMITS,
    DescriptionFormat,
    DraftVariant,
    ListingDraft,
    ListingRule,
    Problem,
)
from domain.channels.model import Channel
from domain.channels.pricing import ChannelPrice
from domain.errors import DomainError

# Kinds whose listings cannot exist without a category of theirs.
CATEGORY_REQUIRED = frozenset({"amazon", "ebay", "mercadolibre"})


@dataclass(frozen=True, slots=True)
class DraftResult:
    draft: ListingDraft
    problems: list[Problem]


def build_draft(
    product: Product,
    channel: Channel,
    rule: ListingRule,
    tree: CategoryTree,
    prices: Mapping[str, ChannelPrice | DomainError],
    quantities: Mapping[str, int],
) -> DraftResult:
    """The product as `channel` will get it under `rule`, and whatever stops it being sent."""
    problems: list[Problem] = []
    kind = channel.kind.value
    limit = rule.title_limit or CHANNEL_TITLE_LIMITS.get(kind, 255)
    template = parse_template(rule.title_template)  # checked when the rule was saved
    attributes = product.attribute_map()
    title = render_title(
        template,
        brand=product.brand,
        title=product.title,
        options={},
        attributes=attributes,
        limit=limit,
    )
    description = (
        plain_text(product.description_html)
        if rule.description_format is DescriptionFormat.PLAIN_TEXT
        else product.description_html
    )
    # A product whose category is not mapped takes the rule's default, when it names one (a
    # shop listing everything in one channel category need not map each of its own).
    category = category_for(rule.category_map, product, tree) or (
        rule.settings.get("categoryId", "").strip() or None
    )
    if category is None and (kind in CATEGORY_REQUIRED or rule.category_map):
        problems.append(
            Problem(
                "categoryId",
                f"no {kind} category is mapped to this product's category",
                "MISSING_CATEGORY",
            )
        )
    mapped = tuple((rule.attribute_map.get(n, n), v) for n, v in attributes.items())
    present = {name for name, _ in mapped}
    if product.brand:
        present.add("brand")
    for required in rule.required_attributes:
        if required not in present:
            problems.append(
                Problem(
                    "attributes", f"{kind} requires the attribute {required!r}", "MISSING_ATTRIBUTE"
                )
            )
    image_limit = rule.image_limit or CHANNEL_IMAGE_LIMITS.get(kind, 250)
    images = tuple(sorted(product.images, key=lambda i: i.position)[:image_limit])

    variants = []
    for variant in product.variants:
        price = prices[variant.sku]
        if isinstance(price, DomainError):
            problems.append(Problem(f"price[{variant.sku}]", price.message, "PRICE_UNAVAILABLE"))
            continue
        if rule.require_gtin and not variant.barcode:
            problems.append(
                Problem(
                    f"variants[{variant.sku}].barcode", f"{kind} requires a GTIN", "MISSING_GTIN"
                )
            )
        options = product.option_map(variant)
        variants.append(
            DraftVariant(
                sku=variant.sku,
                title=render_title(
                    template,
                    brand=product.brand,
                    title=product.title,
                    options=options,
                    attributes=attributes,
                    limit=limit,
                ),
                options=tuple(options.items()),
                price=price.price,
                compare_at=price.compare_at,
                quantity=quantities.get(variant.sku, 0),
                barcode=variant.barcode,
                weight_grams=variant.weight_grams,
                dimensions=variant.dimensions,
                image_urls=tuple(i.url for i in images if variant.sku in i.skus),
            )
        )
    draft = ListingDraft(
        channel_id=channel.id,
        channel_kind=kind,
        product_id=product.id,
        handle=product.handle,
        title=title,
        description=description,
        brand=product.brand,
        channel_category_id=category,
        attributes=mapped,
        options=product.options,
        images=images,
        variants=tuple(variants),
        currency=channel.currency,
        settings=dict(rule.settings),
    )
    return DraftResult(draft, problems)


def _dimensions(dims: Dimensions | None) -> list[int] | None:
    return [dims.length_mm, dims.width_mm, dims.height_mm] if dims else None


def content_hash(draft: ListingDraft) -> str:
    """A fingerprint of what the listing shows, prices and quantities aside."""
    # Built by hand rather than with dataclasses.asdict: this runs for every product on every
    # channel in a bulk upsert, and asdict's deep copies dominated its cost.
    content = [
        draft.channel_kind,
        draft.handle,
        draft.title,
        draft.description,
        draft.brand,
        draft.channel_category_id,
        draft.attributes,
        [[o.name, o.values] for o in draft.options],
        [[i.url, i.alt_text, i.position, i.skus] for i in draft.images],
        [
            [v.sku, v.title, v.options, v.barcode, v.weight_grams, _dimensions(v.dimensions),
             v.image_urls]
            for v in draft.variants
        ],
        draft.currency,
        sorted(draft.settings.items()),
    ]  # fmt: skip
    encoded = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()
