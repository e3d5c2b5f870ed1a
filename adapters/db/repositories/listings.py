"""Listings and their items (intended and confirmed state per SKU) in SQL, in batches."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from adapters.db.cursors import before_position, encode_cursor
from adapters.db.dialect import one_of, upsert_for
from adapters.db.row_sets import row_sets
from adapters.db.stockout_spells import note_shown
from adapters.db.tables import listing_items, listings
from domain.channels.listing import DriftSighting, Listing, ListingItem, ListingStatus, Problem
from domain.money import Money


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
        refs=dict(row.refs or {}),
        sighting=(
            DriftSighting(row.drift_quantity, row.drift_from, row.drift_from_at, row.drift_seen_at)
            if row.drift_quantity is not None and row.drift_seen_at is not None
            else None
        ),
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
        "refs": dict(item.refs) or None,
    }


class _Row:
    """Attribute access over a mapping (a listing item read through a join)."""

    def __init__(self, values: Mapping[str, Any]):
        self.__dict__.update(values)


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

    async def save(
        self, changed: Sequence[Listing], removed: Sequence[tuple[uuid.UUID, str]] = ()
    ) -> None:
        if not changed:
            return
        # Only what Nexo intends is written here. What the channel confirmed (external ids,
        # confirmed content, confirmed prices and quantities, refs) belongs to the relay,
        # which may record it concurrently: never overwrite it with an older read.
        # In one fixed order, so concurrent refreshes of the same listings never deadlock.
        changed = sorted(changed, key=lambda x: (str(x.channel_id), str(x.product_id)))
        rows = [_listing_row(listing) for listing in changed]
        stmt = upsert_for(self._conn)(listings)
        intended = ("status", "problems", "content_hash", "updated_at")
        await self._conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"], set_={c: stmt.excluded[c] for c in intended}
            ),
            rows,
        )
        items = [_item_row(listing.id, item) for listing in changed for item in listing.items]
        if items:
            stmt = upsert_for(self._conn)(listing_items)
            wanted = (
                "currency",
                "intended_price_minor",
                "intended_compare_at_minor",
                "intended_quantity",
            )
            await self._conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["listing_id", "sku"],
                    set_={c: stmt.excluded[c] for c in wanted},
                ),
                items,
            )
        if removed:
            await self._conn.execute(
                delete(listing_items).where(
                    listing_items.c.listing_id == bindparam("gone_listing"),
                    listing_items.c.sku == bindparam("gone_sku"),
                ),
                [{"gone_listing": listing_id, "gone_sku": sku} for listing_id, sku in removed],
            )

    def cursor(self, listing: Listing) -> str:
        return listing_cursor(listing)

    async def get(self, listing_id: uuid.UUID) -> Listing | None:
        stmt = select(listings).where(listings.c.id == listing_id)
        found = await self._with_items((await self._conn.execute(stmt)).all())
        return found[0] if found else None

    async def items_on(
        self, channel_id: uuid.UUID, skus: Sequence[str]
    ) -> dict[str, tuple[Listing, ListingItem]]:
        if not skus:
            return {}
        # The items, then their (few) listings: a listing's columns are not read and parsed
        # again with each of its items (a feed's 20,000 SKUs are 40 listings).
        item = listing_items.c
        on_channel = select(listings.c.id).where(listings.c.channel_id == channel_id)
        rows = (
            await self._conn.execute(
                select(listing_items).where(
                    item.listing_id.in_(on_channel), one_of(self._conn, item.sku, skus)
                )
            )
        ).all()
        owners = {row.listing_id for row in rows}
        parsed = {
            row.id: _listing(row)
            for row in await self._conn.execute(
                select(listings).where(one_of(self._conn, listings.c.id, owners))
            )
        }
        return {row.sku: (parsed[row.listing_id], _item(row)) for row in rows}

    async def listed_items(
        self,
        channel_id: uuid.UUID,
        *,
        after_sku: str | None,
        first: int,
        sighted_or: Sequence[str] | None = None,
    ) -> list[tuple[Listing, ListingItem]]:
        item = listing_items.c
        stmt = (
            select(listings, *[col.label(f"item_{col.name}") for col in listing_items.c])
            .join(listing_items, item.listing_id == listings.c.id)
            .where(
                listings.c.channel_id == channel_id,
                listings.c.status.in_((ListingStatus.ACTIVE.value, ListingStatus.PENDING.value)),
            )
            .order_by(item.sku)
            .limit(first)
        )
        if after_sku is not None:
            stmt = stmt.where(item.sku > after_sku)
        if sighted_or is not None:
            sighted = item.drift_quantity.is_not(None)
            stmt = stmt.where(or_(sighted, item.sku.in_(sorted(set(sighted_or)))))
        found = []
        for row in await self._conn.execute(stmt):
            values = {
                k.removeprefix("item_"): v for k, v in row._mapping.items() if k.startswith("item_")
            }
            found.append((_listing(row), _item(_Row(values))))
        return found

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
        c = listings.c
        await self._conn.execute(
            update(listings)
            .where(c.id == listing_id)
            .values(external_id=external_id, confirmed_content_hash=content_hash, updated_at=at)
        )
        # The status moves only if the listing is still what was sent: a change made while
        # the channel answered has its own outbox row, and its own publication to come.
        if status is ListingStatus.ENDED:
            still = c.status == ListingStatus.ENDED.value
        else:
            still = (c.status == ListingStatus.PENDING.value) & (c.content_hash == content_hash)
        await self._conn.execute(
            update(listings)
            .where(c.id == listing_id, still)
            .values(status=status.value, problems=[])
        )
        if refs:
            await self._conn.execute(
                update(listing_items)
                .where(
                    listing_items.c.listing_id == listing_id,
                    listing_items.c.sku == bindparam("item_sku"),
                )
                .values(refs=bindparam("item_refs")),
                [{"item_sku": sku, "item_refs": dict(ids)} for sku, ids in sorted(refs.items())],
            )

    async def set_status(
        self,
        listing_id: uuid.UUID,
        status: ListingStatus,
        problems: Sequence[Problem],
        at: datetime,
    ) -> None:
        await self._conn.execute(
            update(listings)
            .where(listings.c.id == listing_id)
            .values(
                status=status.value,
                problems=[
                    {"field": p.field, "message": p.message, "code": p.code} for p in problems
                ],
                updated_at=at,
            )
        )

    async def confirm(
        self,
        channel_id: uuid.UUID,
        confirmed: Sequence[tuple[str, int | None, Money | None]],
        at: datetime,
    ) -> None:
        quantities = sorted((sku, q) for sku, q, _ in confirmed if q is not None)
        prices = sorted((sku, p.minor) for sku, _, p in confirmed if p is not None)
        # One statement per kind (a batch on SQLite), whatever the number of SKUs.
        if quantities:
            stored = await self._set_confirmed(
                channel_id, "confirmed_quantity", Integer(), quantities, at
            )
            await note_shown(self._conn, channel_id, [sku for sku, _ in quantities], at, stored)
        if prices:
            await self._set_confirmed(channel_id, "confirmed_price_minor", BigInteger(), prices, at)

    async def confirm_quantities_from(
        self,
        channel_id: uuid.UUID,
        confirmed: Sequence[tuple[str, int | None, int]],
        at: datetime,
    ) -> None:
        if not confirmed:
            return
        rows = sorted(((s, q, e) for s, e, q in confirmed), key=lambda c: c[0])
        await self._set_confirmed(
            channel_id, "confirmed_quantity", Integer(), rows, at, expected=True
        )
        # Read back: an item the compare-and-set left shows its own figure.
        await note_shown(self._conn, channel_id, [s for s, _, _ in confirmed], at)

    async def _set_confirmed(
        self,
        channel_id: uuid.UUID,
        target: str,
        kind: TypeEngine[Any],
        rows: Sequence[tuple[Any, ...]],
        at: datetime,
        *,
        expected: bool = False,
    ) -> dict[str, Any]:
        """Set `target` of the channel's items from (SKU, value[, expected]) rows in one
        statement: the items are locked first, in SKU order (the order every writer of
        listing items takes them in), then set; with `expected`, only an item whose
        confirmed quantity is still that figure moves (a compare-and-set). Returns the figures
        as stored, by SKU."""
        item = listing_items.c
        on_channel = select(listings.c.id).where(listings.c.channel_id == channel_id)
        columns: list[tuple[str, TypeEngine[Any]]] = [("sku", String()), ("figure", kind)]
        if expected:
            columns.append(("expected", Integer()))
        stored: dict[str, Any] = {}
        for given in row_sets(self._conn, "confirmed", columns, rows):
            matches = item.sku == given.c.sku
            if expected:
                matches &= item.confirmed_quantity.is_not_distinct_from(given.c.expected)
            locked = (
                select(item.listing_id, item.sku, given.c.figure)
                .where(matches, item.listing_id.in_(on_channel))
                .order_by(item.sku, item.listing_id)
                .with_for_update(of=listing_items)
                .cte("locked")
            )
            result = await self._conn.execute(
                update(listing_items)
                .where(item.listing_id == locked.c.listing_id, item.sku == locked.c.sku)
                .values({target: locked.c.figure, "confirmed_at": at})
                .returning(item.sku, item[target])
            )
            stored.update((row[0], row[1]) for row in result)
        return stored

    async def sight(
        self, channel_id: uuid.UUID, sightings: Sequence[tuple[str, DriftSighting]]
    ) -> None:
        if not sightings:
            return
        item = listing_items.c
        on_channel = select(listings.c.id).where(listings.c.channel_id == channel_id)
        quantity = bindparam("s_quantity", type_=Integer)
        drifted_from = bindparam("s_from", type_=Integer)
        # The first sighting of a figure stays (a concurrent run may have seen it too): it is
        # what the figure waits from.
        await self._conn.execute(
            update(listing_items)
            .where(
                item.sku == bindparam("s_sku"),
                item.listing_id.in_(on_channel),
                item.drift_quantity.is_distinct_from(quantity)
                | item.drift_from.is_distinct_from(drifted_from),
            )
            .values(
                drift_quantity=quantity,
                drift_from=drifted_from,
                drift_from_at=bindparam("s_from_at"),
                drift_seen_at=bindparam("s_seen_at"),
            ),
            [
                {"s_sku": sku, "s_quantity": s.quantity, "s_from": s.drifted_from,
                 "s_from_at": s.drifted_at, "s_seen_at": s.seen_at}
                for sku, s in sorted(sightings, key=lambda found: found[0])
            ],
        )  # fmt: skip

    async def forget_sightings(self, channel_id: uuid.UUID, skus: Sequence[str]) -> None:
        if not skus:
            return
        item = listing_items.c
        on_channel = select(listings.c.id).where(listings.c.channel_id == channel_id)
        await self._conn.execute(
            update(listing_items)
            .where(
                item.sku == bindparam("f_sku"),
                item.listing_id.in_(on_channel),
                item.drift_quantity.is_not(None),
            )
            .values(drift_quantity=None, drift_from=None, drift_from_at=None, drift_seen_at=None),
            [{"f_sku": sku} for sku in sorted(set(skus))],
        )

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
            stmt = stmt.where(before_position(c.created_at, c.id, after))
        return await self._with_items((await self._conn.execute(stmt)).all())
