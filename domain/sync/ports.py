"""The storage the sync engine needs: the outbox, the quantities pushed and the sync log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.channels.outbox import Dirty, OutboxKind
from domain.sync.echoes import Sent
from domain.sync.model import ChannelSyncStatus, OutboxEntry, SyncCall


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

    async def finish_waiting(
        self, channel_id: uuid.UUID, kind: OutboxKind, keys: Sequence[str]
    ) -> None:
        """Finish the rows of these keys waiting to be retried: the relay just had the latest
        state of each confirmed, read after they were claimed (a key is sent by one run at a
        time), so what they marked has been sent."""
        ...

    async def retry(
        self,
        ids: Sequence[uuid.UUID],
        error: str,
        available_at: datetime,
        *,
        counted: bool = True,
    ) -> None:
        """Retry at `available_at`; `counted`: the failure takes one of the rows' attempts
        (a throttle does not: the channel only asked to wait)."""
        ...

    async def bury(self, ids: Sequence[uuid.UUID], error: str) -> None:
        """Dead-letter: never retried again, kept for people to see."""
        ...

    async def due_channels(self, now: datetime, stuck_before: datetime) -> list[uuid.UUID]:
        """Channels with due rows; rows claimed before `stuck_before` go back to retry."""
        ...

    async def status(self, channel_id: uuid.UUID, since: datetime) -> ChannelSyncStatus: ...


class PushedQuantities(Protocol):
    """Quantities sent to channels and not heard back yet (see `echoes`)."""

    async def record(
        self,
        channel_id: uuid.UUID,
        pushed: Sequence[tuple[str, int]],
        at: datetime,
        forget_before: datetime,
    ) -> None:
        """Record (SKU, quantity) figures about to be sent, at `at`. Figures of the same SKUs
        sent before `forget_before` are forgotten if the channel confirmed a figure since."""
        ...

    async def unheard(self, channel_id: uuid.UUID, skus: Sequence[str]) -> dict[str, list[Sent]]:
        """The figures sent for each SKU and not heard back (SKUs with none are left out)."""
        ...

    async def heard(self, ids: Sequence[uuid.UUID]) -> None:
        """These figures came back from the channel: they are not awaited any more."""
        ...


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
