"""Inbound requests arriving: verified, identified and stored, once, before anything acts.

The channel's port checks the signature over the raw bytes and, when the channel's headers
say what the event is (Shopify's do), names it without the payload being read: a payload
that turns out unreadable fails when it is processed (see `inbox.process`), under its own
id. Each process remembers the channel's verifier and stores the events that arrive
together in one statement: see `receive` for why a change of credentials is in force
from its commit on all the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.channels.port import (
    ChannelFailure,
    ChannelPort,
    InboundIdentity,
    SignedSendTime,
    SigningKeys,
    WebhookVerifiers,
)
from domain.channels.replay import ReplayWindow
from domain.jobs import PROCESS_INBOX_MANY_JOB
from domain.ports import UnitOfWorkFactory
from domain.sync.inbox_model import InboxEntry, InboxStatus, Intake, payload_text

UNKNOWN_TOPIC = "unknown"
MAX_EVENT_ID = 200
# A request is verified again at most this often while the channel's credentials change.
VERIFY_ATTEMPTS = 3
# Events stored by one statement at most (a burst beyond it takes several).
MAX_BATCH = 200


def identify(port: ChannelPort, headers: Mapping[str, str], body: bytes) -> InboundIdentity:
    """The event's id, topic and kind: as its headers name them, else as its payload says.

    A payload the port cannot read is still stored (it was verified: it came from the
    channel), under a digest of its bytes, so redeliveries of it are one row too; its
    processing run records why it cannot be read.
    """
    named = port.identify_webhook(headers)
    if named is None:
        try:
            event = port.parse_webhook(headers, body)
        except ChannelFailure:
            return InboundIdentity(_digest(body), UNKNOWN_TOPIC, None)
        named = InboundIdentity(event.event_id, event.topic, event.kind)
    event_id = named.event_id
    if len(event_id) > MAX_EVENT_ID:
        event_id = _digest(event_id.encode())
    return InboundIdentity(event_id, named.topic[:100] or UNKNOWN_TOPIC, named.kind)


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


class ArrivalStatus(StrEnum):
    RECEIVED = "received"  # stored; a job processes it
    DUPLICATE = "duplicate"  # stored before: acknowledged, nothing more
    REJECTED = "rejected"  # not verified: nothing stored
    STALE = "stale"  # verified, but sent outside the replay window: nothing stored
    UNSETTLED = "unsettled"  # the channel's credentials kept changing meanwhile: try again


@dataclass(frozen=True, slots=True)
class Arrival:
    """What became of an inbound request."""

    status: ArrivalStatus
    reason: str | None = None  # why it was rejected
    identity: InboundIdentity | None = None
    inbox_id: uuid.UUID | None = None


class Reception:
    """Stores arriving events: those that arrive together, in one statement and commit.

    Webhooks come in bursts and each is answered once stored; alone, each would take a
    connection, a statement and a commit (a disk flush) of its own. Events join the batch
    that is open and it is stored as soon as the event loop gets round to it: nothing waits
    for a batch to fill, and an event that arrives alone is stored alone. One per process.
    """

    def __init__(self, uows: UnitOfWorkFactory, *, batch_size: int = MAX_BATCH):
        self._uows = uows
        self._batch_size = batch_size
        self._open: _Batch | None = None
        self._storing: set[asyncio.Task[None]] = set()

    async def store(self, entry: InboxEntry, verified_with: bytes) -> Intake:
        """Store a new event if its channel's sealed credentials are still `verified_with`,
        and request its processing after commit (see `InboxRepository.add_verified`)."""
        batch = self._open
        if batch is None or len(batch.arrivals) >= self._batch_size:
            batch = self._open = _Batch(asyncio.get_running_loop().create_future())
            storing = asyncio.create_task(self._store(batch))
            self._storing.add(storing)
            storing.add_done_callback(self._storing.discard)
        batch.arrivals.append((entry, verified_with))
        # Shielded: a request that stops waiting does not take its batch-mates down with it.
        outcomes = await asyncio.shield(batch.stored)
        return outcomes[entry.id]

    async def _store(self, batch: _Batch) -> None:
        try:
            async with self._uows(autocommit=True) as uow:
                self._close(batch)  # open until now: while it waited for a connection
                intakes = await uow.inbox.add_verified(batch.arrivals)
                outcomes: dict[uuid.UUID, Intake] = {}
                for (entry, _), intake in zip(batch.arrivals, intakes, strict=True):
                    outcomes[entry.id] = intake
                stored = [str(e.id) for e, _ in batch.arrivals if outcomes[e.id] is Intake.STORED]
                if stored:  # one job for the events stored together (lost: the sweep asks)
                    uow.enqueue_after_commit(PROCESS_INBOX_MANY_JOB, stored)
                await uow.commit()
        except asyncio.CancelledError:
            batch.stored.cancel()
            raise
        except Exception as error:
            batch.stored.set_exception(error)
            batch.stored.exception()  # retrieved here: its waiters may all have gone
        else:
            batch.stored.set_result(outcomes)
        finally:
            self._close(batch)

    def _close(self, batch: _Batch) -> None:
        """Events arriving from now on go in another batch."""
        if self._open is batch:
            self._open = None


@dataclass
class _Batch:
    """Events to store together; `stored` tells each one's outcome, by its id."""

    stored: asyncio.Future[dict[uuid.UUID, Intake]]
    arrivals: list[tuple[InboxEntry, bytes]] = field(default_factory=list)


