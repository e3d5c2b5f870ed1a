"""The customer book's door to storage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from domain.customers.matching import Candidate, MatchKeys
from domain.customers.model import AuditEntry, Buyer, Customer, Identity

# (channel id, currency, day of sale, orders, value in minor units): a customer's purchases
# summed per channel, currency and day, to convert at each day's rate.
ValueRow = tuple[uuid.UUID, str, date, int, int]


class CustomerRepository(Protocol):
    async def unmatched_buyers(self, limit: int) -> list[Buyer]:
        """Buyers of orders not yet matched, oldest first; the orders are locked, and a
        concurrent caller is handed others (PostgreSQL: SKIP LOCKED)."""
        ...

    async def lock_keys(self, keys: Sequence[str]) -> None:
        """Hold these match keys until commit: matchers of the same buyer queue, so two
        orders of one new buyer arriving at once make one customer, not two."""
        ...

    async def identity_by_ref(self, channel_id: uuid.UUID, buyer_ref: str) -> Identity | None: ...
    async def identity(self, identity_id: uuid.UUID) -> Identity | None: ...
    async def identity_of_order(self, order_id: uuid.UUID) -> Identity | None:
        """The identity an order's buyer was matched to; None while not matched."""
        ...

    async def identities(self, customer_ids: Sequence[uuid.UUID]) -> list[Identity]: ...
    async def customers_of_orders(
        self, order_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        """The customer each matched order's buyer is (merges followed): order id to
        customer id; orders not matched yet are left out."""
        ...

    async def candidates(self, keys: MatchKeys) -> list[Candidate]:
        """Live customers (not merged away, not forgotten) holding an identity with one of
        these keys, one candidate per (customer, rule)."""
        ...

    async def add_customer(self, customer: Customer) -> None: ...
    async def save_customer(self, customer: Customer) -> None: ...
    async def get(self, customer_id: uuid.UUID) -> Customer | None: ...
    async def lock(self, customer_ids: Sequence[uuid.UUID]) -> list[Customer]:
        """The customers, locked in id order."""
        ...

    async def merged_from(self, customer_id: uuid.UUID) -> list[Customer]:
        """Customers merged into this one, locked."""
        ...

    async def add_identity(self, identity: Identity) -> None: ...
    async def save_identity(self, identity: Identity) -> None: ...
    async def link_orders(self, links: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """Point orders at their buyer's identity: (order id, identity id) pairs."""
        ...

    async def add_audit(self, entry: AuditEntry) -> None: ...
    async def audit(self, customer_id: uuid.UUID) -> list[AuditEntry]: ...

    async def page(self, *, search: str | None, first: int, after: str | None) -> list[Customer]:
        """Live customers newest first; `search` is part of a name, e-mail or phone."""
        ...

    def cursor(self, customer: Customer) -> str: ...

    async def order_ids(
        self,
        customer_id: uuid.UUID,
        *,
        first: int,
        after: str | None,
        statuses: Sequence[str] | None = None,
    ) -> list[tuple[uuid.UUID, str]]:
        """The customer's orders (in `statuses`, if given) newest placed first, each with
        its cursor."""
        ...

    async def counts(
        self, customer_ids: Sequence[uuid.UUID], open_statuses: Sequence[str]
    ) -> dict[uuid.UUID, tuple[int, int, datetime | None, datetime | None]]:
        """Per customer: orders, open orders, first and last placed."""
        ...

    async def values(self, customer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ValueRow]]:
        """Per customer, what the units it kept sold for: a line's quantity, none of a
        returned line, and of a cancelled line the units that had shipped."""
        ...

    async def erase_orders(self, customer_id: uuid.UUID) -> int:
        """Blank the buyer's personal fields on every order of the customer; how many."""
        ...
