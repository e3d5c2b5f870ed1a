"""Listing automation: each product is listed where a channel's selector wants it, and only there.

After any change to products or to a channel's rules, `refresh_listings` recomputes what
each channel should show. A product a selector picks gets a listing (`pending` until the
channel confirms it); one that fails the channel's checks gets `error` with every problem
and is never sent; one no longer picked (or archived) has its listing `ended`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.catalog.drafts import DraftResult, build_draft, content_hash
from domain.catalog.model import Product
from domain.catalog.prices import PriceBook, price_on
from domain.catalog.selectors import CategoryTree, selects
from domain.channels.availability import AvailabilityRule
from domain.channels.config import ChannelConfig
from domain.channels.listing import (
    ChannelRequest,
    Listing,
    ListingDraft,
    ListingFormat,
    ListingItem,
    ListingStatus,
)
from domain.channels.model import Channel, ChannelForSku
from domain.channels.outbox import listing_dirty, mark_dirty
from domain.channels.pricing import ChannelPrice
from domain.errors import DomainError, NotFound
from domain.inventory.events import availability_on
from domain.inventory.model import SkuSnapshot
from domain.money import Money
from domain.ports import UnitOfWork

ListingFormats = Mapping[str, ListingFormat]


@dataclass
class _Context:
    """What refreshing a batch of products reads once."""

    channels: list[Channel]
    configs: dict[uuid.UUID, ChannelConfig]
    tree: CategoryTree
    book: PriceBook
    snapshots: dict[str, SkuSnapshot]
    availability_overrides: Mapping[tuple[uuid.UUID, str], AvailabilityRule]


async def _context(
    uow: UnitOfWork,
    products: Sequence[Product],
    now: datetime,
    channel_ids: Collection[uuid.UUID] | None,
) -> _Context:
    skus = [v.sku for p in products for v in p.variants]
    channels = [c for c in await uow.channels.all() if channel_ids is None or c.id in channel_ids]
    return _Context(
        channels=channels,
        configs=await uow.channel_configs.all(),
        tree=CategoryTree(await uow.catalog.categories()),
        book=PriceBook(
            rates=await uow.pricing.rates(),
            overrides=await uow.pricing.overrides(skus),
            sales=await uow.pricing.sales(skus),
            now=now,
        ),
        snapshots=await uow.inventory.snapshots(skus) if skus else {},
        availability_overrides=await uow.channels.overrides_for(skus) if skus else {},
    )


def _draft_for(product: Product, channel: Channel, ctx: _Context) -> DraftResult:
    config = ctx.configs.get(channel.id)
    rule = config.listing_rule if config else ChannelConfig(channel.id).listing_rule
    prices: dict[str, ChannelPrice | DomainError] = {}
    quantities: dict[str, int] = {}
    for variant in product.variants:
        try:
            prices[variant.sku] = price_on(variant, channel, config, ctx.book)
        except DomainError as error:
            prices[variant.sku] = error
        snapshot = ctx.snapshots.get(variant.sku)
        if snapshot is not None:
            override = ctx.availability_overrides.get((channel.id, variant.sku))
            entry = ChannelForSku(channel, override)
            quantities[variant.sku] = availability_on(snapshot, entry).quantity
    return build_draft(product, channel, rule, ctx.tree, prices, quantities)


def _listing(
    product: Product,
    channel: Channel,
    result: DraftResult,
    formats: ListingFormats,
    current: Listing | None,
    now: datetime,
) -> Listing:
    problems = list(result.problems)
    fmt = formats.get(channel.kind.value)
    if fmt is not None:
        # The hub's own checks and the channel's can find the same fault: list it once.
        seen = {(p.field, p.code) for p in problems}
        problems.extend(p for p in fmt.problems(result.draft) if (p.field, p.code) not in seen)
    confirmed = {i.sku: i for i in current.items} if current else {}
    items = tuple(
        _intended(confirmed.get(v.sku), v.sku, v.price, v.compare_at, v.quantity)
        for v in result.draft.variants
    )
    digest = content_hash(result.draft)
    if problems:
        status = ListingStatus.ERROR
    elif (
        current is not None
        and current.status is ListingStatus.ACTIVE
        and _confirmed_all(current, digest, items)
    ):
        status = ListingStatus.ACTIVE
    else:
        status = ListingStatus.PENDING
    return Listing(
        id=current.id if current else uuid.uuid4(),
        channel_id=channel.id,
        product_id=product.id,
        status=status,
        problems=tuple(problems),
        content_hash=digest,
        confirmed_content_hash=current.confirmed_content_hash if current else None,
        external_id=current.external_id if current else None,
        created_at=current.created_at if current else now,
        updated_at=now,
        items=items,
    )


def _intended(
    known: ListingItem | None,
    sku: str,
    price: Money,
    compare_at: Money | None,
    quantity: int,
) -> ListingItem:
    """The item with new intentions, keeping what the channel last confirmed."""
    if known is None:
        return ListingItem(sku, price, compare_at, quantity)
    return replace(
        known, intended_price=price, intended_compare_at=compare_at, intended_quantity=quantity
    )


def _confirmed_all(current: Listing, digest: str, items: tuple[ListingItem, ...]) -> bool:
    return current.confirmed_content_hash == digest and all(
        i.confirmed_price == i.intended_price and i.confirmed_quantity == i.intended_quantity
        for i in items
    )


def _same(a: Listing, b: Listing) -> bool:
    return (a.status, a.problems, a.content_hash, a.items) == (
        b.status,
        b.problems,
        b.content_hash,
        b.items,
    )


async def refresh_listings(
    uow: UnitOfWork,
    products: Sequence[Product],
    formats: ListingFormats,
    *,
    now: datetime,
    channel_ids: Collection[uuid.UUID] | None = None,
) -> list[Listing]:
    """Bring the products' listings in line with every channel's rules; returns those changed."""
    if not products:
        return []
    ctx = await _context(uow, products, now, channel_ids)
    existing = {
        (listing.channel_id, listing.product_id): listing
        for listing in await uow.listings.for_products([p.id for p in products])
    }
    changed: list[Listing] = []
    removed: list[tuple[uuid.UUID, str]] = []
    for product in products:
        for channel in ctx.channels:
            config = ctx.configs.get(channel.id)
            rule = config.listing_rule if config else ChannelConfig(channel.id).listing_rule
            current = existing.get((channel.id, product.id))
            if not selects(rule.selector, product, ctx.tree):
                if current is not None and current.status is not ListingStatus.ENDED:
                    changed.append(replace(current, status=ListingStatus.ENDED, updated_at=now))
                continue
            listing = _listing(
                product, channel, _draft_for(product, channel, ctx), formats, current, now
            )
            if current is None or not _same(listing, current):
                changed.append(listing)
                if current is not None:
                    kept = {i.sku for i in listing.items}
                    removed.extend((current.id, i.sku) for i in current.items if i.sku not in kept)
    await uow.listings.save(changed, removed)
    await mark_dirty(uow, listing_dirty(changed), now)
    return changed


@dataclass(frozen=True, slots=True)
class Rendered:
    """A product rendered for one channel: the listing Nexo intends, its draft, its requests."""

    listing: Listing
    draft: ListingDraft
    requests: list[ChannelRequest]


async def render(
    uow: UnitOfWork,
    product_id: uuid.UUID,
    channel_id: uuid.UUID,
    formats: ListingFormats,
    *,
    now: datetime,
) -> Rendered:
    """What `channel_id` would be sent for the product right now, and what stops it."""
    product = await uow.catalog.get(product_id)
    if product is None:
        raise NotFound(f"unknown product {product_id}", field="productId")
    ctx = await _context(uow, [product], now, {channel_id})
    if not ctx.channels:
        raise NotFound(f"unknown channel {channel_id}", field="channelId")
    channel = ctx.channels[0]
    result = _draft_for(product, channel, ctx)
    listing = _listing(product, channel, result, formats, None, now)
    fmt = formats.get(channel.kind.value)
    requests = fmt.requests(result.draft) if fmt is not None else []
    return Rendered(listing, result.draft, requests)


async def preview(
    uow: UnitOfWork,
    product_id: uuid.UUID,
    channel_id: uuid.UUID,
    formats: ListingFormats,
    *,
    now: datetime,
) -> tuple[Listing, list[dict[str, object]]]:
    """The listing `render` gives, with its requests as plain JSON-ready dicts."""
    rendered = await render(uow, product_id, channel_id, formats, now=now)
    calls: list[dict[str, object]] = [
        {"method": r.method, "path": r.path, "body": r.body} for r in rendered.requests
    ]
    return rendered.listing, calls
