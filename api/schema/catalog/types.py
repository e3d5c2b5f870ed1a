"""Catalog types: built from domain objects; related objects load through DataLoaders."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.schema.context import Info
from api.schema.node import Node
from domain.catalog import model
from domain.channels import listing as domain_listing
from domain.channels.pricing import ChannelPrice as DomainChannelPrice
from domain.money import Money as DomainMoney
from domain.money import exponent

# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
ProductStatus = model.ProductStatus
strawberry.enum(ProductStatus, name="ProductStatus")
ListingStatus = domain_listing.ListingStatus
strawberry.enum(ListingStatus, name="ListingStatus")


@strawberry.type(description="An amount of money: a decimal string and an ISO 4217 currency.")
class Money:
    amount: str
    currency_code: str

    @classmethod
    def from_domain(cls, money: DomainMoney) -> Money:
        return cls(
            amount=f"{money.amount:.{exponent(money.currency)}f}", currency_code=money.currency
        )

    @classmethod
    def maybe(cls, money: DomainMoney | None) -> Money | None:
        return cls.from_domain(money) if money is not None else None


@strawberry.type
class Category(Node):
    id: strawberry.ID
    name: str
    parent_id: strawberry.ID | None
    path: str

    @classmethod
    def from_domain(cls, category: model.Category) -> Category:
        parent = strawberry.ID(str(category.parent_id)) if category.parent_id else None
        return cls(
            id=strawberry.ID(str(category.id)),
            name=category.name,
            parent_id=parent,
            path=category.path,
        )


@strawberry.type
class ProductOption:
    name: str
    values: list[str]


@strawberry.type
class Attribute:
    name: str
    value: str


@strawberry.type
class Image:
    url: str
    alt_text: str | None
    position: int
    skus: list[str] = strawberry.field(description="The variants it shows; empty: the product.")

    @classmethod
    def from_domain(cls, image: model.Image) -> Image:
        return cls(
            url=image.url, alt_text=image.alt_text, position=image.position, skus=list(image.skus)
        )


@strawberry.type
class Dimensions:
    length_mm: int
    width_mm: int
    height_mm: int


@strawberry.type
class OptionValue:
    name: str
    value: str


@strawberry.type
class Variant:
    id: strawberry.ID
    product_id: strawberry.ID
    sku: str
    option_values: list[str]
    selected_options: list[OptionValue]
    price: Money
    cost: Money | None
    barcode: str | None
    weight_grams: int | None
    dimensions: Dimensions | None
    archived: bool

    @classmethod
    def from_domain(
        cls, variant: model.Variant, options: tuple[model.ProductOption, ...] = ()
    ) -> Variant:
        dims = variant.dimensions
        return cls(
            id=strawberry.ID(str(variant.id)),
            product_id=strawberry.ID(str(variant.product_id)),
            sku=variant.sku,
            option_values=list(variant.option_values),
            selected_options=[
                OptionValue(name=o.name, value=v)
                for o, v in zip(options, variant.option_values, strict=False)
            ],
            price=Money.from_domain(variant.price),
            cost=Money.maybe(variant.cost),
            barcode=variant.barcode,
            weight_grams=variant.weight_grams,
            dimensions=Dimensions(
                length_mm=dims.length_mm, width_mm=dims.width_mm, height_mm=dims.height_mm
            )
            if dims
            else None,
            archived=variant.archived_at is not None,
        )


@strawberry.type(description="Why a listing cannot be sent as it is.")
class ListingProblem:
    field: str
    message: str
    code: str


@strawberry.type(
    description="One SKU of a listing: intended by Nexo, and last confirmed by the channel."
)
class ListingItem:
    sku: str
    intended_price: Money | None
    intended_compare_at_price: Money | None
    intended_quantity: int
    confirmed_price: Money | None
    confirmed_quantity: int | None
    confirmed_at: datetime | None
    external_id: str | None

    @classmethod
    def from_domain(cls, item: domain_listing.ListingItem) -> ListingItem:
        return cls(
            sku=item.sku,
            intended_price=Money.maybe(item.intended_price),
            intended_compare_at_price=Money.maybe(item.intended_compare_at),
            intended_quantity=item.intended_quantity,
            confirmed_price=Money.maybe(item.confirmed_price),
            confirmed_quantity=item.confirmed_quantity,
            confirmed_at=item.confirmed_at,
            external_id=item.external_id,
        )


@strawberry.type
class Listing:
    id: strawberry.ID
    channel_id: strawberry.ID
    product_id: strawberry.ID
    status: ListingStatus
    problems: list[ListingProblem]
    content_hash: str | None
    confirmed_content_hash: str | None
    external_id: str | None
    items: list[ListingItem]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, listing: domain_listing.Listing) -> Listing:
        return cls(
            id=strawberry.ID(str(listing.id)),
            channel_id=strawberry.ID(str(listing.channel_id)),
            product_id=strawberry.ID(str(listing.product_id)),
            status=listing.status,
            problems=[
                ListingProblem(field=p.field, message=p.message, code=p.code)
                for p in listing.problems
            ],
            content_hash=listing.content_hash,
            confirmed_content_hash=listing.confirmed_content_hash,
            external_id=listing.external_id,
            items=[ListingItem.from_domain(i) for i in listing.items],
            created_at=listing.created_at,
            updated_at=listing.updated_at,
        )


@strawberry.type
class Product(Node):
    id: strawberry.ID
    handle: str
    title: str
    description_html: str
    brand: str | None
    category_id: strawberry.ID | None
    tags: list[str]
    attributes: list[Attribute]
    options: list[ProductOption]
    status: ProductStatus
    version: int
    created_at: datetime
    updated_at: datetime
    _domain: strawberry.Private[model.Product]

    @classmethod
    def from_domain(cls, product: model.Product) -> Product:
        return cls(
            id=strawberry.ID(str(product.id)),
            handle=product.handle,
            title=product.title,
            description_html=product.description_html,
            brand=product.brand,
            category_id=strawberry.ID(str(product.category_id)) if product.category_id else None,
            tags=list(product.tags),
            attributes=[Attribute(name=a.name, value=a.value) for a in product.attributes],
            options=[ProductOption(name=o.name, values=list(o.values)) for o in product.options],
            status=product.status,
            version=product.version,
            created_at=product.created_at,
            updated_at=product.updated_at,
            _domain=product,
        )

    @property
    def _id(self) -> uuid.UUID:
        return self._domain.id

    @strawberry.field
    async def category(self, info: Info) -> Category | None:
        if self._domain.category_id is None:
            return None
        found = await info.context.catalog_loaders.category_by_id.load(self._domain.category_id)
        return Category.from_domain(found) if found else None

    @strawberry.field(description="Live variants, in the merchant's order.")
    async def variants(self, info: Info) -> list[Variant]:
        found = (
            self._domain.variants
            or await info.context.catalog_loaders.variants_by_product.load(self._id)
        )
        return [Variant.from_domain(v, self._domain.options) for v in found]

    @strawberry.field
    async def images(self, info: Info) -> list[Image]:
        found = self._domain.images or await info.context.catalog_loaders.images_by_product.load(
            self._id
        )
        return [Image.from_domain(i) for i in found]

    @strawberry.field(description="This product's listing on each channel.")
    async def listings(self, info: Info) -> list[Listing]:
        found = await info.context.catalog_loaders.listings_by_product.load(self._id)
        return [Listing.from_domain(x) for x in found]


@strawberry.type
class PriceStep:
    step: str
    price: Money


@strawberry.type(description="A SKU's price on a channel, explained step by step.")
class ChannelPrice:
    sku: str
    channel_id: strawberry.ID
    price: Money
    compare_at_price: Money | None
    explanation: list[PriceStep]

    @classmethod
    def from_domain(
        cls, sku: str, channel_id: uuid.UUID, price: DomainChannelPrice
    ) -> ChannelPrice:
        return cls(
            sku=sku,
            channel_id=strawberry.ID(str(channel_id)),
            price=Money.from_domain(price.price),
            compare_at_price=Money.maybe(price.compare_at),
            explanation=[
                PriceStep(step=s.step, price=Money.from_domain(s.price)) for s in price.explanation
            ],
        )


@strawberry.type(description="What a channel would be sent for a product right now.")
class ListingPreview:
    product_id: strawberry.ID
    channel_id: strawberry.ID
    status: ListingStatus
    problems: list[ListingProblem]
    content_hash: str | None
    items: list[ListingItem]
    requests: JSON = strawberry.field(
        description="The channel-native calls, in order: [{method, path, body}]."
    )

    @classmethod
    def build(
        cls, listing: domain_listing.Listing, requests: list[dict[str, Any]]
    ) -> ListingPreview:
        return cls(
            product_id=strawberry.ID(str(listing.product_id)),
            channel_id=strawberry.ID(str(listing.channel_id)),
            status=listing.status,
            problems=[
                ListingProblem(field=p.field, message=p.message, code=p.code)
                for p in listing.problems
            ],
            content_hash=listing.content_hash,
            items=[ListingItem.from_domain(i) for i in listing.items],
            requests=JSON(requests),
        )
