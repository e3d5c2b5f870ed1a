"""A hub connected to the Shopify sandbox: one location, one Shopify channel, one product."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.channels.shopify.connect import shopify_factory
from adapters.container import Container
from adapters.ratelimit import MemoryRateLimiter
from domain.catalog import channel_settings, products
from domain.catalog.gtin import check_digit
from domain.catalog.model import ProductOption, ProductSpec, VariantSpec
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.listing import ListingRule, Selector, SelectorKind
from domain.inventory import setup
from domain.money import Money
from domain.sync.relay import Relay
from sandbox.shopify import ShopifySandbox

SHOP_LOCATION = "gid://shopify/Location/1"
SKUS = ("TEE-S", "TEE-M", "TEE-L")
CREDENTIALS = {
    "shop_domain": "nexo-demo.myshopify.com",
    "access_token": "shpat_sandbox",
    "api_secret": "sandbox-secret",
}


@dataclass
class Clock:
    """The relay's clock: real time plus what the test skipped, so retries come due when the
    test says so, and marks made by the services (at real time) are due for the relay too."""

    skipped: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped

    def advance(self, seconds: float) -> None:
        self.skipped += timedelta(seconds=seconds)


@dataclass
class Shop:
    container: Container
    sandbox: ShopifySandbox
    channel_id: uuid.UUID
    location_id: uuid.UUID
    product_id: uuid.UUID
    relay: Relay
    clock: Clock

    def calls(self, root: str) -> list[dict[str, Any]]:
        return [c for c in self.sandbox.calls if root in json.dumps(c)]

    async def drain(self) -> int:
        """Run the relay until nothing is due now; returns how many runs claimed rows."""
        runs = 0
        while await self.relay.drain(self.channel_id):
            runs += 1
        return runs


def sandbox_client(sandbox: ShopifySandbox) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url="https://nexo-demo.myshopify.com",
    )


def gtin(n: int) -> str:
    body = f"400638133{n:03d}"
    return body + str(check_digit(body))


async def open_shop(container: Container, sandbox: ShopifySandbox, http: httpx.AsyncClient) -> Shop:
    container.connector.register("shopify", shopify_factory(http, MemoryRateLimiter()))
    clock = Clock()
    relay = Relay(container.uow, container.connector, container.listing_formats, clock=clock,
                  jitter=lambda: 0.5)  # fmt: skip
    now = clock()
    formats = container.listing_formats
    async with container.uow() as uow:
        location = await setup.create_location(uow, code="wh", name="Warehouse", kind="warehouse")
        channel = await channel_setup.create_channel(
            uow, name="Shopify", kind="shopify", currency="USD", priority=1,
            location_ids=[location.id], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    async with container.uow() as uow:
        await channel_settings.set_channel_credentials(
            uow, channel.id, CREDENTIALS, container.secrets, now=now
        )
        rule = ListingRule(
            selector=Selector(SelectorKind.ALL), settings={"locationId": SHOP_LOCATION}
        )
        await channel_settings.set_listing_rule(uow, channel.id, rule, formats, now=now)
        spec = ProductSpec(
            handle="tee", title="Tee", brand="Acme",
            options=(ProductOption("Size", ("S", "M", "L")),),
            variants=tuple(
                VariantSpec(sku, (sku[-1],), Money(1500, "USD"), barcode=gtin(n))
                for n, sku in enumerate(SKUS)
            ),
        )  # fmt: skip
        product = await products.create_product(uow, spec, formats, now=now)
        await uow.commit()
    return Shop(container, sandbox, channel.id, location.id, product.id, relay, clock)
