"""The sales rollup against the order book, on both backends: the report by channel and time
read from the rollup equals the report read from the lines, fees and orders, after orders are
made, shipped, cancelled (by the channel, by the merchant, in part), returned, re-read with
other fees and mapped to a SKU with a cost; compaction changes no figure and is idempotent."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.db.repositories.sales import SqlSalesRepository
from adapters.db.sales_rollup import ROLLUPS, contributions, keys
from adapters.db.tables import ROLLUP_FIGURES, sales_rollup, sales_rollup_sku
from domain.analytics.rollup import compact_rollup
from domain.analytics.sales import (
    Dimension,
    SalesFigures,
    SalesQuery,
    SalesReport,
    build,
    sales_report,
)
from domain.channels.port import ChannelFee, ChannelOrder, ChannelOrderLine
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.cancelling import cancel_order
from domain.orders.fulfilment import create_shipment
from domain.orders.ingest import ingest, map_line_sku
from tests.integration.analytics.conftest import APRIL, DAY1, DAY2, MARCH, Sales
from tests.integration.orders.conftest import Hub

pytestmark = pytest.mark.usefixtures("backend")

GROUPINGS: tuple[tuple[Dimension, ...], ...] = (
    (Dimension.CHANNEL,),
    (Dimension.CHANNEL, Dimension.MONTH),
    (Dimension.CHANNEL, Dimension.DAY),
    (Dimension.WEEK,),
    (Dimension.DAY, Dimension.CHANNEL),
    (),
    (Dimension.SKU,),
    (Dimension.SKU, Dimension.MONTH),
    (Dimension.DAY, Dimension.SKU),
)
# Whole days (the rollup alone), and a span that starts and ends inside a day (its ends from
# the lines, the days between from the rollup).
SPANS = ((MARCH, APRIL), (DAY1 - timedelta(hours=3), DAY2 + timedelta(hours=1)))


async def raw_report(hub: Hub, query: SalesQuery) -> SalesReport:
    """The report as read from the order book's rows alone (no rollup)."""
    async with hub.container.uow(readonly=True) as uow:
        rates = (await uow.pricing.rate_history()).segments(query.currency)
    async with hub.container.engine.connect() as connection:
        rows = SqlSalesRepository(connection, rollup=False)
        lines = await rows.line_sums(query, rates)
        fees = await rows.fee_sums(query, rates)
        counts = await rows.order_counts(query)
    return build(query, lines, fees, counts)


async def assert_rollup_reports_as_the_rows(hub: Hub) -> int:
    """Every grouping, span and currency alike both ways; how many reports were compared."""
    compared = 0
    for start, end in SPANS:
        for group_by in GROUPINGS:
            for currency in ("USD", "EUR"):
                query = SalesQuery(start, end, group_by, currency)
                rolled = await sales_report(hub.container.uow, query)
                raw = await raw_report(hub, query)
                for key in {r.key for r in rolled.rows} | {r.key for r in raw.rows}:
                    assert _row(rolled, key) == _row(raw, key), (group_by, currency, start, key)
                assert rolled == raw
                compared += 1
    return compared


def _row(report: SalesReport, key: tuple[str | None, ...]) -> SalesFigures | None:
    return next((r.figures for r in report.rows if r.key == key), None)


async def by_key(hub: Hub, rollup: Any, source: Any) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """`source`'s figures summed per key of `rollup`, keys whose figures are all 0 left out."""
    rows, n = source.subquery(), len(keys(rollup))
    grouped = [rows.c[k] for k in keys(rollup)]
    stmt = select(*grouped, *(func.sum(rows.c[f]) for f in ROLLUP_FIGURES)).group_by(*grouped)
    async with hub.container.engine.connect() as connection:
        found = (await connection.execute(stmt)).all()
    summed = {tuple(r[:n]): tuple(int(v) for v in r[n:]) for r in found}
    return {key: figures for key, figures in summed.items() if any(figures)}


