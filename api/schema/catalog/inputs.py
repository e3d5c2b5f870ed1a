"""Catalog inputs and their translation into domain specs, every unreadable field reported."""

from __future__ import annotations

import uuid

import strawberry

from api.schema.ids import parse_id
from domain.catalog import model
from domain.errors import DomainError, InvalidFields
from domain.money import Money


@strawberry.input(description='An amount: a decimal string ("12.99") and an ISO 4217 currency.')
class MoneyInput:
    amount: str
    currency_code: str


@strawberry.input
class AttributeInput:
    name: str
    value: str


@strawberry.input
class ProductOptionInput:
    name: str
    values: list[str]


@strawberry.input
class ImageInput:
    url: str
    alt_text: str | None = None
    position: int | None = None
    skus: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class DimensionsInput:
    length_mm: int
    width_mm: int
    height_mm: int


@strawberry.input
class VariantInput:
    sku: str
    option_values: list[str] = strawberry.field(
        default_factory=list, description="One value per product option, in option order."
    )
    price: MoneyInput
    cost: MoneyInput | None = None
    barcode: str | None = strawberry.field(default=None, description="GTIN-8/12/13/14.")
    weight_grams: int | None = None
    dimensions: DimensionsInput | None = None


@strawberry.input
class ProductInput:
    title: str
    handle: str | None = strawberry.field(
        default=None, description="Unique, URL-safe; made from the title when omitted."
    )
    description_html: str = ""
    brand: str | None = None
    category_id: strawberry.ID | None = None
    tags: list[str] = strawberry.field(default_factory=list)
    attributes: list[AttributeInput] = strawberry.field(default_factory=list)
    options: list[ProductOptionInput] = strawberry.field(default_factory=list)
    images: list[ImageInput] = strawberry.field(default_factory=list)
    variants: list[VariantInput] = strawberry.field(default_factory=list)


def money(value: MoneyInput, field: str) -> Money:
    return Money.parse(value.amount, value.currency_code.strip().upper(), field=field)


class _Reader:
    """Reads input fields, collecting every error instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def money(self, value: MoneyInput | None, field: str) -> Money | None:
        if value is None:
            return None
        try:
            return money(value, field)
        except DomainError as error:
            self.errors.append(error)
            return Money(0, "USD")

    def id(self, value: strawberry.ID | None, field: str) -> uuid.UUID | None:
        if value is None:
            return None
        try:
            return parse_id(value, field)
        except DomainError as error:
            self.errors.append(error)
            return None


def images(values: list[ImageInput]) -> tuple[model.Image, ...]:
    return tuple(
        model.Image(
            url=i.url,
            alt_text=i.alt_text,
            position=i.position if i.position is not None else n,
            skus=tuple(i.skus),
        )
        for n, i in enumerate(values)
    )


def variants(values: list[VariantInput], reader: _Reader) -> tuple[model.VariantSpec, ...]:
    result = []
    for n, v in enumerate(values):
        price = reader.money(v.price, f"variants[{n}].price")
        dims = v.dimensions
        result.append(
            model.VariantSpec(
                sku=v.sku,
                option_values=tuple(v.option_values),
                price=price or Money(0, "USD"),
                barcode=v.barcode,
                cost=reader.money(v.cost, f"variants[{n}].cost"),
                weight_grams=v.weight_grams,
                dimensions=model.Dimensions(dims.length_mm, dims.width_mm, dims.height_mm)
                if dims
                else None,
            )
        )
    return tuple(result)


def product_spec(value: ProductInput) -> model.ProductSpec:
    """The spec for `value`; raises (InvalidFields) when a field cannot even be read."""
    reader = _Reader()
    spec = model.ProductSpec(
        handle=value.handle or "",
        title=value.title,
        description_html=value.description_html,
        brand=value.brand,
        category_id=reader.id(value.category_id, "categoryId"),
        tags=tuple(value.tags),
        attributes=tuple(model.Attribute(a.name, a.value) for a in value.attributes),
        options=tuple(model.ProductOption(o.name, tuple(o.values)) for o in value.options),
        images=images(value.images),
        variants=variants(value.variants, reader),
    )
    InvalidFields.raise_if_any(reader.errors)
    return spec
