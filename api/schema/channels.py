"""Schema area: sales channels, the locations feeding them and their availability rules."""

from __future__ import annotations

import uuid

import strawberry

from api.schema.catalog.channel_types import ChannelCatalogConfig
from api.schema.context import Info
from api.schema.errors import UserError, user_errors_as
from api.schema.ids import parse_id
from api.schema.node import Node
from api.schema.orders.types import ConflictPolicy, Fulfilment, LosingLines
from api.schema.permissions import CanMutate
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.model import Channel as DomainChannel
from domain.channels.model import ChannelKind as DomainChannelKind

# strawberry.enum marks the domain's own enum (and returns it): fields name that type.
ChannelKind = DomainChannelKind
strawberry.enum(ChannelKind, name="ChannelKind")


@strawberry.type
class Channel(Node):
    id: strawberry.ID
    name: str
    kind: ChannelKind
    currency: str
    priority: int
    location_ids: list[strawberry.ID]
    buffer_quantity: int
    allocation_percent: int
    max_quantity: int | None
    end_when_below: int

    @strawberry.field(
        description="Sync switch, price and listing rules, whether credentials are set."
    )
    async def catalog(self, info: Info) -> ChannelCatalogConfig:
        config = await info.context.catalog_loaders.config_by_channel.load(uuid.UUID(self.id))
        return ChannelCatalogConfig.from_domain(config)

    @strawberry.field(description="Who ships the channel's orders (setChannelFulfilment).")
    async def fulfilment(self, info: Info) -> Fulfilment:
        config = await info.context.catalog_loaders.config_by_channel.load(uuid.UUID(self.id))
        return config.fulfilment

    @strawberry.field(description="Who gets a contested last unit (setConflictPolicy).")
    async def conflict_policy(self, info: Info) -> ConflictPolicy:
        config = await info.context.catalog_loaders.config_by_channel.load(uuid.UUID(self.id))
        return config.conflict_policy

    @strawberry.field(description="What becomes of its line that loses one (setConflictPolicy).")
    async def losing_lines(self, info: Info) -> LosingLines:
        config = await info.context.catalog_loaders.config_by_channel.load(uuid.UUID(self.id))
        return config.losing_lines

    @classmethod
    def from_domain(cls, channel: DomainChannel) -> Channel:
        return cls(
            id=strawberry.ID(str(channel.id)),
            name=channel.name,
            kind=channel.kind,
            currency=channel.currency,
            priority=channel.priority,
            location_ids=[strawberry.ID(str(i)) for i in channel.location_ids],
            buffer_quantity=channel.rule.buffer_quantity or 0,
            allocation_percent=channel.rule.allocation_percent or 0,
            max_quantity=channel.rule.max_quantity,
            end_when_below=channel.rule.end_when_below or 0,
        )


@strawberry.input
class CreateChannelInput:
    name: str
    kind: ChannelKind
    currency: str
    priority: int = 0
    location_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    buffer_quantity: int = 0
    allocation_percent: int = 100
    max_quantity: int | None = None
    end_when_below: int = 0


@strawberry.type
class ChannelPayload:
    channel: Channel | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Per-SKU override; a field left null keeps the channel's rule.")
class SetChannelSkuRuleInput:
    channel_id: strawberry.ID
    sku: str
    buffer_quantity: int | None = None
    allocation_percent: int | None = None
    max_quantity: int | None = None
    end_when_below: int | None = None
    blocked: bool = False


@strawberry.type
class ChannelsQuery:
    @strawberry.field
    async def channels(self, info: Info) -> list[Channel]:
        async with info.context.container.uow(readonly=True) as uow:
            return [Channel.from_domain(c) for c in await uow.channels.all()]


@strawberry.type
class ChannelsMutation:
    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ChannelPayload)
    async def create_channel(self, info: Info, input: CreateChannelInput) -> ChannelPayload:
        async with info.context.container.uow() as uow:
            channel = await channel_setup.create_channel(
                uow,
                name=input.name,
                kind=str(input.kind.value),
                currency=input.currency,
                priority=input.priority,
                location_ids=[parse_id(i, "locationIds") for i in input.location_ids],
                rule=AvailabilityRule(
                    buffer_quantity=input.buffer_quantity,
                    allocation_percent=input.allocation_percent,
                    max_quantity=input.max_quantity,
                    end_when_below=input.end_when_below,
                ),
            )
            await uow.commit()
        return ChannelPayload(channel=Channel.from_domain(channel))

    @strawberry.mutation(permission_classes=[CanMutate])
    @user_errors_as(ChannelPayload)
    async def set_channel_sku_rule(
        self, info: Info, input: SetChannelSkuRuleInput
    ) -> ChannelPayload:
        async with info.context.container.uow() as uow:
            channel = await channel_setup.set_channel_sku_rule(
                uow,
                channel_id=parse_id(input.channel_id, "channelId"),
                sku=input.sku,
                rule=AvailabilityRule(
                    buffer_quantity=input.buffer_quantity,
                    allocation_percent=input.allocation_percent,
                    max_quantity=input.max_quantity,
                    end_when_below=input.end_when_below,
                    blocked=input.blocked,
                ),
            )
            await uow.commit()
        return ChannelPayload(channel=Channel.from_domain(channel))
