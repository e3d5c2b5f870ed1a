"""The sales rollups' rows: what orders add to the sales report per channel (or per SKU), day
and currencies.

An order's figures are those of its lines (units, money, cost of goods: summed per currency
of sale and of cost), of its fees (per currency) and of the order itself (counted, and
counted as cancelled), each keyed by the order's channel (`sales_rollup`) or by the line's
SKU (`sales_rollup_sku`: a line's fee with its line, an order counted once in each SKU it
has), and by the day of sale. The order book's
writer (`SqlOrderRepository`) reads the figures of the orders it changes before and after
the change (`read`: from the rows themselves, so costs set in SQL and every way of changing
an order count alike) and appends their difference in the change's transaction (`append`;
nothing for changes that move no figure: allocation, picking). `compact` folds appended
rows into one row per key; `refill` rebuilds the rollups from the order book (the
migration's backfill, and data loaded around the writer).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Table,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import is_postgresql
from adapters.db.driver import DriverStatement
from adapters.db.line_units import cancelled_units, kept_units, returned_units
from adapters.db.tables import (
    ROLLUP_FIGURES,
    order_fees,
    order_lines,
    orders,
    sales_rollup,
    sales_rollup_sku,
)

_l, _f, _o = order_lines.c, order_fees.c, orders.c
# One compaction at a time (pg_advisory_xact_lock's key): a second waits, then finds less.
_COMPACTION_LOCK = 7_246_120_027


def line_figures() -> dict[str, Any]:
    """Each line's figures summed, as the sales report sums them (one definition for both)."""
    price = func.coalesce(_l.unit_price_minor, 0)
    kept = kept_units()
    has_cost = _l.unit_cost_minor.is_not(None)
    return {
        "units_ordered": func.sum(_l.quantity),
        "units_cancelled": func.sum(cancelled_units()),
        "units_returned": func.sum(returned_units()),
        "gross": func.sum(price * _l.quantity),
        "discounts": func.sum(_l.discount_minor * kept // _l.quantity),
        "cancellations": func.sum(price * cancelled_units()),
        "returns": func.sum(price * returned_units()),
        "cogs": func.sum(case((has_cost, _l.unit_cost_minor * kept), else_=0)),
        "units_without_cost": func.sum(case((has_cost, 0), else_=kept)),
    }


def _row(values: Sequence[Any], names: Sequence[str], figures: dict[str, Any]) -> list[Any]:
    """A SELECT list in the rollup's column order; figures absent are 0."""
    return [
        *(key.label(name) for key, name in zip(values, names, strict=True)),
        *(
            cast(figures[name] if name in figures else literal(0), BigInteger).label(name)
            for name in ROLLUP_FIGURES
        ),
    ]


def keys(rollup: Table) -> tuple[str, ...]:
    """A rollup's key columns: its own (channel or SKU), day, currencies."""
    return (rollup.c[1].name, "day", "currency", "cost_currency")


def contributions(rollup: Table, order_ids: Any | None) -> Any:
    """The figures of the orders `order_ids` selects (all orders when None), per key of
    `rollup`: rows of lines, of fees and of orders (keys may repeat)."""

    def of(column: Any) -> Any:
        if order_ids is None:
            return true()
        if isinstance(getattr(order_ids, "type", None), ARRAY):
            return column == any_(order_ids)
        return column.in_(order_ids)

    names = keys(rollup)
    currency, cost_currency = func.coalesce(_l.currency, ""), func.coalesce(_l.cost_currency, "")
    line_key: Any
    fee_key: Any
    order_key: Any
    if rollup is sales_rollup:
        line_key, fee_key, order_key = _l.channel_id, _f.channel_id, _o.channel_id
        fees_of: Any = order_fees
        counted_of: Any = orders
        count: Any = func.count()
        cancelled: Any = func.sum(case((_o.status == "cancelled", 1), else_=0))
        order_day, order_id = _o.placed_day, _o.id
    else:  # per SKU: a line's fee goes with its line, an order's fee has none; an order
        # counts once in each SKU it has
        line_key = fee_key = order_key = func.coalesce(_l.sku, "")
        fees_of = order_fees.outerjoin(
            order_lines, and_(_l.order_id == _f.order_id, _l.channel_line_id == _f.channel_line_id)
        )
        counted_of = order_lines.join(orders, _o.id == _l.order_id)
        count = func.count(func.distinct(_o.id))
        cancelled = func.count(func.distinct(case((_o.status == "cancelled", _o.id))))
        order_day, order_id = _l.placed_day, _l.order_id
    line_keys = [line_key, _l.placed_day, currency, cost_currency]
    lines = (
        select(*_row(line_keys, names, line_figures()))
        .where(of(_l.order_id))
        .group_by(line_key, _l.placed_day, currency, cost_currency)
    )
    fees = (
        select(
            *_row(
                [fee_key, _f.placed_day, _f.currency, literal("")],
                names,
                {"fees": func.sum(_f.amount_minor)},
            )
        )
        .select_from(fees_of)
        .where(of(_f.order_id))
        .group_by(fee_key, _f.placed_day, _f.currency)
    )
    counted = (
        select(
            *_row(
                [order_key, order_day, literal(""), literal("")],
                names,
                {"orders": count, "cancelled_orders": cancelled},
            )
        )
        .select_from(counted_of)
        .where(of(order_id))
        .group_by(order_key, order_day)
    )
    return union_all(lines, fees, counted)


def _columns(rollup: Table) -> list[Any]:
    return [rollup.c[name] for name in (*keys(rollup), *ROLLUP_FIGURES)]


ROLLUPS = (sales_rollup, sales_rollup_sku)
_ORDER_IDS: Any = bindparam("order_ids", expanding=True)
_ORDER_ID_ARRAY: Any = bindparam("order_ids", type_=ARRAY(Uuid()))  # PostgreSQL's


@functools.cache
def _of_orders(rollup: Table, order_ids: Any = _ORDER_IDS) -> Any:
    """`contributions` of the orders bound as `order_ids`, built once (building costs more
    than running it)."""
    return contributions(rollup, order_ids)


@functools.cache
def _appending(rollup: Table, order_ids: Any = _ORDER_IDS) -> Any:
    """INSERT of the figures of the orders bound as `order_ids`, as appended rows."""
    figures = _of_orders(rollup, order_ids).subquery("figures")
    columns = [*keys(rollup), *ROLLUP_FIGURES]
    rows = select(*(figures.c[name] for name in columns), false().label("compacted"))
    return insert(rollup).from_select([*columns, "compacted"], rows)


Key = tuple[Any, ...]  # the rollup's name, then its key: channel or SKU, day, currencies
Figures = dict[Key, tuple[int, ...]]  # per key, each of ROLLUP_FIGURES


async def read(
    connection: AsyncConnection, order_ids: Sequence[uuid.UUID], *, lock: bool = True
) -> Figures:
    """The orders' figures as stored now, per rollup and key. Read before a change, the
    orders are locked first on PostgreSQL (`lock`), so what is read is what it replaces."""
    if not order_ids:
        return {}
    ids = sorted(set(order_ids), key=str)
    if lock and is_postgresql(connection):
        await connection.execute(
            select(_o.id).where(_o.id.in_(ids)).order_by(_o.id).with_for_update()
        )
    found: Figures = {}
    for rollup in ROLLUPS:
        n = len(keys(rollup))
        for row in await connection.execute(_of_orders(rollup), {"order_ids": ids}):
            key, values = (rollup.name, *row[:n]), tuple(int(v or 0) for v in row[n:])
            was = found.get(key, (0,) * len(values))
            found[key] = tuple(a + b for a, b in zip(was, values, strict=True))
    return found


def _fate(status: str, shipped: int) -> tuple[Any, ...]:
    """What of a line's state its figures read: returned, cancelled (with what had shipped)."""
    if status == "cancelled":
        return (status, shipped)
    return (status,) if status == "returned" else ()


async def moves(
    connection: AsyncConnection,
    order_statuses: Mapping[uuid.UUID, str],
    line_states: Mapping[uuid.UUID, tuple[str | None, str, int]],
) -> bool:
    """Whether saving the orders' statuses and the lines' (SKU, status, shipped quantity)
    moves a figure (an allocation or a pick moves none). The orders are locked first on
    PostgreSQL, so what is compared is what the save replaces."""
    if not order_statuses:
        return False
    ids = sorted(order_statuses, key=str)
    saved = _l.id.in_(list(line_states)) if line_states else false()
    stmt = (
        select(_o.id, _o.status, _l.id, _l.sku, _l.status, _l.shipped_quantity)
        .select_from(
            orders.outerjoin(
                order_lines,
                and_(_l.order_id == _o.id, saved),
            )
        )
        .where(_o.id.in_(ids))
        .order_by(_o.id)
    )
    if is_postgresql(connection):
        stmt = stmt.with_for_update(of=orders)
    for order_id, status, line_id, sku, line_status, shipped in await connection.execute(stmt):
        if (status == "cancelled") != (order_statuses[order_id] == "cancelled"):
            return True
        if line_id is not None:
            new_sku, new_status, new_shipped = line_states[line_id]
            if new_sku != sku or _fate(new_status, new_shipped) != _fate(line_status, shipped):
                return True
    return False


async def append(connection: AsyncConnection, before: Figures, after: Figures) -> None:
    """Append what moved from `before` to `after` (nothing when nothing did)."""
    zero = (0,) * len(ROLLUP_FIGURES)
    for rollup in ROLLUPS:
        rows = []
        mine = {k for k in before.keys() | after.keys() if k[0] == rollup.name}
        for key in sorted(mine, key=str):
            was, now = before.get(key, zero), after.get(key, zero)
            moved = tuple(b - a for a, b in zip(was, now, strict=True))
            if any(moved):
                rows.append(
                    dict(zip(keys(rollup), key[1:], strict=True))
                    | dict(zip(ROLLUP_FIGURES, moved, strict=True))
                    | {"compacted": False}
                )
        if rows:
            await connection.execute(insert(rollup), rows)


async def put_in(connection: AsyncConnection, order_ids: Sequence[uuid.UUID]) -> None:
    """Append the figures of orders just made (read and written by the database alone)."""
    if not order_ids:
        return
    ids = sorted(set(order_ids), key=str)
    if is_postgresql(connection):
        await _put_in_at_once().rows(connection, {"order_ids": ids})
        return
    for rollup in ROLLUPS:
        await connection.execute(_appending(rollup), {"order_ids": ids})


@functools.cache
def _put_in_at_once() -> DriverStatement:
    """PostgreSQL: both rollups' rows appended by one statement on the driver, the orders'
    ids as an array (one round trip, and a text that never changes with their number)."""
    by_channel, by_sku = (_appending(rollup, _ORDER_ID_ARRAY) for rollup in ROLLUPS)
    return DriverStatement(by_sku.add_cte(by_channel.cte("by_channel")))


def _summed(rollup: Table, source: Any) -> Any:
    """`source`'s rows (the rollup's columns) added up per key, as compacted rows."""
    grouped = [source.c[name] for name in keys(rollup)]
    return (
        select(
            *grouped,
            true().label("compacted"),
            *(cast(func.sum(source.c[name]), BigInteger).label(name) for name in ROLLUP_FIGURES),
        )
        .where(true())  # SQLite: an upsert's SELECT needs a WHERE (parsing ambiguity)
        .group_by(*grouped)
        .order_by(*grouped)  # one order of keys: concurrent upserts meet in the same order
    )


def _upsert(connection: AsyncConnection, rollup: Table, rows: Any) -> Any:
    dialect_insert = postgresql_insert if is_postgresql(connection) else sqlite_insert
    names = keys(rollup)
    stmt = dialect_insert(rollup).from_select([*names, "compacted", *ROLLUP_FIGURES], rows)
    return stmt.on_conflict_do_update(
        index_elements=list(names),
        index_where=rollup.c.compacted,
        set_={name: rollup.c[name] + stmt.excluded[name] for name in ROLLUP_FIGURES},
    )


async def compact(connection: AsyncConnection, limit: int) -> int:
    """Fold up to `limit` appended rows of each rollup into their keys' compacted rows; how
    many were folded (0: nothing left). Totals never move: the rows folded are deleted by
    the statement that adds them in, and only rows that statement deleted are added
    (PostgreSQL: DELETE … RETURNING, rows another compaction holds skipped; SQLite: one
    writer at a time)."""
    if is_postgresql(connection):
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _COMPACTION_LOCK}
        )
    return sum([await _compact(connection, rollup, limit) for rollup in ROLLUPS])


