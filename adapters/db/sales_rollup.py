"""The sales rollup's rows: what orders add to the sales report per channel, day and currencies.

An order's figures are those of its lines (units, money, cost of goods: summed per currency
of sale and of cost), of its fees (per currency) and of the order itself (counted, and
counted as cancelled), each keyed by the order's channel and day of sale. The order book's
writer (`SqlOrderRepository`) reads the figures of the orders it changes before and after
the change (`read`: from the rows themselves, so costs set in SQL and every way of changing
an order count alike) and appends their difference in the change's transaction (`append`;
nothing for changes that move no figure: allocation, picking). `compact` folds appended
rows into one row per key; `refill` rebuilds the whole rollup from the order book (the
migration's backfill, and data loaded around the writer).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
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
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import is_postgresql
from adapters.db.line_units import cancelled_units, kept_units, returned_units
from adapters.db.tables import ROLLUP_FIGURES, order_fees, order_lines, orders, sales_rollup

_l, _f, _o, _r = order_lines.c, order_fees.c, orders.c, sales_rollup.c
KEYS = ("channel_id", "day", "currency", "cost_currency")
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


def _row(keys: Sequence[Any], figures: dict[str, Any], sign: int) -> list[Any]:
    """A SELECT list in the rollup's column order; figures absent are 0."""
    return [
        *(key.label(name) for key, name in zip(keys, KEYS, strict=True)),
        *(
            cast(sign * figures[name] if name in figures else literal(0), BigInteger).label(name)
            for name in ROLLUP_FIGURES
        ),
    ]


def contributions(order_ids: Any | None, sign: int = 1) -> Any:
    """The figures of the orders `order_ids` selects (all orders when None), per key, times
    `sign`: one row per key of lines, of fees and of orders (keys may repeat across them)."""

    def of(column: Any) -> Any:
        return true() if order_ids is None else column.in_(order_ids)

    currency, cost_currency = func.coalesce(_l.currency, ""), func.coalesce(_l.cost_currency, "")
    lines = (
        select(*_row([_l.channel_id, _l.placed_day, currency, cost_currency], line_figures(), sign))
        .where(of(_l.order_id))
        .group_by(_l.channel_id, _l.placed_day, currency, cost_currency)
    )
    fees = (
        select(
            *_row(
                [_f.channel_id, _f.placed_day, _f.currency, literal("")],
                {"fees": func.sum(_f.amount_minor)},
                sign,
            )
        )
        .where(of(_f.order_id))
        .group_by(_f.channel_id, _f.placed_day, _f.currency)
    )
    cancelled = func.sum(case((_o.status == "cancelled", 1), else_=0))
    counted = (
        select(
            *_row(
                [_o.channel_id, _o.placed_day, literal(""), literal("")],
                {"orders": func.count(), "cancelled_orders": cancelled},
                sign,
            )
        )
        .where(of(_o.id))
        .group_by(_o.channel_id, _o.placed_day)
    )
    return union_all(lines, fees, counted)


def _columns() -> list[Any]:
    return [_r[name] for name in (*KEYS, *ROLLUP_FIGURES)]


Key = tuple[Any, ...]  # channel id, day, currency, cost currency
Figures = dict[Key, tuple[int, ...]]  # per key, each of ROLLUP_FIGURES


async def read(
    connection: AsyncConnection, order_ids: Sequence[uuid.UUID], *, lock: bool = True
) -> Figures:
    """The orders' figures as stored now, per key. Read before a change, the orders are
    locked first on PostgreSQL (`lock`), so what is read is what the change replaces."""
    if not order_ids:
        return {}
    ids = sorted(set(order_ids), key=str)
    if lock and is_postgresql(connection):
        await connection.execute(
            select(_o.id).where(_o.id.in_(ids)).order_by(_o.id).with_for_update()
        )
    found: Figures = {}
    for row in await connection.execute(contributions(ids)):
        key, values = tuple(row[: len(KEYS)]), tuple(int(v or 0) for v in row[len(KEYS) :])
        found[key] = tuple(map(sum, zip(found.get(key, (0,) * len(values)), values, strict=True)))
    return found


