"""Catalog mutations: products one at a time or in bulk, and categories."""

from __future__ import annotations

import strawberry

from api.product_batches import upsert_batch
from api.schema.catalog.inputs import (
    AttributeInput,
    ImageInput,
    ProductInput,
    ProductOptionInput,
    VariantInput,
    _Reader,
    images,
    product_spec,
    variants,
)
from api.schema.catalog.types import Category, Product
from api.schema.context import Info
from api.schema.errors import UserError, user_errors_as
from api.schema.ids import parse_id
from api.schema.permissions import CanMutate
from domain.catalog import model, products
from domain.catalog.products import MAX_BATCH, ProductPatch
from domain.catalog.products import UpsertOutcome as DomainUpsertOutcome
from domain.clock import utcnow
from domain.errors import DomainError, InvalidFields, InvalidInput

# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
UpsertOutcome = DomainUpsertOutcome
strawberry.enum(UpsertOutcome, name="UpsertOutcome")


@strawberry.type
class ProductPayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Fields left out keep their value; lists given replace the list.")
class UpdateProductInput:
    id: strawberry.ID
    title: str | None = None
    handle: str | None = None
    description_html: str | None = None
    brand: str | None = None
    category_id: strawberry.ID | None = strawberry.field(
        default=None, description="An empty string removes the category."
    )
    tags: list[str] | None = None
    attributes: list[AttributeInput] | None = None
    options: list[ProductOptionInput] | None = None
    images: list[ImageInput] | None = None
    variants: list[VariantInput] | None = strawberry.field(
        default=None,
        description="The whole list: variants left out are archived (deleted if no history).",
    )


@strawberry.input
class ArchiveProductInput:
    id: strawberry.ID


@strawberry.input
class UpsertProductsInput:
    products: list[ProductInput] = strawberry.field(
        description=f"At most {MAX_BATCH}, matched by handle (made from the title if omitted)."
    )


@strawberry.type(description="What happened to one product of the batch.")
class UpsertProductResult:
    index: int
    handle: str
    outcome: UpsertOutcome
    product: Product | None
    user_errors: list[UserError]


@strawberry.type
class UpsertProductsPayload:
    results: list[UpsertProductResult] = strawberry.field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateCategoryInput:
    name: str
    parent_id: strawberry.ID | None = None


@strawberry.type
class CategoryPayload:
    category: Category | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _patch(input: UpdateProductInput) -> ProductPatch:
    reader = _Reader()
    clear = input.category_id is not None and not str(input.category_id).strip()
    category = None if clear else reader.id(input.category_id, "categoryId")
    patch = ProductPatch(
        handle=input.handle,
        title=input.title,
        description_html=input.description_html,
        brand=input.brand,
        category_id=category,
        clear_category=clear,
        tags=tuple(input.tags) if input.tags is not None else None,
        attributes=tuple(model.Attribute(a.name, a.value) for a in input.attributes)
        if input.attributes is not None
        else None,
        options=tuple(model.ProductOption(o.name, tuple(o.values)) for o in input.options)
        if input.options is not None
        else None,
        images=images(input.images) if input.images is not None else None,
        variants=variants(input.variants, reader) if input.variants is not None else None,
    )
    InvalidFields.raise_if_any(reader.errors)
    return patch


def _errors(errors: tuple[DomainError, ...]) -> list[UserError]:
    return [UserError.from_domain(e) for e in errors]


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ProductPayload)
    async def create_product(self, info: Info, input: ProductInput) -> ProductPayload:
        container = info.context.container
        spec = product_spec(input)
        async with container.uow() as uow:
            product = await products.create_product(
                uow, spec, container.listing_formats, now=utcnow()
            )
            await uow.commit()
        return ProductPayload(product=Product.from_domain(product))

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ProductPayload)
    async def update_product(self, info: Info, input: UpdateProductInput) -> ProductPayload:
        container = info.context.container
        product_id = parse_id(input.id, "id")
        patch = _patch(input)
        async with container.uow() as uow:
            product = await products.update_product(
                uow, product_id, patch, container.listing_formats, now=utcnow()
            )
            await uow.commit()
        return ProductPayload(product=Product.from_domain(product))

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ProductPayload)
    async def archive_product(self, info: Info, input: ArchiveProductInput) -> ProductPayload:
        container = info.context.container
        product_id = parse_id(input.id, "id")
        async with container.uow() as uow:
            product = await products.archive_product(
                uow, product_id, container.listing_formats, now=utcnow()
            )
            await uow.commit()
        return ProductPayload(product=Product.from_domain(product))

    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Create or update many products; each one succeeds or fails on its own.",
    )
    async def upsert_products(
        self, info: Info, input: UpsertProductsInput
    ) -> UpsertProductsPayload:
        container = info.context.container
        if len(input.products) > MAX_BATCH:
            error = InvalidInput(f"at most {MAX_BATCH} products per call", field="products")
            return UpsertProductsPayload(user_errors=[UserError.from_domain(error)])
        specs: list[model.ProductSpec | DomainError] = []
        for item in input.products:
            try:
                specs.append(product_spec(item))
            except DomainError as error:
                specs.append(error)
        results = await upsert_batch(container, specs)
        payload = UpsertProductsPayload()
        for result in results:
            payload.results.append(
                UpsertProductResult(
                    index=result.index,
                    handle=result.handle,
                    outcome=result.outcome,
                    product=Product.from_domain(result.product) if result.product else None,
                    user_errors=_errors(result.errors),
                )
            )
            setattr(payload, result.outcome.value, getattr(payload, result.outcome.value) + 1)
        return payload

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(CategoryPayload)
    async def create_category(self, info: Info, input: CreateCategoryInput) -> CategoryPayload:
        parent = parse_id(input.parent_id, "parentId") if input.parent_id else None
        async with info.context.container.uow() as uow:
            category = await products.create_category(uow, name=input.name, parent_id=parent)
            await uow.commit()
        return CategoryPayload(category=Category.from_domain(category))
