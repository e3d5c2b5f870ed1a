"""Products through the API: create, read, update, archive; bad input changes nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.api.catalog.support import (
    ARCHIVE_PRODUCT,
    PRODUCT,
    UPDATE_PRODUCT,
    create_product,
    shirt,
)
from tests.graphql import data, gql


def v(sku: str, values: list[str], amount: str = "1", currency: str = "USD") -> dict[str, object]:
    return {
        "sku": sku,
        "optionValues": values,
        "price": {"amount": amount, "currencyCode": currency},
    }


COUNT = "{ products(first: 100) { edges { node { id } } } }"


async def product_count(http: httpx.AsyncClient, key: str) -> int:
    return len(data(await gql(http, COUNT, key=key))["products"]["edges"])


async def test_a_product_with_options_and_variants_is_created_with_its_inventory_items(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    payload = await create_product(http, staff_key, shirt())

    assert payload["userErrors"] == []
    product = payload["product"]
    assert product["handle"] == "trail-shirt"
    assert [o["values"] for o in product["options"]] == [["S", "M", "L"], ["Red", "Blue"]]
    assert len(product["variants"]) == 6
    assert product["variants"][0]["price"] == {"amount": "20.00", "currencyCode": "USD"}
    assert product["images"][0]["skus"] == ["TS-S-RED", "TS-M-RED", "TS-L-RED"]
    item = data(
        await gql(http, '{ inventoryItem(sku: "TS-M-BLUE") { sku onHand } }', key=staff_key)
    )["inventoryItem"]
    assert item == {"sku": "TS-M-BLUE", "onHand": 0}
    again = data(await gql(http, PRODUCT, {"id": product["id"]}, key=staff_key))["product"]
    assert again["variants"] == product["variants"]


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"variants": [
            v("A-1", ["S", "Red"], "1", "USD"),
            v("A-1", ["M", "Red"], "1", "USD"),
        ]}, "variants[1].sku", "INVALID_INPUT"),
        ({"variants": [
            {**v("A-1", ["S", "Red"]), "barcode": "4006381333932"},
        ]}, "variants[0].barcode", "INVALID_INPUT"),
        ({"variants": [
            v("A-1", ["S", "Red"], "1", "USD"),
            v("A-2", ["S", "Red"], "1", "USD"),
        ]}, "variants[1].optionValues", "INVALID_INPUT"),
        ({"variants": [
            v("A-1", ["S"], "1", "USD"),
        ]}, "variants[0].optionValues", "INVALID_INPUT"),
        ({"variants": [
            v("A-1", ["S", "Red"], "-1", "USD"),
        ]}, "variants[0].price", "INVALID_INPUT"),
        ({"variants": [
            v("A-1", ["S", "Red"], "1", "XXX"),
        ]}, "variants[0].price", "INVALID_INPUT"),
        ({"categoryId": "4f8a4f8a-0000-4000-8000-000000000000"}, "categoryId", "NOT_FOUND"),
        ({"variants": []}, "variants", "INVALID_INPUT"),
    ],
    ids=["duplicate-sku", "bad-gtin", "repeated-combination", "missing-option-value",
         "negative-price", "unknown-currency", "unknown-category", "no-variants"],
)  # fmt: skip
async def test_bad_products_are_typed_errors_naming_the_field_and_write_nothing(
    http: httpx.AsyncClient, staff_key: str, change: dict[str, object], field: str, code: str
) -> None:
    payload = await create_product(http, staff_key, shirt(**change))

    assert payload["product"] is None
    assert {(e["field"], e["code"]) for e in payload["userErrors"]} >= {(field, code)}
    assert await product_count(http, staff_key) == 0
    item = data(await gql(http, '{ inventoryItem(sku: "A-1") { sku } }', key=staff_key))
    assert item["inventoryItem"] is None


async def test_every_fault_of_a_product_is_reported_at_once(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    bad = shirt(title=" ", handle="Not A Handle")
    bad["variants"][0]["barcode"] = "123"
    payload = await create_product(http, staff_key, bad)

    fields = {e["field"] for e in payload["userErrors"]}
    assert {"title", "handle", "variants[0].barcode"} <= fields


async def test_a_sku_held_by_another_product_is_refused(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    assert (await create_product(http, staff_key, shirt()))["userErrors"] == []

    payload = await create_product(http, staff_key, shirt(handle="other-shirt"))

    assert payload["product"] is None
    assert payload["userErrors"][0]["code"] == "ALREADY_EXISTS"
    assert payload["userErrors"][0]["field"] == "variants[0].sku"
    assert await product_count(http, staff_key) == 1


async def test_removed_variants_with_stock_history_are_archived_others_deleted(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    product = (await create_product(http, staff_key, shirt()))["product"]
    location = data(
        await gql(
            http,
            'mutation { createLocation(input: {code: "wh", name: "WH", kind: WAREHOUSE})'
            " { location { id } } }",
            key=staff_key,
        )
    )["createLocation"]["location"]["id"]
    received = await gql(
        http,
        'mutation($l: ID!) { receiveStock(input: {sku: "TS-S-RED", locationId: $l, quantity: 3,'
        ' idempotencyKey: "r1"}) { userErrors { code } } }',
        {"l": location},
        key=staff_key,
    )
    assert data(received)["receiveStock"]["userErrors"] == []
    kept = [v for v in shirt()["variants"] if v["sku"] not in ("TS-S-RED", "TS-S-BLUE")]

    payload = data(
        await gql(http, UPDATE_PRODUCT, {"input": {"id": product["id"], "variants": kept}},
                  key=staff_key)
    )["updateProduct"]  # fmt: skip

    assert payload["userErrors"] == []
    assert [v["sku"] for v in payload["product"]["variants"]] == [v["sku"] for v in kept]
    archived = data(await gql(http, '{ variant(sku: "TS-S-RED") { sku } }', key=staff_key))
    assert archived["variant"] is None  # archived: out of the live catalog...
    item = data(await gql(http, '{ inventoryItem(sku: "TS-S-RED") { onHand } }', key=staff_key))[
        "inventoryItem"
    ]
    assert item == {"onHand": 3}  # ...with its stock and ledger intact
    gone = data(await gql(http, '{ inventoryItem(sku: "TS-S-BLUE") { sku } }', key=staff_key))
    assert gone["inventoryItem"] is None  # no history: deleted outright
    thief = shirt(handle="thief", variants=[shirt()["variants"][0]], images=[])
    reuse = await create_product(http, staff_key, thief)
    assert reuse["userErrors"][0]["code"] == "ALREADY_EXISTS"  # an archived SKU stays taken


async def test_update_changes_only_given_fields_and_bumps_the_version(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    product = (await create_product(http, staff_key, shirt()))["product"]

    payload = data(
        await gql(http, UPDATE_PRODUCT, {"input": {"id": product["id"], "title": "Trail Tee"}},
                  key=staff_key)
    )["updateProduct"]  # fmt: skip

    assert payload["userErrors"] == []
    assert payload["product"]["title"] == "Trail Tee"
    assert payload["product"]["tags"] == ["summer"]
    assert payload["product"]["version"] == product["version"] + 1


async def test_archiving_keeps_the_product_readable_and_refuses_edits(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    product = (await create_product(http, staff_key, shirt()))["product"]

    archived = data(await gql(http, ARCHIVE_PRODUCT, {"id": product["id"]}, key=staff_key))
    assert archived["archiveProduct"]["product"]["status"] == "ARCHIVED"
    edit = data(
        await gql(http, UPDATE_PRODUCT, {"input": {"id": product["id"], "title": "X"}},
                  key=staff_key)
    )["updateProduct"]  # fmt: skip
    assert edit["userErrors"][0]["code"] == "ILLEGAL_STATE"


async def test_a_readonly_key_cannot_create_products(
    http: httpx.AsyncClient, readonly_key: str
) -> None:
    body = await gql(
        http, "mutation($i: ProductInput!) { createProduct(input: $i) { product { id } } }",
        {"i": shirt()}, key=readonly_key,
    )  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
