"""Catalog queries: products, variants, categories, prices, listings and previews."""

from __future__ import annotations

import strawberry

from adapters.db.repositories.listings import listing_cursor
from api.schema.catalog.types import (
    Category,
    ChannelPrice,
    Listing,
    ListingPreview,
    ListingStatus,
    Product,
    ProductStatus,
    Variant,
)
from api.schema.context import Info
from api.schema.errors import query_errors
from api.schema.ids import parse_id
from api.schema.pagination import Connection, connection, page_size
from domain.catalog import channel_settings, listings
from domain.catalog.model import ProductStatus as DomainProductStatus
from domain.catalog.ports import ProductFilter as DomainProductFilter
from domain.catalog.selectors import CategoryTree
from domain.channels.listing import ListingStatus as DomainListingStatus
from domain.clock import utcnow


@strawberry.input
class ProductFilter:
    search: str | None = strawberry.field(default=None, description="In titles, handles, SKUs.")
    sku: str | None = None
    tag: str | None = None
    category_id: strawberry.ID | None = strawberry.field(
        default=None, description="The category and everything under it."
    )
    brand: str | None = None
    status: ProductStatus | None = None


@strawberry.type
class CatalogQuery:
    @strawberry.field
    async def product(self, info: Info, id: strawberry.ID) -> Product | None:
        with query_errors():
            product_id = parse_id(id, "id")
        async with info.context.container.uow(readonly=True) as uow:
            found = await uow.catalog.get(product_id)
        return Product.from_domain(found) if found else None

    @strawberry.field(description="Products, newest first.")
    async def products(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: ProductFilter | None = None,
    ) -> Connection[Product]:
        wanted = filter or ProductFilter()
        with query_errors():
            size = page_size(first)
            async with info.context.container.uow(readonly=True) as uow:
                category_ids = None
                if wanted.category_id is not None:
                    tree = CategoryTree(await uow.catalog.categories())
                    category_ids = tree.subtree(parse_id(wanted.category_id, "filter.categoryId"))
                domain_filter = DomainProductFilter(
                    search=wanted.search,
                    sku=wanted.sku,
                    tag=wanted.tag,
                    category_ids=category_ids,
                    brand=wanted.brand,
                    status=DomainProductStatus(wanted.status.value) if wanted.status else None,
                )
                rows = await uow.catalog.page(first=size + 1, after=after, filter=domain_filter)
                cursor = uow.catalog.cursor
        return connection(rows, size, cursor, Product.from_domain)

    @strawberry.field
    async def variant(self, info: Info, sku: str) -> Variant | None:
        async with info.context.container.uow(readonly=True) as uow:
            found = (await uow.catalog.variants_by_sku([sku])).get(sku)
            product = await uow.catalog.get(found.product_id) if found else None
        if found is None or product is None:
            return None
        return Variant.from_domain(found, product.options)

    @strawberry.field(description="The category tree, in path order.")
    async def categories(self, info: Info) -> list[Category]:
        async with info.context.container.uow(readonly=True) as uow:
            return [Category.from_domain(c) for c in await uow.catalog.categories()]

    @strawberry.field(description="The price a channel shows for a SKU now, explained.")
    async def channel_price(self, info: Info, sku: str, channel_id: strawberry.ID) -> ChannelPrice:
        with query_errors():
            channel = parse_id(channel_id, "channelId")
            async with info.context.container.uow(readonly=True) as uow:
                price = await channel_settings.price_for(
                    uow, sku=sku, channel_id=channel, now=utcnow()
                )
        return ChannelPrice.from_domain(sku, channel, price)

    @strawberry.field
    async def listings(
        self,
        info: Info,
        channel_id: strawberry.ID | None = None,
        status: ListingStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[Listing]:
        with query_errors():
            size = page_size(first)
            channel = parse_id(channel_id, "channelId") if channel_id is not None else None
            async with info.context.container.uow(readonly=True) as uow:
                rows = await uow.listings.page(
                    channel_id=channel,
                    status=DomainListingStatus(status.value) if status else None,
                    first=size + 1,
                    after=after,
                )
        return connection(rows, size, listing_cursor, Listing.from_domain)

    @strawberry.field(
        description="The exact calls a channel would get for a product, and problems."
    )
    async def listing_preview(
        self, info: Info, product_id: strawberry.ID, channel_id: strawberry.ID
    ) -> ListingPreview:
        container = info.context.container
        with query_errors():
            product, channel = parse_id(product_id, "productId"), parse_id(channel_id, "channelId")
            async with container.uow(readonly=True) as uow:
                listing, requests = await listings.preview(
                    uow, product, channel, container.listing_formats, now=utcnow()
                )
        return ListingPreview.build(listing, requests)
