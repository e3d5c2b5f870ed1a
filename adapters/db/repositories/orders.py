"""The order book in SQL: orders with their lines, transitions, conflicts and shipments."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

from adapters.db import sales_rollup
from adapters.db.cursors import before_position, encode_cursor
from adapters.db.dialect import day_number, is_postgresql, upsert_for
from adapters.db.repositories.order_intake import OrderIntake
from adapters.db.tables import (
    channel_cursors,
    order_conflicts,
    order_fees,
    order_lines,
    order_transitions,
    orders,
    shipments,
    variants,
)
from domain.channels.policies import ConflictPolicy
from domain.orders.model import (
    Conflict,
    Customer,
    LineStatus,
    Order,
    OrderFee,
    OrderLine,
    OrderStatus,
    PickStage,
    Shipment,
    Transition,
    in_sequence,
)
from domain.orders.ports import OrderFilter


def _conflict(r: Any) -> Conflict:
    return Conflict(
        r.id, r.order_id, r.line_id, r.sku, r.quantity, ConflictPolicy(r.policy), r.resolution,
        r.winner_order_id, r.created_at, resolved_at=r.resolved_at, resolved_by=r.resolved_by,
        decision=r.decision,
    )  # fmt: skip


def _lines_at_cost() -> Any:
    """The insert of order lines, each with its variant's cost now (null for a SKU the
    catalogue does not know): `cost_of` is the line's SKU."""
    v = variants.c
    cost_of: BindParameter[str] = bindparam("cost_of")
    return insert(order_lines).values(
        unit_cost_minor=select(v.cost_minor).where(v.sku == cost_of).scalar_subquery(),
        cost_currency=select(v.currency).where(v.sku == cost_of).scalar_subquery(),
    )


LINES_AT_COST = _lines_at_cost()

# PostgreSQL: the one statement storing a batch of orders, by the columns its rows have.
_INTAKES: dict[tuple[tuple[str, ...], tuple[str, ...]], OrderIntake] = {}


def _order_row(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "channel_id": order.channel_id,
        "external_id": order.external_id,
        "number": order.number,
        "status": order.status.value,
        "placed_at": order.placed_at,
        "placed_day": day_number(order.placed_at),
        "channel_updated_at": order.channel_updated_at,
        "customer_name": order.customer.name,
        "customer_email": order.customer.email,
        "customer_phone": order.customer.phone,
        "customer_buyer_id": order.customer.buyer_id,
        "shipping_address": dict(order.shipping_address),
        "currency": order.currency,
        "total_minor": order.total_minor,
        "needs_attention": order.needs_attention,
        "attention_reason": order.attention_reason,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }


def _sold(order: Order) -> dict[str, Any]:
    """Where and when the order was sold, copied onto its lines and fees for the reports
    (never changed: an order's channel and placing time are fixed)."""
    return {
        "channel_id": order.channel_id,
        "placed_at": order.placed_at,
        "placed_day": day_number(order.placed_at),
    }


def _line_row(line: OrderLine, position: int) -> dict[str, Any]:
    return {
        "id": line.id,
        "order_id": line.order_id,
        "position": position,
        "channel_line_id": line.channel_line_id,
        "channel_sku": line.channel_sku,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price_minor": line.unit_price_minor,
        "currency": line.currency,
        "status": line.status.value,
        "location_id": line.location_id,
        "reservation_id": line.reservation_id,
        "routed_by": line.routed_by,
        "shipped_quantity": line.shipped_quantity,
        "discount_minor": line.discount_minor,
        "stage": line.stage.value if line.stage else None,
    }


def _fee_rows(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "order_id": order.id,
            "position": n,
            "kind": fee.kind,
            "amount_minor": fee.amount_minor,
            "currency": fee.currency,
            "channel_line_id": fee.channel_line_id,
            **_sold(order),
        }
        for n, fee in enumerate(order.fees)
    ]


def _transition_row(transition: Transition) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "order_id": transition.order_id,
        "from_status": transition.from_status.value if transition.from_status else None,
        "to_status": transition.to_status.value,
        "actor": transition.actor[:100],
        "reason": transition.reason,
        "at": transition.at,
    }


