"""The storage the order book needs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.orders.model import (
    Conflict,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    Transition,
)


@dataclass(frozen=True, slots=True)
class OrderFilter:
    channel_ids: tuple[uuid.UUID, ...] | None = None
    statuses: tuple[OrderStatus, ...] | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    sku: str | None = None
    customer: str | None = None  # part of the name or e-mail
    needs_attention: bool | None = None


class OrderRepository(Protocol):
    async def insert(self, order: Order) -> bool:
        """Insert the order and its lines; False when the channel's order is already there."""
        ...

    async def insert_many(
        self, orders: Sequence[Order], born: Sequence[Transition] = ()
    ) -> set[uuid.UUID]:
        """`insert` for several orders in a few statements; the ids of those inserted. `born`
        are the orders' first transitions, recorded with those inserted (the others' dropped)."""
        ...

    async def by_external(self, channel_id: uuid.UUID, external_id: str) -> Order | None: ...
    async def lock_external(self, channel_id: uuid.UUID, external_id: str) -> Order | None:
        """`by_external`, holding the row until commit (PostgreSQL)."""
        ...

    async def lock_externals(
        self, keys: Sequence[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], Order]:
        """The orders of these (channel, external id) pairs that exist, locked in id order."""
        ...

    async def get(self, order_id: uuid.UUID) -> Order | None: ...
    async def lock(self, order_id: uuid.UUID) -> Order | None:
        """`get`, holding the order's row until commit (PostgreSQL): one writer per order."""
        ...

    async def keep_costs(self, line_ids: Sequence[uuid.UUID]) -> None:
        """Record on lines with a SKU and no cost yet their variant's cost as it is now (lines
        of a new order get theirs when inserted): the cost of goods of the sale."""
        ...

    async def get_many(self, order_ids: Sequence[uuid.UUID]) -> list[Order]:
        """The orders there are of these ids, with their lines and fees, in no set order."""
        ...

    async def lock_many(self, order_ids: Sequence[uuid.UUID]) -> list[Order]:
        """`lock` for several orders, locked in id order (so two callers never deadlock)."""
        ...

    async def save(self, order: Order, lines: Sequence[OrderLine]) -> None:
        """Rewrite the order's own fields and the given lines."""
        ...

    async def save_many(self, changes: Sequence[tuple[Order, Sequence[OrderLine]]]) -> None:
        """`save` for several orders in two statements."""
        ...

    async def set_fees(self, order: Order) -> None:
        """Replace the order's stored fees with `order.fees`."""
        ...

    async def by_line(self, line_id: uuid.UUID) -> Order | None:
        """The order that has this line."""
        ...

    async def add_transition(self, transition: Transition) -> None: ...
    async def add_transitions(self, transitions: Sequence[Transition]) -> None: ...
    async def transitions(self, order_id: uuid.UUID) -> list[Transition]: ...
    async def add_conflict(self, conflict: Conflict) -> None: ...
    async def conflicts(self, order_id: uuid.UUID) -> list[Conflict]: ...
    async def get_conflict(self, conflict_id: uuid.UUID) -> Conflict | None: ...
    async def line_conflicts(self, line_ids: Sequence[uuid.UUID]) -> list[Conflict]:
        """The conflicts of these lines, oldest first."""
        ...

    async def manual_conflicts(self, *, open: bool, limit: int) -> list[Conflict]:
        """Manual conflicts waiting for a person (oldest first), or resolved (latest first)."""
        ...

    async def resolve_conflict(
        self, conflict_id: uuid.UUID, *, at: datetime, by: str, decision: str
    ) -> bool:
        """Record the conflict resolved; False when it already was (or does not exist)."""
        ...

    async def reopen_conflict(self, conflict_id: uuid.UUID) -> None:
        """Undo a resolution whose decision could not be carried out."""
        ...

    async def claim_aged_conflicts(
        self, created_before: datetime, now: datetime, limit: int
    ) -> list[Conflict]:
        """Open manual conflicts opened before then whose age is not alerted yet, marked
        alerted at `now`: each is claimed by one caller only."""
        ...

    async def short_skus(self, limit: int) -> list[str]:
        """SKUs some line is backordered (short) for, in SKU order (an indexed read)."""
        ...

    async def add_shipment(self, shipment: Shipment) -> None: ...
    async def shipments(self, order_id: uuid.UUID) -> list[Shipment]: ...
    async def get_shipment(self, shipment_id: uuid.UUID) -> Shipment | None: ...
    async def set_channel_shipment(self, shipment_id: uuid.UUID, channel_id: str) -> None: ...
    async def parcel(self, parcel_id: uuid.UUID) -> list[Shipment]:
        """The shipments packed in one parcel (one alone: the parcel is its own id)."""
        ...

    async def line_orders(self, line_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """The order of each of these lines that exists."""
        ...

    async def orders_to_pick(self, location_id: uuid.UUID, limit: int) -> list[uuid.UUID]:
        """Up to `limit` orders with reserved lines at the location not picked yet, placed
        first first (an indexed read)."""
        ...

    async def holding(
        self, sku: str, statuses: Sequence[LineStatus]
    ) -> list[tuple[Order, OrderLine]]:
        """Lines of `sku` in those statuses, with their orders (for last-unit conflicts)."""
        ...

    async def last_sold(
        self, channel_id: uuid.UUID, skus: Sequence[str], *, since: datetime
    ) -> dict[str, datetime]:
        """Per SKU the channel sold at or after `since`, when its latest such order was
        placed (recent orders only: what deciding stock edits asks)."""
        ...

    async def units_sold(
        self, channel_id: uuid.UUID, since: Mapping[str, datetime]
    ) -> dict[str, int]:
        """Per SKU, the units of it in the channel's orders placed at or after its time in
        `since` (recent orders only: what deciding a channel's lowered figure asks)."""
        ...

    async def page(self, *, first: int, after: str | None, filter: OrderFilter) -> list[Order]:
        """Orders, newest placed first, with their lines."""
        ...

    def cursor(self, order: Order) -> str: ...

    async def pull_cursor(self, channel_id: uuid.UUID) -> str | None:
        """Where the periodic order pull of the channel goes on (None: from the start)."""
        ...

    async def set_pull_cursor(
        self, channel_id: uuid.UUID, cursor: str | None, at: datetime
    ) -> None: ...

    async def pulled_through(self, channel_id: uuid.UUID) -> datetime | None:
        """When the latest pull of the channel that read to its end started (None: none
        has): every order the channel had by then is in Nexo."""
        ...

    async def set_pulled_through(self, channel_id: uuid.UUID, started: datetime) -> None:
        """Record a pull that read to the end, started at `started` (after `set_pull_cursor`
        in the same unit of work); never moves the mark back (pulls may overlap)."""
        ...


class DueAllocationRepository(Protocol):
    """Orders whose allocation is due, each leased to the run that is to reserve it."""

    async def mark(self, order_id: uuid.UUID, lease: uuid.UUID, now: datetime) -> bool:
        """Record it due, leased to `lease` from `now`; False when it already was (the lease
        stays whose it was)."""
        ...

    async def mark_many(
        self, leases: Mapping[uuid.UUID, uuid.UUID], now: datetime
    ) -> set[uuid.UUID]:
        """`mark` for several orders; the ids recorded (those not already due)."""
        ...

    async def claim(
        self, order_id: uuid.UUID, held: uuid.UUID | None, lease: uuid.UUID, now: datetime
    ) -> bool:
        """Move the lease to `lease` from `now` if it is `held` (None: whoever holds it);
        False when the order is not due, or `held` is not its lease."""
        ...

    async def renew_many(
        self, leases: Mapping[uuid.UUID, uuid.UUID], now: datetime
    ) -> set[uuid.UUID]:
        """Renew from `now` the leases still held as given; the ids renewed."""
        ...

    async def any_lapsed(self, claimed_before: datetime) -> bool:
        """Whether some lease was last claimed before then (the sweep's cheap first look)."""
        ...

    async def claim_lapsed(
        self, claimed_before: datetime, lease: uuid.UUID, now: datetime, limit: int
    ) -> list[uuid.UUID]:
        """Move to `lease` up to `limit` leases last claimed before then, oldest first, none
        another caller is claiming; their orders' ids."""
        ...

    async def clear(self, order_ids: Sequence[uuid.UUID]) -> None:
        """Nothing is due of these orders any more."""
        ...
