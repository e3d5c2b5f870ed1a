"""Every call made to a channel, in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.cursors import before_position, encode_cursor
from adapters.db.tables import sync_log
from domain.sync.model import CallOutcome, SyncCall


def _call(row: Any) -> SyncCall:
    return SyncCall(
        id=row.id,
        channel_id=row.channel_id,
        operation=row.operation,
        keys=tuple(row.keys),
        outcome=CallOutcome(row.outcome),
        attempt=row.attempt,
        latency_ms=row.latency_ms,
        message=row.message,
        created_at=row.created_at,
    )


def sync_call_cursor(call: SyncCall) -> str:
    return encode_cursor(call.created_at.isoformat(), call.id)


class SqlSyncLogRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def add(self, calls: Sequence[SyncCall]) -> None:
        if not calls:
            return
        rows = [
            {
                "id": call.id,
                "channel_id": call.channel_id,
                "operation": call.operation,
                "keys": list(call.keys),
                "outcome": call.outcome.value,
                "attempt": call.attempt,
                "latency_ms": call.latency_ms,
                "message": call.message,
                "created_at": call.created_at,
            }
            for call in calls
        ]
        await self._conn.execute(insert(sync_log), rows)

    async def page(
        self,
        *,
        channel_id: uuid.UUID | None,
        outcome: str | None,
        first: int,
        after: str | None,
    ) -> list[SyncCall]:
        c = sync_log.c
        stmt = select(sync_log).order_by(c.created_at.desc(), c.id.desc()).limit(first)
        if channel_id is not None:
            stmt = stmt.where(c.channel_id == channel_id)
        if outcome is not None:
            stmt = stmt.where(c.outcome == outcome)
        if after is not None:
            stmt = stmt.where(before_position(c.created_at, c.id, after))
        return [_call(row) for row in await self._conn.execute(stmt)]
