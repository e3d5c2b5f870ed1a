"""The embedded demo (`make run`): a Shopify sandbox inside the process, a web store, a catalog.

`nexo-sandbox demo` (dev only) serves the app `nexo serve` serves, with a Shopify sandbox
mounted at `/sandbox/shopify`; on first start it seeds a warehouse, a "Shopify (sandbox)"
channel connected to it, a "Web store" channel and a small catalog with stock. Changing
stock in Nexo then shows up in the sandbox's state (`GET /sandbox/shopify/_sandbox/state`)
within a second, and an edit made in the sandbox (`POST /sandbox/shopify/_sandbox/inventory`)
comes back as a signed webhook. The sandbox is an emulator for trying Nexo out: production
code never imports it, and this module is where the two meet.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import Mount

from adapters.container import Container
from adapters.logging import get_logger
from adapters.settings import load_settings
from api.app import create_app
from domain.catalog import channel_settings, products
from domain.catalog.gtin import check_digit
from domain.catalog.model import Attribute, Image, ProductOption, ProductSpec, VariantSpec
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.listing import ListingRule, Selector, SelectorKind
from domain.clock import utcnow
from domain.inventory import setup, stock
from domain.money import Money
from sandbox.shopify import ShopifySandbox

log = get_logger(__name__)

SANDBOX_PATH = "/sandbox/shopify"
SHOPIFY_CHANNEL = "Shopify (sandbox)"
WEB_STORE_CHANNEL = "Web store"
SHOP_LOCATION = "gid://shopify/Location/1"


@dataclass(frozen=True)
class Demo:
    shopify_channel_id: uuid.UUID
    web_store_channel_id: uuid.UUID


def _gtin(n: int) -> str:
    body = f"061414199{n:03d}"
    return body + str(check_digit(body))


def _catalog() -> list[tuple[ProductSpec, dict[str, int]]]:
    sizes = ("S", "M", "L")
    tee = ProductSpec(
        handle="trail-tee", title="Trail Tee", brand="Nexo Outdoors", tags=("summer",),
        description_html="<p>A light merino tee for long days on the trail.</p>",
        attributes=(Attribute("Material", "Merino wool"),),
        options=(ProductOption("Size", sizes),),
        images=(Image("https://img.example/nexo/trail-tee.jpg", "Trail Tee"),),
        variants=tuple(
            VariantSpec(f"TEE-{s}", (s,), Money(2500, "USD"), barcode=_gtin(n),
                        cost=Money(900, "USD"))
            for n, s in enumerate(sizes)
        ),
    )  # fmt: skip
    mug = ProductSpec(
        handle="camp-mug", title="Camp Mug", brand="Nexo Outdoors",
        options=(), variants=(VariantSpec("MUG-1", (), Money(1400, "USD"), barcode=_gtin(10)),),
    )  # fmt: skip
    socks = ProductSpec(
        handle="wool-socks", title="Wool Socks", brand="Nexo Outdoors", tags=("winter",),
        options=(ProductOption("Size", ("M", "L")),),
        variants=(
            VariantSpec("SOCK-M", ("M",), Money(1200, "USD"), barcode=_gtin(20)),
            VariantSpec("SOCK-L", ("L",), Money(1200, "USD"), barcode=_gtin(21)),
        ),
    )  # fmt: skip
    return [
        (tee, {"TEE-S": 12, "TEE-M": 20, "TEE-L": 8}),
        (mug, {"MUG-1": 30}),
        (socks, {"SOCK-M": 15, "SOCK-L": 4}),
    ]


async def seed_demo(container: Container, base_url: str) -> Demo:
    """Create the demo's location, channels and catalog once; later starts find them."""
    async with container.uow(readonly=True) as uow:
        shopify = await uow.channels.get_by_name(SHOPIFY_CHANNEL)
        web = await uow.channels.get_by_name(WEB_STORE_CHANNEL)
    if shopify is not None and web is not None:
        return Demo(shopify.id, web.id)
    now = utcnow()
    formats = container.listing_formats
    async with container.uow() as uow:
        location = await setup.create_location(uow, code="MAIN", name="Main warehouse",
                                               kind="warehouse")  # fmt: skip
        shopify = await channel_setup.create_channel(
            uow, name=SHOPIFY_CHANNEL, kind="shopify", currency="USD", priority=2,
            location_ids=[location.id], rule=AvailabilityRule(buffer_quantity=1),
        )  # fmt: skip
        web = await channel_setup.create_channel(
            uow, name=WEB_STORE_CHANNEL, kind="webstore", currency="USD", priority=1,
            location_ids=[location.id], rule=AvailabilityRule(),
        )  # fmt: skip
        await channel_settings.set_channel_credentials(
            uow,
            shopify.id,
            {
                "shop_domain": "nexo-demo.myshopify.com",
                "access_token": "shpat_sandbox",
                "api_secret": "sandbox-secret",
                "api_url": f"{base_url}{SANDBOX_PATH}",
            },
            container.secrets,
            now=now,
        )
        every = Selector(SelectorKind.ALL)
        await channel_settings.set_listing_rule(
            uow, shopify.id, ListingRule(selector=every, settings={"locationId": SHOP_LOCATION}),
            formats, now=now,
        )  # fmt: skip
        await channel_settings.set_listing_rule(
            uow, web.id, ListingRule(selector=every), formats, now=now
        )
        for spec, _ in _catalog():
            await products.create_product(uow, spec, formats, now=now)
        await uow.commit()
    for _, quantities in _catalog():
        for sku, quantity in quantities.items():
            await stock.receive(
                container.uow, sku=sku, location_id=location.id, quantity=quantity,
                key=f"demo-receive-{sku}", actor="demo",
            )  # fmt: skip
    log.info("demo.seeded", channels=2, products=len(_catalog()))
    return Demo(shopify.id, web.id)


def create_demo_app() -> Starlette:
    """The app `nexo serve` builds, with the Shopify sandbox mounted and the demo seeded on
    start (uvicorn's factory in the demo's process)."""
    settings = load_settings()
    shop = ShopifySandbox(deliver_in_background=True)

    @asynccontextmanager
    async def with_the_shop(container: Container) -> AsyncIterator[None]:
        # A mounted app's lifespan is not run by Starlette: run the sandbox's here.
        async with shop.app.router.lifespan_context(shop.app):
            base = f"http://{settings.host}:{settings.port}"
            demo = await seed_demo(container, base)
            shop.webhooks.url = f"{base}/webhooks/{demo.shopify_channel_id}"
            yield

    return create_app(settings, mounts=[Mount(SANDBOX_PATH, app=shop.app)], on_start=with_the_shop)