async def receive(
    reception: Reception,
    verifiers: WebhookVerifiers,
    *,
    channel_id: uuid.UUID,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    window: ReplayWindow,
) -> Arrival:
    """Store a request the channel signed, once, and request its processing after commit.

    A channel that signs when it sent the request has it refused outside the replay
    `window`, before anything is stored: a captured delivery is not taken in again once its
    event id is forgotten or rewritten.

    The process remembers each channel's verifier, which another process may have made stale
    by changing the credentials; a change is in force from its commit on all the same: a
    signature the remembered verifier refuses is checked again with a fresh one, and an
    event is stored only if the credentials that verified it are still the channel's as the
    statement storing it runs, else it is verified again with the new ones.
    """
    verifier = await verifiers.get(channel_id)
    for _ in range(VERIFY_ATTEMPTS):
        if isinstance(verifier, str):
            return Arrival(ArrivalStatus.REJECTED, verifier)
        if isinstance(verifier.port, SigningKeys):
            await verifier.port.fetch_signing_key(headers)
        if not verifier.port.verify_webhook(headers, body):
            fresh = await verifiers.get(channel_id, fresh=True)
            if isinstance(fresh, str) or fresh.sealed == verifier.sealed:
                reason = fresh if isinstance(fresh, str) else "bad signature"
                return Arrival(ArrivalStatus.REJECTED, reason)
            verifier = fresh
            continue
        port = verifier.port
        if isinstance(port, SignedSendTime):
            stale = window.refusal(port.sent_at(headers, body), now)
            if stale is not None:
                return Arrival(ArrivalStatus.STALE, stale)
        identity = identify(verifier.port, headers, body)
        entry = InboxEntry(
            id=uuid.uuid4(),
            channel_id=channel_id,
            event_id=identity.event_id,
            topic=identity.topic,
            kind=identity.kind,
            headers=verifier.kept(headers),
            body=payload_text(body),
            status=InboxStatus.RECEIVED,
            attempts=0,
            received_at=now,
        )
        intake = await reception.store(entry, verifier.sealed)
        if intake is Intake.STORED:
            return Arrival(ArrivalStatus.RECEIVED, identity=identity, inbox_id=entry.id)
        if intake is Intake.DUPLICATE:
            return Arrival(ArrivalStatus.DUPLICATE, identity=identity)
        verifier = await verifiers.get(channel_id, fresh=True)
    return Arrival(ArrivalStatus.UNSETTLED, "the channel's credentials kept changing")
