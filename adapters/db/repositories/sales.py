"""The sales report's sums in SQL, converted there: one aggregate each over the lines, the
fees and the orders of a span, each read alone (lines and fees carry their order's channel,
placing time and day: no join of a million orders; `ix_…_placed_at` for short spans).

Inside, sums are grouped by the dimensions asked for, the UTC day of sale (a day number) and
the currency; outside, each is converted at its day's factor (a stretch of days per stored
rate, inlined as VALUES: integers and checked currency codes only) and added into the groups,
so only the report's own rows leave the database. The conversion is exact: integers times a
fraction p/q, half up, `(2·x·p + q) div 2q` (PostgreSQL in numeric; SQLite in 64-bit integers,
exact while 2·x·p stays below 9.2e18).

A report by the channel or the SKU alone (or by neither), with or without time, reads the
whole UTC days of its span from the sales rollups (adapters/db/sales_rollup.py: sums per key,
day and currencies, kept by the order book's writer), every figure in one aggregate of their
rows; the part of a day at either end of the span, and every other report, from the rows.
Both give the same groups and figures (tests/integration/analytics/test_sales_rollup.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Numeric,
    Table,
    and_,
    case,
    cast,
    column,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.dialect import is_postgresql
from adapters.db.line_units import kept_units
from adapters.db.sales_rollup import compact, line_figures
from adapters.db.tables import (
    channel_views,
    channels,
    inventory_items,
    order_conflicts,
    order_fees,
    order_lines,
    orders,
    sales_rollup,
    sales_rollup_sku,
    stockout_spells,
    sync_log,
    variants,
)
from domain.analytics.channels import CallStats, ConflictCount
from domain.analytics.conversion import DayCount
from domain.analytics.sales import Dimension, FeeSums, LineSums, OrderCounts, SalesQuery
from domain.analytics.stockouts import Spell
from domain.catalog.rate_history import Segment
from domain.errors import InvalidInput

_o, _l, _f, _v = orders.c, order_lines.c, order_fees.c, variants.c
EPOCH = date(1970, 1, 1)
EPOCH_TIME = datetime(1970, 1, 1, tzinfo=UTC)
_CODE = re.compile(r"^[A-Z]{3}$")
_FAR = 10**6  # a day number beyond any stretch's end (year 4707)
ANY_DAY = -(10**7)  # sums in the report's currency, not grouped by time, need no day
Rates = Mapping[str, Sequence[Segment]]
Span = tuple[datetime, datetime]  # placed in [start, end)
Days = tuple[int, int]  # day numbers [first, last)
Rolled = tuple[Table, int, int]  # a rollup, and the day numbers [first, last) read from it
# The rollup that holds a report's stored dimensions (time is always by day).
_ROLLUPS: dict[tuple[Dimension, ...], Table] = {
    (): sales_rollup,
    (Dimension.CHANNEL,): sales_rollup,
    (Dimension.SKU,): sales_rollup_sku,
}
# The lines' figures as the report's aggregates name them, and as the rollup does.
_LINE_FIGURES = (
    ("ordered", "units_ordered"), ("cancelled", "units_cancelled"),
    ("returned", "units_returned"), ("gross", "gross"), ("discounts", "discounts"),
    ("cancellations", "cancellations"), ("returns", "returns"), ("cogs", "cogs"),
    ("without_cost", "units_without_cost"),
)  # fmt: skip


def _dimension(dimension: Dimension, sold: Any = _l) -> Any:
    """The column of a dimension; the channel is `sold`'s (the lines', fees' or orders')."""
    return {
        Dimension.CHANNEL: sold.channel_id,
        Dimension.SKU: _l.sku,
        Dimension.PRODUCT: _v.product_id,
        Dimension.LOCATION: _l.location_id,
    }[dimension]


def _key(value: Any) -> str | None:
    return None if value is None else str(value)


def _day_number(value: date | None, default: int) -> int:
    return default if value is None else (value - EPOCH).days


def _rates_table(rates: Rates, query: SalesQuery) -> Any:
    """(currency, day number, p, q) for every day of the query's span, as an inlined VALUES:
    the sums join it on equality (a join on ranges of days cost seconds)."""
    first = _day_number(query.start.astimezone(UTC).date(), 0)
    last = _day_number(query.end.astimezone(UTC).date(), 0)
    rows: list[str] = [f"('{query.currency}', {ANY_DAY}, 1, 1)"]
    for currency, stretches in sorted(rates.items()):
        if not _CODE.match(currency):
            raise ValueError(f"not a currency code: {currency!r}")
        for s in stretches:
            since, until = _day_number(s.first, -_FAR), _day_number(s.until, _FAR)
            p, q = s.factor.numerator, s.factor.denominator
            rows.extend(
                f"('{currency}', {day}, {p}, {q})"
                for day in range(max(since, first), min(until, last + 1))
            )
    columns: list[Any] = [column("column1"), column("column2", Integer),
                          column("column3", BigInteger), column("column4", BigInteger)]  # fmt: skip
    return text("VALUES " + ", ".join(rows)).columns(*columns).cte("rates")


class SqlSalesRepository:
    def __init__(self, connection: AsyncConnection, *, rollup: bool = True):
        self._conn = connection
        self._tuned = False
        self._rollup = rollup  # False: every sum from the order book's rows (tests compare)

    async def _tune(self) -> None:
        """PostgreSQL, for this transaction: no JIT (compiling these aggregates cost ~4 s of
        a year's report, more than running them), and room to group in memory rather than
        sort on disk."""
        if self._tuned or not is_postgresql(self._conn):
            return
        await self._conn.execute(text("SET LOCAL jit = off"))
        await self._conn.execute(text("SET LOCAL work_mem = '64MB'"))
        self._tuned = True

    def _converted(self, amount: Any, rate: Any) -> Any:
        p, q = rate.c.column3, rate.c.column4
        if is_postgresql(self._conn):
            exact = func.floor((2 * cast(amount, Numeric) * p + q) / (2 * q))
            return func.sum(cast(exact, BigInteger))
        # Integers: SQLite's `/` divides them whole (SQLAlchemy's `//` would call FLOOR).
        whole = (2 * amount * p + q).self_group().op("/", return_type=BigInteger)
        return func.sum(whole((2 * q).self_group()))

    def _span(self, span: Span, sold: Any) -> Any:
        return and_(sold.placed_at >= span[0], sold.placed_at < span[1])

    def _parts(self, query: SalesQuery) -> tuple[Rolled | None, list[Span]]:
        """Where the query's sums are read: the whole UTC days of its span from a rollup
        (when grouped by time and by the channel or the SKU alone, or by neither), the rest
        (a day's part at either end, or all) from the lines, fees and orders."""
        whole = _whole_days(query.start, query.end)
        rollup = _ROLLUPS.get(query.stored_dimensions)
        if not self._rollup or rollup is None or whole is None:
            return None, [(query.start, query.end)]
        first, last = (EPOCH_TIME + timedelta(days=d) for d in whole)
        edges = [(query.start, first), (last, query.end)]
        return (rollup, *whole), [(start, end) for start, end in edges if start < end]

    def _lines(self, query: SalesQuery) -> Any:
        if Dimension.PRODUCT in query.group_by:
            return order_lines.outerjoin(variants, _v.sku == _l.sku)
        return order_lines

    def _day_key(self, query: SalesQuery, day: Any, *currencies: Any) -> Any:
        """The day sums are grouped by: the day of sale, but none (ANY_DAY) for sums in the
        report's own currency when the report is not by time (nothing to convert)."""
        if query.by_time:
            return day
        same = [func.coalesce(c, query.currency) == query.currency for c in currencies]
        return case((and_(*same), ANY_DAY), else_=day)

    def _rate_of(self, rates: Any, currency: Any, day: Any) -> Any:
        r = rates.alias()
        return r, and_(r.c.column1 == currency, r.c.column2 == day)

    def line_statement(self, query: SalesQuery, rates: Rates, span: Span | None = None) -> Any:
        """The lines' aggregate over `span` (default the query's), apart for EXPLAIN."""
        span = span or (query.start, query.end)
        dims = [_dimension(d).label(f"k{n}") for n, d in enumerate(query.stored_dimensions)]
        day = self._day_key(query, _l.placed_day, _l.currency, _l.cost_currency).label("day")
        figures = line_figures()
        inner = (
            select(
                *dims, day, _l.currency.label("currency"), _l.cost_currency.label("cost_currency"),
                *(figures[name].label(label) for label, name in _LINE_FIGURES),
            )
            .select_from(self._lines(query))
            .where(self._span(span, _l))
            .group_by(*dims, day, _l.currency, _l.cost_currency)
            .subquery("sums")
        )  # fmt: skip
        return self._converted_lines(query, rates, inner, len(dims))

    async def sums(
        self, query: SalesQuery, rates: Rates
    ) -> tuple[list[LineSums], list[FeeSums], list[OrderCounts]]:
        rolled, spans = self._parts(query)
        lines, fees, counts = [], [], []
        if spans:
            lines = await self.line_sums(query, rates, spans)
            fees = await self.fee_sums(query, rates, spans)
            counts = await self.order_counts(query, spans)
        if rolled is not None:
            more = await self._rolled_up_sums(query, rates, rolled)
            lines, fees, counts = lines + more[0], fees + more[1], counts + more[2]
        return lines, fees, counts

    async def _rolled_up_sums(
        self, query: SalesQuery, rates: Rates, rolled: Rolled
    ) -> tuple[list[LineSums], list[FeeSums], list[OrderCounts]]:
        """Every sum over whole days from the rollup, in one reading of its rows: per group
        (and day), currencies and day of conversion first, then converted and added up."""
        await self._tune()
        r, dims, in_days = self._rolled_up(query, rolled)
        currency, cost_currency = _none_if_blank(r.currency), _none_if_blank(r.cost_currency)
        day = self._day_key(query, r.day, currency, cost_currency).label("day")
        inner = (
            select(
                *dims, day, currency.label("currency"), cost_currency.label("cost_currency"),
                *(func.sum(r[name]).label(label) for label, name in _LINE_FIGURES),
                func.sum(r.fees).label("amount"), func.sum(r.orders).label("orders"),
                func.sum(r.cancelled_orders).label("cancelled_orders"),
            )
            .where(in_days)
            .group_by(*dims, day, currency, cost_currency)
            .subquery("sums")
        )  # fmt: skip
        table = _rates_table(rates, query)
        sale, on_sale = self._rate_of(table, inner.c.currency, inner.c.day)
        cost, on_cost = self._rate_of(table, inner.c.cost_currency, inner.c.day)
        n = len(dims)
        keys = [inner.c[f"k{k}"] for k in range(n)]
        by_day = [inner.c.day] if query.by_time else []
        money = ("gross", "discounts", "cancellations", "returns")
        missing = case(
            (and_(inner.c.currency.is_not(None), sale.c.column3.is_(None),
                  or_(inner.c.gross != 0, inner.c.amount != 0)), inner.c.currency),
            (and_(inner.c.cost_currency.is_not(None), cost.c.column3.is_(None),
                  inner.c.cogs != 0), inner.c.cost_currency),
        )  # fmt: skip
        stmt = (
            select(
                *keys, *by_day,
                *(func.sum(inner.c[n]) for n in ("ordered", "cancelled", "returned")),
                *(self._converted(inner.c[n], sale) for n in money),
                self._converted(inner.c.cogs, cost), func.sum(inner.c.without_cost),
                self._converted(inner.c.amount, sale),
                func.sum(case((inner.c.amount != 0, 1), else_=0)),
                func.sum(inner.c.orders), func.sum(inner.c.cancelled_orders),
                func.max(missing),
            )
            .select_from(inner.outerjoin(sale, on_sale).outerjoin(cost, on_cost))
            .group_by(*keys, *by_day)
        )  # fmt: skip
        lines, fees, counts = [], [], []
        for row in await self._conn.execute(stmt):
            _convertible(row[-1], query)
            key = tuple(_key(v) for v in row[:n])
            day_of = _date(row[n]) if query.by_time else None
            figures = [int(v or 0) for v in row[len(keys) + len(by_day) : -1]]
            line, (fee, fee_rows, ordered, cancelled) = figures[:9], figures[9:]
            # A group is one where lines, fees or orders are (a key the rollup's rows add up
            # to nothing for, e.g. a line since mapped to another SKU, is none); the one group
            # of a report by nothing is there even when empty, as from the rows.
            every = not (keys or by_day)
            if line[0] or every:
                lines.append(LineSums(key, day_of, *line))
            if fee_rows or every:
                fees.append(FeeSums(key, day_of, fee))
            if ordered or every:
                counts.append(OrderCounts(key, day_of, ordered, cancelled))
        return lines, fees, counts

    def _rolled_up(self, query: SalesQuery, rolled: Rolled) -> tuple[Any, list[Any], Any]:
        """The rollup's columns, those of the query's stored dimension (its channel or SKU,
        if any), and its rows of the whole days."""
        table, first, last = rolled
        r = table.c
        key = _none_if_blank(r.sku) if table is sales_rollup_sku else r.channel_id
        dims = [key.label(f"k{n}") for n, _ in enumerate(query.stored_dimensions)]
        return r, dims, and_(r.day >= first, r.day < last)

    def _converted_lines(self, query: SalesQuery, rates: Rates, inner: Any, n: int) -> Any:
        """Sums per group (and day, when by time) and currencies converted and added up."""
        table = _rates_table(rates, query)
        sale, on_sale = self._rate_of(table, inner.c.currency, inner.c.day)
        cost, on_cost = self._rate_of(table, inner.c.cost_currency, inner.c.day)
        keys = [inner.c[f"k{k}"] for k in range(n)]
        by_day = [inner.c.day] if query.by_time else []
        money = ("gross", "discounts", "cancellations", "returns")
        missing = case(
            (and_(inner.c.currency.is_not(None), sale.c.column3.is_(None), inner.c.gross != 0),
             inner.c.currency),
            (and_(inner.c.cost_currency.is_not(None), cost.c.column3.is_(None),
                  inner.c.cogs != 0), inner.c.cost_currency),
        )  # fmt: skip
        return (
            select(
                *keys, *by_day,
                *(func.sum(inner.c[n]) for n in ("ordered", "cancelled", "returned")),
                *(self._converted(inner.c[n], sale) for n in money),
                self._converted(inner.c.cogs, cost), func.sum(inner.c.without_cost),
                func.max(missing),
            )
            .select_from(inner.outerjoin(sale, on_sale).outerjoin(cost, on_cost))
            .group_by(*keys, *by_day)
        )  # fmt: skip

    async def line_sums(
        self, query: SalesQuery, rates: Rates, spans: Sequence[Span] | None = None
    ) -> list[LineSums]:
        """The lines' sums over `spans` (default the query's), from the lines themselves."""
        await self._tune()
        n = len(query.stored_dimensions)
        at = n + 1 if query.by_time else n
        spans = [(query.start, query.end)] if spans is None else spans
        statements = [self.line_statement(query, rates, span) for span in spans]
        found = []
        for r in [row for stmt in statements for row in await self._conn.execute(stmt)]:
            _convertible(r[-1], query)
            ordered, cancelled, returned, gross, off, cancellations, returns, cogs, bare = (
                int(v or 0) for v in r[at:-1]
            )
            found.append(
                LineSums(
                    tuple(_key(v) for v in r[:n]),
                    _date(r[n]) if query.by_time else None,
                    ordered,
                    cancelled,
                    returned,
                    gross,
                    off,
                    cancellations,
                    returns,
                    cogs,
                    bare,
                )
            )
        return found

    async def fee_sums(
        self, query: SalesQuery, rates: Rates, spans: Sequence[Span] | None = None
    ) -> list[FeeSums]:
        await self._tune()
        spans = [(query.start, query.end)] if spans is None else spans
        inners = [self._fee_inner(query, span) for span in spans]
        n = len(query.stored_dimensions)
        found = []
        for inner in inners:
            sale, on_sale = self._rate_of(_rates_table(rates, query), inner.c.currency, inner.c.day)
            keys = [inner.c[f"k{k}"] for k in range(n)]
            by_day = [inner.c.day] if query.by_time else []
            missing = case((and_(sale.c.column3.is_(None), inner.c.amount != 0), inner.c.currency))
            stmt = (
                select(*keys, *by_day, self._converted(inner.c.amount, sale), func.max(missing))
                .select_from(inner.outerjoin(sale, on_sale))
                .group_by(*keys, *by_day)
            )
            for r in await self._conn.execute(stmt):
                _convertible(r[-1], query)
                day_of = _date(r[n]) if query.by_time else None
                found.append(FeeSums(tuple(_key(v) for v in r[:n]), day_of, int(r[-2] or 0)))
        return found

    def _fee_inner(self, query: SalesQuery, span: Span) -> Any:
        dims = [_dimension(d, _f).label(f"k{n}") for n, d in enumerate(query.stored_dimensions)]
        day = self._day_key(query, _f.placed_day, _f.currency).label("day")
        joined: Any = order_fees
        if query.by_line:
            # A line's fee goes with its line; an order's fee has no SKU, product or location.
            joined = joined.outerjoin(
                order_lines,
                and_(
                    _l.order_id == _f.order_id,
                    _l.channel_line_id == _f.channel_line_id,
                    self._span(span, _l),  # the same span: lets the planner read it by index
                ),
            )
            if Dimension.PRODUCT in query.group_by:
                joined = joined.outerjoin(variants, _v.sku == _l.sku)
        return (
            select(*dims, day, _f.currency.label("currency"),
                   func.sum(_f.amount_minor).label("amount"))
            .select_from(joined)
            .where(self._span(span, _f))
            .group_by(*dims, day, _f.currency)
            .subquery("fees")
        )  # fmt: skip

    async def order_counts(
        self, query: SalesQuery, spans: Sequence[Span] | None = None
    ) -> list[OrderCounts]:
        await self._tune()
        spans = [(query.start, query.end)] if spans is None else spans
        statements = [self._order_count_statement(query, span) for span in spans]
        n = len(query.stored_dimensions)
        return [
            OrderCounts(
                tuple(_key(v) for v in r[:n]),
                _date(r[n]) if query.by_time else None,
                int(r[-2]),
                int(r[-1] or 0),
            )
            for stmt in statements
            for r in await self._conn.execute(stmt)
        ]

    def _order_count_statement(self, query: SalesQuery, span: Span) -> Any:
        cancelled = _o.status == "cancelled"
        counted: Any
        cancelled_count: Any
        if query.by_line:  # the lines' orders, for their status
            dims = [_dimension(d) for d in query.stored_dimensions]
            by_day = [_l.placed_day] if query.by_time else []
            source = self._lines(query).join(orders, _o.id == _l.order_id)
            where = and_(self._span(span, _l), self._span(span, _o))  # both, for the planner
            counted = func.count(func.distinct(_o.id))
            cancelled_count = func.count(func.distinct(case((cancelled, _o.id))))
        else:
            dims = [_dimension(d, _o) for d in query.stored_dimensions]
            by_day = [_o.placed_day] if query.by_time else []
            source, where = orders, self._span(span, _o)
            counted = func.count()
            cancelled_count = func.sum(case((cancelled, 1), else_=0))
        return (
            select(*dims, *by_day, counted, cancelled_count)
            .select_from(source)
            .where(where)
            .group_by(*dims, *by_day)
        )

    async def compact_rollup(self, limit: int) -> int:
        return await compact(self._conn, limit)

    async def units_kept(self, start: datetime, end: datetime) -> dict[str, int]:
        stmt = (
            select(_l.sku, func.sum(kept_units()))
            .where(_l.placed_at >= start, _l.placed_at < end, _l.sku.is_not(None))
            .group_by(_l.sku)
        )
        return {r[0]: int(r[1] or 0) for r in await self._conn.execute(stmt)}

    async def available(self) -> dict[str, int]:
        stmt = select(inventory_items.c.sku, inventory_items.c.available)
        return {r.sku: int(r.available) for r in await self._conn.execute(stmt)}

    async def conflicts(self, start: datetime, end: datetime) -> list[ConflictCount]:
        c = order_conflicts.c
        stmt = (
            select(_o.channel_id, c.policy, _l.status, func.count(), func.sum(c.quantity))
            .select_from(
                order_conflicts.join(orders, _o.id == c.order_id).join(
                    order_lines, _l.id == c.line_id
                )
            )
            .where(c.created_at >= start, c.created_at < end)
            .group_by(_o.channel_id, c.policy, _l.status)
            .order_by(_o.channel_id, c.policy, _l.status)
        )
        return [
            ConflictCount(r[0], r[1], r[2], int(r[3]), int(r[4] or 0))
            for r in await self._conn.execute(stmt)
        ]

    async def calls(self, start: datetime, end: datetime) -> list[CallStats]:
        """Per channel, on `ix_sync_log_channel_created`: counts and latency by outcome,
        then the 95th percentile as the latency at its rank."""
        log = sync_log.c
        found = []
        for channel_id in (await self._conn.execute(select(channels.c.id))).scalars():
            span = (log.channel_id == channel_id, log.created_at >= start, log.created_at < end)
            stmt = (
                select(
                    log.outcome, func.count(), func.sum(log.latency_ms), func.max(log.latency_ms)
                )
                .where(*span)
                .group_by(log.outcome)
            )
            rows = (await self._conn.execute(stmt)).all()
            calls = sum(int(r[1]) for r in rows)
            if not calls:
                continue
            rank = (95 * calls + 99) // 100 - 1  # nearest rank: the ceil(0.95 n)-th, from 0
            p95 = await self._conn.scalar(
                select(log.latency_ms).where(*span).order_by(log.latency_ms).offset(rank).limit(1)
            )
            found.append(
                CallStats(
                    channel_id,
                    calls,
                    {r[0]: int(r[1]) for r in rows},
                    sum(int(r[2] or 0) for r in rows) // calls,
                    int(p95 or 0),
                    max(int(r[3] or 0) for r in rows),
                )
            )
        return found

    async def stockout_spells(self, start: datetime, end: datetime) -> list[Spell]:
        s = stockout_spells.c
        stmt = (
            select(s.channel_id, s.sku, s.started_at, s.ended_at)
            .where(s.started_at < end, or_(s.ended_at.is_(None), s.ended_at > start))
            .order_by(s.channel_id, s.sku, s.started_at)
        )
        return [Spell(*row) for row in await self._conn.execute(stmt)]

    async def record_views(
        self, channel_id: uuid.UUID, day: date, views: Mapping[str, int], at: datetime
    ) -> None:
        w = channel_views.c
        await self._conn.execute(
            channel_views.delete().where(w.channel_id == channel_id, w.day == day)
        )
        if views:
            await self._conn.execute(
                channel_views.insert(),
                [{"channel_id": channel_id, "sku": sku, "day": day, "views": n, "read_at": at}
                 for sku, n in sorted(views.items())],
            )  # fmt: skip

    async def views_read_at(self, channel_id: uuid.UUID) -> datetime | None:
        w = channel_views.c
        found: datetime | None = await self._conn.scalar(
            select(func.max(w.read_at)).where(w.channel_id == channel_id)
        )
        if found is not None and found.tzinfo is None:  # an aggregate skips the column's type
            found = found.replace(tzinfo=UTC)
        return found

    async def conversion_counts(self, first: date, last: date) -> list[DayCount]:
        w = channel_views.c
        viewed = select(w.channel_id, w.sku, w.day, w.views).where(w.day >= first, w.day <= last)
        found = [DayCount(r.channel_id, r.sku, r.day, views=int(r.views))
                 for r in await self._conn.execute(viewed)]  # fmt: skip
        ordered = (
            select(_l.channel_id, _l.sku, _l.placed_day, func.count(func.distinct(_l.order_id)),
                   func.sum(_l.quantity))
            .where(_l.placed_day >= _day_number(first, 0), _l.placed_day <= _day_number(last, 0),
                   _l.sku.is_not(None))
            .group_by(_l.channel_id, _l.sku, _l.placed_day)
        )  # fmt: skip
        found += [DayCount(r[0], r[1], _date(r[2]), orders=int(r[3]), units=int(r[4] or 0))
                  for r in await self._conn.execute(ordered)]  # fmt: skip
        return found


def _whole_days(start: datetime, end: datetime) -> Days | None:
    """The day numbers [first, last) of the whole UTC days within [start, end), if any."""
    first = _day_number(start.astimezone(UTC).date(), 0)
    if start.astimezone(UTC) > EPOCH_TIME + timedelta(days=first):
        first += 1
    last = _day_number(end.astimezone(UTC).date(), 0)
    return (first, last) if first < last else None


def _none_if_blank(column: Any) -> Any:
    """The rollup keeps no currency as ''; the reports read None."""
    return func.nullif(column, "")


def _date(day_number: int) -> date:
    return EPOCH + timedelta(days=int(day_number))


def _convertible(missing: str | None, query: SalesQuery) -> None:
    if missing is not None:
        raise InvalidInput(f"no exchange rate from {missing} to {query.currency}", field="currency")
