"""The stage the load plays on: two warehouses, a web store, and a channel on each marketplace
sandbox (Shopify, Amazon, eBay, MercadoLibre), a few SKUs (some hot: a handful of units each)
listed on every marketplace.

The web store sells from WH1 only; each marketplace from WH1 and WH2, keeping one unit back
(buffer 1), so web store checkouts and the marketplaces' orders race for the same last units.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.faults.hub import Hub
from bench.faults.marketplaces import NAMES, Marketplace
from bench.faults.recorder import Recorder
from bench.sync import (
    ACCESS_TOKEN,
    API_SECRET,
    SET_CREDENTIALS,
    SET_RULE,
    SHOP_LOCATION,
    UPSERT,
    catalog,
    shop_quantities,
)
from domain.catalog.gtin import check_digit

PREFIX = "FLT"
PRODUCTS, SIZES = 2, 4  # eight SKUs
HOT = 3  # the first SKUs: a few units each, raced for
HOT_STOCK, STOCK = 4, 60
SHOP_BUFFER = 1
TOPICS = ["orders/create", "orders/updated", "inventory_levels/update"]
LISTED_WITHIN = 120.0

CREATE_LOCATION = """
mutation($code: String!) { createLocation(input: {code: $code, name: $code, kind: WAREHOUSE}) {
  location { id } userErrors { field message code } } }"""
CREATE_CHANNEL = """
mutation($input: CreateChannelInput!) {
  createChannel(input: $input) { channel { id } userErrors { field message code } } }"""
SET_POLICY = """
mutation($input: SetStockEditPolicyInput!) {
  setStockEditPolicy(input: $input) { userErrors { field message code } } }"""
CREATE_CATEGORY = """
mutation { createCategory(input: {name: "Harness"}) { category { id } } }"""
SET_LISTING_RULE = """
mutation($input: SetListingRuleInput!) {
  setListingRule(input: $input) { userErrors { field message code } } }"""
RECEIVE = """
mutation($sku: String!, $loc: ID!, $quantity: Int!, $key: String!) { receiveStock(input:
  {sku: $sku, locationId: $loc, quantity: $quantity, idempotencyKey: $key}) {
  levels { onHand } userErrors { field message code } } }"""


@dataclass
class Stage:
    hub: Hub
    shop: httpx.AsyncClient  # the Shopify sandbox (its control routes)
    recorder: Recorder
    markets: dict[str, Marketplace] = field(default_factory=dict)  # the other marketplaces
    webstore: str = ""
    shopify: str = ""
    locations: dict[str, str] = field(default_factory=dict)
    skus: list[str] = field(default_factory=list)
    hot: list[str] = field(default_factory=list)
    shop_up: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def channels(self) -> dict[str, str]:
        """Every marketplace channel: kind -> channel id."""
        return {"shopify": self.shopify, **{k: m.channel for k, m in self.markets.items()}}

    def up(self, kind: str) -> asyncio.Event:
        """Set while the marketplace `kind` answers (cleared while the harness stops it)."""
        return self.shop_up if kind == "shopify" else self.markets[kind].up

    async def hub_offers(self, kinds: list[str] | None = None) -> dict[str, dict[str, int]]:
        """What the hub publishes for each marketplace, per SKU, in one query."""
        chosen = kinds if kinds is not None else list(self.channels)
        fields = " ".join(
            f'a{c}_{n}: channelAvailability(sku: "{sku}", channelId: "{self.channels[kind]}")'
            " { quantity }"
            for c, kind in enumerate(chosen)
            for n, sku in enumerate(self.skus)
        )
        data = await self.hub.read(f"query {{ {fields} }}")
        return {
            kind: {sku: int(data[f"a{c}_{n}"]["quantity"]) for n, sku in enumerate(self.skus)}
            for c, kind in enumerate(chosen)
        }

    async def shop_state(self) -> dict[str, Any]:
        response = await self.shop.get("/_sandbox/state")
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    async def shows(self, kind: str) -> dict[str, int | None]:
        """What the marketplace `kind` offers of each SKU now."""
        if kind != "shopify":
            return await self.markets[kind].shows(self.skus)
        shown = shop_quantities(await self.shop_state())
        return {sku: shown.get(sku) for sku in self.skus}

    async def shop_shows(self) -> dict[str, int | None]:
        return await self.shows("shopify")

    async def sample(self, kinds: list[str] | None = None) -> dict[str, set[str]]:
        """Record what the hub and each marketplace show now; per marketplace, the SKUs they
        disagree on (a marketplace that does not answer is left out)."""
        offers = await self.hub_offers(kinds)
        apart: dict[str, set[str]] = {}
        for kind, hub in offers.items():
            try:
                shown = await self.shows(kind)
            except httpx.HTTPError:
                continue
            self.recorder.sample(hub, shown, channel=kind)
            apart[kind] = {sku for sku, q in hub.items() if shown[sku] != q}
        return apart


async def build(stage: Stage, shop_url: str, shop_domain: str, webhook_base: str) -> None:
    """Locations, channels, the catalog and its stock; returns once every marketplace lists it."""
    read = stage.hub.read
    for code in ("WH1", "WH2"):
        stage.locations[code] = (await read(CREATE_LOCATION, code=code))["createLocation"][
            "location"
        ]["id"]
    wh1, wh2 = stage.locations["WH1"], stage.locations["WH2"]
    stage.shopify = await _channel(stage, "Shopify", "SHOPIFY", [wh1, wh2], SHOP_BUFFER)
    stage.webstore = await _channel(stage, "Web store", "WEBSTORE", [wh1], 0)
    credentials = {
        "shop_domain": shop_domain,
        "access_token": ACCESS_TOKEN,
        "api_secret": API_SECRET,
        "api_url": shop_url,
    }
    await _credentials(stage, stage.shopify, credentials)
    await read(SET_RULE, id=stage.shopify, loc=SHOP_LOCATION)
    category = (await read(CREATE_CATEGORY))["createCategory"]["category"]["id"]
    for kind, market in stage.markets.items():
        market.channel = await _channel(stage, NAMES[kind], kind.upper(), [wh1, wh2], SHOP_BUFFER)
        await _credentials(stage, market.channel, market.credentials)
        rule: dict[str, Any] = {
            "channelId": market.channel,
            "selector": {"kind": "ALL"},
            "settings": [{"name": k, "value": v} for k, v in market.settings.items()],
        }
        if market.category:
            rule["categoryMap"] = [{"categoryId": category, "channelCategoryId": market.category}]
        await read(SET_LISTING_RULE, input=rule)
        await market.subscribe(f"{webhook_base}/webhooks/{market.channel}")
    products = listable(catalog(PREFIX, PRODUCTS, SIZES), category)
    upserted = (await read(UPSERT, input={"products": products}))["upsertProducts"]
    if upserted["failed"]:
        raise RuntimeError(f"the catalog was refused: {upserted['results']}")
    stage.skus = [v["sku"] for p in products for v in p["variants"]]
    stage.hot = stage.skus[:HOT]
    for sku in stage.skus:
        hot = sku in stage.hot
        await read(
            RECEIVE, sku=sku, loc=wh1, quantity=HOT_STOCK if hot else STOCK, key=f"setup-{sku}-1"
        )
        if not hot:
            await read(RECEIVE, sku=sku, loc=wh2, quantity=STOCK // 4, key=f"setup-{sku}-2")
    hook = {"url": f"{webhook_base}/webhooks/{stage.shopify}", "topics": TOPICS}
    (await stage.shop.post("/_sandbox/webhooks", json=hook)).raise_for_status()
    await _listed(stage)
    for kind in stage.channels:
        stage.up(kind).set()


def listable(products: list[dict[str, Any]], category: str) -> list[dict[str, Any]]:
    """The bench catalog with what Amazon, eBay and MercadoLibre need to list a product: a
    brand, a description, a picture, a category and a GTIN per variant."""
    for p, product in enumerate(products):
        product.update(
            brand="Nexo Harness",
            descriptionHtml=f"<p>{product['title']}, made to be raced for.</p>",
            images=[{"url": f"https://img.example/harness/{product['handle']}.jpg"}],
            categoryId=category,
        )
        for v, variant in enumerate(product["variants"]):
            body = f"0614142{p:03d}{v:02d}"
            variant["barcode"] = body + str(check_digit(body))
    return products


async def set_policy(stage: Stage, policy: str, also: Sequence[str] = ()) -> None:
    """The shop's stock-edit policy, and the marketplaces' named in `also` (the others keep
    the default, HUB_WINS)."""
    channels = [stage.shopify, *(stage.markets[kind].channel for kind in also)]
    for channel in channels:
        await stage.hub.read(SET_POLICY, input={"channelId": channel, "policy": policy})


async def _credentials(stage: Stage, channel: str, credentials: dict[str, str]) -> None:
    given = [{"name": k, "value": v} for k, v in credentials.items()]
    await stage.hub.read(SET_CREDENTIALS, input={"channelId": channel, "credentials": given})


async def _channel(stage: Stage, name: str, kind: str, locations: list[str], buffer: int) -> str:
    created = await stage.hub.read(
        CREATE_CHANNEL,
        input={
            "name": name,
            "kind": kind,
            "currency": "USD",
            "locationIds": locations,
            "bufferQuantity": buffer,
        },
    )
    channel: str = created["createChannel"]["channel"]["id"]
    return channel


async def _listed(stage: Stage) -> None:
    deadline = time.monotonic() + LISTED_WITHIN
    waiting = list(stage.channels)
    while True:
        apart = await stage.sample(waiting)
        waiting = [kind for kind in waiting if apart.get(kind) != set()]
        if not waiting:
            return
        if time.monotonic() > deadline:
            offers = await stage.hub_offers(waiting)
            shown = {kind: await stage.shows(kind) for kind in waiting}
            raise RuntimeError(f"not listed in time: hub {offers}, marketplaces {shown}")
        await asyncio.sleep(0.5)
