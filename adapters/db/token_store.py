"""Channel tokens in the database: one row per channel, refreshed under its row lock.

A caller whose token is stale takes the channel's row for update (PostgreSQL: `FOR UPDATE`;
SQLite: the write lock every writing transaction takes) and asks the channel for a new token
while it holds it; a caller in another process waits on the lock, then finds the new token and
uses it. Within a process, callers also queue on an asyncio lock per channel, so one process
makes one request. The lock is held for the length of one token request, about once an hour
per channel.

Each process keeps the token it last read for `RECHECK` at most, then reads the row again: new
credentials (which clear the row, `SqlChannelConfigRepository.set_credentials`) or a token
another process refreshed after a 401 reach it within that time.

The one window left: the channel answered a refresh and the commit storing it failed (the
database went away in between). A rotating channel's new refresh token is then lost and the
channel must be given credentials again; its health says so on the next call.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.channel_kit.tokens import EXPIRY_MARGIN, Refresh
from adapters.db.dialect import is_postgresql, upsert_for
from adapters.db.engine import READONLY_FLAG
from adapters.db.tables import channel_tokens
from domain.catalog.ports import SecretBox
from domain.clock import Clock, utcnow

RECHECK = timedelta(seconds=30)

_t = channel_tokens.c


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Held:
    token: str
    expires_at: datetime
    read_at: datetime

    def usable(self, now: datetime) -> bool:
        return now + EXPIRY_MARGIN < self.expires_at


class SqlTokenStore:
    def __init__(
        self, engine: AsyncEngine, secrets: Callable[[], SecretBox], clock: Clock = utcnow
    ):
        self._engine = engine
        self._secrets = secrets
        self._clock = clock
        self._locks: defaultdict[uuid.UUID, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._held: dict[uuid.UUID, _Held] = {}

    async def access_token(self, channel_id: uuid.UUID, refresh: Refresh) -> str:
        held = self._fresh(channel_id)
        if held is not None:
            return held.token
        async with self._locks[channel_id]:
            held = self._fresh(channel_id)
            if held is None:
                held = await self._stored(channel_id)
                if held is None or not held.usable(self._clock()):
                    held = await self._refresh(channel_id, refresh)
                self._held[channel_id] = held
            return held.token

    async def expire(self, channel_id: uuid.UUID, access_token: str) -> None:
        held = self._held.get(channel_id)
        if held is not None and held.token == access_token:
            del self._held[channel_id]
        async with self._engine.connect() as conn:
            conn.info[READONLY_FLAG] = False
            await conn.begin()
            await conn.execute(
                update(channel_tokens)
                .where(_t.channel_id == channel_id, _t.access_digest == digest(access_token))
                .values(expires_at=None)
            )
            await conn.commit()

    def _fresh(self, channel_id: uuid.UUID) -> _Held | None:
        """The token this process read, while it is usable and recent enough to trust."""
        held = self._held.get(channel_id)
        now = self._clock()
        if held is None or not held.usable(now) or now - held.read_at > RECHECK:
            return None
        return held

    async def _stored(self, channel_id: uuid.UUID) -> _Held | None:
        async with self._engine.connect() as conn:
            conn.info[READONLY_FLAG] = True
            row = (await conn.execute(_row(channel_id))).first()
            await conn.rollback()
        return self._open(row)

    async def _refresh(self, channel_id: uuid.UUID, refresh: Refresh) -> _Held:
        async with self._engine.connect() as conn:
            conn.info[READONLY_FLAG] = False
            await conn.begin()
            row = await self._lock(conn, channel_id)
            held = self._open(row)
            if held is not None and held.usable(self._clock()):
                return held  # another process refreshed it while this one waited
            latest = row.refresh_token if row is not None else None
            grant = await refresh(self._secrets().open(latest).decode() if latest else None)
            now = self._clock()
            values = {
                "access_token": self._secrets().seal(grant.access_token.encode()),
                "access_digest": digest(grant.access_token),
                "expires_at": grant.expires_at,
                "refreshed_at": now,
            }
            if grant.refresh_token is not None:
                values["refresh_token"] = self._secrets().seal(grant.refresh_token.encode())
            await conn.execute(
                update(channel_tokens).where(_t.channel_id == channel_id).values(**values)
            )
            await conn.commit()
        return _Held(grant.access_token, grant.expires_at, now)

    async def _lock(self, conn: AsyncConnection, channel_id: uuid.UUID) -> Row[Any]:
        await conn.execute(
            upsert_for(conn)(channel_tokens)
            .values(channel_id=channel_id)
            .on_conflict_do_nothing(index_elements=["channel_id"])
        )
        stmt = _row(channel_id)
        if is_postgresql(conn):
            stmt = stmt.with_for_update()
        row: Row[Any] = (await conn.execute(stmt)).one()
        return row

    def _open(self, row: Row[Any] | None) -> _Held | None:
        if row is None or row.access_token is None or row.expires_at is None:
            return None
        token = self._secrets().open(row.access_token).decode()
        return _Held(token, row.expires_at, self._clock())


def _row(channel_id: uuid.UUID) -> Select[Any]:
    return select(_t.access_token, _t.expires_at, _t.refresh_token).where(
        _t.channel_id == channel_id
    )
