"""Allocations due in SQL: one row per order waiting to be reserved, with its lease.

Every change is one conditional statement, so two runs never both take a lease. The sweep's
claim skips rows another transaction is claiming (PostgreSQL), and rechecks the lapse on
the row it updates.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import upsert_for
from adapters.db.tables import allocations_due

_due = allocations_due.c


class SqlDueAllocationRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def mark(self, order_id: uuid.UUID, lease: uuid.UUID, now: datetime) -> bool:
        return order_id in await self.mark_many({order_id: lease}, now)

    async def mark_many(
        self, leases: Mapping[uuid.UUID, uuid.UUID], now: datetime
    ) -> set[uuid.UUID]:
        if not leases:
            return set()
        rows = [
            {"order_id": order_id, "due_since": now, "lease": lease, "claimed_at": now}
            for order_id, lease in sorted(leases.items(), key=lambda item: str(item[0]))
        ]
        stmt = (
            upsert_for(self._conn)(allocations_due)
            .on_conflict_do_nothing(index_elements=["order_id"])
            .returning(_due.order_id)
        )
        return {row.order_id for row in await self._conn.execute(stmt, rows)}

    async def claim(
        self, order_id: uuid.UUID, held: uuid.UUID | None, lease: uuid.UUID, now: datetime
    ) -> bool:
        stmt = update(allocations_due).where(_due.order_id == order_id)
        if held is not None:
            stmt = stmt.where(_due.lease == held)
        result = await self._conn.execute(
            stmt.values(lease=lease, claimed_at=now).returning(_due.order_id)
        )
        return result.first() is not None

    async def renew_many(
        self, leases: Mapping[uuid.UUID, uuid.UUID], now: datetime
    ) -> set[uuid.UUID]:
        if not leases:
            return set()
        stmt = (
            update(allocations_due)
            .where(tuple_(_due.order_id, _due.lease).in_(sorted(leases.items())))
            .values(claimed_at=now)
            .returning(_due.order_id)
        )
        return {row.order_id for row in await self._conn.execute(stmt)}

    async def any_lapsed(self, claimed_before: datetime) -> bool:
        stmt = select(_due.order_id).where(_due.claimed_at < claimed_before).limit(1)
        return (await self._conn.execute(stmt)).first() is not None

    async def claim_lapsed(
        self, claimed_before: datetime, lease: uuid.UUID, now: datetime, limit: int
    ) -> list[uuid.UUID]:
        lapsed = (
            select(_due.order_id)
            .where(_due.claimed_at < claimed_before)
            .order_by(_due.claimed_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(allocations_due)
            .where(_due.order_id.in_(lapsed), _due.claimed_at < claimed_before)
            .values(lease=lease, claimed_at=now)
            .returning(_due.order_id, _due.due_since)
        )
        rows = sorted(await self._conn.execute(stmt), key=lambda row: row.due_since)
        return [row.order_id for row in rows]

    async def clear(self, order_ids: Sequence[uuid.UUID]) -> None:
        if order_ids:
            await self._conn.execute(
                delete(allocations_due).where(_due.order_id.in_(list(order_ids)))
            )
