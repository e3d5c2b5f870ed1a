"""Channels, their per-SKU rules and their configuration, in dicts, read as SQL reads them."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime

from domain.channels.availability import AvailabilityRule
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel, ChannelForSku
from tests.fakes.tables import ConstraintViolation, Tables, UniqueViolation


class FakeChannelRepository:
    """Always fresh: the port allows configuration up to a second late, never requires it."""

    def __init__(self, tables: Tables):
        self._t = tables

    async def add(self, channel: Channel) -> None:
        if channel.id in self._t.channels:
            raise UniqueViolation(f"channels.id {channel.id}")
        if any(c.name == channel.name for c in self._t.channels.values()):
            raise UniqueViolation(f"channels.name {channel.name!r}")
        for location_id in channel.location_ids:
            if location_id not in self._t.locations:
                raise ConstraintViolation(f"channel_locations.location_id {location_id}")
        # Stored as the SQL columns hold it: the rule's unset buffer and threshold as 0, no
        # `blocked` (only per-SKU rules block), and the locations in the order given.
        rule = channel.rule
        stored = AvailabilityRule(
            buffer_quantity=rule.buffer_quantity or 0,
            allocation_percent=rule.allocation_percent,
            max_quantity=rule.max_quantity,
            end_when_below=rule.end_when_below or 0,
        )
        self._t.channels[channel.id] = dataclasses.replace(
            channel, rule=stored, location_ids=tuple(dict.fromkeys(channel.location_ids))
        )

    async def get(self, channel_id: uuid.UUID, *, fresh: bool = True) -> Channel | None:
        return self._t.channels.get(channel_id)

    async def get_by_name(self, name: str) -> Channel | None:
        return next((c for c in self._t.channels.values() if c.name == name), None)

    async def all(self) -> list[Channel]:
        return sorted(self._t.channels.values(), key=lambda c: (-c.priority, c.name))

    async def set_sku_rule(self, channel_id: uuid.UUID, sku: str, rule: AvailabilityRule) -> None:
        if channel_id not in self._t.channels or sku not in self._t.items:
            raise ConstraintViolation(f"channel_sku_rules ({channel_id}, {sku!r})")
        self._t.sku_rules[(channel_id, sku)] = rule

    async def overrides_for(
        self, skus: Sequence[str]
    ) -> dict[tuple[uuid.UUID, str], AvailabilityRule]:
        wanted = set(skus)
        return {key: rule for key, rule in self._t.sku_rules.items() if key[1] in wanted}

    async def for_sku(self, sku: str, *, fresh: bool = False) -> list[ChannelForSku]:
        return [ChannelForSku(c, self._t.sku_rules.get((c.id, sku))) for c in await self.all()]


class FakeChannelConfigRepository:
    def __init__(self, tables: Tables):
        self._t = tables

    async def all(self) -> dict[uuid.UUID, ChannelConfig]:
        return {channel_id: self._read(channel_id) for channel_id in self._t.channel_configs}

    def _read(self, channel_id: uuid.UUID) -> ChannelConfig:
        config = self._t.channel_configs[channel_id]
        return dataclasses.replace(config, credentials_set=channel_id in self._t.credentials)

    async def get(self, channel_id: uuid.UUID) -> ChannelConfig | None:
        return self._read(channel_id) if channel_id in self._t.channel_configs else None

    async def save(self, config: ChannelConfig) -> None:
        if config.channel_id not in self._t.channels:
            raise ConstraintViolation(f"channel_configs.channel_id {config.channel_id}")
        self._t.channel_configs[config.channel_id] = config

    async def set_credentials(self, channel_id: uuid.UUID, sealed: bytes, at: datetime) -> None:
        config = self._t.channel_configs.get(channel_id)
        if config is None:
            return  # an UPDATE of no row
        self._t.channel_configs[channel_id] = dataclasses.replace(config, updated_at=at)
        self._t.credentials[channel_id] = sealed

    async def credentials(self, channel_id: uuid.UUID) -> bytes | None:
        return self._t.credentials.get(channel_id)
