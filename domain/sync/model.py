"""The outbox and the sync log: what channels must hear about, and every call made to them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OutboxKind(StrEnum):
    QUANTITY = "quantity"  # key: a SKU
    PRICE = "price"  # key: a SKU
    LISTING = "listing"  # key: a listing id (create, replace or end it)
    SHIPMENT = "shipment"  # key: a shipment id (tell the channel it shipped, with tracking)
    LINE_CANCEL = "line_cancel"  # key: an order line id (tell the channel it will not ship)


class OutboxStatus(StrEnum):
    PENDING = "pending"  # dirty: the relay will send the latest intended state
    RETRY = "retry"  # a call failed; due again at `available_at`
    PROCESSING = "processing"  # claimed by a relay
    DONE = "done"
    DEAD = "dead"  # gave up after the retry budget: an alert says so


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: uuid.UUID
    channel_id: uuid.UUID
    kind: OutboxKind
    key: str
    status: OutboxStatus
    attempts: int
    available_at: datetime
    created_at: datetime
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Dirty:
    """Mark one key dirty on one channel."""

    channel_id: uuid.UUID
    kind: OutboxKind
    key: str


class CallOutcome(StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # some keys rejected
    REJECTED = "rejected"
    THROTTLED = "throttled"
    FAILED = "failed"  # retryable failure
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class SyncCall:
    id: uuid.UUID
    channel_id: uuid.UUID
    operation: str
    keys: tuple[str, ...]
    outcome: CallOutcome
    attempt: int
    latency_ms: int
    message: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelSyncStatus:
    channel_id: uuid.UUID
    pending: int
    oldest_pending_at: datetime | None
    dead: int
    calls: int
    failures: int
    throttles: int
