"""Configuring a channel's catalog side: prices, rates, overrides, sales, listing rule, secrets.

Every change that can move a published price or listing refreshes the affected listings in
the same transaction, so what Nexo intends is never stale against its own rules.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from domain.catalog.listings import ListingFormats, refresh_listings
from domain.catalog.model import Product, ProductStatus
from domain.catalog.ports import ProductFilter, SecretBox
from domain.catalog.prices import PriceBook, price_on
from domain.catalog.titles import parse_template
from domain.channels.config import ChannelConfig, PriceRuleSpec
from domain.channels.listing import ListingRule, ListingStatus, SelectorKind
from domain.channels.model import Channel
from domain.channels.outbox import Dirty, OutboxKind, mark_dirty
from domain.channels.pricing import ChannelPrice, SalePrice
from domain.errors import InvalidInput, NotFound
from domain.money import Money, exponent
from domain.ports import UnitOfWork

REFRESH_BATCH = 500
MAX_TITLE_LIMIT = 1000
MAX_IMAGE_LIMIT = 250


async def _channel(uow: UnitOfWork, channel_id: uuid.UUID) -> tuple[Channel, ChannelConfig]:
    channel = await uow.channels.get(channel_id)
    if channel is None:
        raise NotFound(f"unknown channel {channel_id}", field="channelId")
    config = await uow.channel_configs.get(channel_id) or ChannelConfig(channel_id)
    return channel, config


async def active_products(uow: UnitOfWork) -> AsyncIterator[list[Product]]:
    """Every active product, whole, in batches."""
    after: str | None = None
    active = ProductFilter(status=ProductStatus.ACTIVE)
    while True:
        page = await uow.catalog.page(first=REFRESH_BATCH, after=after, filter=active)
        if not page:
            return
        ids = [p.id for p in page]
        variants = await uow.catalog.variants_of(ids)
        images = await uow.catalog.images_of(ids)
        yield [
            replace(p, variants=tuple(variants.get(p.id, ())), images=tuple(images.get(p.id, ())))
            for p in page
        ]
        if len(page) < REFRESH_BATCH:
            return
        after = uow.catalog.cursor(page[-1])


async def _refresh_channels(
    uow: UnitOfWork,
    formats: ListingFormats,
    now: datetime,
    channel_ids: set[uuid.UUID] | None,
) -> None:
    async for batch in active_products(uow):
        await refresh_listings(uow, batch, formats, now=now, channel_ids=channel_ids)


async def _refresh_sku(uow: UnitOfWork, sku: str, formats: ListingFormats, now: datetime) -> None:
    variant = (await uow.catalog.variants_by_sku([sku])).get(sku)
    if variant is None:
        return
    product = await uow.catalog.get(variant.product_id)
    if product is not None:
        await refresh_listings(uow, [product], formats, now=now)


async def set_price_rule(
    uow: UnitOfWork,
    channel_id: uuid.UUID,
    rule: PriceRuleSpec,
    formats: ListingFormats,
    *,
    now: datetime,
) -> ChannelConfig:
    channel, config = await _channel(uow, channel_id)
    if rule.markup_percent <= -100:
        raise InvalidInput("a markup is above -100%", field="markupPercent")
    if rule.min_margin_percent is not None and rule.min_margin_percent < 0:
        raise InvalidInput("a minimum margin cannot be negative", field="minMarginPercent")
    if rule.fixed_amount is not None:
        exponent(rule.fixed_amount.currency, field="fixedAmount.currencyCode")
    rule.rounding.modulus_and_rest(channel.currency)  # a rounding the currency cannot meet
    config = replace(config, price_rule=rule, updated_at=now)
    await uow.channel_configs.save(config)
    await _refresh_channels(uow, formats, now, {channel_id})
    return config


async def set_currency_rate(
    uow: UnitOfWork,
    *,
    source: str,
    target: str,
    rate: Decimal,
    formats: ListingFormats,
    now: datetime,
) -> None:
    exponent(source, field="fromCurrency")
    exponent(target, field="toCurrency")
    if source == target:
        raise InvalidInput("a rate converts between two different currencies", field="toCurrency")
    if not rate.is_finite() or rate <= 0:
        raise InvalidInput("a rate is a positive number", field="rate")
    await uow.pricing.set_rate(source, target, rate, now)
    affected = {c.id for c in await uow.channels.all() if c.currency == target}
    if affected:
        await _refresh_channels(uow, formats, now, affected)


async def _variant_channel(
    uow: UnitOfWork, channel_id: uuid.UUID, sku: str, price: Money | None, field: str
) -> Channel:
    channel, _ = await _channel(uow, channel_id)
    if sku not in await uow.catalog.variants_by_sku([sku]):
        raise NotFound(f"no variant has SKU {sku!r}", field="sku")
    if price is not None:
        if price.currency != channel.currency:
            raise InvalidInput(f"prices on {channel.name} are in {channel.currency}", field=field)
        if price.minor < 0:
            raise InvalidInput("a price cannot be negative", field=field)
    return channel


async def set_sku_price_override(
    uow: UnitOfWork,
    *,
    channel_id: uuid.UUID,
    sku: str,
    price: Money | None,
    formats: ListingFormats,
    now: datetime,
) -> None:
    """Fix a SKU's price on one channel (None removes the override)."""
    await _variant_channel(uow, channel_id, sku, price, "price")
    await uow.pricing.set_override(channel_id, sku, price)
    await _refresh_sku(uow, sku, formats, now)


