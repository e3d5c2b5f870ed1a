"""Seeding the demo once: a warehouse, a channel per marketplace sandbox and a web store, all
fed by it, listing everything; the catalog with its starting stock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from adapters.container import Container
from adapters.logging import get_logger
from domain.catalog import channel_settings, products
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.listing import ListingRule, Selector, SelectorKind
from domain.clock import utcnow
from domain.inventory import setup, stock
from domain.ports import UnitOfWork
from sandbox.demo.catalog import CATEGORY, catalog
from sandbox.demo.marketplaces import Marketplace

log = get_logger(__name__)

WEB_STORE_CHANNEL = "Web store"


@dataclass(frozen=True)
class Demo:
    """What the seed made (or found): the ids the traffic and the webhooks need."""

    location_id: uuid.UUID
    channels: dict[str, uuid.UUID]  # kind -> channel id ("webstore" included)


async def _found(container: Container, markets: list[Marketplace]) -> Demo | None:
    async with container.uow(readonly=True) as uow:
        locations = await uow.inventory.list_locations()
        channels = {c.name: c for c in await uow.channels.all()}
    wanted = [m.name for m in markets] + [WEB_STORE_CHANNEL]
    if not locations or any(name not in channels for name in wanted):
        return None
    return Demo(locations[0].id, {channels[name].kind.value: channels[name].id for name in wanted})


async def _connect(
    uow: UnitOfWork, container: Container, market: Marketplace, location_id: uuid.UUID,
    category_id: uuid.UUID, base_url: str,
) -> uuid.UUID:  # fmt: skip
    now = utcnow()
    channel = await channel_setup.create_channel(
        uow, name=market.name, kind=market.kind, currency="USD", priority=2,
        location_ids=[location_id], rule=AvailabilityRule(buffer_quantity=market.buffer),
    )  # fmt: skip
    await channel_settings.set_channel_credentials(
        uow, channel.id, market.credentials_at(base_url), container.secrets, now=now
    )
    categories = {str(category_id): market.channel_category} if market.channel_category else {}
    rule = ListingRule(
        selector=Selector(SelectorKind.ALL), settings=market.settings, category_map=categories
    )
    await channel_settings.set_listing_rule(
        uow, channel.id, rule, container.listing_formats, now=now
    )
    return channel.id


async def seed_demo(container: Container, markets: list[Marketplace], base_url: str) -> Demo:
    """Create the demo's location, channels and catalog once; later starts find them."""
    found = await _found(container, markets)
    if found is not None:
        return found
    now = utcnow()
    async with container.uow() as uow:
        location = await setup.create_location(uow, code="MAIN", name="Main warehouse",
                                               kind="warehouse")  # fmt: skip
        category = await products.create_category(uow, name=CATEGORY, parent_id=None)
        channels = {
            m.kind: await _connect(uow, container, m, location.id, category.id, base_url)
            for m in markets
        }
        web = await channel_setup.create_channel(
            uow, name=WEB_STORE_CHANNEL, kind="webstore", currency="USD", priority=1,
            location_ids=[location.id], rule=AvailabilityRule(),
        )  # fmt: skip
        await channel_settings.set_listing_rule(
            uow, web.id, ListingRule(selector=Selector(SelectorKind.ALL)),
            container.listing_formats, now=now,
        )  # fmt: skip
        channels["webstore"] = web.id
        for spec, _ in catalog(category.id):
            await products.create_product(uow, spec, container.listing_formats, now=now)
        await uow.commit()
    for _, quantities in catalog():
        for sku, quantity in quantities.items():
            await stock.receive(
                container.uow, sku=sku, location_id=location.id, quantity=quantity,
                key=f"demo-receive-{sku}", actor="demo",
            )  # fmt: skip
    log.info("demo.seeded", channels=len(channels), products=len(catalog()))
    return Demo(location.id, channels)
