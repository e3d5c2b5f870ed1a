"""Watching the outbox while the run goes: its oldest unsent row, and when each quantity row
was first written, to time hub -> shop propagation against the sync log afterwards.

Done outbox rows are deleted, so they are sampled as they live (every POLL); a row written
and sent between two samples is missed, which leaves out only the fastest propagations.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.support import percentile

POLL = 0.25


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@dataclass
class OutboxWatch:
    dsn: str
    max_age: float = 0.0  # seconds: the oldest unsent row ever seen
    oldest: str = ""  # that row: its channel's kind, its kind and key, its status
    rows: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # id -> (sku, written)
    errors: int = 0

    async def run(self) -> None:
        conn: asyncpg.Connection | None = None
        while True:
            try:
                conn = conn or await asyncpg.connect(self.dsn)
                await self.sample(conn)
            except (OSError, asyncpg.PostgresError):
                self.errors += 1
                conn = None
            try:
                await asyncio.sleep(POLL)
            except asyncio.CancelledError:
                if conn is not None:
                    await conn.close()
                raise

    async def sample(self, conn: asyncpg.Connection) -> None:
        now = datetime.now(UTC)
        for row in await conn.fetch(
            "SELECT o.id, o.kind, o.key, o.status, o.created_at, c.kind AS channel"
            " FROM outbox o JOIN channels c ON c.id = o.channel_id WHERE o.status <> 'dead'"
        ):
            written = _utc(row["created_at"])
            age = (now - written).total_seconds()
            if age > self.max_age:
                self.max_age = age
                self.oldest = f"{row['channel']} {row['kind']} {row['key']} ({row['status']})"
            if row["kind"] == "quantity":
                self.rows.setdefault(str(row["id"]), (row["key"], written))

    async def propagation(self, conn: asyncpg.Connection) -> list[float]:
        """Seconds from each quantity row's writing to the first push of its SKU that the shop
        confirmed after it."""
        pushes: dict[str, list[datetime]] = {}
        for row in await conn.fetch(
            "SELECT keys, created_at FROM sync_log"
            " WHERE operation = 'push_quantities' AND outcome IN ('ok', 'partial')"
        ):
            keys: Any = row["keys"]
            for sku in json.loads(keys) if isinstance(keys, str) else keys:
                pushes.setdefault(sku, []).append(_utc(row["created_at"]))
        found = []
        for sku, written in self.rows.values():
            after = [at for at in pushes.get(sku, ()) if at >= written]
            if after:
                found.append((min(after) - written).total_seconds())
        return found


def p95_ms(seconds: list[float]) -> float:
    return percentile(seconds, 95) * 1000
