"""Products: create, update, archive, and upsert in bulk — one product all-or-nothing.

Every write goes through the same steps: check the spec, check what it collides with
(handles, SKUs held by other products, categories), write in batches, create the
inventory items of new SKUs, then refresh the products' listings on every channel.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from domain.catalog.listings import ListingFormats, refresh_listings
from domain.catalog.model import (
    Attribute,
    Category,
    Image,
    Product,
    ProductOption,
    ProductSpec,
    ProductStatus,
    Variant,
    VariantSpec,
)
from domain.catalog.ports import SkuOwner
from domain.catalog.specs import check_product, spec_hash
from domain.errors import (
    AlreadyExists,
    DomainError,
    IllegalState,
    InvalidFields,
    InvalidInput,
    NotFound,
)
from domain.inventory.model import InventoryItem
from domain.ports import UnitOfWork

MAX_BATCH = 500


class UpsertOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class UpsertResult:
    index: int
    handle: str
    outcome: UpsertOutcome
    product: Product | None = None
    errors: tuple[DomainError, ...] = ()


@dataclass(frozen=True, slots=True)
class ProductPatch:
    """An update: fields left None keep their value; lists given replace the whole list."""

    handle: str | None = None
    title: str | None = None
    description_html: str | None = None
    brand: str | None = None
    category_id: uuid.UUID | None = None
    clear_category: bool = False
    tags: tuple[str, ...] | None = None
    attributes: tuple[Attribute, ...] | None = None
    options: tuple[ProductOption, ...] | None = None
    images: tuple[Image, ...] | None = None
    variants: tuple[VariantSpec, ...] | None = None

    def apply(self, spec: ProductSpec) -> ProductSpec:
        changes = {
            name: getattr(self, name)
            for name in (
                "handle",
                "title",
                "description_html",
                "brand",
                "category_id",
                "tags",
                "attributes",
                "options",
                "images",
                "variants",
            )
            if getattr(self, name) is not None
        }
        if self.clear_category:
            changes["category_id"] = None
        if self.variants is not None and self.images is None:
            # Images keep showing the variants that remain; removed SKUs drop out of them.
            skus = {v.sku.strip() for v in self.variants}
            changes["images"] = tuple(
                replace(i, skus=tuple(s for s in i.skus if s in skus)) for i in spec.images
            )
        return replace(spec, **changes)


def _errors_of(error: DomainError) -> tuple[DomainError, ...]:
    return tuple(getattr(error, "errors", None) or (error,))


def _variants(product_id: uuid.UUID, spec: ProductSpec, old: Product | None) -> tuple[Variant, ...]:
    kept = {v.sku: v.id for v in old.variants} if old else {}
    return tuple(
        Variant(
            id=kept.get(v.sku) or uuid.uuid4(),
            product_id=product_id,
            sku=v.sku,
            option_values=v.option_values,
            price=v.price,
            barcode=v.barcode,
            cost=v.cost,
            weight_grams=v.weight_grams,
            dimensions=v.dimensions,
            position=n,
        )
        for n, v in enumerate(spec.variants)
    )


def _product(spec: ProductSpec, old: Product | None, now: datetime) -> Product:
    product_id = old.id if old else uuid.uuid4()
    return Product(
        id=product_id,
        handle=spec.handle,
        title=spec.title,
        description_html=spec.description_html,
        brand=spec.brand,
        category_id=spec.category_id,
        tags=spec.tags,
        attributes=spec.attributes,
        options=spec.options,
        status=old.status if old else ProductStatus.ACTIVE,
        content_hash=spec_hash(spec),
        version=old.version + 1 if old else 1,
        created_at=old.created_at if old else now,
        updated_at=now,
        images=spec.images,
        variants=_variants(product_id, spec, old),
    )


@dataclass
class _Plan:
    creates: list[tuple[int, Product]] = field(default_factory=list)
    updates: list[tuple[int, Product, Product]] = field(default_factory=list)
    unchanged: list[tuple[int, Product]] = field(default_factory=list)
    failed: dict[int, tuple[DomainError, ...]] = field(default_factory=dict)


def _collisions(
    spec: ProductSpec,
    old: Product | None,
    owners: dict[str, SkuOwner],
    categories: set[uuid.UUID],
    claimed: dict[str, int],
    index: int,
) -> list[DomainError]:
    errors: list[DomainError] = []
    if spec.category_id is not None and spec.category_id not in categories:
        errors.append(NotFound(f"unknown category {spec.category_id}", field="categoryId"))
    for n, variant in enumerate(spec.variants):
        owner = owners.get(variant.sku)
        if owner is not None and (old is None or owner.product_id != old.id):
            state = "an archived variant of " if owner.archived else ""
            errors.append(
                AlreadyExists(
                    f"SKU {variant.sku!r} belongs to {state}product {owner.product_id}",
                    field=f"variants[{n}].sku",
                )
            )
        elif claimed.get(variant.sku, index) != index:
            errors.append(
                AlreadyExists(
                    f"SKU {variant.sku!r} is also in item {claimed[variant.sku]} of this batch",
                    field=f"variants[{n}].sku",
                )
            )
    return errors


async def _plan(
    uow: UnitOfWork, specs: Sequence[ProductSpec | DomainError], now: datetime, *, create_only: bool
) -> _Plan:
    plan = _Plan()
    checked: dict[int, ProductSpec] = {}
    for index, spec in enumerate(specs):
        if isinstance(spec, DomainError):
            plan.failed[index] = _errors_of(spec)
            continue
        try:
            checked[index] = check_product(spec)
        except DomainError as error:
            plan.failed[index] = _errors_of(error)
    existing = await uow.catalog.by_handles([s.handle for s in checked.values()])
    owners = await uow.catalog.sku_owners([v.sku for s in checked.values() for v in s.variants])
    categories = {c.id for c in await uow.catalog.categories()}
    handles: dict[str, int] = {}
    claimed: dict[str, int] = {}
    for index, spec in checked.items():
        old = existing.get(spec.handle)
        errors: list[DomainError] = []
        if spec.handle in handles:
            errors.append(
                AlreadyExists(
                    f"handle {spec.handle!r} is also item {handles[spec.handle]} of this batch",
                    field="handle",
                )
            )
        elif old is not None and create_only:
            errors.append(
                AlreadyExists(f"a product with handle {spec.handle!r} exists", field="handle")
            )
        errors.extend(_collisions(spec, old, owners, categories, claimed, index))
        if errors:
            plan.failed[index] = tuple(errors)
            continue
        handles[spec.handle] = index
        for variant in spec.variants:
            claimed[variant.sku] = index
        if old is None:
            plan.creates.append((index, _product(spec, None, now)))
        elif old.content_hash == spec_hash(spec) and old.status is ProductStatus.ACTIVE:
            plan.unchanged.append((index, old))
        else:
            new = _product(spec, old, now)
            plan.updates.append((index, replace(new, status=ProductStatus.ACTIVE), old))
    return plan


async def _write(uow: UnitOfWork, plan: _Plan, now: datetime) -> list[Product]:
    # Rows are written in one fixed order (handles, SKUs): concurrent batches touching the
    # same products then queue on each other instead of deadlocking.
    plan.creates.sort(key=lambda pair: pair[1].handle)
    plan.updates.sort(key=lambda triple: triple[1].handle)
    created = [p for _, p in plan.creates]
    removed: list[str] = []
    added_skus: list[str] = [v.sku for p in created for v in p.variants]
    for _, new, old in plan.updates:
        new_skus = {v.sku for v in new.variants}
        old_skus = {v.sku for v in old.variants}
        removed.extend(v.sku for v in old.variants if v.sku not in new_skus)
        added_skus.extend(v.sku for v in new.variants if v.sku not in old_skus)
    # A variant's inventory item comes first: stock is keyed by SKU, the variant points at it.
    if added_skus:
        items = [InventoryItem(sku, None, 0, now) for sku in sorted(added_skus)]
        await uow.inventory.add_items(items)
    await uow.catalog.add(created)
    keep = await uow.catalog.skus_with_history(removed) if removed else set()
    await uow.catalog.replace(
        [new for _, new, _ in plan.updates], [s for s in removed if s in keep]
    )
    if len(keep) < len(removed):
        await uow.catalog.delete_variants([s for s in removed if s not in keep])
    return created + [new for _, new, _ in plan.updates]


async def upsert_products(
    uow: UnitOfWork,
    specs: Sequence[ProductSpec | DomainError],
    formats: ListingFormats,
    *,
    now: datetime,
) -> list[UpsertResult]:
    """Create or update each product by handle; one bad item never fails the others.

    An item given as a DomainError (its input could not even be read) is reported as failed.
    """
    if len(specs) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} products per call", field="products")
    plan = await _plan(uow, specs, now, create_only=False)
    written = await _write(uow, plan, now)
    await refresh_listings(uow, written, formats, now=now)
    results: list[UpsertResult] = []
    for index, product in plan.creates:
        results.append(UpsertResult(index, product.handle, UpsertOutcome.CREATED, product))
    for index, product, _ in plan.updates:
        results.append(UpsertResult(index, product.handle, UpsertOutcome.UPDATED, product))
    for index, product in plan.unchanged:
        results.append(UpsertResult(index, product.handle, UpsertOutcome.UNCHANGED, product))
    for index, errors in plan.failed.items():
        spec = specs[index]
        handle = spec.handle if isinstance(spec, ProductSpec) else ""
        results.append(UpsertResult(index, handle, UpsertOutcome.FAILED, None, errors))
    return sorted(results, key=lambda r: r.index)


def _raise_failed(plan: _Plan) -> None:
    for errors in plan.failed.values():
        if len(errors) == 1:
            raise errors[0]
        raise InvalidFields(list(errors))


async def create_product(
    uow: UnitOfWork, spec: ProductSpec, formats: ListingFormats, *, now: datetime
) -> Product:
    plan = await _plan(uow, [spec], now, create_only=True)
    _raise_failed(plan)
    written = await _write(uow, plan, now)
    await refresh_listings(uow, written, formats, now=now)
    return written[0]


async def update_product(
    uow: UnitOfWork,
    product_id: uuid.UUID,
    patch: ProductPatch,
    formats: ListingFormats,
    *,
    now: datetime,
) -> Product:
    old = await uow.catalog.get(product_id)
    if old is None:
        raise NotFound(f"unknown product {product_id}", field="id")
    if old.status is ProductStatus.ARCHIVED:
        raise IllegalState("an archived product cannot be edited", field="id")
    spec = check_product(patch.apply(old.spec))
    if spec.handle != old.handle and (await uow.catalog.by_handles([spec.handle])):
        raise AlreadyExists(f"a product with handle {spec.handle!r} exists", field="handle")
    plan = _Plan()
    categories = {c.id for c in await uow.catalog.categories()}
    owners = await uow.catalog.sku_owners([v.sku for v in spec.variants])
    errors = _collisions(spec, old, owners, categories, {}, 0)
    if errors:
        plan.failed[0] = tuple(errors)
        _raise_failed(plan)
    if spec_hash(spec) == old.content_hash:
        return old
    plan.updates.append((0, _product(spec, old, now), old))
    written = await _write(uow, plan, now)
    await refresh_listings(uow, written, formats, now=now)
    return written[0]


async def archive_product(
    uow: UnitOfWork, product_id: uuid.UUID, formats: ListingFormats, *, now: datetime
) -> Product:
    """Archive a product: its listings end; its SKUs and their history stay."""
    product = await uow.catalog.get(product_id)
    if product is None:
        raise NotFound(f"unknown product {product_id}", field="id")
    if product.status is ProductStatus.ARCHIVED:
        return product
    await uow.catalog.set_status(product_id, ProductStatus.ARCHIVED, now)
    archived = replace(product, status=ProductStatus.ARCHIVED, updated_at=now)
    await refresh_listings(uow, [archived], formats, now=now)
    return archived


async def create_category(uow: UnitOfWork, *, name: str, parent_id: uuid.UUID | None) -> Category:
    name = name.strip()
    if not name or len(name) > 100 or ">" in name:
        raise InvalidInput("a category name is 1-100 characters, without '>'", field="name")
    categories = {c.id: c for c in await uow.catalog.categories()}
    parent = None
    if parent_id is not None:
        parent = categories.get(parent_id)
        if parent is None:
            raise NotFound(f"unknown category {parent_id}", field="parentId")
    path = f"{parent.path} > {name}" if parent else name
    if any(c.path == path for c in categories.values()):
        raise AlreadyExists(f"category {path!r} exists", field="name")
    category = Category(id=uuid.uuid4(), name=name, parent_id=parent_id, path=path)
    await uow.catalog.add_category(category)
    return category