async def schedule_sale_price(
    uow: UnitOfWork,
    *,
    channel_id: uuid.UUID,
    sku: str,
    sale: SalePrice | None,
    formats: ListingFormats,
    now: datetime,
) -> None:
    """Put a SKU on sale on one channel for a period (None cancels the sale)."""
    await _variant_channel(uow, channel_id, sku, sale.price if sale else None, "price")
    if sale is not None and sale.ends_at is not None and sale.ends_at <= sale.starts_at:
        raise InvalidInput("a sale ends after it starts", field="endsAt")
    await uow.pricing.set_sale(channel_id, sku, sale)
    await _refresh_sku(uow, sku, formats, now)


async def set_listing_rule(
    uow: UnitOfWork,
    channel_id: uuid.UUID,
    rule: ListingRule,
    formats: ListingFormats,
    *,
    now: datetime,
) -> ChannelConfig:
    _, config = await _channel(uow, channel_id)
    parse_template(rule.title_template)
    if rule.title_limit is not None and not 1 <= rule.title_limit <= MAX_TITLE_LIMIT:
        raise InvalidInput(f"a title limit is 1-{MAX_TITLE_LIMIT}", field="titleLimit")
    if rule.image_limit is not None and not 1 <= rule.image_limit <= MAX_IMAGE_LIMIT:
        raise InvalidInput(f"an image limit is 1-{MAX_IMAGE_LIMIT}", field="imageLimit")
    selector = rule.selector
    if selector.kind not in (SelectorKind.ALL, SelectorKind.NONE) and not selector.values:
        raise InvalidInput(f"a {selector.kind.value} selector lists values", field="selector")
    known = {str(c.id) for c in await uow.catalog.categories()}
    if selector.kind is SelectorKind.CATEGORIES:
        for value in selector.values:
            if value not in known:
                raise NotFound(f"unknown category {value}", field="selector.values")
    for hub_category in rule.category_map:
        if hub_category not in known:
            raise NotFound(f"unknown category {hub_category}", field="categoryMap")
    config = replace(config, listing_rule=rule, updated_at=now)
    await uow.channel_configs.save(config)
    await _refresh_channels(uow, formats, now, {channel_id})
    return config


async def set_sync_enabled(
    uow: UnitOfWork, channel_id: uuid.UUID, enabled: bool, *, now: datetime
) -> ChannelConfig:
    """Switch sending on or off. Nothing is queued while off; switching on sends everything."""
    _, config = await _channel(uow, channel_id)
    was = config.sync_enabled
    config = replace(config, sync_enabled=enabled, updated_at=now)
    await uow.channel_configs.save(config)
    if enabled and not was:
        await _mark_all_listings(uow, channel_id, now)
    return config


async def _mark_all_listings(uow: UnitOfWork, channel_id: uuid.UUID, now: datetime) -> None:
    for status in (ListingStatus.ACTIVE, ListingStatus.PENDING):
        after: str | None = None
        while True:
            page = await uow.listings.page(
                channel_id=channel_id, status=status, first=REFRESH_BATCH, after=after
            )
            dirty = [Dirty(channel_id, OutboxKind.LISTING, str(x.id)) for x in page]
            await mark_dirty(uow, dirty, now)
            if len(page) < REFRESH_BATCH:
                break
            after = uow.listings.cursor(page[-1])


async def set_channel_credentials(
    uow: UnitOfWork,
    channel_id: uuid.UUID,
    credentials: Mapping[str, str],
    box: SecretBox,
    *,
    now: datetime,
) -> ChannelConfig:
    """Store a channel's credentials sealed; nothing ever reads them back out through the API."""
    _, config = await _channel(uow, channel_id)
    if not credentials or any(not k.strip() or not v for k, v in credentials.items()):
        raise InvalidInput("credentials are non-empty name/value pairs", field="credentials")
    if config.updated_at is None:
        await uow.channel_configs.save(replace(config, updated_at=now))
    sealed = box.seal(json.dumps(dict(credentials), sort_keys=True).encode())
    await uow.channel_configs.set_credentials(channel_id, sealed, now)
    return replace(config, credentials_set=True, updated_at=now)


async def price_for(
    uow: UnitOfWork, *, sku: str, channel_id: uuid.UUID, now: datetime
) -> ChannelPrice:
    """The price `channel_id` shows for `sku` right now, with every step that produced it."""
    channel, config = await _channel(uow, channel_id)
    variant = (await uow.catalog.variants_by_sku([sku])).get(sku)
    if variant is None:
        raise NotFound(f"no variant has SKU {sku!r}", field="sku")
    book = PriceBook(
        rates=await uow.pricing.rates(),
        overrides=await uow.pricing.overrides([sku]),
        sales=await uow.pricing.sales([sku]),
        now=now,
    )
    return price_on(variant, channel, config, book)
