"""A listing draft as Amazon takes it: Listings Items API 2021-08-01, one PUT per SKU.

`PUT /listings/2021-08-01/items/{sellerId}/{sku}?marketplaceIds={id}` with
`{productType, requirements: "LISTING", attributes}` creates or fully replaces one SKU.
A product with options becomes a variation family: a parent SKU (the draft's handle) that
is never sold, then one child per variant pointing at it. Attribute values take Amazon's
`[{value, marketplace_id, language_tag?}]` shape.

Amazon requires a product identifier on every sold SKU. A variant without a GTIN is a
problem unless the seller holds a GTIN exemption for the brand and category, which the
setting `gtinExemption: "true"` declares (`supplier_declared_has_product_identifier_exemption`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final
from urllib.parse import quote

from domain.catalog.model import Dimensions
from domain.channels.listing import ChannelRequest, DraftVariant, ListingDraft, Problem
from domain.money import Money, exponent

API_PATH: Final = "/listings/2021-08-01/items"
REQUIRED_SETTINGS: Final = ("sellerId", "marketplaceId", "productType")
MAX_TITLE: Final = 200
MAX_SKU: Final = 40
MAX_OTHER_IMAGES: Final = 8

# Option names Amazon can vary by: the variation theme token and the attribute holding it.
VARIATION_ATTRIBUTES: Final = {
    "size": ("SIZE", "size"),
    "color": ("COLOR", "color"),
    "colour": ("COLOR", "color"),
    "style": ("STYLE", "style"),
    "material": ("MATERIAL", "material"),
    "pattern": ("PATTERN", "pattern"),
    "flavor": ("FLAVOR", "flavor"),
    "flavour": ("FLAVOR", "flavor"),
    "scent": ("SCENT", "scent"),
}

# Text attributes need the marketplace's language; a "languageTag" setting overrides these.
LANGUAGE_TAGS: Final = {
    "ATVPDKIKX0DER": "en_US",
    "A2EUQ1WTGCTBG2": "en_CA",
    "A1AM78C64UM0Y8": "es_MX",
    "A2Q3Y263D00KWC": "pt_BR",
    "A1F83G8C2ARO7P": "en_GB",
    "A1PA6795UKMFR9": "de_DE",
    "A13V1IB3VIYZZH": "fr_FR",
    "APJ6JRA9NG5V4": "it_IT",
    "A1RKKUPIHCS9HS": "es_ES",
    "A1VC38T7YXB528": "ja_JP",
    "A39IBJ37TRP1C6": "en_AU",
}

# GTIN length -> Amazon's identifier type.
_IDENTIFIER_TYPES: Final = {8: "ean", 12: "upc", 13: "ean", 14: "gtin"}


class AmazonListingFormat:
    """Amazon's listing shape: settings sellerId, marketplaceId and productType, a browse
    node, a variation theme for the options, a GTIN per variant, titles up to 200."""

    def problems(self, draft: ListingDraft) -> list[Problem]:
        found = [
            Problem(
                f"settings.{name}", f"Amazon listings need the {name} setting", "MISSING_SETTING"
            )
            for name in REQUIRED_SETTINGS
            if not draft.settings.get(name, "").strip()
        ]
        if not draft.channel_category_id:
            found.append(
                Problem(
                    "categoryId", "Amazon needs a browse node for the category", "MISSING_CATEGORY"
                )
            )
        for i, option in enumerate(draft.options):
            if _variation(option.name) is None:
                found.append(
                    Problem(
                        f"options[{i}].name",
                        f"Amazon has no variation theme for the option {option.name!r}",
                        "NO_VARIATION_THEME",
                    )
                )
        found += _too_long("title", draft.title, MAX_TITLE, "TITLE_TOO_LONG")
        if draft.options:
            found += _too_long("handle", draft.handle, MAX_SKU, "VALUE_TOO_LONG")
        exempt = draft.settings.get("gtinExemption") == "true"
        for variant in draft.variants:
            at = f"variants[{variant.sku}]"  # by SKU, as the domain's draft problems
            found += _too_long(f"{at}.title", variant.title, MAX_TITLE, "TITLE_TOO_LONG")
            found += _too_long(f"{at}.sku", variant.sku, MAX_SKU, "VALUE_TOO_LONG")
            if not variant.barcode and not exempt:
                found.append(
                    Problem(
                        f"{at}.barcode",
                        "Amazon needs a GTIN (UPC or EAN) for each variant, "
                        "or the gtinExemption setting",
                        "MISSING_GTIN",
                    )
                )
            if variant.price.currency != draft.currency:
                found.append(
                    Problem(
                        f"{at}.price",
                        f"the marketplace sells in {draft.currency}, not {variant.price.currency}",
                        "CURRENCY_MISMATCH",
                    )
                )
        return found

    def requests(self, draft: ListingDraft) -> list[ChannelRequest]:
        put = _Put(draft)
        if not draft.options:  # a single SKU, no variation family
            return [put(v.sku, _child(draft, v, put.marketplace)) for v in draft.variants]
        return [put(draft.handle, _parent(draft, put.marketplace))] + [
            put(variant.sku, _child(draft, variant, put.marketplace)) for variant in draft.variants
        ]


class _Put:
    """Builds the PUT for one SKU; the settings are read once, blanks when missing."""

    def __init__(self, draft: ListingDraft) -> None:
        self.seller = draft.settings.get("sellerId", "").strip()
        self.marketplace = _Marketplace(draft)
        self.product_type = draft.settings.get("productType", "").strip()

    def __call__(self, sku: str, attributes: dict[str, Any]) -> ChannelRequest:
        path = (
            f"{API_PATH}/{quote(self.seller, safe='')}/{quote(sku, safe='')}"
            f"?marketplaceIds={quote(self.marketplace.id, safe='')}"
        )
        body = {
            "productType": self.product_type,
            "requirements": "LISTING",
            "attributes": attributes,
        }
        return ChannelRequest("PUT", path, body)


class _Marketplace:
    """Attribute values for one marketplace, in its language."""

    def __init__(self, draft: ListingDraft) -> None:
        self.id = draft.settings.get("marketplaceId", "").strip()
        self.language = draft.settings.get("languageTag") or LANGUAGE_TAGS.get(self.id)

    def value(self, value: Any, **extra: Any) -> list[dict[str, Any]]:
        return [{"value": value, "marketplace_id": self.id, **extra}]

    def text(self, value: str) -> list[dict[str, Any]]:
        if self.language:
            return self.value(value, language_tag=self.language)
        return self.value(value)


def _shared(draft: ListingDraft, market: _Marketplace, title: str) -> dict[str, Any]:
    """What parent and children alike carry: the mapped attributes, then the product's own."""
    attributes: dict[str, Any] = {name: market.text(value) for name, value in draft.attributes}
    attributes["item_name"] = market.text(title)
    if draft.brand:
        attributes["brand"] = market.text(draft.brand)
    if draft.description:
        attributes["product_description"] = market.text(draft.description)
    if draft.channel_category_id:
        attributes["recommended_browse_nodes"] = market.value(draft.channel_category_id)
    return attributes


