"""The sales report over a million orders: by channel x month for a year, by SKU for a month.

    python -m bench.sales_report [--orders 1000000] [--skus 2000] [--runs 5]

A fresh PostgreSQL database is filled in SQL (generate_series, no Python per row): five
channels (USD, USD, EUR, ARS, USD), `--skus` variants with a cost, one year of daily EUR and
ARS rates, `--orders` orders spread over the year with one or two lines each (about 1.5 per
order), a fee on every marketplace order, 3% cancelled, 2% with a returned line, a discount
on every tenth line; the sales rollups filled from them (as the migration does). Then
`salesReport` runs through the domain's use case (SQL sums, each day's sums converted, the
groups added), as the API does (from the rollups for whole days): by CHANNEL x MONTH over
the year and by SKU over one month, `--runs` times each after a warm-up. Reports the median
and the slowest run, and the rows read and returned. Target: each < 2 s.

Needs PostgreSQL (--database-url, or NEXO_BENCH_DATABASE_URL, default the local `test`
server).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench.support import dsn, fresh_database, report, server_url

YEAR = datetime(2025, 1, 1, tzinfo=UTC)
CHANNELS = (
    ("Shop", "shopify", "USD"), ("Amazon", "amazon", "USD"), ("eBay DE", "ebay", "EUR"),
    ("Meli", "mercadolibre", "ARS"), ("Web", "webstore", "USD"),
)  # fmt: skip
TARGET_SECONDS = 2.0

SETUP = """
INSERT INTO locations (id, code, name, kind, created_at)
VALUES (gen_random_uuid(), 'WH', 'Warehouse', 'warehouse', now());
INSERT INTO inventory_items (sku, low_stock_threshold, available, created_at)
SELECT 'SKU-' || n, NULL, 0, now() FROM generate_series(0, $1::int - 1) n;
INSERT INTO products (id, handle, title, description_html, brand, category_id, tags, attributes,
                      options, status, content_hash, version, created_at, updated_at)
SELECT gen_random_uuid(), 'p-' || n, 'Product ' || n, '', NULL, NULL, '[]', '[]', '[]',
       'active', md5(n::text), 1, now(), now()
FROM generate_series(0, $1::int / 4 - 1) n;
INSERT INTO variants (id, product_id, sku, option_values, price_minor, currency, cost_minor,
                      position, barcode)
SELECT gen_random_uuid(), p.id, 'SKU-' || n, '[]', 1000 + (n % 90) * 100, 'USD',
       400 + (n % 90) * 40, n % 4, NULL
FROM generate_series(0, $1::int - 1) n
JOIN products p ON p.handle = 'p-' || (n / 4);
INSERT INTO currency_rate_days (source, target, day, rate, updated_at)
SELECT c, 'USD', d::date, CASE c WHEN 'EUR' THEN (1.05 + (extract(doy FROM d) % 20) / 100.0)::text
                                  ELSE (0.0011 - (extract(doy FROM d) % 30) / 1e6)::text END,
       d
FROM generate_series($1::timestamptz, $1::timestamptz + interval '364 days', interval '1 day') d,
     unnest(ARRAY['EUR', 'ARS']) c;
"""

ORDERS = """
INSERT INTO orders (id, channel_id, external_id, number, status, placed_at, placed_day,
                    channel_updated_at, customer_name, customer_email, customer_phone,
                    shipping_address, currency, total_minor, needs_attention, attention_reason,
                    created_at, updated_at)
SELECT gen_random_uuid(), ch.id, 'B-' || g, 'B-' || g,
       CASE WHEN g % 33 = 0 THEN 'cancelled' ELSE 'shipped' END,
       t, floor(extract(epoch FROM t) / 86400)::int, t, 'Buyer ' || (g % 50000),
       'buyer' || (g % 50000) || '@example.com', NULL, '{}', ch.currency, NULL, false, NULL, t, t
FROM generate_series($1::bigint, $2::bigint) g
CROSS JOIN LATERAL (SELECT $3::timestamptz + (g * 31536000.0 / $4) * interval '1 second' AS t) w
JOIN (SELECT id, currency, row_number() OVER (ORDER BY name) - 1 AS k FROM channels) ch
  ON ch.k = g % 5
"""

LINES = """
INSERT INTO order_lines (id, order_id, position, channel_line_id, channel_sku, sku, quantity,
                         unit_price_minor, currency, status, location_id, reservation_id,
                         routed_by, shipped_quantity, discount_minor, unit_cost_minor,
                         cost_currency, channel_id, placed_at, placed_day)
SELECT gen_random_uuid(), o.id, n, o.external_id || '-' || n, s.sku, s.sku, q,
       CASE o.currency WHEN 'ARS' THEN 900000 ELSE 1000 + (h % 90) * 100 END, o.currency,
       CASE WHEN o.status = 'cancelled' THEN 'cancelled' WHEN h % 50 = 0 THEN 'returned'
            ELSE 'shipped' END,
       NULL, NULL, NULL, CASE WHEN o.status = 'cancelled' THEN 0 ELSE q END,
       CASE WHEN h % 10 = 0 THEN 100 ELSE 0 END, 400 + (h % 90) * 40, 'USD',
       o.channel_id, o.placed_at, o.placed_day
