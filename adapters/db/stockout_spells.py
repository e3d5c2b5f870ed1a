"""The spells each channel showed a SKU at 0, kept as its confirmed quantities are recorded.

Whatever records a confirmed quantity (the relay's confirmation of a push, reconciliation's,
a shop's own stock edit accepted) calls `note_shown` in the same transaction, after its
update: a SKU now confirmed at 0 without an open spell opens one at that time; one confirmed
above 0 closes its open spell. Reading the figures back, or taking those the caller's
update returned (rather than those it meant to store), keeps the spells true to what was
stored, whichever writer's condition held.

On PostgreSQL the caller's update has locked the SKU's listing row, so two writers of one
SKU take turns; the open spell's unique index turns a second opening into nothing anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import one_of, upsert_for
from adapters.db.tables import listing_items, listings, stockout_spells


async def note_shown(
    conn: AsyncConnection,
    channel_id: uuid.UUID,
    skus: Collection[str],
    at: datetime,
    stored: Mapping[str, int | None] | None = None,
) -> None:
    """`stored`: the figures the caller's update returned as it stored them (then they are
    not read again)."""
    if not skus:
        return
    item, spell = listing_items.c, stockout_spells.c
    wanted = sorted(set(skus))
    shown: Mapping[str, int | None] = stored if stored is not None else {}
    if stored is None:
        figures = await conn.execute(
            select(item.sku, item.confirmed_quantity)
            .join(listings, listings.c.id == item.listing_id)
            .where(listings.c.channel_id == channel_id, one_of(conn, item.sku, wanted))
        )
        shown = {row.sku: row.confirmed_quantity for row in figures}
    open_now = set(
        (
            await conn.execute(
                select(spell.sku).where(
                    spell.channel_id == channel_id,
                    one_of(conn, spell.sku, wanted),
                    spell.ended_at.is_(None),
                )
            )
        ).scalars()
    )
    back = sorted(s for s in open_now if (shown.get(s) or 0) > 0)
    out = sorted(s for s, q in shown.items() if q is not None and q <= 0 and s not in open_now)
    if back:
        await conn.execute(
            update(stockout_spells)
            .where(spell.channel_id == channel_id, spell.sku.in_(back), spell.ended_at.is_(None))
            .values(ended_at=at)
        )
    if out:
        await conn.execute(
            upsert_for(conn)(stockout_spells).on_conflict_do_nothing(
                index_elements=["channel_id", "sku"], index_where=spell.ended_at.is_(None)
            ),
            [{"id": uuid.uuid4(), "channel_id": channel_id, "sku": s, "started_at": at}
             for s in out],
        )  # fmt: skip