async def assert_rollup_is_the_order_book(hub: Hub) -> None:
    for rollup in ROLLUPS:
        rolled = await by_key(hub, rollup, select(rollup))
        assert rolled, f"{rollup.name} holds the orders' figures"
        assert rolled == await by_key(hub, rollup, contributions(rollup, None)), rollup.name


async def appended(hub: Hub) -> int:
    found = 0
    async with hub.container.engine.connect() as connection:
        for rollup in ROLLUPS:
            stmt = select(func.count()).where(rollup.c.compacted.is_(False))
            found += int(await connection.scalar(stmt) or 0)
    return found


def _order(external_id: str, placed: datetime, *lines: ChannelOrderLine, **more: Any) -> Any:
    return ChannelOrder(
        external_id=external_id, number=external_id, updated_at=placed, placed_at=placed,
        status="paid", lines=lines, **more,
    )  # fmt: skip


async def more_changes(sales: Sales) -> None:
    """The paths the fixture does not take: fees re-read, a merchant's partial cancellation,
    a line mapped to a SKU (its cost kept then)."""
    hub, usd = sales.hub, (lambda m: Money(m, "USD"))
    o1 = _order(
        "O1", DAY1 + timedelta(hours=5), ChannelOrderLine("O1-0", "A-1", 2, usd(2000), usd(400)),
        fees=(ChannelFee("payment", usd(180)), ChannelFee("shipping_label", usd(300))),
    )  # fmt: skip
    await ingest(hub.container.uow, hub.shop, o1, actor="test")
    lines = (
        ChannelOrderLine("O5-0", "A-1", 2, usd(2100)),
        ChannelOrderLine("O5-1", "B-1", 1, usd(900)),
    )
    o5 = await hub.take(hub.shop, _order("O5", DAY1 + timedelta(hours=8), *lines))
    await cancel_order(
        hub.container.uow, order_id=o5.id, reason="out of B", key="cancel-O5",
        actor="test", line_ids=[ln.id for ln in o5.lines if ln.sku == "B-1"],
    )  # fmt: skip
    unknown = ChannelOrderLine("O6-0", "NOT-A-SKU", 1, usd(1500))
    o6 = await ingest(hub.container.uow, hub.shop, _order("O6", DAY2, unknown), actor="test")
    line = o6.order.lines[0].id
    await map_line_sku(hub.container.uow, o6.order.id, line, "A-1", actor="test")


async def test_the_report_from_the_rollup_is_the_report_from_the_rows(sales: Sales) -> None:
    assert await appended(sales.hub) > 0  # the fixture's orders were appended, not compacted
    assert await assert_rollup_reports_as_the_rows(sales.hub) == 36
    await more_changes(sales)
    await assert_rollup_reports_as_the_rows(sales.hub)
    await assert_rollup_is_the_order_book(sales.hub)


async def test_the_report_reads_the_rollup(sales: Sales) -> None:
    """Not the rows: a figure put into the rollup alone shows in the report by channel
    (and one put into the SKUs' rollup, in the report by SKU)."""
    extra = {k: 0 for k in ROLLUP_FIGURES} | {"units_ordered": 7, "compacted": False}
    day = (DAY1.date() - datetime(1970, 1, 1).date()).days
    where = {"day": day, "currency": "USD", "cost_currency": ""}
    for dimension, rollup, key in (
        (Dimension.CHANNEL, sales_rollup, {"channel_id": sales.hub.shop}),
        (Dimension.SKU, sales_rollup_sku, {"sku": "A-1"}),
    ):
        query = SalesQuery(MARCH, APRIL, (dimension,), "USD")
        before = await sales_report(sales.hub.container.uow, query)
        async with sales.hub.container.engine.begin() as connection:
            await connection.execute(rollup.insert().values(**key, **where, **extra))
        after = await sales_report(sales.hub.container.uow, query)
        assert after.totals.units_ordered == before.totals.units_ordered + 7


