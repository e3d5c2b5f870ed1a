"""Products, variants, images and categories in SQL, read and written in batches.

Whatever the number of products, a read is a fixed number of statements: products, then
their variants, then their images, each with one `IN` over the product ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.cursors import before_position, encode_cursor
from adapters.db.dialect import is_postgresql, upsert_for
from adapters.db.tables import (
    categories,
    inventory_items,
    product_images,
    products,
    reservations,
    stock_levels,
    stock_movements,
    variants,
)
from domain.catalog.model import (
    Attribute,
    Category,
    Dimensions,
    Image,
    Product,
    ProductOption,
    ProductStatus,
    Variant,
)
from domain.catalog.ports import ProductFilter, SkuOwner
from domain.clock import utcnow
from domain.money import Money


def _product_row(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "handle": product.handle,
        "title": product.title,
        "description_html": product.description_html,
        "brand": product.brand,
        "category_id": product.category_id,
        "tags": list(product.tags),
        "attributes": [[a.name, a.value] for a in product.attributes],
        "options": [{"name": o.name, "values": list(o.values)} for o in product.options],
        "status": product.status.value,
        "content_hash": product.content_hash,
        "version": product.version,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


def _variant_row(variant: Variant) -> dict[str, Any]:
    dims = variant.dimensions
    return {
        "id": variant.id,
        "product_id": variant.product_id,
        "sku": variant.sku,
        "option_values": list(variant.option_values),
        "price_minor": variant.price.minor,
        "currency": variant.price.currency,
        "barcode": variant.barcode,
        "cost_minor": variant.cost.minor if variant.cost else None,
        "weight_grams": variant.weight_grams,
        "length_mm": dims.length_mm if dims else None,
        "width_mm": dims.width_mm if dims else None,
        "height_mm": dims.height_mm if dims else None,
        "position": variant.position,
        "archived_at": variant.archived_at,
    }


def _image_rows(product: Product) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "product_id": product.id,
            "url": image.url,
            "alt_text": image.alt_text,
            "position": image.position,
            "skus": list(image.skus),
        }
        for image in product.images
    ]


def product_of(row: Any) -> Product:
    return Product(
        id=row.id,
        handle=row.handle,
        title=row.title,
        description_html=row.description_html,
        brand=row.brand,
        category_id=row.category_id,
        tags=tuple(row.tags),
        attributes=tuple(Attribute(n, v) for n, v in row.attributes),
        options=tuple(ProductOption(o["name"], tuple(o["values"])) for o in row.options),
        status=ProductStatus(row.status),
        content_hash=row.content_hash,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def variant_of(row: Any) -> Variant:
    dims = None
    if row.length_mm is not None:
        dims = Dimensions(row.length_mm, row.width_mm, row.height_mm)
    return Variant(
        id=row.id,
        product_id=row.product_id,
        sku=row.sku,
        option_values=tuple(row.option_values),
        price=Money(row.price_minor, row.currency),
        barcode=row.barcode,
        cost=Money(row.cost_minor, row.currency) if row.cost_minor is not None else None,
        weight_grams=row.weight_grams,
        dimensions=dims,
        position=row.position,
        archived_at=row.archived_at,
    )


def image_of(row: Any) -> Image:
    return Image(url=row.url, alt_text=row.alt_text, position=row.position, skus=tuple(row.skus))


class SqlCatalogRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def add_category(self, category: Category) -> None:
        await self._conn.execute(
            insert(categories).values(
                id=category.id, name=category.name, parent_id=category.parent_id, path=category.path
            )
        )

    async def categories(self) -> list[Category]:
        rows = await self._conn.execute(select(categories).order_by(categories.c.path))
        return [Category(r.id, r.name, r.parent_id, r.path) for r in rows]

    async def _whole(self, rows: Sequence[Any]) -> list[Product]:
        found = [product_of(r) for r in rows]
        if not found:
            return []
        ids = [p.id for p in found]
        by_product = await self.variants_of(ids)
        images = await self.images_of(ids)
        return [
            replace(p, variants=tuple(by_product.get(p.id, ())), images=tuple(images.get(p.id, ())))
            for p in found
        ]

    async def get(self, product_id: uuid.UUID) -> Product | None:
        rows = (await self._conn.execute(select(products).where(products.c.id == product_id))).all()
        found = await self._whole(rows)
        return found[0] if found else None

    async def by_handles(self, handles: Sequence[str]) -> dict[str, Product]:
        if not handles:
            return {}
        stmt = select(products).where(products.c.handle.in_(handles))
        return {p.handle: p for p in await self._whole((await self._conn.execute(stmt)).all())}

    async def sku_owners(self, skus: Sequence[str]) -> dict[str, SkuOwner]:
        if not skus:
            return {}
        stmt = select(variants.c.sku, variants.c.product_id, variants.c.archived_at).where(
            variants.c.sku.in_(skus)
        )
        return {
            r.sku: SkuOwner(r.product_id, r.archived_at is not None)
            for r in await self._conn.execute(stmt)
        }

    async def skus_with_history(self, skus: Sequence[str]) -> set[str]:
        stocked = select(stock_levels.c.sku).where(
            stock_levels.c.sku.in_(skus),
            (stock_levels.c.on_hand != 0) | (stock_levels.c.reserved != 0),
        )
        moved = select(stock_movements.c.sku).where(stock_movements.c.sku.in_(skus))
        held = select(reservations.c.sku).where(reservations.c.sku.in_(skus))
        rows = await self._conn.execute(stocked.union(moved, held))
        return {r.sku for r in rows}

    async def add(self, new: Sequence[Product]) -> None:
        if not new:
            return
        await self._conn.execute(insert(products), [_product_row(p) for p in new])
        rows = sorted((_variant_row(v) for p in new for v in p.variants), key=lambda r: r["sku"])
        if rows:
            await self._conn.execute(insert(variants), rows)
        images = [row for p in new for row in _image_rows(p)]
        if images:
            await self._conn.execute(insert(product_images), images)

    async def replace(self, changed: Sequence[Product], archive_skus: Sequence[str]) -> None:
        if changed:
            rows = [{**_product_row(p), "pid": p.id} for p in changed]
            for row in rows:
                del row["id"], row["created_at"]
            await self._conn.execute(
                update(products).where(products.c.id == bindparam("pid")), rows
            )
            ids = [p.id for p in changed]
            await self._conn.execute(
                delete(product_images).where(product_images.c.product_id.in_(ids))
            )
            images = [row for p in changed for row in _image_rows(p)]
            if images:
                await self._conn.execute(insert(product_images), images)
            variant_rows = sorted(
                (_variant_row(v) for p in changed for v in p.variants), key=lambda r: r["sku"]
            )
            if variant_rows:
                stmt = upsert_for(self._conn)(variants)
                kept = {c: stmt.excluded[c] for c in variant_rows[0] if c not in ("id", "sku")}
                await self._conn.execute(
                    stmt.on_conflict_do_update(index_elements=["sku"], set_=kept), variant_rows
                )
        if archive_skus:
            await self._conn.execute(
                update(variants)
                .where(variants.c.sku.in_(archive_skus), variants.c.archived_at.is_(None))
                .values(archived_at=utcnow())
            )

    async def delete_variants(self, skus: Sequence[str]) -> None:
        """Drop variants with no history, their zero levels and their inventory items."""
        await self._conn.execute(delete(variants).where(variants.c.sku.in_(skus)))
        await self._conn.execute(delete(stock_levels).where(stock_levels.c.sku.in_(skus)))
        await self._conn.execute(delete(inventory_items).where(inventory_items.c.sku.in_(skus)))

    async def set_status(self, product_id: uuid.UUID, status: ProductStatus, at: datetime) -> None:
        await self._conn.execute(
            update(products)
            .where(products.c.id == product_id)
            .values(status=status.value, updated_at=at, version=products.c.version + 1)
        )

    def cursor(self, product: Product) -> str:
        return encode_cursor(product.created_at.isoformat(), product.id)

    async def page(self, *, first: int, after: str | None, filter: ProductFilter) -> list[Product]:
        c = products.c
        stmt = select(products).order_by(c.created_at.desc(), c.id.desc()).limit(first)
        if after is not None:
            stmt = stmt.where(before_position(c.created_at, c.id, after))
        if filter.status is not None:
            stmt = stmt.where(c.status == filter.status.value)
        if filter.brand is not None:
            stmt = stmt.where(c.brand == filter.brand)
        if filter.category_ids is not None:
            stmt = stmt.where(c.category_id.in_(filter.category_ids))
        if filter.sku is not None:
            stmt = stmt.where(
                exists().where(variants.c.product_id == c.id, variants.c.sku == filter.sku)
            )
        if filter.tag is not None:
            stmt = stmt.where(self._has_tag(filter.tag))
        if filter.search:
            term = f"%{filter.search.lower()}%"
            stmt = stmt.where(
                or_(
                    func.lower(c.title).like(term),
                    func.lower(c.handle).like(term),
                    exists().where(
                        variants.c.product_id == c.id, func.lower(variants.c.sku).like(term)
                    ),
                )
            )
        return [product_of(r) for r in await self._conn.execute(stmt)]

    def _has_tag(self, tag: str) -> Any:
        if is_postgresql(self._conn):
            return products.c.tags.contains([tag])
        return text(
            "EXISTS (SELECT 1 FROM json_each(products.tags) WHERE json_each.value = :tag)"
        ).bindparams(tag=tag)

    async def variants_of(self, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Variant]]:
        if not product_ids:
            return {}
        stmt = (
            select(variants)
            .where(variants.c.product_id.in_(product_ids), variants.c.archived_at.is_(None))
            .order_by(variants.c.product_id, variants.c.position)
        )
        found: dict[uuid.UUID, list[Variant]] = {}
        for row in await self._conn.execute(stmt):
            found.setdefault(row.product_id, []).append(variant_of(row))
        return found

    async def images_of(self, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Image]]:
        if not product_ids:
            return {}
        stmt = (
            select(product_images)
            .where(product_images.c.product_id.in_(product_ids))
            .order_by(product_images.c.product_id, product_images.c.position)
        )
        found: dict[uuid.UUID, list[Image]] = {}
        for row in await self._conn.execute(stmt):
            found.setdefault(row.product_id, []).append(image_of(row))
        return found

    async def variants_by_sku(self, skus: Sequence[str]) -> dict[str, Variant]:
        if not skus:
            return {}
        stmt = select(variants).where(variants.c.sku.in_(skus), variants.c.archived_at.is_(None))
        return {r.sku: variant_of(r) for r in await self._conn.execute(stmt)}
