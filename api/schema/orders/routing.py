"""Order routing per channel: who ships its orders, and so which stock they may take."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from api.schema.context import Info
from api.schema.errors import UserError, attempt
from api.schema.ids import parse_id
from api.schema.orders.types import Fulfilment
from api.schema.permissions import CanMutate
from domain.catalog.channel_config import ChannelConfig
from domain.orders import model
from domain.orders.channel_rules import set_order_rules


@strawberry.input
class SetChannelFulfilmentInput:
    channel_id: strawberry.ID
    fulfilment: Fulfilment  # type: ignore[valid-type]


@strawberry.type
class ChannelFulfilmentPayload:
    channel_id: strawberry.ID | None = None
    fulfilment: Fulfilment | None = None  # type: ignore[valid-type]
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OrderRoutingMutation:
    @strawberry.mutation(
        permission_classes=[CanMutate],
        description="Who ships the channel's orders from now on. CHANNEL_MANAGED (e.g. an "
        "Amazon FBA account): its orders reserve only at its CHANNEL_MANAGED locations (list "
        "them among the channel's locations). MERCHANT: never at CHANNEL_MANAGED ones.",
    )
    async def set_channel_fulfilment(
        self, info: Info, input: SetChannelFulfilmentInput
    ) -> ChannelFulfilmentPayload:
        async def run() -> ChannelConfig:
            channel_id = parse_id(input.channel_id, "channelId")
            async with info.context.container.uow() as uow:
                config = await set_order_rules(
                    uow, channel_id, now=datetime.now(UTC),
                    fulfilment=model.Fulfilment(input.fulfilment),
                )  # fmt: skip
                await uow.commit()
            return config

        config, errors = await attempt(run)
        if config is None:
            return ChannelFulfilmentPayload(user_errors=errors)
        return ChannelFulfilmentPayload(
            channel_id=strawberry.ID(str(config.channel_id)), fulfilment=config.fulfilment
        )
