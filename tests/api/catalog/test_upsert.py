"""Bulk upsert through the API: each product succeeds or fails alone, matched by handle."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select

from adapters.container import Container
from adapters.db.tables import inventory_items, products, variants
from tests.api.catalog.support import create_channel, set_listing_rule, shirt
from tests.graphql import data, gql

UPSERT_PRODUCTS = """
mutation($input: UpsertProductsInput!) {
  upsertProducts(input: $input) {
    created updated unchanged failed
    results { index handle outcome product { id } userErrors { field message code } }
    userErrors { field code }
  }
}"""

HANDLES = "{ products(first: 100) { edges { node { handle title } } } }"
INVALID_GTIN = "4006381333932"


def tee(handle: str, sku: str, title: str = "Tee") -> dict[str, Any]:
    """A product with a single variant: small enough to send hundreds at once."""
    return {
        "handle": handle,
        "title": title,
        "variants": [{"sku": sku, "price": {"amount": "9.00", "currencyCode": "USD"}}],
    }


def batch() -> list[dict[str, Any]]:
    """Three good shirts, and a fourth whose first barcode is not a GTIN."""
    bad = shirt(handle="bad-shirt", sku_prefix="BAD")
    bad["variants"][0]["barcode"] = INVALID_GTIN
    return [
        shirt(handle="shirt-a", sku_prefix="A"),
        shirt(handle="shirt-b", sku_prefix="B"),
        bad,
        shirt(handle="shirt-c", sku_prefix="C"),
    ]


async def upsert(http: httpx.AsyncClient, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    body = await gql(http, UPSERT_PRODUCTS, {"input": {"products": items}}, key=key)
    payload: dict[str, Any] = data(body)["upsertProducts"]
    return payload


def outcomes(payload: dict[str, Any]) -> list[str]:
    return [r["outcome"] for r in payload["results"]]


async def handles(http: httpx.AsyncClient, key: str) -> list[str]:
    edges = data(await gql(http, HANDLES, key=key))["products"]["edges"]
    return sorted(e["node"]["handle"] for e in edges)


async def inventory_item(http: httpx.AsyncClient, key: str, sku: str) -> Any:
    body = await gql(http, "query($s: String!) { inventoryItem(sku: $s) { sku } }", {"s": sku},
                     key=key)  # fmt: skip
    return data(body)["inventoryItem"]


async def test_a_bad_product_fails_alone_and_leaves_nothing_behind(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    payload = await upsert(http, staff_key, batch())

    assert (payload["created"], payload["failed"]) == (3, 1)
    assert outcomes(payload) == ["CREATED", "CREATED", "FAILED", "CREATED"]
    assert [r["index"] for r in payload["results"]] == [0, 1, 2, 3]
    failed = payload["results"][2]
    assert failed["handle"] == "bad-shirt"
    assert failed["product"] is None
    assert ("variants[0].barcode", "INVALID_INPUT") in {
        (e["field"], e["code"]) for e in failed["userErrors"]
    }
    assert all(r["product"]["id"] for r in payload["results"] if r["outcome"] == "CREATED")
    assert await handles(http, staff_key) == ["shirt-a", "shirt-b", "shirt-c"]
    assert await inventory_item(http, staff_key, "BAD-S-RED") is None
    assert await inventory_item(http, staff_key, "BAD-M-BLUE") is None
    assert await inventory_item(http, staff_key, "B-M-BLUE") == {"sku": "B-M-BLUE"}


async def test_a_bad_barcode_is_the_only_fault_reported_for_its_product(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    payload = await upsert(http, staff_key, batch())

    # The images really do show BAD-S-RED: the barcode is the product's only fault.
    assert [(e["field"], e["code"]) for e in payload["results"][2]["userErrors"]] == [
        ("variants[0].barcode", "INVALID_INPUT")
    ]


async def test_the_same_batch_again_changes_nothing(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    first = await upsert(http, staff_key, batch())

    again = await upsert(http, staff_key, batch())

    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) == (0, 0, 3, 1)
    assert outcomes(again) == ["UNCHANGED", "UNCHANGED", "FAILED", "UNCHANGED"]
    ids = [r["product"] and r["product"]["id"] for r in first["results"]]
    assert [r["product"] and r["product"]["id"] for r in again["results"]] == ids


async def test_a_changed_product_is_updated_the_rest_unchanged(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    first = await upsert(http, staff_key, batch())
    changed = batch()
    changed[1]["title"] = "Trail Shirt II"

    payload = await upsert(http, staff_key, changed)

    assert outcomes(payload) == ["UNCHANGED", "UPDATED", "FAILED", "UNCHANGED"]
    assert (payload["updated"], payload["unchanged"]) == (1, 2)
    assert payload["results"][1]["product"]["id"] == first["results"][1]["product"]["id"]
    edges = data(await gql(http, HANDLES, key=staff_key))["products"]["edges"]
    titles = {e["node"]["handle"]: e["node"]["title"] for e in edges}
    assert titles == {
        "shirt-a": "Trail Shirt",
        "shirt-b": "Trail Shirt II",
        "shirt-c": "Trail Shirt",
    }


async def test_a_handle_repeated_in_one_batch_fails_the_later_item(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    payload = await upsert(
        http, staff_key, [tee("tee", "T-1", "First"), tee("tee", "T-2", "Second")]
    )

    assert outcomes(payload) == ["CREATED", "FAILED"]
    assert [(e["field"], e["code"]) for e in payload["results"][1]["userErrors"]] == [
        ("handle", "ALREADY_EXISTS")
    ]
    edges = data(await gql(http, HANDLES, key=staff_key))["products"]["edges"]
    assert [e["node"] for e in edges] == [{"handle": "tee", "title": "First"}]
    assert await inventory_item(http, staff_key, "T-2") is None


async def test_a_sku_shared_by_two_items_of_a_batch_fails_the_later_item(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    payload = await upsert(http, staff_key, [tee("tee-one", "T-1"), tee("tee-two", "T-1")])

    assert outcomes(payload) == ["CREATED", "FAILED"]
    assert [(e["field"], e["code"]) for e in payload["results"][1]["userErrors"]] == [
        ("variants[0].sku", "ALREADY_EXISTS")
    ]
    assert await handles(http, staff_key) == ["tee-one"]


async def test_more_than_500_products_is_refused_whole(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    items = [tee(f"tee-{n}", f"T-{n}") for n in range(501)]

    payload = await upsert(http, staff_key, items)

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("products", "INVALID_INPUT")
    ]
    assert payload["results"] == []
    assert payload["created"] == 0
    assert await handles(http, staff_key) == []
    assert await inventory_item(http, staff_key, "T-0") is None


async def test_a_readonly_key_cannot_upsert(http: httpx.AsyncClient, readonly_key: str) -> None:
    body = await gql(http, UPSERT_PRODUCTS, {"input": {"products": [tee("tee", "T-1")]}},
                     key=readonly_key)  # fmt: skip

    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def overlapping(call: int) -> list[dict[str, Any]]:
    """Call n upserts handles n..n+2 of six; a handle's SKUs are the same in every call."""
    return [
        shirt(handle=f"shirt-{h}", sku_prefix=f"S{h}", title=f"Shirt {h} from call {call}")
        for h in range(call, call + 3)
    ]


