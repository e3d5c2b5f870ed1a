"""Live orders, straight from the event bus (payloads are built before publishing)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.schema.context import Info
from api.schema.errors import query_errors
from api.schema.ids import parse_id
from api.schema.orders.types import OrderEvent
from domain.orders.events import ORDER_TOPIC


@strawberry.type
class OrdersSubscription:
    @strawberry.subscription(
        description="What happens to orders (of the channels given; of every channel when "
        "none are), as it is committed. A live hint: page `orders` to catch up after a reconnect."
    )
    async def order_events(
        self, info: Info, channel_ids: list[strawberry.ID] | None = None
    ) -> AsyncGenerator[OrderEvent, None]:
        with query_errors():
            wanted = (
                {str(parse_id(c, f"channelIds[{n}]")) for n, c in enumerate(channel_ids)}
                if channel_ids
                else None
            )
        async with info.context.container.bus.subscribe(ORDER_TOPIC) as events:
            async for event in events:
                if wanted is None or event["channelId"] in wanted:
                    yield OrderEvent.from_event(event)
