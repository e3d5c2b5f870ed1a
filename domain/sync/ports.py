"""The storage the sync engine needs (the outbox and the sync log), and the channels' ports."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.catalog.channel_config import ChannelConfig
from domain.inventory.channels import Channel
from domain.sync.channel import ChannelPort
from domain.sync.model import ChannelSyncStatus, Dirty, OutboxEntry, SyncCall


class OutboxRepository(Protocol):
    async def mark(self, dirty: Sequence[Dirty], now: datetime) -> set[uuid.UUID]:
        """Mark keys dirty; a key already pending stays one row. Returns the channels that
        got a new pending row (those need a relay run; the others have one coming)."""
        ...

    async def claim(self, channel_id: uuid.UUID, now: datetime, limit: int) -> list[OutboxEntry]:
        """Take due rows of one channel for processing; concurrent relays never get the same."""
        ...

    async def release(self, ids: Sequence[uuid.UUID], now: datetime) -> None:
        """Give claimed rows back untried (due at once, their attempts unchanged)."""
        ...

    async def keep(self, ids: Sequence[uuid.UUID], now: datetime) -> None:
        """The relay is still at these rows: they are not stuck (their claim is renewed)."""
        ...

    async def finish(self, ids: Sequence[uuid.UUID]) -> None: ...

    async def retry(self, ids: Sequence[uuid.UUID], error: str, available_at: datetime) -> None: ...

    async def bury(self, ids: Sequence[uuid.UUID], error: str) -> None:
        """Dead-letter: never retried again, kept for people to see."""
        ...

    async def due_channels(self, now: datetime, stuck_before: datetime) -> list[uuid.UUID]:
        """Channels with due rows; rows claimed before `stuck_before` go back to retry."""
        ...

    async def status(self, channel_id: uuid.UUID, since: datetime) -> ChannelSyncStatus: ...


class SyncLogRepository(Protocol):
    async def add(self, calls: Sequence[SyncCall]) -> None: ...
    async def page(
        self,
        *,
        channel_id: uuid.UUID | None,
        outcome: str | None,
        first: int,
        after: str | None,
    ) -> list[SyncCall]: ...


class ChannelConnector(Protocol):
    """Builds the channel port of one channel from its configuration and sealed credentials."""

    def connect(
        self, channel: Channel, config: ChannelConfig, sealed_credentials: bytes | None
    ) -> ChannelPort:
        """Raises ChannelMisconfigured when the channel cannot be reached as configured."""
        ...


@dataclass(frozen=True, slots=True)
class WebhookVerifier:
    """A channel's port as built from its sealed credentials, to check its webhooks with."""

    channel_id: uuid.UUID
    port: ChannelPort
    sealed: bytes  # the credentials the port was built from, as stored (sealed)
    kept_headers: tuple[str, ...] = ()  # prefixes of the (lower-case) headers kept with an event

    def kept(self, headers: Mapping[str, str]) -> dict[str, str]:
        """The headers stored with an event: the channel's own, read again to process it."""
        return {
            name: value for name, value in headers.items() if name.startswith(self.kept_headers)
        }


class WebhookVerifiers(Protocol):
    """Each channel's webhook verifier, remembered by the process that built it."""

    async def get(self, channel_id: uuid.UUID, *, fresh: bool = False) -> WebhookVerifier | str:
        """The channel's verifier (built anew from storage when `fresh`), or why it has none:
        unknown channel, no credentials, credentials that cannot be opened."""
        ...