def reordered(handles: range, round: int, call: int) -> list[dict[str, Any]]:
    """Every product again, retitled; odd calls name them in the opposite order."""
    order = handles if call % 2 == 0 else reversed(handles)
    return [
        shirt(handle=f"shirt-{h}", sku_prefix=f"S{h}", title=f"Shirt {h} r{round} c{call}")
        for h in order
    ]


async def race(http: httpx.AsyncClient, key: str, batches: list[list[dict[str, Any]]]) -> None:
    """Send the batches at once; each item must be answered, never the call fail whole."""
    bodies = await asyncio.gather(
        *(gql(http, UPSERT_PRODUCTS, {"input": {"products": b}}, key=key) for b in batches)
    )
    for body in bodies:
        assert not body.get("errors"), body["errors"]  # e.g. "Unexpected error." on a 500
        payload = body["data"]["upsertProducts"]
        assert payload["userErrors"] == []
        for result in payload["results"]:
            assert result["outcome"] in {"CREATED", "UPDATED", "UNCHANGED", "FAILED"}
            assert (result["outcome"] == "FAILED") == bool(result["userErrors"]), result


async def test_concurrent_overlapping_batches_leave_one_product_per_handle(
    http: httpx.AsyncClient, staff_key: str, container: Container
) -> None:
    web = await create_channel(http, staff_key, "Web", "webstore", "USD")
    await set_listing_rule(http, staff_key, web, selector={"kind": "ALL"})

    await race(http, staff_key, [overlapping(n) for n in range(4)])

    assert await handles(http, staff_key) == [f"shirt-{h}" for h in range(6)]
    async with container.engine.connect() as conn:
        per_handle = (
            await conn.execute(select(products.c.handle, func.count()).group_by(products.c.handle))
        ).all()
        variant_skus = (await conn.execute(select(variants.c.sku))).scalars().all()
        item_skus = (await conn.execute(select(inventory_items.c.sku))).scalars().all()
    assert sorted(per_handle) == [(f"shirt-{h}", 1) for h in range(6)]
    assert len(variant_skus) == 36
    assert sorted(item_skus) == sorted(variant_skus)
    listings = data(
        await gql(http, "{ listings(first: 100) { edges { node { productId } } } }", key=staff_key)
    )["listings"]["edges"]
    assert len({e["node"]["productId"] for e in listings}) == len(listings) == 6


async def test_concurrent_batches_naming_products_in_opposite_orders_are_all_answered(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    web = await create_channel(http, staff_key, "Web", "webstore", "USD")
    await set_listing_rule(http, staff_key, web, selector={"kind": "ALL"})
    twenty = range(20)
    await upsert(http, staff_key, [shirt(handle=f"shirt-{h}", sku_prefix=f"S{h}") for h in twenty])

    # Each round is a race: several rounds of six calls make a bad interleaving near certain
    # on PostgreSQL (before writes were ordered, every run deadlocked).
    for round in range(3):
        await race(http, staff_key, [reordered(twenty, round, n) for n in range(6)])

    assert await handles(http, staff_key) == sorted(f"shirt-{h}" for h in twenty)