async def _compact(connection: AsyncConnection, rollup: Table, limit: int) -> int:
    r = rollup.c
    if is_postgresql(connection):
        batch = (
            select(r.id)
            .where(r.compacted.is_(False))
            .order_by(r.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        moved = (
            delete(rollup)
            .where(r.id.in_(batch.scalar_subquery()))
            .returning(*_columns(rollup))
            .cte("moved")
        )
        folded = select(func.count()).select_from(moved).scalar_subquery()
        result = await connection.execute(
            _upsert(connection, rollup, _summed(rollup, moved)).returning(folded.label("folded"))
        )
        return max((int(row.folded) for row in result), default=0)
    last = await connection.scalar(
        select(func.max(r.id)).where(
            r.id.in_(select(r.id).where(r.compacted.is_(False)).order_by(r.id).limit(limit))
        )
    )
    if last is None:
        return 0
    appended = and_(r.compacted.is_(False), r.id <= last)
    rows = select(*_columns(rollup)).where(appended).subquery("appended")
    await connection.execute(_upsert(connection, rollup, _summed(rollup, rows)))
    deleted = await connection.execute(delete(rollup).where(appended))
    return int(deleted.rowcount)


def refill_statements() -> list[Any]:
    """INSERTs of the whole order book's figures, one compacted row per key (into empty
    rollups): the migration's backfill."""
    return [
        insert(rollup).from_select(
            [*keys(rollup), "compacted", *ROLLUP_FIGURES],
            _summed(rollup, contributions(rollup, None).subquery("figures")),
        )
        for rollup in ROLLUPS
    ]


async def refill(connection: AsyncConnection) -> None:
    """Rebuild the rollups from the order book (for data loaded around the writer)."""
    for rollup in ROLLUPS:
        await connection.execute(delete(rollup))
    for statement in refill_statements():
        await connection.execute(statement)
