"""Bulk documents a channel is processing, remembered across processes (Amazon's feeds).

A relay that stops between creating a feed and reading its outcome (a deploy, a crash) leaves
its rows to the next relay, which builds the same document again from the same figures. The
feed created for that document is remembered under the document's digest until its outcome is
read, so the next relay polls it instead of creating a second feed (createFeed allows one call
every two minutes after a burst of 15).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol


class FeedsInFlight(Protocol):
    async def find(self, channel_id: uuid.UUID, digest: str) -> str | None:
        """The feed created for this document and not yet finished, if any."""
        ...

    async def remember(
        self, channel_id: uuid.UUID, digest: str, feed_id: str, at: datetime
    ) -> None: ...

    async def forget(self, channel_id: uuid.UUID, digest: str) -> None:
        """Its outcome is read (or the feed is gone): the next such document is a new feed."""
        ...


class MemoryFeedsInFlight:
    """One process's memory (tests, and a hub without a database of its own)."""

    def __init__(self) -> None:
        self._feeds: dict[tuple[uuid.UUID, str], str] = {}

    async def find(self, channel_id: uuid.UUID, digest: str) -> str | None:
        return self._feeds.get((channel_id, digest))

    async def remember(
        self, channel_id: uuid.UUID, digest: str, feed_id: str, at: datetime
    ) -> None:
        self._feeds[(channel_id, digest)] = feed_id

    async def forget(self, channel_id: uuid.UUID, digest: str) -> None:
        self._feeds.pop((channel_id, digest), None)