async def test_compaction_folds_every_appended_row_and_changes_no_figure(sales: Sales) -> None:
    await more_changes(sales)
    waiting = await appended(sales.hub)
    assert waiting > 0
    assert await compact_rollup(sales.hub.container.uow, batch=3) == waiting  # several batches
    assert await appended(sales.hub) == 0
    async with sales.hub.container.engine.connect() as connection:
        for rollup in ROLLUPS:
            key = [rollup.c[k] for k in keys(rollup)]
            twice = select(*key).group_by(*key).having(func.count() > 1).subquery()
            assert await connection.scalar(select(func.count()).select_from(twice)) == 0
    await assert_rollup_reports_as_the_rows(sales.hub)
    await assert_rollup_is_the_order_book(sales.hub)
    assert await compact_rollup(sales.hub.container.uow) == 0  # again: nothing to fold
    await assert_rollup_is_the_order_book(sales.hub)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_two_compactions_at_once_beside_writers_change_no_figure(sales: Sales) -> None:
    """PostgreSQL, where writers and compactions run at once: two compactions loop in small
    batches while orders are made, re-read with fees and cancelled; at the end the rollup
    holds exactly the order book's figures, one compacted row per key."""
    hub, usd = sales.hub, (lambda m: Money(m, "USD"))
    writing = True
    during: list[int] = []  # rows folded by runs that began while orders were being written

    async def compactor() -> None:
        while writing:
            during.append(await compact_rollup(hub.container.uow, batch=2))
        await compact_rollup(hub.container.uow, batch=2)

    async def writer(n: int) -> None:
        placed = DAY1 + timedelta(hours=n)
        line = ChannelOrderLine(f"W{n}-0", "A-1", 1 + n % 3, usd(1000 + n))
        first = _order(f"W{n}", placed, line)
        made = (await ingest(hub.container.uow, hub.shop, first, actor="test")).order
        fees = (ChannelFee("payment", usd(50 + n)),)
        later = _order(f"W{n}", placed + timedelta(minutes=1), line, fees=fees)
        await ingest(hub.container.uow, hub.shop, later, actor="test")
        if n % 2:
            await cancel_order(
                hub.container.uow, order_id=made.id, reason="test", key=f"cancel-W{n}",
                actor="test",
            )  # fmt: skip

    async def writers() -> None:
        nonlocal writing
        try:
            for batch in range(4):
                await asyncio.gather(*(writer(batch * 3 + k) for k in range(3)))
        finally:
            writing = False

    await asyncio.gather(compactor(), compactor(), writers())

    assert sum(during) > 0
    assert len(during) > 2
    await compact_rollup(hub.container.uow)
    assert await appended(hub) == 0
    await assert_rollup_is_the_order_book(hub)
    await assert_rollup_reports_as_the_rows(hub)


async def test_changes_that_move_no_figure_append_nothing(sales: Sales) -> None:
    """Allocating and shipping an order changes none of its figures: the rollups take no
    row for them; cancelling what is left does."""
    hub, usd = sales.hub, (lambda m: Money(m, "USD"))
    order = _order("O7", DAY2, ChannelOrderLine("O7-0", "A-1", 2, usd(2000)))
    made = (await ingest(hub.container.uow, hub.shop, order, actor="test")).order
    waiting = await appended(hub)
    taken = await allocate(hub.container.uow, made.id, actor="test")
    assert taken is not None
    await create_shipment(
        hub.container.uow, order_id=made.id, lines=[(taken.lines[0].id, 1)],
        location_id=hub.warehouse, carrier="UPS", tracking_number="T-O7", key="ship-O7",
        actor="test",
    )  # fmt: skip
    assert await appended(hub) == waiting
    await cancel_order(hub.container.uow, order_id=made.id, reason="t", key="c-O7", actor="t")
    assert await appended(hub) > waiting
    await assert_rollup_is_the_order_book(hub)
