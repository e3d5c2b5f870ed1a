"""The storage the catalog needs: products, categories, prices, listings, channel settings."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from domain.catalog.model import Category, Image, Product, ProductStatus, Variant
from domain.catalog.rate_history import RateHistory
from domain.channels.listing import DriftSighting, Listing, ListingItem, ListingStatus, Problem
from domain.channels.pricing import RateTable, SalePrice
from domain.money import Money


@dataclass(frozen=True, slots=True)
class ProductFilter:
    search: str | None = None  # in titles, handles and SKUs
    sku: str | None = None
    tag: str | None = None
    category_ids: tuple[uuid.UUID, ...] | None = None  # a category and its subtree
    brand: str | None = None
    status: ProductStatus | None = None


@dataclass(frozen=True, slots=True)
class SkuOwner:
    product_id: uuid.UUID
    archived: bool


class CatalogRepository(Protocol):
    async def add_category(self, category: Category) -> None: ...
    async def categories(self) -> list[Category]: ...

    async def get(self, product_id: uuid.UUID) -> Product | None:
        """The product with its live variants and its images."""
        ...

    async def by_handles(self, handles: Sequence[str]) -> dict[str, Product]:
        """Whole products (variants, images) by handle, in a bounded number of reads."""
        ...

    async def sku_owners(self, skus: Sequence[str]) -> dict[str, SkuOwner]:
        """Which product holds each SKU, archived variants included."""
        ...

    async def skus_with_history(self, skus: Sequence[str]) -> set[str]:
        """SKUs with stock, reservations or ledger rows: archived, never deleted."""
        ...

    async def add(self, products: Sequence[Product]) -> None:
        """Insert products with their variants and images (batched)."""
        ...

    async def replace(self, products: Sequence[Product], archive_skus: Sequence[str]) -> None:
        """Rewrite products, their images and variants (by SKU); archive the given SKUs."""
        ...

    async def delete_variants(self, skus: Sequence[str]) -> None: ...

    async def set_status(
        self, product_id: uuid.UUID, status: ProductStatus, at: datetime
    ) -> None: ...

    async def page(self, *, first: int, after: str | None, filter: ProductFilter) -> list[Product]:
        """Products, newest first, without their variants or images (those load in batches)."""
        ...

    def cursor(self, product: Product) -> str:
        """The opaque position of `product` in `page`'s order, for `after`."""
        ...

    async def variants_of(
        self, product_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[Variant]]: ...

    async def images_of(self, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Image]]: ...

    async def variants_by_sku(self, skus: Sequence[str]) -> dict[str, Variant]: ...


class PricingRepository(Protocol):
    async def rates(self) -> RateTable: ...
    async def set_rate(self, source: str, target: str, rate: Decimal, at: datetime) -> None:
        """The rate from now on; also kept as the rate of `at`'s day (`rate_history`)."""
        ...

    async def rate_history(self) -> RateHistory: ...
    async def overrides(self, skus: Sequence[str]) -> dict[tuple[uuid.UUID, str], Money]:
        """Per-SKU price overrides by (channel, SKU)."""
        ...

    async def set_override(self, channel_id: uuid.UUID, sku: str, price: Money | None) -> None: ...

    async def sales(self, skus: Sequence[str]) -> dict[tuple[uuid.UUID, str], SalePrice]: ...
    async def set_sale(self, channel_id: uuid.UUID, sku: str, sale: SalePrice | None) -> None: ...


class ListingRepository(Protocol):
    async def for_products(self, product_ids: Sequence[uuid.UUID]) -> list[Listing]:
        """Listings (with their items) of the products, on every channel."""
        ...

    async def save(
        self, listings: Sequence[Listing], removed: Sequence[tuple[uuid.UUID, str]] = ()
    ) -> None:
        """Insert listings or rewrite what Nexo intends for them and their items (batched);
        `removed` (listing id, SKU) items go. What channels confirmed is never touched."""
        ...

    async def get(self, listing_id: uuid.UUID) -> Listing | None: ...

    async def items_on(
        self, channel_id: uuid.UUID, skus: Sequence[str]
    ) -> dict[str, tuple[Listing, ListingItem]]:
        """The listing (without its items) and item of each SKU listed on the channel."""
        ...

    async def listed_items(
        self,
        channel_id: uuid.UUID,
        *,
        after_sku: str | None,
        first: int,
        sighted_or: Sequence[str] | None = None,
    ) -> list[tuple[Listing, ListingItem]]:
        """Items of the channel's active or pending listings, in SKU order (those the channel
        has not given ids yet have empty `refs`); `sighted_or`: only those with a sighting
        and those of these SKUs."""
        ...

    async def sight(
        self, channel_id: uuid.UUID, sightings: Sequence[tuple[str, DriftSighting]]
    ) -> None:
        """Record each SKU's sighting (see `sync.drifts`), unless it has one of that figure
        drifted from the same confirmed one (the first stays)."""
        ...

    async def forget_sightings(self, channel_id: uuid.UUID, skus: Sequence[str]) -> None: ...

    async def record_published(
        self,
        listing_id: uuid.UUID,
        *,
        status: ListingStatus,
        external_id: str | None,
        content_hash: str | None,
        refs: Mapping[str, Mapping[str, str]],
        at: datetime,
    ) -> None:
        """The channel accepted the listing: its ids, and the content it now shows."""
        ...

    async def set_status(
        self,
        listing_id: uuid.UUID,
        status: ListingStatus,
        problems: Sequence[Problem],
        at: datetime,
    ) -> None: ...

    async def confirm(
        self,
        channel_id: uuid.UUID,
        confirmed: Sequence[tuple[str, int | None, Money | None]],
        at: datetime,
    ) -> None:
        """Record what the channel confirmed per SKU: (sku, quantity or None, price or None);
        a quantity of 0 opens a stockout spell of the SKU on the channel, one above closes it."""
        ...

    async def confirm_quantities_from(
        self,
        channel_id: uuid.UUID,
        confirmed: Sequence[tuple[str, int | None, int]],
        at: datetime,
    ) -> None:
        """Record confirmed quantities (sku, expected, quantity) of SKUs whose confirmed
        quantity is still `expected`: one the channel reported since is newer and stays.
        Stockout spells follow the figures stored, as `confirm`'s do."""
        ...

    async def page(
        self,
        *,
        channel_id: uuid.UUID | None,
        status: ListingStatus | None,
        first: int,
        after: str | None,
    ) -> list[Listing]: ...

    def cursor(self, listing: Listing) -> str:
        """The opaque position of `listing` in `page`'s order, for `after`."""
        ...


class SecretBox(Protocol):
    """Encrypts channel credentials at rest with a key from the settings."""

    def seal(self, plaintext: bytes) -> bytes: ...
    def open(self, sealed: bytes) -> bytes: ...
