"""Routing by shipping zone: the location that ships to the order's country goes first, then
the one that ships the whole order; the rule that chose is on each line."""

from __future__ import annotations

import uuid
from dataclasses import replace

import httpx
import pytest

from adapters.channels.shopify.adapter import ShopifyChannel
from adapters.channels.shopify.client import ShopifyClient
from adapters.channels.shopify.mapping import ShopifyListingFormat
from adapters.ratelimit.memory import MemoryRateLimiter
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.port import ChannelOrder, ListingRefs
from domain.errors import InvalidFields, NotFound
from domain.inventory import setup
from domain.orders.model import LineStatus
from sandbox.shopify import ShopifySandbox
from tests.integration.orders.conftest import SKU, Hub, channel_order
from tests.unit.channels.drafts import trail_shirt_draft

pytestmark = pytest.mark.usefixtures("backend")
OTHER = "PART-2"
SHIRT = "TRAIL-S-RED"  # a variant of the trail shirt the Shopify sandbox lists
SHOP = "nexo-demo.myshopify.com"


async def _location(hub: Hub, code: str, zones: list[tuple[str, str | None]]) -> uuid.UUID:
    """A warehouse shipping to `zones`, after the hub's own in a new channel's location order
    (the hub's `shop` becomes that channel)."""
    async with hub.container.uow() as uow:
        made = await setup.create_location(uow, code=code, name=code, kind="warehouse")
        await setup.set_location_zones(uow, made.id, zones)
        zoned = await channel_setup.create_channel(
            uow, name="Zoned", kind="shopify", currency="USD", priority=1,
            location_ids=[hub.warehouse, made.id], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    hub.shop = zoned.id
    return made.id


def _to(external_id: str, lines: list[tuple[str, int]], **address: str) -> ChannelOrder:
    return replace(channel_order(external_id, lines), raw={"shipping_address": address})


async def test_an_order_goes_to_the_location_whose_zone_covers_its_country(hub: Hub) -> None:
    eu = await _location(hub, "EU", [("DE", None), ("FR", None)])
    await hub.receive(5)
    await hub.receive(5, eu)

    german = await hub.take(hub.shop, _to("Z-1", [(SKU, 2)], country="de"))
    american = await hub.take(hub.shop, _to("Z-2", [(SKU, 1)], country="US"))
    unknown = await hub.take(hub.shop, channel_order("Z-3"))  # no address: as before zones

    [line] = german.lines
    assert (line.status, line.location_id) == (LineStatus.ALLOCATED, eu)
    assert line.routed_by == "zone DE: whole order from EU"
    # EU's zones leave the US out; the warehouse has none, so it ships everywhere.
    assert american.lines[0].location_id == hub.warehouse
    assert american.lines[0].routed_by == "whole order from WH"
    assert unknown.lines[0].location_id == hub.warehouse
    assert await hub.level(eu) == (5, 2)
    assert await hub.level() == (5, 2)
    await hub.assert_ledger_clean()


async def test_a_shopify_order_to_germany_goes_to_the_eu_location(hub: Hub) -> None:
    eu = await _location(hub, "EU", [("DE", None)])
    async with hub.container.uow() as uow:
        await setup.create_inventory_item(uow, sku=SHIRT)
        await uow.commit()
    await hub.receive(5, sku=SHIRT)
    await hub.receive(5, eu, sku=SHIRT)
    delivered: dict[str, bytes] = {}

    def webhook(request: httpx.Request) -> httpx.Response:
        delivered[request.headers["x-shopify-topic"]] = request.content
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(webhook)) as hooks:
        shop = ShopifySandbox(webhook_url="https://nexo.test/hooks", webhook_client=hooks)
        try:
            pulled, hooked = await _shopify_order_to_munich(shop, delivered)
        finally:
            await shop.aclose()

    order = await hub.take(hub.shop, pulled)

    assert hooked is not None
    assert hooked.raw["shipping_address"] == pulled.raw["shipping_address"]
    assert order.shipping_address == {
        "line1": "Marienplatz 1", "city": "München", "province_code": "BY", "zip": "80331",
        "country": "DE",
    }  # fmt: skip
    [line] = order.lines
    assert (line.location_id, line.routed_by) == (eu, "zone DE-BY: whole order from EU")
    assert await hub.level(eu, sku=SHIRT) == (5, 2)


