"""The stage the load plays on: two warehouses, a web store and a Shopify channel on the
sandbox, a few SKUs (some hot: a handful of units each) listed on the shop.

The web store sells from WH1 only; the shop from WH1 and WH2, keeping one unit back (buffer
1), so web store checkouts and shop orders race for the same last units.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.faults.hub import Hub
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
RECEIVE = """
mutation($sku: String!, $loc: ID!, $quantity: Int!, $key: String!) { receiveStock(input:
  {sku: $sku, locationId: $loc, quantity: $quantity, idempotencyKey: $key}) {
  levels { onHand } userErrors { field message code } } }"""


@dataclass
class Stage:
    hub: Hub
    shop: httpx.AsyncClient  # the sandbox (its control routes)
    recorder: Recorder
    webstore: str = ""
    shopify: str = ""
    locations: dict[str, str] = field(default_factory=dict)
    skus: list[str] = field(default_factory=list)
    hot: list[str] = field(default_factory=list)
    shop_up: asyncio.Event = field(default_factory=asyncio.Event)

    async def hub_offers(self) -> dict[str, int]:
        """What the hub publishes for the shop, per SKU, in one query."""
        fields = " ".join(
            f'a{n}: channelAvailability(sku: "{sku}", channelId: $c) {{ quantity }}'
            for n, sku in enumerate(self.skus)
        )
        data = await self.hub.read(f"query($c: ID!) {{ {fields} }}", c=self.shopify)
        return {sku: int(data[f"a{n}"]["quantity"]) for n, sku in enumerate(self.skus)}

    async def shop_state(self) -> dict[str, Any]:
        response = await self.shop.get("/_sandbox/state")
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        return state

    async def shop_shows(self) -> dict[str, int | None]:
        shown = shop_quantities(await self.shop_state())
        return {sku: shown.get(sku) for sku in self.skus}

    async def sample(self) -> bool:
        """Record what both sides show now; whether they agree on every SKU."""
        hub = await self.hub_offers()
        shop = await self.shop_shows()
        self.recorder.sample(hub, shop)
        return all(shop[sku] == q for sku, q in hub.items())


async def build(stage: Stage, shop_url: str, shop_domain: str, webhook_base: str) -> None:
    """Locations, channels, the catalog and its stock; returns once the shop lists it all."""
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
    await read(
        SET_CREDENTIALS,
        input={
            "channelId": stage.shopify,
            "credentials": [{"name": k, "value": v} for k, v in credentials.items()],
        },
    )
    await read(SET_RULE, id=stage.shopify, loc=SHOP_LOCATION)
    products = catalog(PREFIX, PRODUCTS, SIZES)
    await read(UPSERT, input={"products": products})
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
    stage.shop_up.set()


async def set_policy(stage: Stage, policy: str) -> None:
    await stage.hub.read(SET_POLICY, input={"channelId": stage.shopify, "policy": policy})


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
    while True:
        hub, shop = await stage.hub_offers(), await stage.shop_shows()
        if all(shop[sku] == q for sku, q in hub.items()):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the shop never listed the stage: hub {hub}, shop {shop}")
        await asyncio.sleep(0.5)