async def append(connection: AsyncConnection, before: Figures, after: Figures) -> None:
    """Append what moved from `before` to `after` (nothing when nothing did)."""
    rows = []
    for key in sorted(before.keys() | after.keys(), key=str):
        was, now = before.get(key), after.get(key)
        zero = (0,) * len(ROLLUP_FIGURES)
        moved = tuple(b - a for a, b in zip(was or zero, now or zero, strict=True))
        if any(moved):
            rows.append(
                dict(zip(KEYS, key, strict=True))
                | dict(zip(ROLLUP_FIGURES, moved, strict=True))
                | {"compacted": False}
            )
    if rows:
        await connection.execute(insert(sales_rollup), rows)


async def put_in(connection: AsyncConnection, order_ids: Sequence[uuid.UUID]) -> None:
    """Append the figures of orders just made."""
    await append(connection, {}, await read(connection, order_ids, lock=False))


def _summed(source: Any, *, compacted: bool = True) -> Any:
    """`source`'s rows (the rollup's columns) added up per key, as compacted rows."""
    keys = [source.c[name] for name in KEYS]
    return (
        select(
            *keys,
            (true() if compacted else false()).label("compacted"),
            *(cast(func.sum(source.c[name]), BigInteger).label(name) for name in ROLLUP_FIGURES),
        )
        .where(true())  # SQLite: an upsert's SELECT needs a WHERE (parsing ambiguity)
        .group_by(*keys)
        .order_by(*keys)  # one order of keys: concurrent upserts meet in the same order
    )


def _upsert(connection: AsyncConnection, rows: Any) -> Any:
    dialect_insert = postgresql_insert if is_postgresql(connection) else sqlite_insert
    stmt = dialect_insert(sales_rollup).from_select([*KEYS, "compacted", *ROLLUP_FIGURES], rows)
    return stmt.on_conflict_do_update(
        index_elements=list(KEYS),
        index_where=_r.compacted,
        set_={name: _r[name] + stmt.excluded[name] for name in ROLLUP_FIGURES},
    )


async def compact(connection: AsyncConnection, limit: int) -> int:
    """Fold up to `limit` appended rows into their keys' compacted rows; how many were
    folded (0: nothing left). Totals never move: the rows folded are deleted by the statement
    that adds them in, and only rows that statement deleted are added (PostgreSQL: DELETE …
    RETURNING, rows another compaction holds skipped; SQLite: one writer at a time)."""
    if is_postgresql(connection):
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _COMPACTION_LOCK}
        )
        batch = (
            select(_r.id)
            .where(_r.compacted.is_(False))
            .order_by(_r.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        moved = (
            delete(sales_rollup)
            .where(_r.id.in_(batch.scalar_subquery()))
            .returning(*_columns())
            .cte("moved")
        )
        folded = select(func.count()).select_from(moved).scalar_subquery()
        result = await connection.execute(
            _upsert(connection, _summed(moved)).returning(folded.label("folded"))
        )
        return max((int(r.folded) for r in result), default=0)
    last = await connection.scalar(
        select(func.max(_r.id)).where(
            _r.id.in_(select(_r.id).where(_r.compacted.is_(False)).order_by(_r.id).limit(limit))
        )
    )
    if last is None:
        return 0
    appended = and_(_r.compacted.is_(False), _r.id <= last)
    rows = select(*_columns()).where(appended).subquery("appended")
    await connection.execute(_upsert(connection, _summed(rows)))
    deleted = await connection.execute(delete(sales_rollup).where(appended))
    return int(deleted.rowcount)


def refill_statement() -> Any:
    """INSERT of the whole order book's figures, one compacted row per key (into an empty
    rollup): the migration's backfill."""
    rows = contributions(None).subquery("figures")
    return insert(sales_rollup).from_select([*KEYS, "compacted", *ROLLUP_FIGURES], _summed(rows))


async def refill(connection: AsyncConnection) -> None:
    """Rebuild the rollup from the order book (for data loaded around the writer)."""
    await connection.execute(delete(sales_rollup))
    await connection.execute(refill_statement())