FROM orders o
CROSS JOIN LATERAL generate_series(0, (abs(hashtext(o.external_id)) % 2)) n
CROSS JOIN LATERAL (SELECT abs(hashtext(o.external_id || ':' || n)) AS h) hh
CROSS JOIN LATERAL (SELECT 'SKU-' || (hh.h % $1::int) AS sku, 1 + hh.h % 3 AS q) s
WHERE o.external_id LIKE 'B-%'
"""

FEES = """
INSERT INTO order_fees (id, order_id, position, kind, amount_minor, currency, channel_line_id,
                        channel_id, placed_at, placed_day)
SELECT gen_random_uuid(), o.id, 0, 'marketplace_fee',
       CASE o.currency WHEN 'ARS' THEN 90000 ELSE 150 END, o.currency, NULL,
       o.channel_id, o.placed_at, o.placed_day
FROM orders o JOIN channels c ON c.id = o.channel_id
WHERE c.kind IN ('amazon', 'ebay', 'mercadolibre')
"""


async def fill(url: str, orders: int, skus: int) -> dict[str, float]:
    """The database's rows, made by PostgreSQL itself; seconds per step."""
    took: dict[str, float] = {}
    connection = await asyncpg.connect(dsn(url))
    try:
        started = time.perf_counter()
        async with connection.transaction():
            for n, (name, kind, currency) in enumerate(CHANNELS):
                await connection.execute(
                    "INSERT INTO channels (id, name, kind, currency, priority, buffer_quantity,"
                    " allocation_percent, max_quantity, end_when_below, created_at)"
                    " VALUES (gen_random_uuid(), $1, $2, $3, $4, 0, 100, NULL, 0, now())",
                    name, kind, currency, n + 1,
                )  # fmt: skip
            for statement in filter(str.strip, SETUP.split(";")):
                if "$1" in statement:
                    await connection.execute(
                        statement, YEAR if "timestamptz" in statement else skus
                    )
                else:
                    await connection.execute(statement)
        took["setup_s"] = time.perf_counter() - started
        started = time.perf_counter()
        step = 250_000  # one transaction per quarter million: bounded WAL, visible progress
        for first in range(1, orders + 1, step):
            last = min(first + step - 1, orders)
            await connection.execute(ORDERS, first, last, YEAR, orders)
        took["orders_s"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute(LINES, skus)
        await connection.execute(FEES)
        took["lines_and_fees_s"] = time.perf_counter() - started
        started = time.perf_counter()
        await refill_rollup(url)
        took["rollup_s"] = time.perf_counter() - started
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        took["analyze_s"] = time.perf_counter() - started
        count = await connection.fetchval("SELECT count(*) FROM order_lines")
        took["lines"] = float(count)
    finally:
        await connection.close()
    return took


async def refill_rollup(url: str) -> None:
    """The sales rollup of the rows made above (in SQL, around the order book's writer), as
    the migration fills it from orders already stored."""
    from adapters.db.engine import create_engine
    from adapters.db.sales_rollup import refill

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await refill(connection)
    finally:
        await engine.dispose()


async def measure(url: str, runs: int) -> list[dict[str, Any]]:
    from adapters.container import build_container
    from adapters.settings import Settings
    from domain.analytics.sales import Dimension, SalesQuery, sales_report

    container = build_container(Settings(database_url=url, gc_freeze=False), [])
    await container.start()
    cases = [
        ("channel x month, a year", SalesQuery(
            YEAR, YEAR + timedelta(days=365), (Dimension.CHANNEL, Dimension.MONTH), "USD")),
        ("sku, a month", SalesQuery(
            YEAR + timedelta(days=151), YEAR + timedelta(days=181), (Dimension.SKU,), "USD")),
    ]  # fmt: skip
    rows: list[dict[str, Any]] = []
    try:
        for name, query in cases:
            await sales_report(container.uow, query)  # warm-up: plans and caches
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                found = await sales_report(container.uow, query)
                times.append(time.perf_counter() - started)
            rows.append(
                {
                    "report": name,
                    "median_s": statistics.median(times),
                    "max_s": max(times),
                    "rows": len(found.rows),
                    "orders": found.totals.orders,
                    "units_sold": found.totals.units_sold,
                    "ok": max(times) < TARGET_SECONDS,
                }
            )
    finally:
        await container.close()
    return rows


async def main(args: argparse.Namespace) -> None:
    if args.keep:
        url, filled = await kept_database(args)
        rows = await measure(url, args.runs)
    else:
        async with fresh_database(args.database_url) as url:
            filled = await fill(url, args.orders, args.skus)
            rows = await measure(url, args.runs)
    extra = {"orders": args.orders, "skus": args.skus, "runs": args.runs,
             "target_s": TARGET_SECONDS, **{k: round(v, 1) for k, v in filled.items()}}  # fmt: skip
    report("sales_report", rows, extra)


async def kept_database(args: argparse.Namespace) -> tuple[str, dict[str, float]]:
    """`--keep NAME`: the database of that name, made and filled on the first run only (for
    trying changes to the report against the same million orders)."""
    from adapters.settings import Settings
    from api.cli import migrate

    url = make_url(args.database_url).set(database=args.keep).render_as_string(False)
    admin = await asyncpg.connect(dsn(args.database_url))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", args.keep)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{args.keep}"')
    finally:
        await admin.close()
    if exists:
        return url, {}
    await asyncio.to_thread(migrate, Settings(database_url=url))
    return url, await fill(url, args.orders, args.skus)


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--skus", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=server_url())
    parser.add_argument("--keep", help="a database name to fill once and keep (not dropped)")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
