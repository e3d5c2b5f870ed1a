"""A listing draft as Shopify takes it: one `productSet` upsert on the Admin GraphQL API 2026-01.

`productSet(identifier: {handle}, input: ProductSetInput, synchronous: true)` creates the
product or replaces it whole: its list fields (variants, files) replace what Shopify has, so
every request carries the complete product.
"""

from __future__ import annotations

import re
from typing import Any, Final

from domain.channels.listing import ChannelRequest, DraftVariant, ListingDraft, Problem
from domain.money import Money, exponent

GRAPHQL_PATH: Final = "/admin/api/2026-01/graphql.json"
MAX_OPTIONS: Final = 3
MAX_VARIANTS: Final = 2048
MAX_TITLE: Final = 255

# A product without options still has one: Shopify names it so for its single variant.
DEFAULT_OPTION: Final = ("Title", "Default Title")

# Shopify taxonomy ids ("aa-1-13-8") or their global ids; anything else is a product type.
_TAXONOMY_ID = re.compile(r"^[a-z]{2}(?:-\d+)*$")
_TAXONOMY_GID: Final = "gid://shopify/TaxonomyCategory/"

PRODUCT_SET: Final = """\
mutation ListingSet($identifier: ProductSetIdentifiers!, $input: ProductSetInput!) {
  productSet(identifier: $identifier, input: $input, synchronous: true) {
    product {
      id
      handle
      variants(first: 250) {
        nodes {
          id
          sku
          inventoryItem {
            id
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""


class ShopifyListingFormat:
    """Shopify's listing shape: at most 3 options and 2048 variants, titles up to 255."""

    def problems(self, draft: ListingDraft) -> list[Problem]:
        found: list[Problem] = []
        if len(draft.options) > MAX_OPTIONS:
            found.append(
                Problem(
                    "options",
                    f"Shopify takes at most {MAX_OPTIONS} options, this product has "
                    f"{len(draft.options)}",
                    "TOO_MANY_OPTIONS",
                )
            )
        if len(draft.variants) > MAX_VARIANTS:
            found.append(
                Problem(
                    "variants",
                    f"Shopify takes at most {MAX_VARIANTS} variants per product, this one has "
                    f"{len(draft.variants)}",
                    "TOO_MANY_VARIANTS",
                )
            )
        if len(draft.title) > MAX_TITLE:
            found.append(
                Problem(
                    "title", f"Shopify titles have at most {MAX_TITLE} characters", "TITLE_TOO_LONG"
                )
            )
        for variant in draft.variants:
            if variant.price.currency != draft.currency:
                found.append(
                    Problem(
                        f"variants[{variant.sku}].price",
                        f"Shopify prices are in the shop's {draft.currency}, "
                        f"not {variant.price.currency}",
                        "CURRENCY_MISMATCH",
                    )
                )
        return found

    def requests(self, draft: ListingDraft) -> list[ChannelRequest]:
        variables = {"identifier": {"handle": draft.handle}, "input": product_input(draft)}
        return [
            ChannelRequest("POST", GRAPHQL_PATH, {"query": PRODUCT_SET, "variables": variables})
        ]


def product_input(draft: ListingDraft) -> dict[str, Any]:
    """The ProductSetInput for `draft`; optional fields are left out when the draft has none."""
    product: dict[str, Any] = {
        "handle": draft.handle,
        "title": draft.title,
        "descriptionHtml": draft.description,
    }
    if draft.brand:
        product["vendor"] = draft.brand
    if draft.channel_category_id:
        product.update(_category(draft.channel_category_id))
    product["productOptions"] = [
        {"name": option.name, "values": [{"name": value} for value in option.values]}
        for option in draft.options
    ] or [{"name": DEFAULT_OPTION[0], "values": [{"name": DEFAULT_OPTION[1]}]}]
    alts = {image.url: image.alt_text for image in draft.images}
    if draft.images:
        product["files"] = [_file(image.url, alts) for image in draft.images]
    location = draft.settings.get("locationId", "").strip()
    product["variants"] = [_variant(variant, alts, location) for variant in draft.variants]
    return product


def _category(category_id: str) -> dict[str, str]:
    if category_id.startswith(_TAXONOMY_GID):
        return {"category": category_id}
    if _TAXONOMY_ID.match(category_id):
        return {"category": _TAXONOMY_GID + category_id}
    # Not a taxonomy category: the merchant's own product type, free text on Shopify.
    return {"productType": category_id}


def _file(url: str, alts: dict[str, str | None]) -> dict[str, Any]:
    file: dict[str, Any] = {"originalSource": url, "contentType": "IMAGE"}
    if alts.get(url):
        file["alt"] = alts[url]
    return file


def _variant(variant: DraftVariant, alts: dict[str, str | None], location: str) -> dict[str, Any]:
    options = variant.options or (DEFAULT_OPTION,)
    shaped: dict[str, Any] = {
        "optionValues": [{"optionName": name, "name": value} for name, value in options],
        # ProductVariantSetInput keeps `sku` (productVariantsBulk* moved it to inventoryItem).
        "sku": variant.sku,
        "price": decimal_string(variant.price),
        # productSet leaves omitted scalars unchanged: null clears a removed compare-at price.
        "compareAtPrice": decimal_string(variant.compare_at) if variant.compare_at else None,
        "barcode": variant.barcode,
        "inventoryItem": _inventory_item(variant),
    }
    if variant.image_urls:
        # A variant's file must also be one of the product's files; the URL is the match.
        shaped["file"] = _file(variant.image_urls[0], alts)
    if location:
        # Only with a location to put it at; stock changes later go through
        # inventorySetQuantities with compare-and-swap, not through listings.
        shaped["inventoryQuantities"] = [
            {"locationId": location, "name": "available", "quantity": variant.quantity}
        ]
    return shaped


def _inventory_item(variant: DraftVariant) -> dict[str, Any]:
    item: dict[str, Any] = {"tracked": True}
    if variant.weight_grams is not None:
        item["measurement"] = {"weight": {"value": variant.weight_grams, "unit": "GRAMS"}}
    return item


def decimal_string(money: Money) -> str:
    """Shopify's Money scalar: a decimal string with the currency's digits ("25.00")."""
    return f"{money.amount:.{exponent(money.currency)}f}"
