"""Listings and their items (intended and confirmed state per SKU) in SQL, in batches."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.cursors import decode_position, encode_cursor
from adapters.db.dialect import upsert_for
from adapters.db.tables import listing_items, listings
from domain.catalog.listing import Listing, ListingItem, ListingStatus, Problem
from domain.catalog.money import Money


def _money(minor: int | None, currency: str | None) -> Money | None:
    return Money(minor, currency) if minor is not None and currency is not None else None


def _item(row: Any) -> ListingItem:
    return ListingItem(
        sku=row.sku,
        intended_price=_money(row.intended_price_minor, row.currency),
        intended_compare_at=_money(row.intended_compare_at_minor, row.currency),
        intended_quantity=row.intended_quantity,
        confirmed_price=_money(row.confirmed_price_minor, row.currency),
        confirmed_quantity=row.confirmed_quantity,
        confirmed_at=row.confirmed_at,
        external_id=row.external_id,
    )


def _listing(row: Any) -> Listing:
    return Listing(
        id=row.id,
        channel_id=row.channel_id,
        product_id=row.product_id,
        status=ListingStatus(row.status),
        problems=tuple(Problem(p["field"], p["message"], p["code"]) for p in row.problems),
        content_hash=row.content_hash,
        confirmed_content_hash=row.confirmed_content_hash,
        external_id=row.external_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _listing_row(listing: Listing) -> dict[str, Any]:
    return {
        "id": listing.id,
        "channel_id": listing.channel_id,
        "product_id": listing.product_id,
        "status": listing.status.value,
        "problems": [
            {"field": p.field, "message": p.message, "code": p.code} for p in listing.problems
        ],
        "content_hash": listing.content_hash,
        "confirmed_content_hash": listing.confirmed_content_hash,
        "external_id": listing.external_id,
        "created_at": listing.created_at,
        "updated_at": listing.updated_at,
    }


def _item_row(listing_id: uuid.UUID, item: ListingItem) -> dict[str, Any]:
    price = item.intended_price or item.confirmed_price
    return {
        "listing_id": listing_id,
        "sku": item.sku,
        "currency": price.currency if price else None,
        "intended_price_minor": item.intended_price.minor if item.intended_price else None,
        "intended_compare_at_minor": (
            item.intended_compare_at.minor if item.intended_compare_at else None
        ),
        "intended_quantity": item.intended_quantity,
        "confirmed_price_minor": item.confirmed_price.minor if item.confirmed_price else None,
        "confirmed_quantity": item.confirmed_quantity,
        "confirmed_at": item.confirmed_at,
        "external_id": item.external_id,
    }


def listing_cursor(listing: Listing) -> str:
    return encode_cursor(listing.created_at.isoformat(), listing.id)


class SqlListingRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def _with_items(self, rows: Sequence[Any]) -> list[Listing]:
        found = [_listing(r) for r in rows]
        if not found:
            return []
        items: dict[uuid.UUID, list[ListingItem]] = {}
        stmt = (
            select(listing_items)
            .where(listing_items.c.listing_id.in_([f.id for f in found]))
            .order_by(listing_items.c.listing_id, listing_items.c.sku)
        )
        for row in await self._conn.execute(stmt):
            items.setdefault(row.listing_id, []).append(_item(row))
        return [replace(f, items=tuple(items.get(f.id, ()))) for f in found]

    async def for_products(self, product_ids: Sequence[uuid.UUID]) -> list[Listing]:
        if not product_ids:
            return []
        stmt = select(listings).where(listings.c.product_id.in_(product_ids))
        return await self._with_items((await self._conn.execute(stmt)).all())

    async def save(self, changed: Sequence[Listing]) -> None:
        if not changed:
            return
        rows = [_listing_row(listing) for listing in changed]
        stmt = upsert_for(self._conn)(listings)
        kept = {c: stmt.excluded[c] for c in rows[0] if c not in ("id", "created_at")}
        await self._conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=kept), rows)
        ids = [listing.id for listing in changed]
        await self._conn.execute(delete(listing_items).where(listing_items.c.listing_id.in_(ids)))
        items = [_item_row(listing.id, item) for listing in changed for item in listing.items]
        if items:
            await self._conn.execute(insert(listing_items), items)

    async def page(
        self,
        *,
        channel_id: uuid.UUID | None,
        status: ListingStatus | None,
        first: int,
        after: str | None,
    ) -> list[Listing]:
        c = listings.c
        stmt = select(listings).order_by(c.created_at.desc(), c.id.desc()).limit(first)
        if channel_id is not None:
            stmt = stmt.where(c.channel_id == channel_id)
        if status is not None:
            stmt = stmt.where(c.status == status.value)
        if after is not None:
            at, ident = decode_position(after)
            stmt = stmt.where(or_(c.created_at < at, and_(c.created_at == at, c.id < ident)))
        return await self._with_items((await self._conn.execute(stmt)).all())
