"""`nexo import stock` over 100,000 rows: rows per second, first run and rerun.

    python -m bench.stock_import [--rows 100000] [--lanes 8] [--analyze-every SECONDS]

A fresh PostgreSQL database gets a warehouse and a store (both feeding one Shopify
channel, so every line also marks the outbox), and `--rows / 2` SKUs (made in SQL). The
file has two lines per SKU, a receipt at the warehouse and a count at the store, and is
imported as the command imports it (parse, check every row, apply through the inventory's
receive and count, `--lanes` levels at a time); then imported again, which must apply
nothing (every line replayed). Reports rows/s for the parse, the import and the rerun, and
checks the ledger.

Needs PostgreSQL (--database-url, or NEXO_BENCH_DATABASE_URL, default the local `test`
server) and Redis (NEXO_BENCH_REDIS_URL, default the local server's database 15): events
and jobs go there, as with `nexo import stock` in production; no worker runs them. A server
without autovacuum never gathers statistics on the tables the import grows, and its planner
then scans them whole for each batch: `--analyze-every 10` does what autoanalyze would.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from bench.support import dsn, fresh_database, redis_url, report, server_url

SETUP = """
INSERT INTO inventory_items (sku, low_stock_threshold, available, created_at)
SELECT 'SKU-' || n, NULL, 0, now() FROM generate_series(0, $1::int - 1) n;
"""


def stock_csv(skus: int) -> str:
    lines = ["sku,location,kind,quantity"]
    for n in range(skus):
        lines.append(f"SKU-{n},WH,receive,{10 + n % 50}")
        lines.append(f"SKU-{n},ST,count,{n % 7}")
    return "\n".join(lines) + "\n"


ANALYZED = "stock_levels, operations, stock_movements, inventory_items, outbox, alerts"


async def execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def autoanalyze(url: str, every: float) -> None:
    """What autovacuum's autoanalyze does on a server that runs it (a test server may not):
    keep the planner's statistics abreast of tables growing by the thousand rows."""
    while True:
        await asyncio.sleep(every)
        await execute(url, f"ANALYZE {ANALYZED}")


async def run(
    url: str, rows: int, lanes: int, analyze_every: float = 0
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from adapters.container import build_container
    from adapters.settings import Settings
    from api.cli import migrate
    from api.stock_csv import import_parsed, parse_stock
    from domain.channels.availability import AvailabilityRule
    from domain.channels.setup import create_channel
    from domain.inventory.queries import audit
    from domain.inventory.setup import create_location
    from workers.registry import JOBS

    await asyncio.to_thread(migrate, Settings(database_url=url))
    skus = rows // 2
    await execute(url, SETUP.replace("$1::int", str(skus)))
    with tempfile.TemporaryDirectory() as var:
        settings = Settings(
            database_url=url, redis_url=redis_url(), secret_key_file=Path(var) / "secret.key",
            queue_name=f"bench-stock-import-{uuid.uuid4().hex[:8]}",
        )  # fmt: skip
        # As `nexo import stock` runs in production: events and drain jobs go to Redis.
        container = build_container(settings, JOBS, pool_size=lanes + 2)
        analyzing: asyncio.Task[None] | None = None
        try:
            async with container.uow() as uow:
                wh = await create_location(uow, code="WH", name="Warehouse", kind="warehouse")
                st = await create_location(uow, code="ST", name="Store", kind="store")
                await create_channel(
                    uow, name="Shop", kind="shopify", currency="USD", priority=1,
                    location_ids=[wh.id, st.id], rule=AvailabilityRule(),
                )  # fmt: skip
                await uow.commit()
            if analyze_every:
                analyzing = asyncio.create_task(autoanalyze(url, analyze_every))
            text = stock_csv(skus)
            started = time.perf_counter()
            parsed = parse_stock(text)
            parse_s = time.perf_counter() - started
            results = []
            for name in ("import", "rerun"):
                started = time.perf_counter()
                done = await import_parsed(container.uow, parsed, actor="bench", lanes=lanes)
                seconds = time.perf_counter() - started
                assert not done.errors, done.errors[:5]
                results.append({
                    "run": name, "rows": len(parsed.lines), "applied": done.applied,
                    "replayed": done.replayed, "seconds": seconds,
                    "rows_per_s": len(parsed.lines) / seconds,
                })  # fmt: skip
            async with container.uow(readonly=True) as uow:
                clean = (await audit(uow)).clean
        finally:
            if analyzing is not None:
                analyzing.cancel()
                await asyncio.gather(analyzing, return_exceptions=True)
            await container.close()
    assert results[1]["applied"] == 0, "a rerun applied lines again"
    extra = {"lanes": lanes, "parse_rows_per_s": len(parsed.lines) / parse_s,
             "ledger_clean": clean, "analyze_every_s": analyze_every}  # fmt: skip
    return results, extra


async def main(args: argparse.Namespace) -> None:
    async with fresh_database(args.database_url) as url:
        rows, extra = await run(url, args.rows, args.lanes, args.analyze_every)
    report("stock_import", rows, extra)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--lanes", type=int, default=8)
    parser.add_argument("--database-url", default=server_url())
    parser.add_argument(
        "--analyze-every", type=float, default=0, metavar="SECONDS",
        help="ANALYZE the growing tables this often, as autovacuum would (0: never)",
    )  # fmt: skip
    asyncio.run(main(parser.parse_args()))
