"""Quantities sent to channels and not heard back yet, in SQL (see domain/sync/echoes.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import one_of
from adapters.db.row_sets import row_sets
from adapters.db.tables import listing_items, listings, pushed_quantities
from domain.sync.echoes import Sent


class SqlPushedQuantities:
    def __init__(self, conn: AsyncConnection):
        self._conn = conn

    async def record(
        self,
        channel_id: uuid.UUID,
        pushed: Sequence[tuple[str, int]],
        at: datetime,
        forget_before: datetime,
    ) -> None:
        if not pushed:
            return
        p, item = pushed_quantities.c, listing_items.c
        skus = sorted({sku for sku, _ in pushed})
        confirmed_at = (
            select(func.max(item.confirmed_at))
            .join(listings, listings.c.id == item.listing_id)
            .where(listings.c.channel_id == p.channel_id, item.sku == p.sku)
            .scalar_subquery()
        )
        await self._conn.execute(
            delete(pushed_quantities).where(
                p.channel_id == channel_id,
                one_of(self._conn, p.sku, skus),
                p.pushed_at < forget_before,
                p.pushed_at < confirmed_at,
            )
        )
        rows = [(uuid.uuid4(), sku, quantity) for sku, quantity in pushed]
        columns = [("id", p.id.type), ("sku", p.sku.type), ("quantity", p.quantity.type)]
        # One statement (a batch on SQLite) whatever the number: a feed sends 20,000.
        for sent in row_sets(self._conn, "sent", columns, rows):
            await self._conn.execute(
                insert(pushed_quantities).from_select(
                    ["id", "channel_id", "sku", "quantity", "pushed_at"],
                    select(
                        sent.c.id,
                        bindparam("p_channel", channel_id, type_=p.channel_id.type),
                        sent.c.sku,
                        sent.c.quantity,
                        bindparam("p_at", at, type_=p.pushed_at.type),
                    ),
                )
            )

    async def unheard(self, channel_id: uuid.UUID, skus: Sequence[str]) -> dict[str, list[Sent]]:
        if not skus:
            return {}
        p = pushed_quantities.c
        rows = await self._conn.execute(
            select(p.id, p.sku, p.quantity, p.pushed_at)
            .where(p.channel_id == channel_id, p.sku.in_(sorted(set(skus))))
            .order_by(p.sku, p.pushed_at, p.id)
        )
        found: dict[str, list[Sent]] = {}
        for row in rows:
            found.setdefault(row.sku, []).append(Sent(row.id, row.quantity, row.pushed_at))
        return found

    async def heard(self, ids: Sequence[uuid.UUID]) -> None:
        if ids:
            await self._conn.execute(
                delete(pushed_quantities).where(pushed_quantities.c.id.in_(sorted(set(ids))))
            )
