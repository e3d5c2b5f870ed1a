"""Publishing: the catalog reaches the channel, variants as variants, and the hub knows it."""

from __future__ import annotations

from decimal import Decimal

from tests.contract.hub import MUG, SHIRTS, STOCK, Hub

UPDATE_TITLE = """
mutation($i: UpdateProductInput!) { updateProduct(input: $i) { userErrors { field message code } } }
"""


async def test_a_product_with_variants_and_a_single_variant_product_are_published(
    hub: Hub,
) -> None:
    shown = {sku: await hub.channel.item(sku) for sku in (*SHIRTS, MUG)}

    assert all(item is not None for item in shown.values()), shown
    shirt = {item.listing for sku, item in shown.items() if item and sku != MUG}
    mug = shown[MUG]
    assert mug is not None
    assert len(shirt) == 1  # the six variants under one listing
    assert mug.listing not in shirt
    assert {sku: item.quantity for sku, item in shown.items() if item} == {
        sku: STOCK.get(sku, 0) for sku in shown
    }
    assert {sku: item.price for sku, item in shown.items() if item} == {
        **dict.fromkeys(SHIRTS, Decimal("20.00")),
        MUG: Decimal("9.50"),
    }
    assert "Trail Shirt" in shown[SHIRTS[0]].title  # type: ignore[union-attr]
    assert "Camp Mug" in mug.title


async def test_the_hub_records_what_the_channel_confirmed_of_each_listing(hub: Hub) -> None:
    listings = await hub.listings()

    assert [(n["status"], len(n["items"])) for n in listings] == [("ACTIVE", 1), ("ACTIVE", 6)]
    for listing in listings:
        assert listing["externalId"], listing
        assert listing["confirmedContentHash"] == listing["contentHash"]
        assert listing["problems"] == []
        for item in listing["items"]:
            published = await hub.published(item["sku"])
            assert item["confirmedQuantity"] == published == STOCK.get(item["sku"], 0)
    calls = {(c["operation"], c["outcome"]) for c in await hub.calls()}
    assert calls == {("upsert_listing", "OK"), ("push_quantities", "OK")}
    assert (await hub.status())["pending"] == 0


async def test_a_changed_product_is_published_again(hub: Hub) -> None:
    [mug] = [n for n in await hub.listings() if n["items"][0]["sku"] == MUG]

    await hub.change(UPDATE_TITLE, "updateProduct", i={"id": mug["productId"],
                                                       "title": "Camp Mug Deluxe"})  # fmt: skip
    await hub.settle()

    shown = await hub.channel.item(MUG)
    assert shown is not None
    assert "Camp Mug Deluxe" in shown.title
    [again] = [n for n in await hub.listings() if n["productId"] == mug["productId"]]
    assert again["externalId"] == mug["externalId"]  # the same listing, updated
    assert again["confirmedContentHash"] == again["contentHash"] != mug["contentHash"]
