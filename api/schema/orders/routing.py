"""Order routing per channel: who ships its orders, and so which stock they may take."""

from __future__ import annotations

import strawberry

from api.schema.context import Info
from api.schema.errors import UserError, user_errors_as
from api.schema.ids import parse_id
from api.schema.orders.types import Fulfilment
from api.schema.permissions import CanMutate
from domain.channels import policies
from domain.channels.order_rules import set_order_rules
from domain.clock import utcnow


@strawberry.input
class SetChannelFulfilmentInput:
    channel_id: strawberry.ID
    fulfilment: Fulfilment


@strawberry.type
class ChannelFulfilmentPayload:
    channel_id: strawberry.ID | None = None
    fulfilment: Fulfilment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OrderRoutingMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Who ships the channel's orders from now on. CHANNEL_MANAGED (e.g. an "
        "Amazon FBA account): its orders reserve only at its CHANNEL_MANAGED locations (list "
        "them among the channel's locations). MERCHANT: never at CHANNEL_MANAGED ones.",
    )
    @user_errors_as(ChannelFulfilmentPayload)
    async def set_channel_fulfilment(
        self, info: Info, input: SetChannelFulfilmentInput
    ) -> ChannelFulfilmentPayload:
        channel_id = parse_id(input.channel_id, "channelId")
        async with info.context.container.uow() as uow:
            config = await set_order_rules(
                uow, channel_id, now=utcnow(), fulfilment=policies.Fulfilment(input.fulfilment)
            )
            await uow.commit()
        return ChannelFulfilmentPayload(
            channel_id=strawberry.ID(str(config.channel_id)), fulfilment=config.fulfilment
        )
