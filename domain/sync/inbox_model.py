"""The inbox: every verified event a channel sent, stored before anything acts on it.

One row per (channel, the channel's event id), so a redelivery is the same row. A row is
`received` until processed; it ends `processed` (acted on), `ignored` (nothing for the hub
to do, with the reason) or `failed` (the reason; retried until its attempts run out). Order
events stay `received` until order ingestion takes them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from domain.channels.port import InboundKind


class InboxStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


OPEN_STATUSES = frozenset({InboxStatus.RECEIVED, InboxStatus.FAILED})


class Intake(StrEnum):
    """What storing an arriving event came to."""

    STORED = "stored"
    DUPLICATE = "duplicate"  # the channel's event id is known: nothing stored
    STALE = "stale"  # verified with credentials the channel no longer has: nothing stored


@dataclass(frozen=True, slots=True)
class InboxEntry:
    id: uuid.UUID
    channel_id: uuid.UUID
    event_id: str
    topic: str
    kind: InboundKind | None  # None until the payload has been read
    headers: Mapping[str, str]
    body: str  # the payload as received (see `payload_text`)
    status: InboxStatus
    attempts: int
    received_at: datetime
    error: str | None = None
    sku: str | None = None
    occurred_at: datetime | None = None
    delta: int | None = None  # a stock edit, once decided: the change to the hub's stock
    processed_at: datetime | None = None

    @property
    def open(self) -> bool:
        """Still to be acted on (or retried)."""
        return self.status in OPEN_STATUSES

    @property
    def payload(self) -> bytes:
        return self.body.encode("utf-8")


@dataclass(frozen=True, slots=True)
class Settlement:
    """How a processing run left an event: the status, why, and what it was about."""

    status: InboxStatus
    reason: str | None = None
    kind: InboundKind | None = None
    sku: str | None = None
    occurred_at: datetime | None = None
    delta: int | None = None  # a stock edit's decided change (see `InboxEntry.delta`)


def payload_text(body: bytes) -> str:
    """A raw body as storable text: UTF-8 (every JSON payload) as is, byte for byte.

    Anything else keeps its bytes visible as escapes (and so can never parse as JSON, as the
    original could not); a NUL, which PostgreSQL text cannot hold and JSON never contains
    unescaped, likewise.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "backslashreplace")
    return text.replace("\x00", "\\x00")


class InboxRepository(Protocol):
    async def add_verified(self, arrivals: Sequence[tuple[InboxEntry, bytes]]) -> list[Intake]:
        """Store new events, each with the sealed credentials its signature was checked with,
        in one statement where the backend allows; an event is stored only if those are
        still its channel's credentials as the statement runs (else STALE: a change committed
        before it keeps the event out). One outcome per event, in order."""
        ...

    async def get(self, inbox_id: uuid.UUID) -> InboxEntry | None: ...
    async def get_many(self, inbox_ids: Sequence[uuid.UUID]) -> list[InboxEntry]: ...

    async def classify(self, inbox_id: uuid.UUID, kind: InboundKind) -> None:
        """Record what an open event is (an order waits as it is for order ingestion)."""
        ...

    async def settle(self, inbox_id: uuid.UUID, settlement: Settlement, at: datetime) -> bool:
        """Close an open event as processed or ignored; False when it was no longer open."""
        ...

    async def settle_many(
        self, settled: Sequence[tuple[uuid.UUID, Settlement]], at: datetime
    ) -> None:
        """`settle` for several events in one statement; those no longer open stay as they
        are."""
        ...

    async def fail(
        self, inbox_id: uuid.UUID, failure: Settlement, at: datetime, *, attempts_at_least: int = 0
    ) -> int | None:
        """Mark an open event failed (the settlement's reason and facts) and count the attempt,
        raising the count to at least `attempts_at_least`; the attempts made, or None when
        the event was no longer open."""
        ...

    async def due(
        self, *, received_before: datetime, max_attempts: int, limit: int
    ) -> list[uuid.UUID]:
        """Events to process again: `received` ones older than `received_before` (their run
        request was lost), orders aside, and `failed` ones with attempts left."""
        ...

    async def listed_with_refs(
        self, channel_id: uuid.UUID, refs: Sequence[Mapping[str, str]]
    ) -> dict[str, Mapping[str, str]]:
        """SKUs listed on the channel whose channel ids include any of those in `refs` (one
        mapping per event), with their ids."""
        ...

    async def last_decided(self, channel_id: uuid.UUID, skus: Sequence[str]) -> dict[str, datetime]:
        """Per SKU, when the latest stock edit of it on the channel that was decided happened."""
        ...

    async def move_confirmed(
        self, channel_id: uuid.UUID, sku: str, expected: int | None, figure: int, at: datetime
    ) -> bool:
        """Set the figure the channel shows for the SKU if it still is `expected` (None: none
        known); False when it moved. Deciding stock edits of one SKU queue on this. A figure
        of 0 opens a stockout spell of the SKU on the channel, one above closes it."""
        ...

    async def later_edit_decided(
        self, channel_id: uuid.UUID, sku: str, occurred_at: datetime, inbox_id: uuid.UUID
    ) -> bool:
        """Whether a stock edit of the SKU that happened after `occurred_at` was decided."""
        ...

    async def record_decision(
        self, inbox_id: uuid.UUID, sku: str, occurred_at: datetime, delta: int
    ) -> bool:
        """Record what an open stock edit does (see `InboxEntry.delta`); False if not open."""
        ...

    async def page(
        self,
        *,
        channel_id: uuid.UUID | None,
        status: InboxStatus | None,
        first: int,
        after: str | None,
    ) -> list[InboxEntry]:
        """Events newest first, by (received_at, id) keyset."""
        ...
