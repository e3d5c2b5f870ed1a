"""Channels' catalog configuration in SQL; sealed credentials are stored, never decoded here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import upsert_for
from adapters.db.repositories.rules import (
    listing_rule_document,
    listing_rule_of,
    price_rule_document,
    price_rule_of,
)
from adapters.db.tables import channel_configs, channel_tokens
from domain.channels.config import ChannelConfig
from domain.channels.policies import ConflictPolicy, Fulfilment, LosingLine, StockEditPolicy

_COLUMNS = (
    channel_configs.c.channel_id,
    channel_configs.c.sync_enabled,
    channel_configs.c.price_rule,
    channel_configs.c.listing_rule,
    channel_configs.c.credentials.is_not(None).label("credentials_set"),
    channel_configs.c.updated_at,
    channel_configs.c.stock_edit_policy,
    channel_configs.c.conflict_policy,
    channel_configs.c.losing_lines,
    channel_configs.c.fulfilment,
)


def _config(row: Any) -> ChannelConfig:
    return ChannelConfig(
        channel_id=row.channel_id,
        sync_enabled=row.sync_enabled,
        price_rule=price_rule_of(row.price_rule) if row.price_rule else None,
        listing_rule=listing_rule_of(row.listing_rule),
        credentials_set=bool(row.credentials_set),
        updated_at=row.updated_at,
        stock_edit_policy=StockEditPolicy(row.stock_edit_policy),
        conflict_policy=ConflictPolicy(row.conflict_policy),
        losing_lines=LosingLine(row.losing_lines),
        fulfilment=Fulfilment(row.fulfilment),
    )


class SqlChannelConfigRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def all(self) -> dict[uuid.UUID, ChannelConfig]:
        rows = await self._conn.execute(select(*_COLUMNS))
        return {row.channel_id: _config(row) for row in rows}

    async def get(self, channel_id: uuid.UUID) -> ChannelConfig | None:
        stmt = select(*_COLUMNS).where(channel_configs.c.channel_id == channel_id)
        row = (await self._conn.execute(stmt)).first()
        return _config(row) if row else None

    async def save(self, config: ChannelConfig) -> None:
        values = {
            "sync_enabled": config.sync_enabled,
            "price_rule": price_rule_document(config.price_rule) if config.price_rule else None,
            "listing_rule": listing_rule_document(config.listing_rule),
            "updated_at": config.updated_at,
            "stock_edit_policy": config.stock_edit_policy.value,
            "conflict_policy": config.conflict_policy.value,
            "losing_lines": config.losing_lines.value,
            "fulfilment": config.fulfilment.value,
        }
        stmt = upsert_for(self._conn)(channel_configs).values(
            channel_id=config.channel_id, **values
        )
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["channel_id"], set_=values)
        )

    async def set_credentials(self, channel_id: uuid.UUID, sealed: bytes, at: datetime) -> None:
        await self._conn.execute(
            update(channel_configs)
            .where(channel_configs.c.channel_id == channel_id)
            .values(credentials=sealed, updated_at=at)
        )
        # Tokens issued under the old credentials (and a refresh token they rotated to) go.
        await self._conn.execute(
            delete(channel_tokens).where(channel_tokens.c.channel_id == channel_id)
        )

    async def credentials(self, channel_id: uuid.UUID) -> bytes | None:
        stmt = select(channel_configs.c.credentials).where(
            channel_configs.c.channel_id == channel_id
        )
        return (await self._conn.execute(stmt)).scalar_one_or_none()
