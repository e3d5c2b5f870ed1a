"""Listings through the API: automation by selector, problems, and channel-native previews.

The preview test is golden: one product with two options of three values each, previewed on
every marketplace, compared with tests/golden/listing_previews/api/<kind>.json (rewrite with
NEXO_UPDATE_GOLDEN=1, then review the diff) and checked against the marketplaces' own specs.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.catalog.support import PRODUCT, UPDATE_PRODUCT, create_product, gtin13, shirt
from tests.graphql import data, gql
from tests.unit.channels.specs import (
    amazon_errors,
    ebay_errors,
    ebay_operation_schema,
    shopify_errors,
)

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "listing_previews" / "api"

PREVIEW = """
query($p: ID!, $c: ID!) {
  listingPreview(productId: $p, channelId: $c) {
    status problems { field code message } requests
    items { sku intendedPrice { amount currencyCode } intendedQuantity }
  }
}"""

LISTINGS = """
query($c: ID, $s: ListingStatus) {
  listings(channelId: $c, status: $s, first: 50) {
    edges { node { productId status problems { field code } } }
  }
}"""


async def call(http: httpx.AsyncClient, key: str, query: str, **variables: Any) -> Any:
    return data(await gql(http, query, variables, key=key))


async def location(http: httpx.AsyncClient, key: str) -> str:
    created = await call(
        http, key,
        'mutation { createLocation(input: {code: "main", name: "Main", kind: WAREHOUSE})'
        " { location { id } } }",
    )  # fmt: skip
    return str(created["createLocation"]["location"]["id"])


async def channel(
    http: httpx.AsyncClient, key: str, name: str, kind: str, currency: str, location_id: str
) -> str:
    created = await call(
        http, key,
        "mutation($i: CreateChannelInput!) { createChannel(input: $i) { channel { id } } }",
        i={"name": name, "kind": kind, "currency": currency, "locationIds": [location_id]},
    )  # fmt: skip
    return str(created["createChannel"]["channel"]["id"])


async def listing_rule(http: httpx.AsyncClient, key: str, channel_id: str, **rule: Any) -> None:
    payload = await call(
        http, key,
        "mutation($i: SetListingRuleInput!) { setListingRule(input: $i)"
        " { userErrors { field message code } } }",
        i={"channelId": channel_id, **rule},
    )  # fmt: skip
    assert payload["setListingRule"]["userErrors"] == []


async def listings_of(http: httpx.AsyncClient, key: str, channel_id: str) -> list[dict[str, Any]]:
    found = await call(http, key, LISTINGS, c=channel_id, s=None)
    return [edge["node"] for edge in found["listings"]["edges"]]


# Automation


async def test_tagging_lists_on_the_matching_channel_and_untagging_ends_it(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    where = await location(http, staff_key)
    summer = await channel(http, staff_key, "Shop", "SHOPIFY", "USD", where)
    other = await channel(http, staff_key, "Web", "WEBSTORE", "USD", where)
    await listing_rule(http, staff_key, summer, selector={"kind": "TAGS", "values": ["summer"]})
    await listing_rule(http, staff_key, other, selector={"kind": "TAGS", "values": ["winter"]})
    product = (await create_product(http, staff_key, shirt(tags=[])))["product"]
    assert await listings_of(http, staff_key, summer) == []

    await call(http, staff_key, UPDATE_PRODUCT, input={"id": product["id"], "tags": ["summer"]})
    [listed] = await listings_of(http, staff_key, summer)
    assert (listed["productId"], listed["status"], listed["problems"]) == (
        product["id"], "PENDING", [],
    )  # fmt: skip
    assert await listings_of(http, staff_key, other) == []

    await call(http, staff_key, UPDATE_PRODUCT, input={"id": product["id"], "tags": ["autumn"]})
    [ended] = await listings_of(http, staff_key, summer)
    assert ended["status"] == "ENDED"

    await call(http, staff_key, UPDATE_PRODUCT, input={"id": product["id"], "tags": ["summer"]})
    [again] = await listings_of(http, staff_key, summer)
    assert again["status"] == "PENDING"


async def test_a_product_failing_the_channel_checks_shows_its_problems_and_is_not_listed(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    where = await location(http, staff_key)
    ebay = await channel(http, staff_key, "eBay", "EBAY", "USD", where)
    await listing_rule(http, staff_key, ebay, selector={"kind": "ALL"}, requireGtin=True)
    product = shirt()
    product["variants"][0]["barcode"] = None
    created = (await create_product(http, staff_key, product))["product"]

    [listing] = await listings_of(http, staff_key, ebay)

    assert listing["status"] == "ERROR"
    codes = {(p["field"], p["code"]) for p in listing["problems"]}
    assert ("categoryId", "MISSING_CATEGORY") in codes
    assert ("variants[TS-S-RED].barcode", "MISSING_GTIN") in codes
    assert any(code == "MISSING_SETTING" for _, code in codes)
    assert len(codes) == len(listing["problems"])  # each problem once
    pending = await call(http, staff_key, LISTINGS, c=ebay, s="PENDING")
    assert pending["listings"]["edges"] == []
    preview = (await call(http, staff_key, PREVIEW, p=created["id"], c=ebay))["listingPreview"]
    assert preview["status"] == "ERROR"
    assert {(p["field"], p["code"]) for p in preview["problems"]} == codes


async def test_archiving_a_product_ends_its_listings(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    where = await location(http, staff_key)
    web = await channel(http, staff_key, "Web", "WEBSTORE", "USD", where)
    await listing_rule(http, staff_key, web, selector={"kind": "ALL"})
    product = (await create_product(http, staff_key, shirt()))["product"]

    await call(
        http, staff_key,
        "mutation($id: ID!) { archiveProduct(input: {id: $id}) { product { status } } }",
        id=product["id"],
    )  # fmt: skip

    [listing] = await listings_of(http, staff_key, web)
    assert listing["status"] == "ENDED"
    listed = (await call(http, staff_key, PRODUCT, id=product["id"]))["product"]["listings"]
    assert [x["status"] for x in listed] == ["ENDED"]


async def test_a_title_template_with_an_unknown_placeholder_is_refused(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    where = await location(http, staff_key)
    web = await channel(http, staff_key, "Web", "WEBSTORE", "USD", where)
    payload = await call(
        http, staff_key,
        "mutation($i: SetListingRuleInput!) { setListingRule(input: $i)"
        " { channel { catalog { listingRule { titleTemplate } } } userErrors { field code } } }",
        i={"channelId": web, "selector": {"kind": "ALL"}, "titleTemplate": "{brand} {colour}"},
    )  # fmt: skip

    assert payload["setListingRule"]["userErrors"] == [
        {"field": "titleTemplate", "code": "INVALID_INPUT"}
    ]
    channels = await call(
        http, staff_key, "{ channels { catalog { listingRule { titleTemplate } } } }"
    )
    assert channels["channels"][0]["catalog"]["listingRule"]["titleTemplate"] != "{brand} {colour}"


# Channel-native previews of one product with two options of three values


def trail_shirt() -> dict[str, Any]:
    sizes, colours = ["S", "M", "L"], ["Red", "Blue", "Green"]
    variants = [
        {
            "sku": f"TRAIL-{size}-{colour.upper()}",
            "optionValues": [size, colour],
            "price": {"amount": "25.00", "currencyCode": "USD"},
            "cost": {"amount": "9.00", "currencyCode": "USD"},
            "barcode": gtin13(f"061414100{n:03d}"),
            "weightGrams": 180,
        }
        for n, (size, colour) in enumerate((s, c) for s in sizes for c in colours)
    ]
    images = [
        {"url": f"https://cdn.example.com/trail-shirt-{c.lower()}.jpg", "altText": f"{c} shirt",
         "skus": [v["sku"] for v in variants if v["sku"].endswith(c.upper())]}
        for c in colours
    ]  # fmt: skip
    return {
        "handle": "trail-shirt",
        "title": "Trail Shirt",
        "brand": "Acme",
        "descriptionHtml": "<p>A light merino shirt for <b>long days</b> on the trail.</p>",
        "tags": ["summer"],
        "attributes": [{"name": "Material", "value": "Merino wool"}],
        "options": [{"name": "Size", "values": sizes}, {"name": "Color", "values": colours}],
        "images": images,
        "variants": variants,
    }


MARKETPLACE_RULES: dict[str, dict[str, Any]] = {
    "SHOPIFY": {"currency": "USD", "category": "aa-1-13-8", "settings": {}},
    "AMAZON": {
        "currency": "USD",
        "category": "1045624",
        "descriptionFormat": "PLAIN_TEXT",
        "attributeMap": [{"attribute": "Material", "channelAttribute": "material"}],
        "settings": {
            "sellerId": "A2SELLER0EXAMPLE",
            "marketplaceId": "ATVPDKIKX0DER",
            "productType": "SHIRT",
        },
    },
    "EBAY": {
        "currency": "USD",
        "category": "15687",
        "settings": {
            "marketplaceId": "EBAY_US",
            "merchantLocationKey": "warehouse-1",
            "fulfillmentPolicyId": "6196932000",
            "paymentPolicyId": "6196944000",
            "returnPolicyId": "6196947000",
        },
    },
    "MERCADOLIBRE": {
        "currency": "ARS",
        "category": "MLA109282",
        "descriptionFormat": "PLAIN_TEXT",
        "attributeMap": [{"attribute": "Material", "channelAttribute": "MAIN_MATERIAL"}],
        "settings": {"listingTypeId": "gold_special"},
    },
}


def golden(kind: str, requests: list[dict[str, Any]]) -> None:
    text = json.dumps(requests, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    path = GOLDEN / f"{kind.lower()}.json"
    if os.environ.get("NEXO_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}: run with NEXO_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{kind} preview differs from {path.name}"


def check_against_spec(kind: str, requests: list[dict[str, Any]]) -> None:
    if kind == "SHOPIFY":
        [request] = requests
        assert shopify_errors(request["body"]["query"], request["body"]["variables"]) == []
    elif kind == "AMAZON":
        for request in requests:
            assert amazon_errors("ListingsItemPutRequest", request["body"]) == []
    elif kind == "EBAY":
        for request in requests:
            path = re.sub(r"^/sell/inventory/v1", "", request["path"])
            path = re.sub(r"^/inventory_item/[^/]+$", "/inventory_item/{sku}", path)
            path = re.sub(
                r"^/inventory_item_group/[^/]+$",
                "/inventory_item_group/{inventoryItemGroupKey}",
                path,
            )
            component = ebay_operation_schema(request["method"], path)
            assert ebay_errors(component, request["body"]) == [], request["path"]
    else:
        [request] = requests
        item = request["body"]
        assert (request["method"], request["path"]) == ("POST", "/items")
        assert len(item["title"]) <= 60
        assert len(item["variations"]) == 9
        for variation in item["variations"]:
            assert [c["name"] for c in variation["attribute_combinations"]] == ["Size", "Color"]
            assert [a["id"] for a in variation["attributes"]].count("SELLER_SKU") == 1


@pytest.mark.parametrize("kind", list(MARKETPLACE_RULES))
async def test_listing_preview_is_the_exact_channel_native_payload(
    http: httpx.AsyncClient, staff_key: str, kind: str
) -> None:
    spec = MARKETPLACE_RULES[kind]
    where = await location(http, staff_key)
    channel_id = await channel(http, staff_key, "Market", kind, spec["currency"], where)
    category = await call(
        http, staff_key,
        'mutation { createCategory(input: {name: "Shirts"}) { category { id } } }',
    )  # fmt: skip
    category_id = category["createCategory"]["category"]["id"]
    if spec["currency"] == "ARS":
        await call(
            http, staff_key,
            'mutation { setCurrencyRate(input: {fromCurrency: "USD", toCurrency: "ARS",'
            ' rate: "1000"}) { userErrors { field } } }',
        )  # fmt: skip
        await call(
            http, staff_key,
            "mutation($c: ID!) { setPriceRule(input: {channelId: $c, rounding: CHARM,"
            ' charmEnding: "0.99"}) { userErrors { field } } }',
            c=channel_id,
        )  # fmt: skip
    await listing_rule(
        http, staff_key, channel_id,
        selector={"kind": "ALL"},
        categoryMap=[{"categoryId": category_id, "channelCategoryId": spec["category"]}],
        descriptionFormat=spec.get("descriptionFormat", "HTML"),
        attributeMap=spec.get("attributeMap", []),
        settings=[{"name": k, "value": v} for k, v in spec["settings"].items()],
    )  # fmt: skip
    product = (await create_product(http, staff_key, {**trail_shirt(), "categoryId": category_id}))[
        "product"
    ]
    for n, variant in enumerate(product["variants"]):
        await call(
            http, staff_key,
            "mutation($s: String!, $l: ID!, $q: Int!, $k: String!) { receiveStock(input: {sku: $s,"
            " locationId: $l, quantity: $q, idempotencyKey: $k}) { userErrors { code } } }",
            s=variant["sku"], l=where, q=n + 1, k=f"receive-{n}",
        )  # fmt: skip

    preview = (await call(http, staff_key, PREVIEW, p=product["id"], c=channel_id))[
        "listingPreview"
    ]

    assert preview["problems"] == []
    assert preview["status"] == "PENDING"
    assert [i["intendedQuantity"] for i in preview["items"]] == list(range(1, 10))
    golden(kind, preview["requests"])
    check_against_spec(kind, preview["requests"])
    if kind == "MERCADOLIBRE":
        assert preview["items"][0]["intendedPrice"] == {"amount": "25000.99", "currencyCode": "ARS"}
