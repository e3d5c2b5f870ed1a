"""The outbox and the sync log in dicts: one pending row per (channel, kind, key), and rows
that move pending → processing → done (deleted), retry or dead, as the SQL outbox's do."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime

from domain.channels.outbox import Dirty, OutboxKind
from domain.sync.model import CallOutcome, ChannelSyncStatus, OutboxEntry, OutboxStatus, SyncCall
from tests.fakes.tables import ConstraintViolation, OutboxRow, Tables, read_position

_DUE = (OutboxStatus.PENDING, OutboxStatus.RETRY)


class FakeOutboxRepository:
    def __init__(self, tables: Tables):
        self._t = tables

    def _rows(self, ids: Sequence[uuid.UUID]) -> list[OutboxRow]:
        return [self._t.outbox[i] for i in ids if i in self._t.outbox]

    def _put(self, row: OutboxRow, entry: OutboxEntry) -> None:
        self._t.outbox[entry.id] = dataclasses.replace(row, entry=entry)

    async def mark(self, dirty: Sequence[Dirty], now: datetime) -> set[uuid.UUID]:
        pending = {
            (r.entry.channel_id, r.entry.kind, r.entry.key)
            for r in self._t.outbox.values()
            if r.entry.status is OutboxStatus.PENDING
        }
        marked: set[uuid.UUID] = set()
        for d in dirty:
            if d.channel_id not in self._t.channels:
                raise ConstraintViolation(f"outbox.channel_id {d.channel_id}")
            if (d.channel_id, d.kind, d.key) in pending:
                continue
            pending.add((d.channel_id, d.kind, d.key))
            entry = OutboxEntry(
                uuid.uuid4(), d.channel_id, d.kind, d.key, OutboxStatus.PENDING, 0, now, now
            )
            self._t.outbox[entry.id] = OutboxRow(entry)
            marked.add(d.channel_id)
        return marked

    async def finish_waiting(
        self, channel_id: uuid.UUID, kind: OutboxKind, keys: Sequence[str]
    ) -> None:
        wanted = set(keys)
        for entry_id, row in list(self._t.outbox.items()):
            e = row.entry
            if (e.channel_id, e.kind, e.key in wanted, e.status) == (
                channel_id, kind, True, OutboxStatus.RETRY,
            ):  # fmt: skip
                del self._t.outbox[entry_id]

    async def claim(self, channel_id: uuid.UUID, now: datetime, limit: int) -> list[OutboxEntry]:
        rows = list(self._t.outbox.values())
        busy = {
            (r.entry.kind, r.entry.key)
            for r in rows
            if r.entry.channel_id == channel_id and r.entry.status is OutboxStatus.PROCESSING
        }
        due = sorted(
            (
                r
                for r in rows
                if r.entry.channel_id == channel_id
                and r.entry.status in _DUE
                and r.entry.available_at <= now
                and (r.entry.kind, r.entry.key) not in busy
            ),
            key=lambda r: r.entry.available_at,
        )[:limit]
        claimed = []
        for row in due:
            entry = dataclasses.replace(row.entry, status=OutboxStatus.PROCESSING)
            self._t.outbox[entry.id] = OutboxRow(entry, claimed_at=now)
            claimed.append(entry)
        return claimed

    async def release(self, ids: Sequence[uuid.UUID], now: datetime) -> None:
        for row in self._rows(ids):
            if row.entry.status is OutboxStatus.PROCESSING:
                self._put(
                    row, dataclasses.replace(row.entry, status=OutboxStatus.RETRY, available_at=now)
                )

    async def keep(self, ids: Sequence[uuid.UUID], now: datetime) -> None:
        for row in self._rows(ids):
            if row.entry.status is OutboxStatus.PROCESSING:
                self._t.outbox[row.entry.id] = dataclasses.replace(row, claimed_at=now)

    async def finish(self, ids: Sequence[uuid.UUID]) -> None:
        for i in ids:
            self._t.outbox.pop(i, None)

    async def retry(
        self,
        ids: Sequence[uuid.UUID],
        error: str,
        available_at: datetime,
        *,
        counted: bool = True,
    ) -> None:
        for row in self._rows(ids):
            retried = dataclasses.replace(
                row.entry,
                status=OutboxStatus.RETRY,
                attempts=row.entry.attempts + (1 if counted else 0),
                available_at=available_at,
                last_error=error[:2000],
            )
            self._put(row, retried)

    async def bury(self, ids: Sequence[uuid.UUID], error: str) -> None:
        for row in self._rows(ids):
            buried = dataclasses.replace(
                row.entry,
                status=OutboxStatus.DEAD,
                attempts=row.entry.attempts + 1,
                last_error=error[:2000],
            )
            self._put(row, buried)

    async def due_channels(self, now: datetime, stuck_before: datetime) -> list[uuid.UUID]:
        for row in list(self._t.outbox.values()):
            stuck = row.claimed_at is not None and row.claimed_at < stuck_before
            if row.entry.status is OutboxStatus.PROCESSING and stuck:
                self._put(
                    row, dataclasses.replace(row.entry, status=OutboxStatus.RETRY, available_at=now)
                )
        due = [
            r.entry.channel_id
            for r in self._t.outbox.values()
            if r.entry.status in _DUE and r.entry.available_at <= now
        ]
        return list(dict.fromkeys(due))

    async def status(self, channel_id: uuid.UUID, since: datetime) -> ChannelSyncStatus:
        entries = [r.entry for r in self._t.outbox.values() if r.entry.channel_id == channel_id]
        waiting = [e for e in entries if e.status in (*_DUE, OutboxStatus.PROCESSING)]
        calls = [
            c for c in self._t.sync_log if c.channel_id == channel_id and c.created_at >= since
        ]
        return ChannelSyncStatus(
            channel_id=channel_id,
            pending=len(waiting),
            oldest_pending_at=min((e.created_at for e in waiting), default=None),
            dead=sum(e.status is OutboxStatus.DEAD for e in entries),
            calls=len(calls),
            failures=sum(c.outcome in (CallOutcome.FAILED, CallOutcome.DEAD) for c in calls),
            throttles=sum(c.outcome is CallOutcome.THROTTLED for c in calls),
        )


class FakeSyncLogRepository:
    def __init__(self, tables: Tables):
        self._t = tables

    async def add(self, calls: Sequence[SyncCall]) -> None:
        self._t.sync_log.extend(calls)

    async def page(
        self,
        *,
        channel_id: uuid.UUID | None,
        outcome: str | None,
        first: int,
        after: str | None,
    ) -> list[SyncCall]:
        found = sorted(self._t.sync_log, key=lambda c: (c.created_at, c.id), reverse=True)
        if channel_id is not None:
            found = [c for c in found if c.channel_id == channel_id]
        if outcome is not None:
            found = [c for c in found if c.outcome.value == outcome]
        if after is not None:
            start = read_position(after)
            found = [c for c in found if (c.created_at, c.id) < start]
        return found[:first]
