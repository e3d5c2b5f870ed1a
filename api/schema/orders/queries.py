"""Order queries: the order book paged and filtered, one order in full, shippable groups."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from api.schema.context import Info
from api.schema.errors import query_errors
from api.schema.ids import parse_id
from api.schema.orders.types import ConflictStatus, Order, OrderConflict, OrderGroup, OrderStatus
from api.schema.pagination import Connection, connection, page_size
from domain.orders import model
from domain.orders.groups import order_groups
from domain.orders.ports import OrderFilter as DomainOrderFilter

GROUP_WINDOW = 500
OPEN_STATUSES = (
    model.OrderStatus.OPEN,
    model.OrderStatus.ALLOCATED,
    model.OrderStatus.PARTIALLY_ALLOCATED,
)


@strawberry.input
class OrderFilter:
    channel_ids: list[strawberry.ID] | None = None
    statuses: list[OrderStatus] | None = None
    placed_from: datetime | None = strawberry.field(default=None, description="Inclusive.")
    placed_to: datetime | None = strawberry.field(default=None, description="Exclusive.")
    sku: str | None = strawberry.field(default=None, description="Orders with a line of it.")
    customer: str | None = strawberry.field(
        default=None, description="Part of the customer's name or e-mail, any case."
    )
    needs_attention: bool | None = None

    def to_domain(self) -> DomainOrderFilter:
        return DomainOrderFilter(
            channel_ids=tuple(
                parse_id(c, f"filter.channelIds[{n}]") for n, c in enumerate(self.channel_ids)
            )
            if self.channel_ids is not None
            else None,
            statuses=tuple(model.OrderStatus(s) for s in self.statuses)
            if self.statuses is not None
            else None,
            placed_from=self.placed_from,
            placed_to=self.placed_to,
            sku=self.sku,
            customer=self.customer.strip() if self.customer else None,
            needs_attention=self.needs_attention,
        )


@strawberry.type
class OrdersQuery:
    @strawberry.field(
        description="Orders of every channel, newest placed first, with their lines. "
        "transitions, conflicts and shipments are null here: ask order(id:)."
    )
    async def orders(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: OrderFilter | None = None,
    ) -> Connection[Order]:
        with query_errors():
            size = page_size(first)
            wanted = filter.to_domain() if filter else DomainOrderFilter()
            async with info.context.container.uow(readonly=True) as uow:
                rows = await uow.orders.page(first=size + 1, after=after, filter=wanted)
                cursor_of = uow.orders.cursor
        return connection(rows, size, cursor_of, Order.from_domain)

    @strawberry.field(description="One order, with its transitions, conflicts and shipments.")
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        with query_errors():
            order_id = parse_id(id, "id")
        return await load_order(info, order_id)

    @strawberry.field(
        description="MANUAL conflicts: OPEN ones (waiting for a person, oldest first), or "
        "RESOLVED ones (latest first): the first of them."
    )
    async def conflicts(
        self, info: Info, status: ConflictStatus = ConflictStatus.OPEN, first: int = 50
    ) -> list[OrderConflict]:
        with query_errors():
            size = page_size(first)
        async with info.context.container.uow(readonly=True) as uow:
            found = await uow.orders.manual_conflicts(
                open=status is ConflictStatus.OPEN, limit=size
            )
        return [OrderConflict.from_domain(c) for c in found]

    @strawberry.field(
        description="Open orders (OPEN, ALLOCATED, PARTIALLY_ALLOCATED) that could ship "
        "together, from any channels, where there are two or more: one unified customer's "
        "orders with units reserved at the same location; and, for buyers not matched into a "
        "customer yet, the same e-mail to the same address. Looks at the "
        f"{GROUP_WINDOW} most recently placed open orders only."
    )
    async def order_groups(self, info: Info) -> list[OrderGroup]:
        async with info.context.container.uow(readonly=True) as uow:
            recent = await uow.orders.page(
                first=GROUP_WINDOW, after=None, filter=DomainOrderFilter(statuses=OPEN_STATUSES)
            )
            customer_of = await uow.customers.customers_of_orders([o.id for o in recent])
        return [OrderGroup.from_domain(g) for g in order_groups(recent, customer_of)]


async def load_order(info: Info, order_id: uuid.UUID) -> Order | None:
    """The order as it stands now, in full (its details may be read)."""
    async with info.context.container.uow(readonly=True) as uow:
        order = await uow.orders.get(order_id)
    return Order.from_domain(order, detailed=True) if order is not None else None
