"""Feeds in flight in the database (`amazon_feeds`): see `adapters/channel_kit/feeds.py`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.dialect import upsert_for
from adapters.db.tables import amazon_feeds

_f = amazon_feeds.c
# A feed remembered this long is given up for (its document was never sent again).
FORGOTTEN_AFTER = timedelta(days=1)


class SqlFeedsInFlight:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def find(self, channel_id: uuid.UUID, digest: str) -> str | None:
        async with self._engine.connect() as conn:
            stmt = select(_f.feed_id).where(_f.channel_id == channel_id, _f.digest == digest)
            found: str | None = (await conn.execute(stmt)).scalar_one_or_none()
        return found

    async def remember(
        self, channel_id: uuid.UUID, digest: str, feed_id: str, at: datetime
    ) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(amazon_feeds).where(
                    _f.channel_id == channel_id, _f.created_at < at - FORGOTTEN_AFTER
                )
            )
            stmt = upsert_for(conn)(amazon_feeds).values(
                channel_id=channel_id, digest=digest, feed_id=feed_id, created_at=at
            )
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["channel_id", "digest"],
                    set_={"feed_id": feed_id, "created_at": at},
                )
            )

    async def forget(self, channel_id: uuid.UUID, digest: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(amazon_feeds).where(_f.channel_id == channel_id, _f.digest == digest)
            )
