"""The outbox in SQL: one pending row per (channel, kind, key); relays claim rows with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never take the same row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import is_postgresql, one_of, upsert_for
from adapters.db.driver import DriverStatement
from adapters.db.tables import outbox, sync_log
from domain.channels.outbox import Dirty, OutboxKind
from domain.sync.model import CallOutcome, ChannelSyncStatus, OutboxEntry, OutboxStatus

_DUE = (OutboxStatus.PENDING.value, OutboxStatus.RETRY.value)


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        channel_id=row.channel_id,
        kind=OutboxKind(row.kind),
        key=row.key,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        available_at=row.available_at,
        created_at=row.created_at,
        last_error=row.last_error,
    )


# Every stock change marks the channels fed by its level: on PostgreSQL one statement of
# fixed text on the driver, its rows as arrays (a multi-row VALUES is compiled anew for
# each batch size, which cost more CPU than the rest of a reservation).
MARK = DriverStatement(
    text("""
    INSERT INTO outbox (id, channel_id, kind, key, status, attempts, available_at, created_at)
    SELECT id, channel_id, kind, key, 'pending', 0, at, at
      FROM unnest(CAST(:ids AS uuid[]), CAST(:channels AS uuid[]), CAST(:kinds AS text[]),
                  CAST(:keys AS text[])) AS d (id, channel_id, kind, key),
           (SELECT CAST(:at AS timestamptz) AS at) AS now
    ON CONFLICT (channel_id, kind, key) WHERE status = 'pending' DO NOTHING
    RETURNING channel_id
    """)
)


class SqlOutboxRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def mark(self, dirty: Sequence[Dirty], now: datetime) -> set[uuid.UUID]:
        if not dirty:
            return set()
        ordered = sorted(dirty, key=lambda d: (str(d.channel_id), d.kind.value, d.key))
        if is_postgresql(self._conn):
            params = {
                "ids": [uuid.uuid4() for _ in ordered],
                "channels": [d.channel_id for d in ordered],
                "kinds": [d.kind.value for d in ordered],
                "keys": [d.key for d in ordered],
                "at": now,
            }
            return {row.channel_id for row in await MARK.rows(self._conn, params)}
        rows = [
            {
                "id": uuid.uuid4(),
                "channel_id": d.channel_id,
                "kind": d.kind.value,
                "key": d.key,
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "available_at": now,
                "created_at": now,
            }
            for d in ordered
        ]
        stmt = (
            upsert_for(self._conn)(outbox)
            .values(rows)
            .on_conflict_do_nothing(
                index_elements=["channel_id", "kind", "key"],
                index_where=text("status = 'pending'"),
            )
            .returning(outbox.c.channel_id)
        )
        return {row.channel_id for row in await self._conn.execute(stmt)}

    async def claim(self, channel_id: uuid.UUID, now: datetime, limit: int) -> list[OutboxEntry]:
        c = outbox.c
        # A key another relay is sending now waits for it to finish: two runs pushing one
        # SKU at once could land in either order. (The compare-and-set on the channel is the
        # last guard when two rows of one key are claimed at the very same moment.)
        # Uncorrelated, so PostgreSQL hashes the keys in flight once (a correlated NOT EXISTS
        # became a nested loop on a fresh outbox's stale statistics: 40 s for 15,000 due rows
        # behind 5,000 in flight, as a drain with several calls out has).
        busy = outbox.alias("busy")
        in_flight = select(busy.c.kind, busy.c.key).where(
            busy.c.channel_id == channel_id,
            busy.c.status == OutboxStatus.PROCESSING.value,
        )
        due = (
            select(c.id)
            .where(
                c.channel_id == channel_id,
                c.status.in_(_DUE),
                c.available_at <= now,
                tuple_(c.kind, c.key).not_in(in_flight),
            )
            .order_by(c.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(outbox)
            .where(c.id.in_(due))
            .values(status=OutboxStatus.PROCESSING.value, claimed_at=now)
            .returning(outbox)
        )
        return [_entry(row) for row in await self._conn.execute(stmt)]

    async def release(self, ids: Sequence[uuid.UUID], now: datetime) -> None:
        if ids:
            await self._conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids), outbox.c.status == OutboxStatus.PROCESSING.value)
                .values(status=OutboxStatus.RETRY.value, available_at=now)
            )

    async def keep(self, ids: Sequence[uuid.UUID], now: datetime) -> None:
        if ids:
            await self._conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids), outbox.c.status == OutboxStatus.PROCESSING.value)
                .values(claimed_at=now)
            )

    async def finish(self, ids: Sequence[uuid.UUID]) -> None:
        # Done rows are deleted: the sync log keeps the history of calls, the outbox stays small.
        if ids:
            await self._conn.execute(delete(outbox).where(one_of(self._conn, outbox.c.id, ids)))

    async def finish_waiting(
        self, channel_id: uuid.UUID, kind: OutboxKind, keys: Sequence[str]
    ) -> None:
        if keys:
            c = outbox.c
            await self._conn.execute(
                delete(outbox).where(
                    c.channel_id == channel_id,
                    c.kind == kind.value,
                    one_of(self._conn, c.key, sorted(set(keys))),
                    c.status == OutboxStatus.RETRY.value,
                )
            )

    async def retry(
        self,
        ids: Sequence[uuid.UUID],
        error: str,
        available_at: datetime,
        *,
        counted: bool = True,
    ) -> None:
        if ids:
            await self._conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(
                    status=OutboxStatus.RETRY.value,
                    attempts=outbox.c.attempts + (1 if counted else 0),
                    available_at=available_at,
                    last_error=error[:2000],
                )
            )

    async def bury(self, ids: Sequence[uuid.UUID], error: str) -> None:
        if ids:
            await self._conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(
                    status=OutboxStatus.DEAD.value,
                    attempts=outbox.c.attempts + 1,
                    last_error=error[:2000],
                )
            )

    async def due_channels(self, now: datetime, stuck_before: datetime) -> list[uuid.UUID]:
        c = outbox.c
        # A relay that died mid-call left rows "processing": they go back to be retried.
        await self._conn.execute(
            update(outbox)
            .where(c.status == OutboxStatus.PROCESSING.value, c.claimed_at < stuck_before)
            .values(status=OutboxStatus.RETRY.value, available_at=now)
        )
        stmt = select(c.channel_id).where(c.status.in_(_DUE), c.available_at <= now).distinct()
        return [row.channel_id for row in await self._conn.execute(stmt)]

    async def status(self, channel_id: uuid.UUID, since: datetime) -> ChannelSyncStatus:
        c = outbox.c
        waiting = c.status.in_((*_DUE, OutboxStatus.PROCESSING.value))
        row = (
            await self._conn.execute(
                select(
                    func.count().filter(waiting).label("pending"),
                    func.min(c.created_at).filter(waiting).label("oldest"),
                    func.count().filter(c.status == OutboxStatus.DEAD.value).label("dead"),
                ).where(c.channel_id == channel_id)
            )
        ).one()
        s = sync_log.c
        calls = (
            await self._conn.execute(
                select(
                    func.count().label("calls"),
                    func.count()
                    .filter(s.outcome.in_((CallOutcome.FAILED.value, CallOutcome.DEAD.value)))
                    .label("failures"),
                    func.count()
                    .filter(s.outcome == CallOutcome.THROTTLED.value)
                    .label("throttles"),
                ).where(s.channel_id == channel_id, s.created_at >= since)
            )
        ).one()
        return ChannelSyncStatus(
            channel_id=channel_id,
            pending=row.pending,
            oldest_pending_at=row.oldest,
            dead=row.dead,
            calls=calls.calls,
            failures=calls.failures,
            throttles=calls.throttles,
        )
