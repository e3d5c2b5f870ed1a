"""Applying a listing rule to a product: pure, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from domain.catalog.descriptions import plain_text
from domain.catalog.drafts import build_draft, content_hash
from domain.catalog.model import (
    Attribute,
    Category,
    Image,
    Product,
    ProductOption,
    ProductStatus,
    Variant,
)
from domain.catalog.selectors import CategoryTree, category_for, selects
from domain.channels.availability import CHANNEL_DEFAULTS
from domain.channels.listing import DescriptionFormat, ListingRule, Selector, SelectorKind
from domain.channels.model import Channel, ChannelKind
from domain.channels.pricing import ChannelPrice
from domain.errors import InvalidInput
from domain.money import Money

NOW = datetime(2026, 11, 27, tzinfo=UTC)
ROOT = Category(uuid.uuid4(), "Apparel", None, "Apparel")
SHIRTS = Category(uuid.uuid4(), "Shirts", ROOT.id, "Apparel > Shirts")
TREE = CategoryTree([ROOT, SHIRTS])


def product(**changes: object) -> Product:
    pid = uuid.uuid4()
    variants = tuple(
        Variant(uuid.uuid4(), pid, f"SKU-{size}", (size,), Money(2000, "USD"), None, None, None,
                None, n)
        for n, size in enumerate(("S", "M", "L"))
    )  # fmt: skip
    base = Product(
        id=pid, handle="trail-shirt", title="Trail Shirt",
        description_html="<p>Soft &amp; <b>light</b></p><ul><li>Merino</li></ul>",
        brand="Acme", category_id=SHIRTS.id, tags=("summer",),
        attributes=(Attribute("Material", "Merino"),),
        options=(ProductOption("Size", ("S", "M", "L")),), status=ProductStatus.ACTIVE,
        content_hash="x", version=1, created_at=NOW, updated_at=NOW,
        images=tuple(Image(f"https://img/{n}.jpg", None, n, ()) for n in range(30)),
        variants=variants,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def channel(kind: ChannelKind) -> Channel:
    return Channel(uuid.uuid4(), kind.value, kind, "USD", 0, (), CHANNEL_DEFAULTS, NOW)


def prices(item: Product, amount: int = 2000) -> dict[str, ChannelPrice | InvalidInput]:
    return {v.sku: ChannelPrice(Money(amount, "USD"), None, []) for v in item.variants}


def test_titles_are_rendered_per_variant_and_cut_to_the_channel_limit() -> None:
    item = product(title="Ultralight Merino Wool Trail Running Shirt For Long Summer Days Outdoors")
    rule = ListingRule(title_template="{brand} {title} {options}")

    result = build_draft(item, channel(ChannelKind.MERCADOLIBRE), rule, TREE, prices(item), {})

    assert all(len(v.title) <= 60 for v in result.draft.variants)
    assert result.draft.title.startswith("Acme Ultralight Merino")
    assert not result.draft.title.endswith(" ")


def test_images_are_limited_per_channel_kind() -> None:
    item = product()
    ebay = build_draft(item, channel(ChannelKind.EBAY), ListingRule(), TREE, prices(item), {})
    amazon = build_draft(item, channel(ChannelKind.AMAZON), ListingRule(), TREE, prices(item), {})
    assert (len(ebay.draft.images), len(amazon.draft.images)) == (24, 9)


def test_a_category_maps_through_its_nearest_mapped_ancestor() -> None:
    rule = ListingRule(category_map={str(ROOT.id): "1045624"})
    assert category_for(rule.category_map, product(), TREE) == "1045624"
    result = build_draft(product(), channel(ChannelKind.AMAZON), rule, TREE, prices(product()), {})
    assert result.draft.channel_category_id == "1045624"
    assert result.problems == []


def test_missing_category_gtin_attribute_and_price_are_all_reported() -> None:
    item = product()
    rule = ListingRule(require_gtin=True, required_attributes=("Color",))
    failing: dict[str, ChannelPrice | InvalidInput] = dict(prices(item))
    failing["SKU-L"] = InvalidInput("no exchange rate from USD to ARS")

    result = build_draft(item, channel(ChannelKind.EBAY), rule, TREE, failing, {})

    codes = {(p.field, p.code) for p in result.problems}
    assert ("categoryId", "MISSING_CATEGORY") in codes
    assert ("attributes", "MISSING_ATTRIBUTE") in codes
    assert ("variants[SKU-S].barcode", "MISSING_GTIN") in codes
    assert ("price[SKU-L]", "PRICE_UNAVAILABLE") in codes


def test_plain_text_descriptions_drop_markup_and_keep_blocks() -> None:
    rule = ListingRule(description_format=DescriptionFormat.PLAIN_TEXT)
    result = build_draft(
        product(), channel(ChannelKind.WEBSTORE), rule, TREE, prices(product()), {}
    )
    assert result.draft.description == "Soft & light\n- Merino"


def test_the_content_hash_ignores_prices_and_quantities_but_not_content() -> None:
    item, web = product(), channel(ChannelKind.WEBSTORE)
    base = build_draft(item, web, ListingRule(), TREE, prices(item), {}).draft
    cheaper = build_draft(item, web, ListingRule(), TREE, prices(item, 1500), {"SKU-S": 4}).draft
    renamed = build_draft(replace(item, title="Other"), web, ListingRule(), TREE, prices(item), {})
    assert content_hash(base) == content_hash(cheaper)
    assert content_hash(base) != content_hash(renamed.draft)


def test_selectors_pick_by_tag_brand_category_subtree_and_never_archived() -> None:
    item = product()
    assert selects(Selector(SelectorKind.ALL), item, TREE)
    assert not selects(Selector(SelectorKind.NONE), item, TREE)
    assert selects(Selector(SelectorKind.TAGS, ("summer",)), item, TREE)
    assert not selects(Selector(SelectorKind.TAGS, ("winter",)), item, TREE)
    assert selects(Selector(SelectorKind.BRANDS, ("Acme",)), item, TREE)
    assert selects(Selector(SelectorKind.CATEGORIES, (str(ROOT.id),)), item, TREE)
    archived = replace(item, status=ProductStatus.ARCHIVED)
    assert not selects(Selector(SelectorKind.ALL), archived, TREE)
    assert TREE.subtree(ROOT.id) == (ROOT.id, SHIRTS.id)


_TEXT = st.text(alphabet=st.characters(blacklist_characters="<>&-", blacklist_categories=("Cs",)))


@given(st.lists(st.tuples(st.sampled_from(["p", "b", "li", "div", "span", "h2"]), _TEXT)))
def test_plain_text_keeps_every_character_and_no_markup(blocks: list[tuple[str, str]]) -> None:
    html = "".join(f"<{tag}>{text}</{tag}>" for tag, text in blocks)
    text = plain_text(html)
    assert "<" not in text
    visible = "".join("".join(t.split()) for _, t in blocks)
    # List items gain a "- " bullet; otherwise every visible character survives, in order.
    assert "".join(text.split()).replace("-", "") == visible
