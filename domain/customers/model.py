"""One person across channels: a customer, the channel identities it was matched from, and
the trail of what people did to it (merges, unmerges, erasure)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.customers.matching import MatchKeys, Rule
from domain.money import Money
from domain.orders.model import Order

MAX_REF = 300


@dataclass(frozen=True, slots=True)
class Customer:
    id: uuid.UUID
    name: str | None  # as last given on any of its identities
    email: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime
    merged_into: uuid.UUID | None = None  # a person merged it into that customer
    forgotten_at: datetime | None = None  # its personal data was erased then


@dataclass(frozen=True, slots=True)
class Identity:
    """A buyer as one channel knows them, with what they last gave and how they were linked."""

    id: uuid.UUID
    channel_id: uuid.UUID
    buyer_ref: str  # the channel's buyer id, else the mailbox or phone, else the order's id
    customer_id: uuid.UUID
    name: str | None
    email: str | None
    phone: str | None
    address: Mapping[str, str | None]
    keys: MatchKeys
    rule: Rule
    evidence: str  # why it is with its customer, in words
    linked_at: datetime
    linked_by: str
    first_seen_at: datetime
    last_seen_at: datetime
    forgotten: bool = False


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: uuid.UUID
    customer_id: uuid.UUID
    action: str  # merged, merged_into, unmerged, forgotten
    actor: str
    detail: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ChannelValue:
    channel_id: uuid.UUID
    orders: int
    value: Money  # in the currency asked for, each sale at the rate of its day


@dataclass(frozen=True, slots=True)
class History:
    """A customer's purchases across channels, in numbers."""

    order_count: int
    open_orders: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    lifetime_value: tuple[ChannelValue, ...] = field(default_factory=tuple)

    @property
    def total(self) -> int:
        return sum(v.value.minor for v in self.lifetime_value)


@dataclass(frozen=True, slots=True)
class Buyer:
    """An order's buyer, as the order records them: what identities are made from."""

    order_id: uuid.UUID
    channel_id: uuid.UUID
    external_id: str  # the order's, on its channel
    buyer_id: str | None  # the channel's own id for the buyer, when it gives one
    name: str | None
    email: str | None
    phone: str | None
    address: Mapping[str, str | None]
    placed_at: datetime

    @classmethod
    def of(cls, order: Order) -> Buyer:
        who = order.customer
        return cls(
            order.id, order.channel_id, order.external_id, who.buyer_id, who.name, who.email,
            who.phone, order.shipping_address, order.placed_at,
        )  # fmt: skip

    def ref(self, keys: MatchKeys) -> str:
        """How the channel tells this buyer from others: its id, else the mailbox or phone
        (a guest), else nothing but this order (a buyer who left no trace is their own)."""
        if self.buyer_id:
            ref = f"id:{self.buyer_id}"
        elif keys.email:
            ref = f"email:{keys.email}"
        elif keys.phone:
            ref = f"phone:{keys.phone}"
        else:
            ref = f"order:{self.external_id}"
        return ref[:MAX_REF]