async def _shopify_order_to_munich(
    shop: ShopifySandbox, delivered: dict[str, bytes]
) -> tuple[ChannelOrder, ChannelOrder | None]:
    """A shirt ordered in the Shopify sandbox to Munich, as the pull and the webhook give it."""
    transport = httpx.ASGITransport(app=shop.app)
    async with httpx.AsyncClient(transport=transport, base_url=f"https://{SHOP}") as http:
        where = shop.add_location("Warehouse")
        client = ShopifyClient(SHOP, "shpat_sandbox", http=http, limiter=MemoryRateLimiter())
        channel = ShopifyChannel(client, location_id=where, webhook_secret="sandbox-secret")
        draft = trail_shirt_draft("shopify", locationId=where)
        await channel.upsert_listing(draft, ShopifyListingFormat().requests(draft), ListingRefs())
        await shop.place_order([(SHIRT, 2)], location_gid=where, shipping_address={
            "address1": "Marienplatz 1", "city": "München", "province_code": "BY",
            "zip": "80331", "country_code": "DE"})  # fmt: skip
        [pulled] = (await channel.fetch_orders(None)).orders
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Event-Id": "e1"}
    return pulled, channel.parse_webhook(headers, delivered["orders/create"]).order


async def test_among_equals_the_location_that_ships_the_whole_order_wins(hub: Hub) -> None:
    async with hub.container.uow() as uow:
        await setup.create_inventory_item(uow, sku=OTHER)
        await uow.commit()
    await setup_zone(hub, hub.warehouse, [("DE", None)])
    whole = await _location(hub, "WH2", [("DE", "BY")])
    await hub.receive(3)  # the first location has one of the two SKUs only
    await hub.receive(3, whole)
    await hub.receive(3, whole, sku=OTHER)

    order = await hub.take(hub.shop, _to("Z-4", [(SKU, 1), (OTHER, 1)], country="DE",
                                         province_code="DE-BY"))  # fmt: skip

    assert {ln.location_id for ln in order.lines} == {whole}
    assert {ln.routed_by for ln in order.lines} == {"zone DE-BY: whole order from WH2"}


async def test_the_zone_goes_before_the_whole_order_and_each_line_says_why(hub: Hub) -> None:
    async with hub.container.uow() as uow:
        await setup.create_inventory_item(uow, sku=OTHER)
        await uow.commit()
    eu = await _location(hub, "EU", [("DE", None)])
    await hub.receive(3)
    await hub.receive(3, sku=OTHER)  # the warehouse (no zones) could ship it all
    await hub.receive(3, eu)  # the zone's location has one SKU: that line goes there

    order = await hub.take(hub.shop, _to("Z-5", [(SKU, 1), (OTHER, 1)], country="DE"))

    by_sku = {ln.sku: ln for ln in order.lines}
    assert by_sku[SKU].location_id == eu
    assert by_sku[SKU].routed_by == "zone DE: split: first location with stock (EU)"
    assert by_sku[OTHER].location_id == hub.warehouse
    assert by_sku[OTHER].routed_by == "split: first location with stock (WH)"


async def setup_zone(hub: Hub, location: uuid.UUID, zones: list[tuple[str, str | None]]) -> None:
    async with hub.container.uow() as uow:
        await setup.set_location_zones(uow, location, zones)
        await uow.commit()


async def test_bad_zones_are_refused_each_named_and_nothing_changes(hub: Hub) -> None:
    await setup_zone(hub, hub.warehouse, [("DE", None)])

    with pytest.raises(InvalidFields) as refused:
        await setup_zone(hub, hub.warehouse, [("XX", None), ("US", "C@"), ("FR", None),
                                              ("fr", "")])  # fmt: skip
    with pytest.raises(NotFound):
        await setup_zone(hub, uuid.uuid4(), [("DE", None)])

    assert [(e.field, e.code.value) for e in refused.value.errors] == [
        ("zones[0].country", "INVALID_INPUT"), ("zones[1].region", "INVALID_INPUT"),
        ("zones[3]", "INVALID_INPUT"),
    ]  # fmt: skip
    async with hub.container.uow(readonly=True) as uow:
        location = await uow.inventory.get_location(hub.warehouse)
    assert location is not None
    assert [str(z) for z in location.zones] == ["DE"]
