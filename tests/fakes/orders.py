"""The order book and the allocations due, in dicts, with the SQL repositories' semantics:
an order's (channel, external id) is unique, `save` rewrites only the order's own fields
and the lines given, and every lease change is conditional."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from domain.channels.policies import ConflictPolicy
from domain.orders.model import (
    Conflict,
    LineStatus,
    Order,
    OrderLine,
    Shipment,
    Transition,
)
from domain.orders.ports import OrderFilter
from tests.fakes.tables import (
    ConstraintViolation,
    DueRow,
    PullCursor,
    Tables,
    UniqueViolation,
    position,
    read_position,
)


class FakeOrderRepository:
    def __init__(self, tables: Tables):
        self._t = tables

    async def units_sold(
        self, channel_id: uuid.UUID, since: Mapping[str, datetime]
    ) -> dict[str, int]:
        sold: dict[str, int] = {}
        for order in self._t.orders.values():
            if order.channel_id != channel_id:
                continue
            for line in order.lines:
                sku = line.sku
                if sku is not None and sku in since and order.placed_at >= since[sku]:
                    sold[sku] = sold.get(sku, 0) + line.quantity
        return sold

    def _by_external(self, channel_id: uuid.UUID, external_id: str) -> Order | None:
        return next(
            (
                o
                for o in self._t.orders.values()
                if (o.channel_id, o.external_id) == (channel_id, external_id)
            ),
            None,
        )

    async def insert(self, order: Order) -> bool:
        if self._by_external(order.channel_id, order.external_id) is not None:
            return False
        if order.id in self._t.orders:
            raise UniqueViolation(f"orders.id {order.id}")
        if order.channel_id not in self._t.channels:
            raise ConstraintViolation(f"orders.channel_id {order.channel_id}")
        if any(line.quantity <= 0 for line in order.lines):
            raise ConstraintViolation("order_lines: quantity_positive")
        self._t.orders[order.id] = order
        return True

    async def insert_many(
        self, orders: Sequence[Order], born: Sequence[Transition] = ()
    ) -> set[uuid.UUID]:
        inserted = {order.id for order in orders if await self.insert(order)}
        self._t.transitions.extend(t for t in born if t.order_id in inserted)
        return inserted

    async def by_external(self, channel_id: uuid.UUID, external_id: str) -> Order | None:
        return self._by_external(channel_id, external_id)

    async def lock_external(self, channel_id: uuid.UUID, external_id: str) -> Order | None:
        return self._by_external(channel_id, external_id)

    async def lock_externals(
        self, keys: Sequence[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], Order]:
        found = {key: self._by_external(*key) for key in keys}
        return {key: order for key, order in found.items() if order is not None}

    async def get(self, order_id: uuid.UUID) -> Order | None:
        return self._t.orders.get(order_id)

    async def lock(self, order_id: uuid.UUID) -> Order | None:
        return self._t.orders.get(order_id)

    async def keep_costs(self, line_ids: Sequence[uuid.UUID]) -> None:
        return None  # costs are the catalog's, which these fakes do not hold

    async def get_many(self, order_ids: Sequence[uuid.UUID]) -> list[Order]:
        return [self._t.orders[i] for i in set(order_ids) if i in self._t.orders]

    async def lock_many(self, order_ids: Sequence[uuid.UUID]) -> list[Order]:
        return [self._t.orders[i] for i in sorted(set(order_ids)) if i in self._t.orders]

    async def save(self, order: Order, lines: Sequence[OrderLine]) -> None:
        stored = self._t.orders.get(order.id)
        if stored is None:
            return  # an UPDATE of no row
        changed = {line.id: line for line in lines}
        kept = tuple(
            dataclasses.replace(
                line,
                sku=new.sku,
                status=new.status,
                location_id=new.location_id,
                reservation_id=new.reservation_id,
                routed_by=new.routed_by,
                shipped_quantity=new.shipped_quantity,
                stage=new.stage,
            )
            if (new := changed.get(line.id)) is not None
            else line
            for line in stored.lines
        )
        # The order's own columns as given; its identity, lines and fees as stored.
        self._t.orders[order.id] = dataclasses.replace(
            order,
            channel_id=stored.channel_id,
            external_id=stored.external_id,
            created_at=stored.created_at,
            lines=kept,
            fees=stored.fees,
        )

    async def save_many(self, changes: Sequence[tuple[Order, Sequence[OrderLine]]]) -> None:
        for order, lines in changes:
            await self.save(order, lines)

    async def set_fees(self, order: Order) -> None:
        stored = self._t.orders.get(order.id)
        if stored is not None:
            self._t.orders[order.id] = dataclasses.replace(stored, fees=order.fees)

    async def by_line(self, line_id: uuid.UUID) -> Order | None:
        return next(
            (o for o in self._t.orders.values() if any(ln.id == line_id for ln in o.lines)), None
        )

    async def add_transition(self, transition: Transition) -> None:
        self._t.transitions.append(transition)

    async def add_transitions(self, transitions: Sequence[Transition]) -> None:
        self._t.transitions.extend(transitions)

    async def transitions(self, order_id: uuid.UUID) -> list[Transition]:
        return sorted(
            (t for t in self._t.transitions if t.order_id == order_id), key=lambda t: t.at
        )

    async def add_conflict(self, conflict: Conflict) -> None:
        if any(c.id == conflict.id for c in self._t.conflicts):
            raise UniqueViolation(f"order_conflicts.id {conflict.id}")
        self._t.conflicts.append(conflict)

    async def conflicts(self, order_id: uuid.UUID) -> list[Conflict]:
        return sorted(
            (c for c in self._t.conflicts if c.order_id == order_id), key=lambda c: c.created_at
        )

    async def get_conflict(self, conflict_id: uuid.UUID) -> Conflict | None:
        return next((c for c in self._t.conflicts if c.id == conflict_id), None)

    async def line_conflicts(self, line_ids: Sequence[uuid.UUID]) -> list[Conflict]:
        wanted = set(line_ids)
        found = [c for c in self._t.conflicts if c.line_id in wanted]
        return sorted(found, key=lambda c: (c.created_at, str(c.id)))

    async def manual_conflicts(self, *, open: bool, limit: int) -> list[Conflict]:
        manual = [c for c in self._t.conflicts if c.policy is ConflictPolicy.MANUAL]
        if open:
            found = sorted((c for c in manual if c.open), key=lambda c: (c.created_at, str(c.id)))
        else:
            resolved = [c for c in manual if not c.open]
            found = sorted(resolved, key=lambda c: (c.resolved_at, str(c.id)), reverse=True)
        return found[:limit]

    async def resolve_conflict(
        self, conflict_id: uuid.UUID, *, at: datetime, by: str, decision: str
    ) -> bool:
        for n, stored in enumerate(self._t.conflicts):
            if stored.id == conflict_id and stored.resolved_at is None:
                self._t.conflicts[n] = dataclasses.replace(
                    stored, resolved_at=at, resolved_by=by, decision=decision
                )
                return True
        return False

    async def reopen_conflict(self, conflict_id: uuid.UUID) -> None:
        for n, stored in enumerate(self._t.conflicts):
            if stored.id == conflict_id:
                self._t.conflicts[n] = dataclasses.replace(
                    stored, resolved_at=None, resolved_by=None, decision=None
                )

    async def claim_aged_conflicts(
        self, created_before: datetime, now: datetime, limit: int
    ) -> list[Conflict]:
        aged = [
            c for c in self._t.conflicts
            if c.open and c.created_at < created_before and c.id not in self._t.alerted_conflicts
        ]  # fmt: skip
        claimed = sorted(aged, key=lambda c: (c.created_at, str(c.id)))[:limit]
        self._t.alerted_conflicts.update(c.id for c in claimed)
        return claimed

    async def short_skus(self, limit: int) -> list[str]:
        return sorted(
            {
                line.sku
                for order in self._t.orders.values()
                for line in order.lines
                if line.sku and line.status is LineStatus.SHORT
            }
        )[:limit]

    async def add_shipment(self, shipment: Shipment) -> None:
        if shipment.id in self._t.shipments:
            raise UniqueViolation(f"shipments.id {shipment.id}")
        self._t.shipments[shipment.id] = dataclasses.replace(shipment, extra={})

    async def shipments(self, order_id: uuid.UUID) -> list[Shipment]:
        return sorted(
            (s for s in self._t.shipments.values() if s.order_id == order_id),
            key=lambda s: s.created_at,
        )

    async def get_shipment(self, shipment_id: uuid.UUID) -> Shipment | None:
        return self._t.shipments.get(shipment_id)

    async def parcel(self, parcel_id: uuid.UUID) -> list[Shipment]:
        return sorted(
            (s for s in self._t.shipments.values() if s.parcel == parcel_id),
            key=lambda s: (s.created_at, s.id),
        )

    async def line_orders(self, line_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        wanted = set(line_ids)
        return {
            line.id: order.id
            for order in self._t.orders.values()
            for line in order.lines
            if line.id in wanted
        }

    async def orders_to_pick(self, location_id: uuid.UUID, limit: int) -> list[uuid.UUID]:
        waiting = (LineStatus.ALLOCATED, LineStatus.PARTIALLY_SHIPPED)
        found = [
            order
            for order in self._t.orders.values()
            if any(
                ln.location_id == location_id and ln.status in waiting and ln.stage is None
                for ln in order.lines
            )
        ]
        found.sort(key=lambda o: (o.placed_at, o.id))
        return [o.id for o in found[:limit]]

    async def set_channel_shipment(self, shipment_id: uuid.UUID, channel_id: str) -> None:
        stored = self._t.shipments.get(shipment_id)
        if stored is not None:
            self._t.shipments[shipment_id] = dataclasses.replace(
                stored, channel_shipment_id=channel_id
            )

    async def holding(
        self, sku: str, statuses: Sequence[LineStatus]
    ) -> list[tuple[Order, OrderLine]]:
        # The orders come without their lines and fees, as the SQL repository reads them.
        return [
            (dataclasses.replace(order, lines=(), fees=()), line)
            for order in self._t.orders.values()
            for line in order.lines
            if line.sku == sku and line.status in statuses
        ]

    async def last_sold(
        self, channel_id: uuid.UUID, skus: Sequence[str], *, since: datetime
    ) -> dict[str, datetime]:
        latest: dict[str, datetime] = {}
        for order in self._t.orders.values():
            if order.channel_id != channel_id or order.placed_at < since:
                continue
            for line in order.lines:
                sku = line.sku
                if sku is not None and sku in skus and latest.get(sku, since) <= order.placed_at:
                    latest[sku] = order.placed_at
        return latest

    async def page(self, *, first: int, after: str | None, filter: OrderFilter) -> list[Order]:
        found = sorted(self._t.orders.values(), key=lambda o: (o.placed_at, o.id), reverse=True)
        if after is not None:
            start = read_position(after)
            found = [o for o in found if (o.placed_at, o.id) < start]
        return [o for o in found if _matches(o, filter)][:first]

    def cursor(self, order: Order) -> str:
        return position(order.placed_at, order.id)

    async def pull_cursor(self, channel_id: uuid.UUID) -> str | None:
        stored = self._t.pull_cursors.get(channel_id)
        return stored.cursor if stored else None

    async def set_pull_cursor(
        self, channel_id: uuid.UUID, cursor: str | None, at: datetime
    ) -> None:
        stored = self._t.pull_cursors.get(channel_id)
        through = stored.pulled_through if stored else None
        self._t.pull_cursors[channel_id] = PullCursor(cursor, at, through)

    async def pulled_through(self, channel_id: uuid.UUID) -> datetime | None:
        stored = self._t.pull_cursors.get(channel_id)
        return stored.pulled_through if stored else None

    async def set_pulled_through(self, channel_id: uuid.UUID, started: datetime) -> None:
        stored = self._t.pull_cursors.get(channel_id)
        if stored is None:
            return  # an UPDATE of no row: `set_pull_cursor` comes first
        if stored.pulled_through is None or stored.pulled_through < started:
            self._t.pull_cursors[channel_id] = dataclasses.replace(stored, pulled_through=started)


def _matches(order: Order, filter: OrderFilter) -> bool:
    customer = (filter.customer or "").lower()
    return (
        (filter.channel_ids is None or order.channel_id in filter.channel_ids)
        and (filter.statuses is None or order.status in filter.statuses)
        and (filter.placed_from is None or order.placed_at >= filter.placed_from)
        and (filter.placed_to is None or order.placed_at < filter.placed_to)
        and (filter.needs_attention is None or order.needs_attention == filter.needs_attention)
        and (filter.sku is None or any(line.sku == filter.sku for line in order.lines))
        and (
            not customer
            or customer in (order.customer.name or "").lower()
            or customer in (order.customer.email or "").lower()
        )
    )


class FakeDueAllocationRepository:
    def __init__(self, tables: Tables):
        self._t = tables

    async def mark(self, order_id: uuid.UUID, lease: uuid.UUID, now: datetime) -> bool:
        return order_id in await self.mark_many({order_id: lease}, now)

    async def mark_many(
        self, leases: Mapping[uuid.UUID, uuid.UUID], now: datetime
    ) -> set[uuid.UUID]:
        marked: set[uuid.UUID] = set()
        for order_id, lease in leases.items():
            if order_id not in self._t.orders:
                raise ConstraintViolation(f"allocations_due.order_id {order_id}")
            if order_id not in self._t.due:
                self._t.due[order_id] = DueRow(order_id, now, lease, now)
                marked.add(order_id)
        return marked

    async def claim(
        self, order_id: uuid.UUID, held: uuid.UUID | None, lease: uuid.UUID, now: datetime
    ) -> bool:
        row = self._t.due.get(order_id)
        if row is None or (held is not None and row.lease != held):
            return False
        self._t.due[order_id] = dataclasses.replace(row, lease=lease, claimed_at=now)
        return True

    async def renew_many(
        self, leases: Mapping[uuid.UUID, uuid.UUID], now: datetime
    ) -> set[uuid.UUID]:
        renewed: set[uuid.UUID] = set()
        for order_id, lease in leases.items():
            row = self._t.due.get(order_id)
            if row is not None and row.lease == lease:
                self._t.due[order_id] = dataclasses.replace(row, claimed_at=now)
                renewed.add(order_id)
        return renewed

    async def any_lapsed(self, claimed_before: datetime) -> bool:
        return any(row.claimed_at < claimed_before for row in self._t.due.values())

    async def claim_lapsed(
        self, claimed_before: datetime, lease: uuid.UUID, now: datetime, limit: int
    ) -> list[uuid.UUID]:
        lapsed = sorted(
            (row for row in self._t.due.values() if row.claimed_at < claimed_before),
            key=lambda row: row.claimed_at,
        )[:limit]
        for row in lapsed:
            self._t.due[row.order_id] = dataclasses.replace(row, lease=lease, claimed_at=now)
        return [row.order_id for row in sorted(lapsed, key=lambda row: row.due_since)]

    async def clear(self, order_ids: Sequence[uuid.UUID]) -> None:
        for order_id in order_ids:
            self._t.due.pop(order_id, None)
