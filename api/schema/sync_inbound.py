"""Schema area: what channels send — the inbox of their events, and the stock-edit policy."""

from __future__ import annotations

from datetime import datetime

import strawberry

from adapters.db.repositories.inbox import inbox_cursor
from api.schema.channels import Channel
from api.schema.context import Info
from api.schema.errors import UserError, query_errors, user_errors_as
from api.schema.ids import parse_id
from api.schema.pagination import Connection, connection, page_size
from api.schema.permissions import CanMutate
from domain.channels.policies import StockEditPolicy as DomainStockEditPolicy
from domain.channels.port import InboundKind as DomainInboundKind
from domain.clock import utcnow
from domain.errors import NotFound
from domain.sync import stock_edits
from domain.sync.inbox_model import InboxEntry
from domain.sync.inbox_model import InboxStatus as DomainInboxStatus

# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
StockEditPolicy = DomainStockEditPolicy
strawberry.enum(
    StockEditPolicy,
    name="StockEditPolicy",
    description=(
        "What a stock figure edited on the channel's side does. HUB_WINS: Nexo's number is "
        "pushed back over it (the drift is logged). ACCEPT_CHANNEL_EDITS: the difference is "
        "applied to Nexo's stock at the channel's first location (a channel_edit movement), "
        "and every channel hears the result."
    ),
)
InboxStatus = DomainInboxStatus
strawberry.enum(
    InboxStatus,
    name="InboxStatus",
    description=(
        "RECEIVED: stored, not acted on yet (orders wait here for order ingestion). "
        "PROCESSED: acted on. IGNORED: nothing for Nexo to do (see error). "
        "FAILED: could not be acted on (see error); retried while attempts remain."
    ),
)
InboundKind = DomainInboundKind
strawberry.enum(InboundKind, name="InboundKind")


@strawberry.type(description="One event a channel sent, as received, and what became of it.")
class InboxEvent:
    id: strawberry.ID
    channel_id: strawberry.ID
    event_id: str = strawberry.field(description="The channel's id: redeliveries repeat it.")
    topic: str
    kind: InboundKind | None
    status: InboxStatus
    error: str | None = strawberry.field(
        description="Why it failed or was ignored; for a processed stock edit, what Nexo did."
    )
    attempts: int
    sku: str | None = strawberry.field(description="The SKU a stock edit was about.")
    occurred_at: datetime | None
    received_at: datetime
    processed_at: datetime | None
    payload: str = strawberry.field(description="The body exactly as the channel sent it.")

    @classmethod
    def from_domain(cls, entry: InboxEntry) -> InboxEvent:
        return cls(
            id=strawberry.ID(str(entry.id)),
            channel_id=strawberry.ID(str(entry.channel_id)),
            event_id=entry.event_id,
            topic=entry.topic,
            kind=entry.kind,
            status=entry.status,
            error=entry.error,
            attempts=entry.attempts,
            sku=entry.sku,
            occurred_at=entry.occurred_at,
            received_at=entry.received_at,
            processed_at=entry.processed_at,
            payload=entry.body,
        )


@strawberry.input
class SetStockEditPolicyInput:
    channel_id: strawberry.ID
    policy: StockEditPolicy


@strawberry.type
class StockEditPolicyPayload:
    channel: Channel | None = None
    policy: StockEditPolicy | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SyncInboundQuery:
    @strawberry.field(description="Events a channel sent, newest first.")
    async def inbox_events(
        self,
        info: Info,
        channel_id: strawberry.ID,
        status: InboxStatus | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> Connection[InboxEvent]:
        with query_errors():
            size = page_size(first)
            channel = parse_id(channel_id, "channelId")
            async with info.context.container.uow(readonly=True) as uow:
                if await uow.channels.get(channel) is None:
                    raise NotFound(f"unknown channel {channel}", field="channelId")
                rows = await uow.inbox.page(
                    channel_id=channel,
                    status=DomainInboxStatus(status.value) if status else None,
                    first=size + 1,
                    after=after,
                )
        return connection(rows, size, inbox_cursor, InboxEvent.from_domain)


@strawberry.type
class SyncInboundMutation:
    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(StockEditPolicyPayload)
    async def set_stock_edit_policy(
        self, info: Info, input: SetStockEditPolicyInput
    ) -> StockEditPolicyPayload:
        channel_id = parse_id(input.channel_id, "channelId")
        policy = DomainStockEditPolicy(input.policy.value)
        async with info.context.container.uow() as uow:
            config = await stock_edits.set_stock_edit_policy(uow, channel_id, policy, now=utcnow())
            channel = await uow.channels.get(channel_id)
            await uow.commit()
        assert channel is not None
        return StockEditPolicyPayload(
            channel=Channel.from_domain(channel), policy=config.stock_edit_policy
        )
