"""Channels, the locations that feed them and their per-SKU rules, in SQL."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Uuid, insert, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import is_postgresql, one_of, upsert_for
from adapters.db.driver import DriverStatement
from adapters.db.tables import channel_locations, channel_sku_rules, channels
from domain.channels.availability import AvailabilityRule
from domain.channels.model import Channel, ChannelForSku, ChannelKind


def _channel(row: Any, location_ids: tuple[uuid.UUID, ...]) -> Channel:
    return Channel(
        id=row.id,
        name=row.name,
        kind=ChannelKind(row.kind),
        currency=row.currency,
        priority=row.priority,
        location_ids=location_ids,
        rule=AvailabilityRule(
            buffer_quantity=row.buffer_quantity,
            allocation_percent=row.allocation_percent,
            max_quantity=row.max_quantity,
            end_when_below=row.end_when_below,
        ),
        created_at=row.created_at,
    )


# A web store's every cart and order reads its channel: on PostgreSQL one statement of fixed
# text on the driver (through SQLAlchemy, building and looking up the joined select cost
# more CPU than holding the cart).
ONE_CHANNEL = DriverStatement(
    text("""
    SELECT c.id, c.name, c.kind, c.currency, c.priority, c.buffer_quantity,
           c.allocation_percent, c.max_quantity, c.end_when_below, c.created_at,
           array_remove(array_agg(l.location_id ORDER BY l.position, l.location_id), NULL)
             AS location_ids
      FROM channels c LEFT JOIN channel_locations l ON l.channel_id = c.id
     WHERE c.id = :id
     GROUP BY c.id
    """).columns(*channels.c, location_ids=ARRAY(Uuid))
)


def _override(row: Any) -> AvailabilityRule:
    return AvailabilityRule(
        buffer_quantity=row.buffer_quantity,
        allocation_percent=row.allocation_percent,
        max_quantity=row.max_quantity,
        end_when_below=row.end_when_below,
        blocked=bool(row.blocked),
    )


class ChannelBook:
    """Every channel and per-SKU override, remembered by one process for up to `ttl` seconds.

    Stock changes consult it to tell subscribers each affected channel's new availability;
    rebuilding it per change would cost two queries on the hottest path. Changes made in
    this process invalidate it at once, changes made elsewhere show within `ttl`.
    Queries that explain a number to a user read fresh configuration instead.

    A web store's every cart and order names its channel: `known` answers from the book
    while it is fresh, with no round trip (and no connection taken for it); once it is not,
    `known_or_read` lets the calls that meet it share one read.
    """

    def __init__(self, ttl: float = 1.0):
        self._ttl = ttl
        self._expires = 0.0
        self._channels: list[Channel] = []
        self._by_id: dict[uuid.UUID, tuple[Channel, float]] = {}  # each with its expiry
        self._overrides: dict[tuple[uuid.UUID, str], AvailabilityRule] = {}
        self._reading: dict[uuid.UUID, asyncio.Future[Channel | None]] = {}

    def invalidate(self) -> None:
        self._expires = 0.0
        self._by_id = {}

    def known(self, channel_id: uuid.UUID) -> Channel | None:
        """The channel as read under `ttl` seconds ago; None otherwise (read it, `remember` it)."""
        found = self._by_id.get(channel_id)
        if found is None or time.monotonic() >= found[1]:
            return None
        return found[0]

    async def known_or_read(
        self, channel_id: uuid.UUID, read: Callable[[], Awaitable[Channel | None]]
    ) -> Channel | None:
        """`known`, else `read` (which remembers what it finds), run once for every call
        that asks meanwhile: a herd of carts meeting a stale entry takes one connection,
        not one each (more than the pool keeps, which it then opens and closes)."""
        found = self.known(channel_id)
        if found is not None:
            return found
        reading = self._reading.get(channel_id)
        if reading is None:
            reading = self._reading[channel_id] = asyncio.ensure_future(read())
            reading.add_done_callback(lambda done: self._read(channel_id, done))
        # Shielded: a caller that stops waiting does not cancel the others' read.
        return await asyncio.shield(reading)

    def _read(self, channel_id: uuid.UUID, done: asyncio.Future[Channel | None]) -> None:
        if self._reading.get(channel_id) is done:
            del self._reading[channel_id]
        if not done.cancelled():
            done.exception()  # read here too, so a failure nobody awaited is not reported

    def remember(self, channel: Channel) -> None:
        self._by_id[channel.id] = (channel, time.monotonic() + self._ttl)

    async def for_sku(self, repository: SqlChannelRepository, sku: str) -> list[ChannelForSku]:
        if time.monotonic() >= self._expires:
            channels = await repository.all()
            overrides = await repository.overrides()
            self._channels, self._overrides = channels, overrides
            self._expires = time.monotonic() + self._ttl
            self._by_id = {c.id: (c, self._expires) for c in channels}
        return [ChannelForSku(c, self._overrides.get((c.id, sku))) for c in self._channels]


class SqlChannelRepository:
    def __init__(self, connection: AsyncConnection, book: ChannelBook | None = None):
        self._conn = connection
        self._book = book or ChannelBook(ttl=0.0)

    async def add(self, channel: Channel) -> None:
        await self._conn.execute(
            insert(channels).values(
                id=channel.id,
                name=channel.name,
                kind=channel.kind.value,
                currency=channel.currency,
                priority=channel.priority,
                buffer_quantity=channel.rule.buffer_quantity or 0,
                allocation_percent=channel.rule.allocation_percent,
                max_quantity=channel.rule.max_quantity,
                end_when_below=channel.rule.end_when_below or 0,
                created_at=channel.created_at,
            )
        )
        if channel.location_ids:
            await self._conn.execute(
                insert(channel_locations),
                [
                    {"channel_id": channel.id, "location_id": lid, "position": n}
                    for n, lid in enumerate(channel.location_ids)
                ],
            )
        self._book.invalidate()

    async def _load(self, where: Any = None) -> list[Channel]:
        stmt = (
            select(channels, channel_locations.c.location_id)
            .outerjoin(channel_locations, channel_locations.c.channel_id == channels.c.id)
            .order_by(
                channels.c.priority.desc(),
                channels.c.name,
                channel_locations.c.position,
                channel_locations.c.location_id,
            )
        )
        if where is not None:
            stmt = stmt.where(where)
        grouped: dict[uuid.UUID, tuple[Any, list[uuid.UUID]]] = {}
        for row in await self._conn.execute(stmt):
            entry = grouped.setdefault(row.id, (row, []))
            if row.location_id is not None:
                entry[1].append(row.location_id)
        return [_channel(row, tuple(ids)) for row, ids in grouped.values()]

    async def get(self, channel_id: uuid.UUID, *, fresh: bool = True) -> Channel | None:
        remembered = None if fresh else self._book.known(channel_id)
        if remembered is not None:
            return remembered
        if is_postgresql(self._conn):
            row = await ONE_CHANNEL.first(self._conn, {"id": channel_id})
            found = _channel(row, tuple(row.location_ids)) if row is not None else None
        else:
            loaded = await self._load(channels.c.id == channel_id)
            found = loaded[0] if loaded else None
        if found is not None:
            self._book.remember(found)
        return found

    async def get_by_name(self, name: str) -> Channel | None:
        found = await self._load(channels.c.name == name)
        return found[0] if found else None

    async def all(self) -> list[Channel]:
        return await self._load()

    async def set_sku_rule(self, channel_id: uuid.UUID, sku: str, rule: AvailabilityRule) -> None:
        values = {
            "buffer_quantity": rule.buffer_quantity,
            "allocation_percent": rule.allocation_percent,
            "max_quantity": rule.max_quantity,
            "end_when_below": rule.end_when_below,
            "blocked": rule.blocked,
        }
        stmt = upsert_for(self._conn)(channel_sku_rules).values(
            channel_id=channel_id, sku=sku, **values
        )
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["channel_id", "sku"], set_=values)
        )
        self._book.invalidate()

    async def overrides(
        self, sku: str | None = None
    ) -> dict[tuple[uuid.UUID, str], AvailabilityRule]:
        """Per-SKU rules by (channel, SKU): all of them, or one SKU's."""
        stmt = select(channel_sku_rules)
        if sku is not None:
            stmt = stmt.where(channel_sku_rules.c.sku == sku)
        return {(row.channel_id, row.sku): _override(row) for row in await self._conn.execute(stmt)}

    async def overrides_for(
        self, skus: Sequence[str]
    ) -> dict[tuple[uuid.UUID, str], AvailabilityRule]:
        stmt = select(channel_sku_rules).where(one_of(self._conn, channel_sku_rules.c.sku, skus))
        return {(row.channel_id, row.sku): _override(row) for row in await self._conn.execute(stmt)}

    async def for_sku(self, sku: str, *, fresh: bool = False) -> list[ChannelForSku]:
        if not fresh:
            return await self._book.for_sku(self, sku)
        found = await self.overrides(sku)
        return [ChannelForSku(c, found.get((c.id, sku))) for c in await self.all()]
