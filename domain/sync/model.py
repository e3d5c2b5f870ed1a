"""The outbox and the sync log: what channels must hear about, and every call made to them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.channels.outbox import OutboxKind
from domain.channels.port import ChannelFailure, ChannelThrottled


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


class CallOutcome(StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # some keys rejected
    REJECTED = "rejected"
    THROTTLED = "throttled"
    FAILED = "failed"  # retryable failure
    DEAD = "dead"


def outcome_of(failure: ChannelFailure) -> CallOutcome:
    """How a failed channel call is logged: throttled, retryable, or refused for good."""
    if isinstance(failure, ChannelThrottled):
        return CallOutcome.THROTTLED
    return CallOutcome.FAILED if failure.retryable else CallOutcome.REJECTED


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
