"""The storage channels need: the channels themselves and their configuration."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.channels.availability import AvailabilityRule
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel, ChannelForSku


class ChannelRepository(Protocol):
    async def add(self, channel: Channel) -> None: ...
    async def get(self, channel_id: uuid.UUID, *, fresh: bool = True) -> Channel | None:
        """The channel; without `fresh`, as this process last read it when that was under a
        second ago (as `for_sku`)."""
        ...

    async def get_by_name(self, name: str) -> Channel | None: ...
    async def all(self) -> list[Channel]: ...
    async def set_sku_rule(
        self, channel_id: uuid.UUID, sku: str, rule: AvailabilityRule
    ) -> None: ...
    async def overrides_for(
        self, skus: Sequence[str]
    ) -> dict[tuple[uuid.UUID, str], AvailabilityRule]:
        """Per-SKU availability rules of several SKUs, by (channel, SKU), in one read."""
        ...

    async def for_sku(self, sku: str, *, fresh: bool = False) -> list[ChannelForSku]:
        """Every channel, with the override it has for `sku` (None when none).

        Without `fresh`, configuration changed in another process may show up to a second
        late: good enough for live hints, not for answering "why this number".
        """
        ...


class ChannelConfigRepository(Protocol):
    async def all(self) -> dict[uuid.UUID, ChannelConfig]: ...
    async def get(self, channel_id: uuid.UUID) -> ChannelConfig | None: ...
    async def save(self, config: ChannelConfig) -> None: ...
    async def set_credentials(self, channel_id: uuid.UUID, sealed: bytes, at: datetime) -> None: ...

    async def credentials(self, channel_id: uuid.UUID) -> bytes | None: ...