def _order(row: Any) -> Order:
    return Order(
        id=row.id,
        channel_id=row.channel_id,
        external_id=row.external_id,
        number=row.number,
        status=OrderStatus(row.status),
        placed_at=row.placed_at,
        channel_updated_at=row.channel_updated_at,
        customer=Customer(
            row.customer_name, row.customer_email, row.customer_phone, row.customer_buyer_id
        ),
        shipping_address=dict(row.shipping_address or {}),
        currency=row.currency,
        total_minor=row.total_minor,
        needs_attention=row.needs_attention,
        attention_reason=row.attention_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _line(row: Any) -> OrderLine:
    return OrderLine(
        id=row.id,
        order_id=row.order_id,
        channel_line_id=row.channel_line_id,
        channel_sku=row.channel_sku,
        sku=row.sku,
        quantity=row.quantity,
        unit_price_minor=row.unit_price_minor,
        currency=row.currency,
        status=LineStatus(row.status),
        location_id=row.location_id,
        reservation_id=row.reservation_id,
        routed_by=row.routed_by,
        shipped_quantity=row.shipped_quantity,
        discount_minor=row.discount_minor,
        stage=PickStage(row.stage) if row.stage else None,
    )


class SqlOrderRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def _with_lines(self, rows: Sequence[Any]) -> list[Order]:
        found = [_order(r) for r in rows]
        if not found:
            return []
        stmt = (
            select(order_lines)
            .where(order_lines.c.order_id.in_([o.id for o in found]))
            .order_by(order_lines.c.order_id, order_lines.c.position)
        )
        lines: dict[uuid.UUID, list[OrderLine]] = {}
        for row in await self._conn.execute(stmt):
            lines.setdefault(row.order_id, []).append(_line(row))
        fees: dict[uuid.UUID, list[OrderFee]] = {}
        stmt = (
            select(order_fees)
            .where(order_fees.c.order_id.in_([o.id for o in found]))
            .order_by(order_fees.c.order_id, order_fees.c.position)
        )
        for row in await self._conn.execute(stmt):
            fee = OrderFee(row.kind, row.amount_minor, row.currency, row.channel_line_id)
            fees.setdefault(row.order_id, []).append(fee)
        return [
            replace(o, lines=tuple(lines.get(o.id, ())), fees=tuple(fees.get(o.id, ())))
            for o in found
        ]

    async def insert(self, order: Order) -> bool:
        stmt = (
            upsert_for(self._conn)(orders)
            .values(_order_row(order))
            .on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
            .returning(orders.c.id)
        )
        if (await self._conn.execute(stmt)).first() is None:
            return False
        if order.lines:
            rows = [_line_row(line, n) | _sold(order) for n, line in enumerate(order.lines)]
            await self._conn.execute(insert(order_lines), rows)
            await self._keep_costs(order_lines.c.order_id == order.id)
        if order.fees:
            await self._conn.execute(insert(order_fees), _fee_rows(order))
        await sales_rollup.put_in(self._conn, [order.id])
        return True

    async def insert_many(
        self, batch: Sequence[Order], born: Sequence[Transition] = ()
    ) -> set[uuid.UUID]:
        if not batch:
            return set()
        if is_postgresql(self._conn) and any(order.lines for order in batch):
            inserted = await self._insert_at_once(batch, born)
            stored = [order for order in batch if order.id in inserted]
        else:
            stmt = (
                upsert_for(self._conn)(orders)
                .on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
                .returning(orders.c.id)
            )
            result = await self._conn.execute(stmt, [_order_row(order) for order in batch])
            inserted = {row.id for row in result}
            stored = [order for order in batch if order.id in inserted]
            await self._insert_lines(stored)
            await self.add_transitions([t for t in born if t.order_id in inserted])
        fees = [row for order in stored for row in _fee_rows(order)]
        if fees:
            await self._conn.execute(insert(order_fees), fees)
        await sales_rollup.put_in(self._conn, [o.id for o in stored])
        return inserted

    async def _insert_at_once(
        self, batch: Sequence[Order], born: Sequence[Transition]
    ) -> set[uuid.UUID]:
        """PostgreSQL: the orders not there yet, their lines and first transitions, in one
        statement."""
        order_rows = [_order_row(order) for order in batch]
        line_rows = [
            _line_row(ln, n) | _sold(order) for order in batch for n, ln in enumerate(order.lines)
        ]
        shape = (tuple(order_rows[0]), tuple(line_rows[0]))
        intake = _INTAKES.get(shape)
        if intake is None:
            intake = _INTAKES[shape] = OrderIntake(*shape)
        params = intake.params(order_rows, line_rows, [_transition_row(t) for t in born])
        rows = await intake.statement.rows(self._conn, params)
        return {row.id for row in rows}

    async def _insert_lines(self, stored: Sequence[Order]) -> None:
        lines = [
            _line_row(ln, n) | _sold(order) for order in stored for n, ln in enumerate(order.lines)
        ]
        if lines:
            # Each line keeps its variant's cost as it is now, in the insert itself.
            await self._conn.execute(
                LINES_AT_COST, [row | {"cost_of": row["sku"]} for row in lines]
            )

    async def set_fees(self, order: Order) -> None:
        before = await sales_rollup.read(self._conn, [order.id])
        await self._conn.execute(delete(order_fees).where(order_fees.c.order_id == order.id))
        if order.fees:
            await self._conn.execute(insert(order_fees), _fee_rows(order))
        await self._rolled_up(before, [order.id])

    async def by_line(self, line_id: uuid.UUID) -> Order | None:
        owner = select(order_lines.c.order_id).where(order_lines.c.id == line_id)
        return await self._one(orders.c.id == owner.scalar_subquery())

    async def _one(self, where: Any, *, lock: bool = False) -> Order | None:
        stmt = select(orders).where(where)
        if lock:
            stmt = stmt.with_for_update()
        found = await self._with_lines((await self._conn.execute(stmt)).all())
        return found[0] if found else None

    async def by_external(self, channel_id: uuid.UUID, external_id: str) -> Order | None:
        return await self._one(
            and_(orders.c.channel_id == channel_id, orders.c.external_id == external_id)
        )

    async def lock_external(self, channel_id: uuid.UUID, external_id: str) -> Order | None:
        return await self._one(
            and_(orders.c.channel_id == channel_id, orders.c.external_id == external_id),
            lock=True,
        )

    async def lock_externals(
        self, keys: Sequence[tuple[uuid.UUID, str]]
    ) -> dict[tuple[uuid.UUID, str], Order]:
        if not keys:
            return {}
        stmt = (
            select(orders)
            .where(tuple_(orders.c.channel_id, orders.c.external_id).in_(list(keys)))
            .order_by(orders.c.id)
            .with_for_update()
        )
        found = await self._with_lines((await self._conn.execute(stmt)).all())
        return {(order.channel_id, order.external_id): order for order in found}

    async def get(self, order_id: uuid.UUID) -> Order | None:
        return await self._one(orders.c.id == order_id)

    async def keep_costs(self, line_ids: Sequence[uuid.UUID]) -> None:
        if not line_ids:
            return
        owners = select(order_lines.c.order_id).where(order_lines.c.id.in_(list(line_ids)))
        order_ids = list((await self._conn.execute(owners)).scalars())
        before = await sales_rollup.read(self._conn, order_ids)
        await self._keep_costs(order_lines.c.id.in_(list(line_ids)))
        await self._rolled_up(before, order_ids)

    async def _keep_costs(self, which: Any) -> None:
        lines, v = order_lines.c, variants.c
        cost = select(v.cost_minor).where(v.sku == lines.sku).scalar_subquery()
        currency = select(v.currency).where(v.sku == lines.sku).scalar_subquery()
        await self._conn.execute(
            update(order_lines)
            .where(which, lines.sku.is_not(None), lines.unit_cost_minor.is_(None))
            .values(unit_cost_minor=cost, cost_currency=currency)
        )

    async def get_many(self, order_ids: Sequence[uuid.UUID]) -> list[Order]:
        if not order_ids:
            return []
        stmt = select(orders).where(orders.c.id.in_(list(order_ids)))
        return await self._with_lines((await self._conn.execute(stmt)).all())

    async def lock_many(self, order_ids: Sequence[uuid.UUID]) -> list[Order]:
        if not order_ids:
            return []
        stmt = (
            select(orders)
            .where(orders.c.id.in_(list(order_ids)))
            .order_by(orders.c.id)
            .with_for_update()
        )
        return await self._with_lines((await self._conn.execute(stmt)).all())

    async def lock(self, order_id: uuid.UUID) -> Order | None:
        return await self._one(orders.c.id == order_id, lock=True)

    async def save(self, order: Order, lines: Sequence[OrderLine]) -> None:
        row = _order_row(order)
        for fixed in ("id", "channel_id", "external_id", "created_at"):
            row.pop(fixed)
        before = await self._before_saving([(order, lines)])
        await self._conn.execute(update(orders).where(orders.c.id == order.id).values(**row))
        await self._save_lines(lines)
        await self._rolled_up(before, [order.id])

    async def save_many(self, changes: Sequence[tuple[Order, Sequence[OrderLine]]]) -> None:
        if not changes:
            return
        rows = []
        for order, _ in sorted(changes, key=lambda change: str(change[0].id)):
            row = {f"o_{name}": value for name, value in _order_row(order).items()}
            for fixed in ("o_channel_id", "o_external_id", "o_created_at"):
                row.pop(fixed)
            rows.append(row)
        values: dict[str, BindParameter[Any]] = {
            name[2:]: bindparam(name) for name in rows[0] if name != "o_id"
        }
        changed = [order.id for order, _ in changes]
        before = await self._before_saving(changes)
        await self._conn.execute(
            update(orders).where(orders.c.id == bindparam("o_id")).values(values), rows
        )
        await self._save_lines([line for _, lines in changes for line in lines])
        await self._rolled_up(before, changed)

    async def _before_saving(
        self, changes: Sequence[tuple[Order, Sequence[OrderLine]]]
    ) -> sales_rollup.Figures | None:
        """The saved orders' figures before the save; None when it moves none (then nothing
        is read again after it)."""
        statuses = {order.id: order.status.value for order, _ in changes}
        states = {
            line.id: (line.sku, line.status.value, line.shipped_quantity)
            for _, lines in changes
            for line in lines
        }
        if not await sales_rollup.moves(self._conn, statuses, states):
            return None
        return await sales_rollup.read(self._conn, list(statuses), lock=False)

    async def _rolled_up(
        self, before: sales_rollup.Figures | None, order_ids: list[uuid.UUID]
    ) -> None:
        """The sales rollups take what the change moved (this writer is their only one)."""
        if before is None:
            return
        after = await sales_rollup.read(self._conn, order_ids, lock=False)
        await sales_rollup.append(self._conn, before, after)

    async def _save_lines(self, lines: Sequence[OrderLine]) -> None:
        if not lines:
            return
        changes = [
            {
                "line_id": line.id,
                "l_sku": line.sku,
                "l_status": line.status.value,
                "l_location": line.location_id,
                "l_reservation": line.reservation_id,
                "l_routed": line.routed_by,
                "l_shipped": line.shipped_quantity,
                "l_stage": line.stage.value if line.stage else None,
            }
            for line in sorted(lines, key=lambda ln: str(ln.id))
        ]
        await self._conn.execute(
            update(order_lines)
            .where(order_lines.c.id == bindparam("line_id"))
            .values(
                sku=bindparam("l_sku"),
                status=bindparam("l_status"),
                location_id=bindparam("l_location"),
                reservation_id=bindparam("l_reservation"),
                routed_by=bindparam("l_routed"),
                shipped_quantity=bindparam("l_shipped"),
                stage=bindparam("l_stage"),
            ),
            changes,
        )

    async def add_transition(self, transition: Transition) -> None:
        await self._conn.execute(insert(order_transitions).values(_transition_row(transition)))

    async def add_transitions(self, transitions: Sequence[Transition]) -> None:
        if transitions:
            await self._conn.execute(
                insert(order_transitions), [_transition_row(t) for t in transitions]
            )

    async def transitions(self, order_id: uuid.UUID) -> list[Transition]:
        c = order_transitions.c
        stmt = select(order_transitions).where(c.order_id == order_id).order_by(c.at, c.id)
        return in_sequence(
            [
                Transition(
                    r.order_id,
                    OrderStatus(r.from_status) if r.from_status else None,
                    OrderStatus(r.to_status),
                    r.actor,
                    r.reason,
                    r.at,
                )
                for r in await self._conn.execute(stmt)
            ]
        )

    async def add_conflict(self, conflict: Conflict) -> None:
        await self._conn.execute(
            insert(order_conflicts).values(
                id=conflict.id,
                order_id=conflict.order_id,
                line_id=conflict.line_id,
                sku=conflict.sku,
                quantity=conflict.quantity,
                policy=conflict.policy.value,
                resolution=conflict.resolution,
                winner_order_id=conflict.winner_order_id,
                created_at=conflict.created_at,
                resolved_at=conflict.resolved_at,
                resolved_by=conflict.resolved_by,
                decision=conflict.decision,
            )
        )

    async def conflicts(self, order_id: uuid.UUID) -> list[Conflict]:
        c = order_conflicts.c
        stmt = select(order_conflicts).where(c.order_id == order_id).order_by(c.created_at)
        return [_conflict(r) for r in await self._conn.execute(stmt)]

    async def get_conflict(self, conflict_id: uuid.UUID) -> Conflict | None:
        stmt = select(order_conflicts).where(order_conflicts.c.id == conflict_id)
        row = (await self._conn.execute(stmt)).first()
        return _conflict(row) if row is not None else None

    async def line_conflicts(self, line_ids: Sequence[uuid.UUID]) -> list[Conflict]:
        if not line_ids:
            return []
        c = order_conflicts.c
        stmt = select(order_conflicts).where(c.line_id.in_(line_ids)).order_by(c.created_at, c.id)
        return [_conflict(r) for r in await self._conn.execute(stmt)]

    async def manual_conflicts(self, *, open: bool, limit: int) -> list[Conflict]:
        c = order_conflicts.c
        stmt = select(order_conflicts).where(c.policy == ConflictPolicy.MANUAL.value)
        if open:
            stmt = stmt.where(c.resolved_at.is_(None)).order_by(c.created_at, c.id)
        else:
            stmt = stmt.where(c.resolved_at.is_not(None)).order_by(c.resolved_at.desc(), c.id)
        return [_conflict(r) for r in await self._conn.execute(stmt.limit(limit))]

    async def resolve_conflict(
        self, conflict_id: uuid.UUID, *, at: datetime, by: str, decision: str
    ) -> bool:
        c = order_conflicts.c
        stmt = (
            update(order_conflicts)
            .where(c.id == conflict_id, c.resolved_at.is_(None))
            .values(resolved_at=at, resolved_by=by, decision=decision)
        )
        return (await self._conn.execute(stmt)).rowcount == 1

    async def reopen_conflict(self, conflict_id: uuid.UUID) -> None:
        stmt = (
            update(order_conflicts)
            .where(order_conflicts.c.id == conflict_id)
            .values(resolved_at=None, resolved_by=None, decision=None)
        )
        await self._conn.execute(stmt)

    async def claim_aged_conflicts(
        self, created_before: datetime, now: datetime, limit: int
    ) -> list[Conflict]:
        c = order_conflicts.c
        aged = [
            _conflict(r)
            for r in await self._conn.execute(
                select(order_conflicts)
                .where(
                    c.policy == ConflictPolicy.MANUAL.value,
                    c.resolved_at.is_(None),
                    c.created_at < created_before,
                    c.alerted_at.is_(None),
                )
                .order_by(c.created_at, c.id)
                .limit(limit)
            )
        ]
        claimed: list[Conflict] = []
        for conflict in aged:
            stmt = (
                update(order_conflicts)
                .where(c.id == conflict.id, c.alerted_at.is_(None))
                .values(alerted_at=now)
            )
            if (await self._conn.execute(stmt)).rowcount == 1:
                claimed.append(conflict)
        return claimed

    async def short_skus(self, limit: int) -> list[str]:
        ln = order_lines.c
        stmt = (
            select(ln.sku)
            .where(ln.status == LineStatus.SHORT.value, ln.sku.is_not(None))
            .group_by(ln.sku)
            .order_by(ln.sku)
            .limit(limit)
        )
        return [r.sku for r in await self._conn.execute(stmt)]

    async def add_shipment(self, shipment: Shipment) -> None:
        await self._conn.execute(
            insert(shipments).values(
                id=shipment.id,
                order_id=shipment.order_id,
                location_id=shipment.location_id,
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                lines=[[str(line_id), quantity] for line_id, quantity in shipment.lines],
                channel_shipment_id=shipment.channel_shipment_id,
                created_at=shipment.created_at,
                parcel_id=shipment.parcel_id,
            )
        )

    def _shipment(self, row: Any) -> Shipment:
        return Shipment(
            id=row.id,
            order_id=row.order_id,
            location_id=row.location_id,
            carrier=row.carrier,
            tracking_number=row.tracking_number,
            lines=tuple((uuid.UUID(line_id), int(qty)) for line_id, qty in row.lines),
            created_at=row.created_at,
            channel_shipment_id=row.channel_shipment_id,
            parcel_id=row.parcel_id,
        )

    async def shipments(self, order_id: uuid.UUID) -> list[Shipment]:
        stmt = (
            select(shipments)
            .where(shipments.c.order_id == order_id)
            .order_by(shipments.c.created_at)
        )
        return [self._shipment(r) for r in await self._conn.execute(stmt)]

    async def get_shipment(self, shipment_id: uuid.UUID) -> Shipment | None:
        row = (
            await self._conn.execute(select(shipments).where(shipments.c.id == shipment_id))
        ).first()
        return self._shipment(row) if row else None

    async def parcel(self, parcel_id: uuid.UUID) -> list[Shipment]:
        c = shipments.c
        stmt = (
            select(shipments)
            .where(or_(c.parcel_id == parcel_id, and_(c.id == parcel_id, c.parcel_id.is_(None))))
            .order_by(c.created_at, c.id)
        )
        return [self._shipment(r) for r in await self._conn.execute(stmt)]

    async def line_orders(self, line_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        if not line_ids:
            return {}
        ln = order_lines.c
        stmt = select(ln.id, ln.order_id).where(ln.id.in_(list(set(line_ids))))
        return {r.id: r.order_id for r in await self._conn.execute(stmt)}

    async def orders_to_pick(self, location_id: uuid.UUID, limit: int) -> list[uuid.UUID]:
        ln = order_lines.c
        stmt = (
            select(ln.order_id)
            .where(
                ln.location_id == location_id,
                ln.status.in_([LineStatus.ALLOCATED.value, LineStatus.PARTIALLY_SHIPPED.value]),
                ln.stage.is_(None),
            )
            .group_by(ln.order_id, ln.placed_at)
            .order_by(ln.placed_at, ln.order_id)
            .limit(limit)
        )
        return [r.order_id for r in await self._conn.execute(stmt)]

    async def set_channel_shipment(self, shipment_id: uuid.UUID, channel_id: str) -> None:
        await self._conn.execute(
            update(shipments)
            .where(shipments.c.id == shipment_id)
            .values(channel_shipment_id=channel_id)
        )

    async def holding(
        self, sku: str, statuses: Sequence[LineStatus]
    ) -> list[tuple[Order, OrderLine]]:
        stmt = select(order_lines).where(
            order_lines.c.sku == sku, order_lines.c.status.in_([s.value for s in statuses])
        )
        lines = [_line(r) for r in await self._conn.execute(stmt)]
        if not lines:
            return []
        by_id = {
            o.id: o
            for o in [
                _order(r)
                for r in await self._conn.execute(
                    select(orders).where(orders.c.id.in_({ln.order_id for ln in lines}))
                )
            ]
        }
        return [(by_id[ln.order_id], ln) for ln in lines if ln.order_id in by_id]

    async def last_sold(
        self, channel_id: uuid.UUID, skus: Sequence[str], *, since: datetime
    ) -> dict[str, datetime]:
        stmt = (
            select(order_lines.c.sku, func.max(orders.c.placed_at).label("at"))
            .join(orders, order_lines.c.order_id == orders.c.id)
            .where(
                orders.c.channel_id == channel_id,
                orders.c.placed_at >= since,
                order_lines.c.sku.in_(list(skus)),
            )
            .group_by(order_lines.c.sku)
        )
        return {row.sku: row.at for row in await self._conn.execute(stmt) if row.at is not None}

    async def units_sold(
        self, channel_id: uuid.UUID, since: Mapping[str, datetime]
    ) -> dict[str, int]:
        if not since:
            return {}
        stmt = (
            select(order_lines.c.sku, orders.c.placed_at, order_lines.c.quantity)
            .join(orders, order_lines.c.order_id == orders.c.id)
            .where(
                orders.c.channel_id == channel_id,
                orders.c.placed_at >= min(since.values()),
                order_lines.c.sku.in_(sorted(since)),
            )
        )
        sold: dict[str, int] = {}
        for row in await self._conn.execute(stmt):
            if row.placed_at >= since[row.sku]:
                sold[row.sku] = sold.get(row.sku, 0) + row.quantity
        return sold

    async def pull_cursor(self, channel_id: uuid.UUID) -> str | None:
        c = channel_cursors.c
        stmt = select(c.cursor).where(c.channel_id == channel_id, c.kind == "orders")
        return (await self._conn.execute(stmt)).scalar_one_or_none()

    async def set_pull_cursor(
        self, channel_id: uuid.UUID, cursor: str | None, at: datetime
    ) -> None:
        values = {"cursor": cursor, "updated_at": at}
        stmt = upsert_for(self._conn)(channel_cursors).values(
            channel_id=channel_id, kind="orders", **values
        )
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["channel_id", "kind"], set_=values)
        )

    async def pulled_through(self, channel_id: uuid.UUID) -> datetime | None:
        c = channel_cursors.c
        stmt = select(c.pulled_through).where(c.channel_id == channel_id, c.kind == "orders")
        at: datetime | None = (await self._conn.execute(stmt)).scalar_one_or_none()
        return at

    async def set_pulled_through(self, channel_id: uuid.UUID, started: datetime) -> None:
        c = channel_cursors.c
        await self._conn.execute(
            update(channel_cursors)
            .where(c.channel_id == channel_id, c.kind == "orders")
            .where(or_(c.pulled_through.is_(None), c.pulled_through < started))
            .values(pulled_through=started)
        )

    def cursor(self, order: Order) -> str:
        return encode_cursor(order.placed_at.isoformat(), order.id)

    async def page(self, *, first: int, after: str | None, filter: OrderFilter) -> list[Order]:
        c = orders.c
        stmt = select(orders).order_by(c.placed_at.desc(), c.id.desc()).limit(first)
        if after is not None:
            stmt = stmt.where(before_position(c.placed_at, c.id, after))
        if filter.channel_ids is not None:
            stmt = stmt.where(c.channel_id.in_(filter.channel_ids))
        if filter.statuses is not None:
            stmt = stmt.where(c.status.in_([s.value for s in filter.statuses]))
        if filter.placed_from is not None:
            stmt = stmt.where(c.placed_at >= filter.placed_from)
        if filter.placed_to is not None:
            stmt = stmt.where(c.placed_at < filter.placed_to)
        if filter.needs_attention is not None:
            stmt = stmt.where(c.needs_attention == filter.needs_attention)
        if filter.sku is not None:
            stmt = stmt.where(
                exists().where(order_lines.c.order_id == c.id, order_lines.c.sku == filter.sku)
            )
        if filter.customer:
            term = filter.customer.lower()
            stmt = stmt.where(
                or_(
                    func.lower(c.customer_name).contains(term, autoescape=True),
                    func.lower(c.customer_email).contains(term, autoescape=True),
                )
            )
        return await self._with_lines((await self._conn.execute(stmt)).all())