def _parent(draft: ListingDraft, market: _Marketplace) -> dict[str, Any]:
    attributes = _shared(draft, market, draft.title)
    attributes["parentage_level"] = market.value("parent")
    attributes["variation_theme"] = [{"name": variation_theme(draft)}]
    attributes.update(_images([image.url for image in draft.images], market))
    return attributes


def _child(draft: ListingDraft, variant: DraftVariant, market: _Marketplace) -> dict[str, Any]:
    attributes = _shared(draft, market, variant.title)
    if draft.options:
        attributes["parentage_level"] = market.value("child")
        attributes["child_parent_sku_relationship"] = [
            {
                "child_relationship_type": "variation",
                "parent_sku": draft.handle,
                "marketplace_id": market.id,
            }
        ]
        attributes["variation_theme"] = [{"name": variation_theme(draft)}]
        for name, value in variant.options:
            found = _variation(name)
            if found is not None:
                attributes[found[1]] = market.text(value)
    attributes["condition_type"] = market.value("new_new")
    if variant.barcode:
        attributes["externally_assigned_product_identifier"] = [
            {
                "type": _IDENTIFIER_TYPES.get(len(variant.barcode), "ean"),
                "value": variant.barcode,
                "marketplace_id": market.id,
            }
        ]
    elif draft.settings.get("gtinExemption") == "true":
        attributes["supplier_declared_has_product_identifier_exemption"] = market.value(True)
    attributes["purchasable_offer"] = [
        {
            "marketplace_id": market.id,
            "currency": variant.price.currency,
            "audience": "ALL",
            "our_price": [{"schedule": [{"value_with_tax": number(variant.price)}]}],
        }
    ]
    if variant.compare_at:
        attributes["list_price"] = [
            {
                "marketplace_id": market.id,
                "currency": variant.compare_at.currency,
                "value": number(variant.compare_at),
            }
        ]
    attributes["fulfillment_availability"] = [
        {"fulfillment_channel_code": "DEFAULT", "quantity": variant.quantity}
    ]
    # The variant's own pictures lead; the product's others fill the remaining slots.
    urls = list(variant.image_urls)
    urls += [image.url for image in draft.images if image.url not in urls]
    attributes.update(_images(urls, market))
    if variant.weight_grams is not None:
        attributes["item_package_weight"] = market.value(variant.weight_grams, unit="grams")
    if variant.dimensions is not None:
        attributes["item_package_dimensions"] = _dimensions(variant.dimensions, market)
    return attributes


def variation_theme(draft: ListingDraft) -> str:
    """The theme named by the draft's options in order ("SIZE/COLOR"); unknown ones skipped."""
    tokens = [found[0] for option in draft.options if (found := _variation(option.name))]
    return "/".join(tokens)


def _variation(option_name: str) -> tuple[str, str] | None:
    return VARIATION_ATTRIBUTES.get(option_name.strip().lower())


def _images(urls: list[str], market: _Marketplace) -> dict[str, Any]:
    if not urls:
        return {}
    located = {
        "main_product_image_locator": [{"media_location": urls[0], "marketplace_id": market.id}]
    }
    for n, url in enumerate(urls[1 : MAX_OTHER_IMAGES + 1], start=1):
        located[f"other_product_image_locator_{n}"] = [
            {"media_location": url, "marketplace_id": market.id}
        ]
    return located


def _dimensions(dimensions: Dimensions, market: _Marketplace) -> list[dict[str, Any]]:
    def side(mm: int) -> dict[str, Any]:
        return {"value": mm, "unit": "millimeters"}

    return [
        {
            "length": side(dimensions.length_mm),
            "width": side(dimensions.width_mm),
            "height": side(dimensions.height_mm),
            "marketplace_id": market.id,
        }
    ]


def _too_long(field: str, value: str, limit: int, code: str) -> list[Problem]:
    if len(value) <= limit:
        return []
    return [Problem(field, f"Amazon takes at most {limit} characters here", code)]


def number(money: Money) -> int | float:
    """A JSON number for Amazon's price fields: whole for zero-decimal currencies."""
    amount: Decimal = money.amount
    return int(amount) if exponent(money.currency) == 0 else float(amount)
