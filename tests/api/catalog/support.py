"""Catalog documents and builders shared by the catalog API tests."""

from __future__ import annotations

from typing import Any

import httpx

from domain.catalog.gtin import check_digit
from tests.graphql import data, gql

PRODUCT_FIELDS = """
  id handle title brand tags status version
  options { name values }
  attributes { name value }
  variants { sku optionValues price { amount currencyCode } barcode archived }
  images { url altText position skus }
  listings { channelId status problems { field code message } contentHash
             items { sku intendedPrice { amount currencyCode } intendedQuantity } }
"""

CREATE_PRODUCT = """
mutation($input: ProductInput!) {
  createProduct(input: $input) {
    product { FIELDS }
    userErrors { field message code }
  }
}""".replace("FIELDS", PRODUCT_FIELDS)

UPDATE_PRODUCT = """
mutation($input: UpdateProductInput!) {
  updateProduct(input: $input) {
    product { FIELDS }
    userErrors { field message code }
  }
}""".replace("FIELDS", PRODUCT_FIELDS)

ARCHIVE_PRODUCT = """
mutation($id: ID!) {
  archiveProduct(input: {id: $id}) { product { FIELDS } userErrors { field message code } }
}""".replace("FIELDS", PRODUCT_FIELDS)

PRODUCT = "query($id: ID!) { product(id: $id) { FIELDS } }".replace("FIELDS", PRODUCT_FIELDS)


def gtin13(body: str) -> str:
    return body + str(check_digit(body))


def shirt(handle: str = "trail-shirt", sku_prefix: str = "TS", **overrides: Any) -> dict[str, Any]:
    """A product with Size S/M/L x Color Red/Blue: six variants, valid GTINs, two images."""
    sizes, colors = ["S", "M", "L"], ["Red", "Blue"]
    variants = [
        {
            "sku": f"{sku_prefix}-{size}-{color.upper()}",
            "optionValues": [size, color],
            "price": {"amount": "20.00", "currencyCode": "USD"},
            "cost": {"amount": "8.00", "currencyCode": "USD"},
            "barcode": gtin13(f"400638133{n:03d}"),
        }
        for n, (size, color) in enumerate((s, c) for s in sizes for c in colors)
    ]
    product: dict[str, Any] = {
        "handle": handle,
        "title": "Trail Shirt",
        "brand": "Nexo Outdoors",
        "descriptionHtml": "<p>Light &amp; <b>quick-dry</b> merino.</p>",
        "tags": ["summer"],
        "attributes": [{"name": "Material", "value": "Merino wool"}],
        "options": [{"name": "Size", "values": sizes}, {"name": "Color", "values": colors}],
        "images": [
            {"url": f"https://img.example/{handle}/red.jpg", "altText": "Red",
             "skus": [v["sku"] for v in variants if v["sku"].endswith("RED")]},
            {"url": f"https://img.example/{handle}/blue.jpg", "altText": "Blue",
             "skus": [v["sku"] for v in variants if v["sku"].endswith("BLUE")]},
        ],
        "variants": variants,
    }  # fmt: skip
    product.update(overrides)
    return product


async def create_product(http: httpx.AsyncClient, key: str, product: dict[str, Any]) -> Any:
    payload = data(await gql(http, CREATE_PRODUCT, {"input": product}, key=key))["createProduct"]
    return payload


async def create_channel(
    http: httpx.AsyncClient, key: str, name: str, kind: str, currency: str = "USD"
) -> str:
    location = data(
        await gql(
            http,
            'mutation($code: String!) { createLocation(input: {code: $code, name: "Main",'
            " kind: WAREHOUSE}) { location { id } } }",
            {"code": f"wh-{name.lower()}"},
            key=key,
        )
    )["createLocation"]["location"]["id"]
    created = data(
        await gql(
            http,
            """mutation($input: CreateChannelInput!) {
                 createChannel(input: $input) { channel { id } userErrors { field code } } }""",
            {"input": {"name": name, "kind": kind.upper(), "currency": currency,
                       "locationIds": [location]}},
            key=key,
        )
    )["createChannel"]  # fmt: skip
    assert not created["userErrors"], created
    return str(created["channel"]["id"])


SET_LISTING_RULE = """
mutation($input: SetListingRuleInput!) {
  setListingRule(input: $input) {
    channel { id catalog { listingRule { selectorKind selectorValues titleTemplate } } }
    userErrors { field message code }
  }
}"""


async def set_listing_rule(
    http: httpx.AsyncClient, key: str, channel_id: str, **rule: Any
) -> dict[str, Any]:
    body = await gql(http, SET_LISTING_RULE, {"input": {"channelId": channel_id, **rule}}, key=key)
    payload: dict[str, Any] = data(body)["setListingRule"]
    return payload
