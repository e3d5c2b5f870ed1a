"""Per-request DataLoaders for the catalog: one statement per batch of keys, never per row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from adapters.container import Container
from domain.catalog.model import Category, Image, Variant
from domain.channels.config import ChannelConfig
from domain.channels.listing import Listing


class CatalogLoaders:
    """Made once per request (never per WebSocket connection: they would go stale)."""

    def __init__(self, container: Container):
        self._container = container
        self.variants_by_product = DataLoader(self._variants)
        self.images_by_product = DataLoader(self._images)
        self.listings_by_product = DataLoader(self._listings)
        self.category_by_id = DataLoader(self._categories)
        self.config_by_channel = DataLoader(self._configs)

    async def _variants(self, ids: Sequence[uuid.UUID]) -> list[list[Variant]]:
        async with self._container.uow(readonly=True) as uow:
            found = await uow.catalog.variants_of(list(ids))
        return [found.get(i, []) for i in ids]

    async def _images(self, ids: Sequence[uuid.UUID]) -> list[list[Image]]:
        async with self._container.uow(readonly=True) as uow:
            found = await uow.catalog.images_of(list(ids))
        return [found.get(i, []) for i in ids]

    async def _listings(self, ids: Sequence[uuid.UUID]) -> list[list[Listing]]:
        async with self._container.uow(readonly=True) as uow:
            listings = await uow.listings.for_products(list(ids))
        by_product: dict[uuid.UUID, list[Listing]] = {}
        for listing in listings:
            by_product.setdefault(listing.product_id, []).append(listing)
        return [by_product.get(i, []) for i in ids]

    async def _categories(self, ids: Sequence[uuid.UUID]) -> list[Category | None]:
        async with self._container.uow(readonly=True) as uow:
            found = {c.id: c for c in await uow.catalog.categories()}
        return [found.get(i) for i in ids]

    async def _configs(self, ids: Sequence[uuid.UUID]) -> list[ChannelConfig]:
        async with self._container.uow(readonly=True) as uow:
            found = await uow.channel_configs.all()
        return [found.get(i) or ChannelConfig(i) for i in ids]
