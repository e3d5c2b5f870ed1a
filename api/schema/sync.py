"""Schema area: the sync engine seen from outside — its call log, each channel's backlog,
live calls, and asking for a channel to be reconciled."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Mapping
from datetime import datetime, timedelta
from typing import Any

import strawberry

from adapters.db.repositories.sync_log import sync_call_cursor
from api.schema.context import Info
from api.schema.errors import UserError, query_errors, user_errors_as
from api.schema.ids import parse_id
from api.schema.pagination import Connection, connection, page_size
from api.schema.permissions import CanMutate
from domain.channels.health import channel_problem
from domain.channels.model import Channel
from domain.clock import utcnow
from domain.errors import InvalidInput, NotFound
from domain.jobs import RECONCILE_JOB
from domain.ports import UnitOfWork
from domain.sync import model
from domain.sync.relay import SYNC_TOPIC
from workers.registry import JOBS

STATUS_WINDOW = timedelta(hours=1)

# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
SyncOutcome = model.CallOutcome
strawberry.enum(
    SyncOutcome,
    name="SyncOutcome",
    description=(
        "OK: accepted. PARTIAL: some keys rejected. REJECTED: refused, not retried. "
        "THROTTLED: rate-limited, retried later. FAILED: retryable failure. "
        "DEAD: out of retries (an alert says so)."
    ),
)


@strawberry.type(description="One call Nexo made to a channel.")
class SyncCall:
    id: strawberry.ID
    channel_id: strawberry.ID
    operation: str = strawberry.field(description='e.g. "push_quantities", "upsert_listing".')
    keys: list[str] = strawberry.field(
        description="SKUs or listing ids the call carried: up to 100 in the log, 20 live."
    )
    outcome: SyncOutcome
    attempt: int = strawberry.field(description="1 for a first try, then 2, 3…")
    latency_ms: int
    message: str | None = strawberry.field(description="The channel's answer, when not OK.")
    created_at: datetime

    @classmethod
    def from_domain(cls, call: model.SyncCall) -> SyncCall:
        return cls(
            id=strawberry.ID(str(call.id)),
            channel_id=strawberry.ID(str(call.channel_id)),
            operation=call.operation,
            keys=list(call.keys),
            outcome=call.outcome,
            attempt=call.attempt,
            latency_ms=call.latency_ms,
            message=call.message,
            created_at=call.created_at,
        )

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> SyncCall:
        """From a `sync` bus payload (`domain.sync.relay.sync_event`)."""
        return cls(
            id=strawberry.ID(event["id"]),
            channel_id=strawberry.ID(event["channelId"]),
            operation=event["operation"],
            keys=list(event["keys"]),
            outcome=model.CallOutcome(event["outcome"]),
            attempt=event["attempt"],
            latency_ms=event["latencyMs"],
            message=event.get("message"),
            created_at=datetime.fromisoformat(event["createdAt"]),
        )


@strawberry.type(description="A channel's sync backlog now, and its calls over the last hour.")
class ChannelSyncStatus:
    channel_id: strawberry.ID
    pending: int = strawberry.field(
        description="Keys waiting to be sent (due, retrying, in flight)."
    )
    oldest_pending_at: datetime | None
    oldest_pending_age_seconds: int | None = strawberry.field(
        description="How long the oldest waiting key has waited; null when none waits."
    )
    dead: int = strawberry.field(description="Keys given up on after the retry budget.")
    calls: int = strawberry.field(description="Calls made in the last hour.")
    failures: int = strawberry.field(description="Calls in the last hour that FAILED or went DEAD.")
    throttles: int = strawberry.field(description="Calls in the last hour that were THROTTLED.")
    problem: str | None = strawberry.field(
        default=None,
        description="Why nothing can be sent to the channel as configured (no credentials, "
        "no location, sync off…); null when it is ready.",
    )

    @classmethod
    def from_domain(cls, status: model.ChannelSyncStatus, now: datetime) -> ChannelSyncStatus:
        oldest = status.oldest_pending_at
        return cls(
            channel_id=strawberry.ID(str(status.channel_id)),
            pending=status.pending,
            oldest_pending_at=oldest,
            oldest_pending_age_seconds=max(0, int((now - oldest).total_seconds()))
            if oldest
            else None,
            dead=status.dead,
            calls=status.calls,
            failures=status.failures,
            throttles=status.throttles,
        )


@strawberry.input
class RequestReconcileInput:
    channel_id: strawberry.ID


@strawberry.type
class RequestReconcilePayload:
    channel_id: strawberry.ID | None = None
    queued: bool = strawberry.field(
        default=False, description="False when the request was refused (see userErrors)."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def _known_channel(uow: UnitOfWork, channel_id: uuid.UUID) -> Channel:
    channel = await uow.channels.get(channel_id)
    if channel is None:
        raise NotFound(f"unknown channel {channel_id}", field="channelId")
    return channel


@strawberry.type
class SyncQuery:
    @strawberry.field(description="Calls made to channels, newest first.")
    async def sync_log(
        self,
        info: Info,
        channel_id: strawberry.ID | None = None,
        outcome: SyncOutcome | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[SyncCall]:
        with query_errors():
            size = page_size(first)
            channel = parse_id(channel_id, "channelId") if channel_id else None
            async with info.context.container.uow(readonly=True) as uow:
                rows = await uow.sync_log.page(
                    channel_id=channel,
                    outcome=model.CallOutcome(outcome).value if outcome else None,
                    first=size + 1,
                    after=after,
                )
        return connection(rows, size, sync_call_cursor, SyncCall.from_domain)

    @strawberry.field
    async def channel_sync_status(self, info: Info, channel_id: strawberry.ID) -> ChannelSyncStatus:
        now = utcnow()
        with query_errors():
            channel = parse_id(channel_id, "channelId")
            container = info.context.container
            async with container.uow(readonly=True) as uow:
                known = await _known_channel(uow, channel)
                status = await uow.outbox.status(channel, now - STATUS_WINDOW)
                problem = await channel_problem(uow, container.connector, known)
        result = ChannelSyncStatus.from_domain(status, now)
        result.problem = problem
        return result


@strawberry.type
class SyncSubscription:
    @strawberry.subscription(
        description="Every call to a channel as it is logged (all channels, or one). "
        "A live hint: page syncLog to catch up after a reconnect."
    )
    async def sync_events(
        self, info: Info, channel_id: strawberry.ID | None = None
    ) -> AsyncGenerator[SyncCall, None]:
        with query_errors():
            wanted = str(parse_id(channel_id, "channelId")) if channel_id else None
        async with info.context.container.bus.subscribe(SYNC_TOPIC) as events:
            async for event in events:
                if wanted is not None and event["channelId"] != wanted:
                    continue
                yield SyncCall.from_event(event)


@strawberry.type
class SyncMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Queue a reconciliation of the channel: its state read back and "
        "differences with the hub set right.",
    )
    @user_errors_as(RequestReconcilePayload)
    async def request_reconcile(
        self, info: Info, input: RequestReconcileInput
    ) -> RequestReconcilePayload:
        channel = parse_id(input.channel_id, "channelId")
        async with info.context.container.uow(readonly=True) as uow:
            await _known_channel(uow, channel)
        # Under arq an unknown job would be accepted and fail in the worker; refuse here.
        if all(spec.name != RECONCILE_JOB for spec in JOBS):
            raise InvalidInput("reconciliation is not available")
        await info.context.container.queue.enqueue(RECONCILE_JOB, str(channel))
        return RequestReconcilePayload(channel_id=strawberry.ID(str(channel)), queued=True)
