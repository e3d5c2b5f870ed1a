"""GraphQL types of the customer book, built from domain objects.

A customer's numbers (order count, first and last order, lifetime value) load through one
per-request loader, so a page of customers costs two queries however long it is.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from api.schema.catalog.types import Money
from api.schema.context import Info
from api.schema.errors import query_errors
from api.schema.node import Node
from api.schema.orders.types import Order
from api.schema.pagination import Connection, Edge, PageInfo, page_size
from domain.customers import model
from domain.customers.history import OPEN_STATUSES
from domain.customers.matching import Rule
from domain.money import Money as DomainMoney
from domain.money import exponent

MatchRule = Rule
strawberry.enum(
    MatchRule,
    name="CustomerMatchRule",
    description="How an identity came to its customer. EMAIL: the same mailbox (case, and "
    "the dots and plus-tags its provider ignores, set aside). PHONE: the same number in "
    "E.164. ADDRESS_AND_NAME: the same postal address and the same name (a name alone never "
    "matches). NEW: nothing matched. MERGED / UNMERGED: a person's decision.",
)


@strawberry.type(description="A buyer as one channel knows them.")
class CustomerIdentity:
    id: strawberry.ID
    channel_id: strawberry.ID
    buyer_ref: str = strawberry.field(
        description="The channel's buyer id (id:…), else the mailbox (email:…) or phone "
        "(phone:…) of a guest, else the one order (order:…) of a buyer who left no trace."
    )
    name: str | None
    email: str | None
    phone: str | None
    address: JSON
    rule: MatchRule
    evidence: str = strawberry.field(description="Why it is with its customer, in words.")
    linked_at: datetime
    linked_by: str
    first_seen_at: datetime
    last_seen_at: datetime
    forgotten: bool

    @classmethod
    def from_domain(cls, identity: model.Identity) -> CustomerIdentity:
        return cls(
            id=strawberry.ID(str(identity.id)), channel_id=strawberry.ID(str(identity.channel_id)),
            buyer_ref=identity.buyer_ref, name=identity.name, email=identity.email,
            phone=identity.phone, address=JSON(dict(identity.address)), rule=identity.rule,
            evidence=identity.evidence, linked_at=identity.linked_at,
            linked_by=identity.linked_by, first_seen_at=identity.first_seen_at,
            last_seen_at=identity.last_seen_at, forgotten=identity.forgotten,
        )  # fmt: skip


@strawberry.type(description="A person's action on a customer.")
class CustomerAuditEntry:
    action: str = strawberry.field(description="merged, merged_into, unmerged, forgotten.")
    actor: str
    detail: str
    at: datetime


@strawberry.type
class ChannelLifetimeValue:
    channel_id: strawberry.ID
    orders: int
    value: Money


@strawberry.type(description="A customer's purchases across channels.")
class CustomerHistory:
    order_count: int
    open_order_count: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    lifetime_value: Money = strawberry.field(
        description="What the customer kept (lines not returned, cancelled lines' shipped "
        "units), every sale at the rate of its day, in `currency`."
    )
    by_channel: list[ChannelLifetimeValue]


@strawberry.type(description="One person across channels, matched from their identities.")
class Customer(Node):
    id: strawberry.ID
    name: str | None
    email: str | None
    phone: str | None
    created_at: datetime
    merged_into: strawberry.ID | None = strawberry.field(
        description="Set when a person merged it into another customer: read that one."
    )
    forgotten_at: datetime | None
    customer_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_domain(cls, customer: model.Customer) -> Customer:
        return cls(
            id=strawberry.ID(str(customer.id)), name=customer.name, email=customer.email,
            phone=customer.phone, created_at=customer.created_at,
            merged_into=strawberry.ID(str(customer.merged_into)) if customer.merged_into else None,
            forgotten_at=customer.forgotten_at, customer_id=customer.id,
        )  # fmt: skip

    @strawberry.field(description="Its identities on every channel, first seen first.")
    async def identities(self, info: Info) -> list[CustomerIdentity]:
        async with info.context.container.uow(readonly=True) as uow:
            found = await uow.customers.identities([self.customer_id])
        return [CustomerIdentity.from_domain(i) for i in found]

    @strawberry.field(description="Merges, unmerges and erasure, oldest first.")
    async def audit(self, info: Info) -> list[CustomerAuditEntry]:
        async with info.context.container.uow(readonly=True) as uow:
            found = await uow.customers.audit(self.customer_id)
        return [CustomerAuditEntry(action=e.action, actor=e.actor, detail=e.detail, at=e.at)
                for e in found]  # fmt: skip

    @strawberry.field(
        description="Order count, first and last order, lifetime value per channel, in "
        "`currency` (the merchant's, NEXO_CURRENCY, by default)."
    )
    async def history(self, info: Info, currency: str | None = None) -> CustomerHistory:
        wanted = (currency or info.context.container.settings.currency).upper()
        with query_errors():
            exponent(wanted, field="currency")
            found = await info.context.customer_histories(wanted).load(self.customer_id)
        return CustomerHistory(
            order_count=found.order_count, open_order_count=found.open_orders,
            first_order_at=found.first_order_at, last_order_at=found.last_order_at,
            lifetime_value=Money.from_domain(DomainMoney(found.total, wanted)),
            by_channel=[
                ChannelLifetimeValue(
                    channel_id=strawberry.ID(str(v.channel_id)), orders=v.orders,
                    value=Money.from_domain(v.value),
                )
                for v in found.lifetime_value
            ],
        )  # fmt: skip

    @strawberry.field(description="Its orders on every channel, newest placed first.")
    async def orders(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Order]:
        return await _orders(info, self.customer_id, page_size(first), after, None)

    @strawberry.field(
        description="Its open orders (not paid yet, waiting for stock, reserved, shipped in "
        "part), newest placed first: what could ship together."
    )
    async def open_orders(self, info: Info) -> list[Order]:
        page = await _orders(info, self.customer_id, 100, None, [s.value for s in OPEN_STATUSES])
        return [edge.node for edge in page.edges]


async def _orders(
    info: Info, customer_id: uuid.UUID, size: int, after: str | None, statuses: list[str] | None
) -> Connection[Order]:
    async with info.context.container.uow(readonly=True) as uow:
        ids = await uow.customers.order_ids(
            customer_id, first=size + 1, after=after, statuses=statuses
        )
        found = {o.id: o for o in await uow.orders.get_many([i for i, _ in ids[:size]])}
    edges = [Edge(cursor=cursor, node=Order.from_domain(found[i])) for i, cursor in ids[:size]]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(ids) > size, end_cursor=edges[-1].cursor if edges else None
        ),
    )
