"""The catalog: products, their options, variants and images, and the category tree."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.money import Money


class ProductStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True)
class Category:
    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    path: str  # names from the root, joined by " > ": "Apparel > Shirts"


@dataclass(frozen=True, slots=True)
class ProductOption:
    """An option and its values, in the order the merchant gave them (Size: S, M, L)."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    alt_text: str | None = None
    position: int = 0
    skus: tuple[str, ...] = ()  # the variants it shows; empty: the product as a whole


@dataclass(frozen=True, slots=True)
class Dimensions:
    """Package dimensions in millimetres."""

    length_mm: int
    width_mm: int
    height_mm: int


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """What the merchant says about a variant; the catalog gives it an id and a product."""

    sku: str
    option_values: tuple[str, ...]  # one per product option, in option order
    price: Money
    barcode: str | None = None
    cost: Money | None = None
    weight_grams: int | None = None
    dimensions: Dimensions | None = None


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """A whole product as the merchant writes it: what create, update and upsert take."""

    handle: str
    title: str
    description_html: str = ""
    brand: str | None = None
    category_id: uuid.UUID | None = None
    tags: tuple[str, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    options: tuple[ProductOption, ...] = ()
    images: tuple[Image, ...] = ()
    variants: tuple[VariantSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Variant:
    id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    option_values: tuple[str, ...]
    price: Money
    barcode: str | None
    cost: Money | None
    weight_grams: int | None
    dimensions: Dimensions | None
    position: int
    archived_at: datetime | None = None

    @property
    def spec(self) -> VariantSpec:
        return VariantSpec(
            sku=self.sku,
            option_values=self.option_values,
            price=self.price,
            barcode=self.barcode,
            cost=self.cost,
            weight_grams=self.weight_grams,
            dimensions=self.dimensions,
        )


@dataclass(frozen=True, slots=True)
class Product:
    id: uuid.UUID
    handle: str
    title: str
    description_html: str
    brand: str | None
    category_id: uuid.UUID | None
    tags: tuple[str, ...]
    attributes: tuple[Attribute, ...]
    options: tuple[ProductOption, ...]
    status: ProductStatus
    content_hash: str  # of the spec: an upsert of the same content is "unchanged"
    version: int
    created_at: datetime
    updated_at: datetime
    images: tuple[Image, ...] = ()
    variants: tuple[Variant, ...] = field(default=())  # live ones, in position order

    @property
    def spec(self) -> ProductSpec:
        return ProductSpec(
            handle=self.handle,
            title=self.title,
            description_html=self.description_html,
            brand=self.brand,
            category_id=self.category_id,
            tags=self.tags,
            attributes=self.attributes,
            options=self.options,
            images=self.images,
            variants=tuple(v.spec for v in self.variants),
        )

    def option_map(self, variant: Variant) -> dict[str, str]:
        return {o.name: v for o, v in zip(self.options, variant.option_values, strict=True)}

    def attribute_map(self) -> dict[str, str]:
        return {a.name: a.value for a in self.attributes}
