"""Channels, the locations that feed them and their per-SKU rules, in SQL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.db.dialect import upsert_for
from adapters.db.tables import channel_locations, channel_sku_rules, channels
from domain.inventory.availability import AvailabilityRule
from domain.inventory.channels import Channel, ChannelForSku, ChannelKind


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


class SqlChannelRepository:
    def __init__(self, session: AsyncSession):
        self._session = session

    async def add(self, channel: Channel) -> None:
        await self._session.execute(
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
            await self._session.execute(
                insert(channel_locations),
                [{"channel_id": channel.id, "location_id": lid} for lid in channel.location_ids],
            )

    async def _load(self, where: Any = None) -> list[Channel]:
        stmt = (
            select(channels, channel_locations.c.location_id)
            .outerjoin(channel_locations, channel_locations.c.channel_id == channels.c.id)
            .order_by(channels.c.priority.desc(), channels.c.name, channel_locations.c.location_id)
        )
        if where is not None:
            stmt = stmt.where(where)
        grouped: dict[uuid.UUID, tuple[Any, list[uuid.UUID]]] = {}
        for row in await self._session.execute(stmt):
            entry = grouped.setdefault(row.id, (row, []))
            if row.location_id is not None:
                entry[1].append(row.location_id)
        return [_channel(row, tuple(ids)) for row, ids in grouped.values()]

    async def get(self, channel_id: uuid.UUID) -> Channel | None:
        found = await self._load(channels.c.id == channel_id)
        return found[0] if found else None

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
        stmt = upsert_for(self._session)(channel_sku_rules).values(
            channel_id=channel_id, sku=sku, **values
        )
        await self._session.execute(
            stmt.on_conflict_do_update(index_elements=["channel_id", "sku"], set_=values)
        )

    async def for_sku(self, sku: str) -> list[ChannelForSku]:
        r = channel_sku_rules.c
        stmt = (
            select(
                channels,
                channel_locations.c.location_id,
                r.channel_id.label("rule_channel_id"),
                r.buffer_quantity.label("rule_buffer"),
                r.allocation_percent.label("rule_allocation"),
                r.max_quantity.label("rule_max"),
                r.end_when_below.label("rule_end_when"),
                r.blocked.label("rule_blocked"),
            )
            .outerjoin(channel_locations, channel_locations.c.channel_id == channels.c.id)
            .outerjoin(channel_sku_rules, and_(r.channel_id == channels.c.id, r.sku == sku))
            .order_by(channels.c.priority.desc(), channels.c.name, channel_locations.c.location_id)
        )
        grouped: dict[uuid.UUID, tuple[Any, list[uuid.UUID]]] = {}
        for row in await self._session.execute(stmt):
            entry = grouped.setdefault(row.id, (row, []))
            if row.location_id is not None:
                entry[1].append(row.location_id)
        result: list[ChannelForSku] = []
        for row, ids in grouped.values():
            override = None
            if row.rule_channel_id is not None:
                override = AvailabilityRule(
                    buffer_quantity=row.rule_buffer,
                    allocation_percent=row.rule_allocation,
                    max_quantity=row.rule_max,
                    end_when_below=row.rule_end_when,
                    blocked=bool(row.rule_blocked),
                )
            result.append(ChannelForSku(_channel(row, tuple(ids)), override))
        return result
