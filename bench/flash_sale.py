"""A flash sale on the Shopify sandbox: every order comes with the shop's own stock updates.

    python -m bench.flash_sale [--quick] [--orders 2000] [--skus 50] [--clients 16]

`bench.orders` feeds `orders/create` alone. A real shop also sends, for each line it sells,
`inventory_levels/update` (its own figure, lowered by the sale): half the events or more.
Here the shop is the sandbox, and everything is real processes on a fresh PostgreSQL
database, with Redis: the sandbox (`nexo-sandbox shopify`), `nexo serve` and `nexo worker`.

Set-up: `--skus` SKUs (products of 10 sizes) listed on the shop by the relay with plenty
of stock each; the shop's webhooks (`orders/create`, `inventory_levels/update`) go to
Nexo. The setup's worker then stops.
(1) sale: `--orders` orders (`--quick`: 300) of one to three lines, one or two units each,
    placed on the shop by `--clients` clients; the shop sends each one's webhooks, which
    `nexo serve` stores (no worker runs, so they wait). Not timed: the sandbox is the
    bottleneck here, not Nexo.
(2) process: one `nexo worker` starts; timed from its first event until every order is
    reserved and every event settled (orders/s, events/s), then until the relay has sent
    the hub's figures out (the outbox drained). Also: worker and database CPU per order,
    what became of the shop's stock updates, and the audit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import time
import uuid
from collections import Counter
from typing import Any

import asyncpg
import httpx
from cryptography.fernet import Fernet

from bench.orders import CpuMeter, running, wait_healthy
from bench.support import (
    dsn,
    free_port,
    fresh_database,
    issue_admin_key,
    nexo_env,
    redis_url,
    report,
    server_url,
)
from bench.sync import (
    ACCESS_TOKEN,
    API_SECRET,
    Hooks,
    Stack,
    catalog,
    connect_shop,
    receive_all,
    settle,
    upsert,
)

QUICK_ORDERS = 300
SIZES = 10
STOCK = 100_000
POLL = 0.1
TIMEOUT = 900.0
TOPICS = ["orders/create", "inventory_levels/update"]


async def wait_answering(url: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as http:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(url, timeout=1)).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer")
            await asyncio.sleep(0.1)


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM inbox) AS events,"
        " (SELECT count(*) FROM inbox WHERE status IN ('received', 'failed')) AS open,"
        " (SELECT count(*) FROM orders) AS orders,"
        " (SELECT count(*) FROM orders WHERE status = 'allocated') AS allocated,"
        " (SELECT count(*) FROM outbox WHERE status <> 'dead') AS unsent"
    )
    return dict(row)


async def until(conn: asyncpg.Connection, done: Any, label: str, check: Any = None) -> float:
    """Poll the database until `done(counts)`; the monotonic time it was first seen."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        now = await counts(conn)
        if done(now):
            return time.monotonic()
        if check is not None:
            check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{label}: not done within {TIMEOUT:.0f} s: {now}")
        await asyncio.sleep(POLL)


def sale(count: int, skus: list[str], rng: random.Random) -> list[list[tuple[str, int]]]:
    return [
        [(sku, rng.randint(1, 2)) for sku in rng.sample(skus, rng.randint(1, 3))]
        for _ in range(count)
    ]


async def place_all(
    shop: httpx.AsyncClient, orders: list[list[tuple[str, int]]], clients: int
) -> None:
    pending = iter(orders)

    async def client() -> None:
        for lines in pending:
            response = await shop.post("/_sandbox/orders", json={"lines": lines})
            if response.status_code != 201:
                raise RuntimeError(f"the shop refused an order: {response.text}")

    await asyncio.gather(*(client() for _ in range(clients)))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    count = QUICK_ORDERS if args.quick else args.orders
    products = max(1, args.skus // SIZES)
    skus = [f"FLASH-{p:05d}-{v:03d}" for p in range(products) for v in range(SIZES)]
    orders = sale(count, skus, random.Random(11))
    lines = sum(len(lines) for lines in orders)
    async with fresh_database() as url:
        key = await issue_admin_key(url)
        env = nexo_env(url, args.redis_url, Fernet.generate_key().decode())
        shop_name = f"nexo-flash-{uuid.uuid4().hex[:8]}"
        shop_port, hub_port = free_port(), free_port()
        shop_url, hub_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{hub_port}"
        argv = [
            "shopify", "--port", str(shop_port), "--shop", shop_name,
            "--access-token", ACCESS_TOKEN, "--api-secret", API_SECRET,
            "--restore-rate", "1000", "--bucket-size", "20000",
        ]  # fmt: skip
        with (
            running("sandbox", argv, env, program="sandbox") as sandbox,
            running("serve", ["serve", "--port", str(hub_port)], env) as server,
        ):
            await wait_answering(f"{shop_url}/_sandbox/state")
            wait_healthy(server, hub_url)
            headers = {"Authorization": f"Bearer {key}"}
            async with (
                httpx.AsyncClient(base_url=hub_url, headers=headers, timeout=300) as hub_http,
                httpx.AsyncClient(base_url=shop_url, timeout=300) as shop,
                asyncpg.create_pool(dsn(url), min_size=1, max_size=2) as pool,
                pool.acquire() as conn,
            ):
                stack = Stack(hub_http, shop, shop_url, f"{shop_name}.myshopify.com", Hooks(), "")
                hub = await connect_shop(stack)
                hook = {"url": f"{hub_url}/webhooks/{hub.channel}", "topics": TOPICS}
                (await shop.post("/_sandbox/webhooks", json=hook)).raise_for_status()
                with running("worker", ["worker"], env) as setup:
                    await upsert(stack, catalog("FLASH", products, SIZES), variants_per_call=1000)
                    await receive_all(stack, hub, dict.fromkeys(skus, STOCK), 8)
                    await settle(stack, hub, len(skus), within=600, label="listing")
                    await until(conn, lambda c: c["open"] == 0, "setup", setup.check)
                before = await counts(conn)
                await place_all(shop, orders, args.clients)
                expected = before["events"] + count + lines
                await until(conn, lambda c: c["events"] >= expected, "sale", server.check)
                sandbox.check()
                with running("worker", ["worker"], env) as worker:
                    meter = CpuMeter(url, worker.process.pid)
                    await meter.start()
                    started = time.monotonic()
                    taken = await until(
                        conn,
                        lambda c: c["allocated"] == count and c["open"] == 0,
                        "process",
                        worker.check,
                    )
                    sent = await until(conn, lambda c: c["unsent"] == 0, "relay", worker.check)
                    worker_cpu, database_cpu, _ = await meter.stop()
                # What the sale's events came to, the reason's figures and names blanked.
                outcomes = Counter(
                    f"{r['topic']} {r['status']}: {r['why']}"
                    for r in await conn.fetch(
                        "SELECT topic, status, regexp_replace(coalesce(error, ''),"
                        " '[-0-9]+|FLASH-N-N|#N', 'N', 'g') AS why"
                        " FROM inbox ORDER BY received_at OFFSET $1",
                        before["events"],
                    )
                )
                audit = await hub_http.post(
                    "/graphql",
                    json={
                        "query": "{ inventoryAudit { mismatches { sku } totalMismatches { sku } } }"
                    },
                )
                mismatches = audit.json()["data"]["inventoryAudit"]
                reserved = await conn.fetchval(
                    "SELECT coalesce(sum(quantity), 0) FROM reservations WHERE status = 'active'"
                )
    events = count + lines
    processing = taken - started
    return {
        "orders": count,
        "events": events,
        "skus": len(skus),
        "process_s": processing,
        "orders_per_s": count / processing,
        "events_per_s": events / processing,
        "until_sent_s": sent - started,
        "worker_cpu_ms_per_order": worker_cpu * 1000 / count,
        "db_cpu_ms_per_order": database_cpu * 1000 / count,
        "units_ordered": sum(q for order in orders for _, q in order),
        "units_reserved": reserved,
        "events_by_outcome": dict(outcomes),
        "audit_mismatches": len(mismatches["mismatches"]) + len(mismatches["totalMismatches"]),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ORDERS:,} orders")
    parser.add_argument("--orders", type=int, default=2_000, help="orders placed (2,000)")
    parser.add_argument("--skus", type=int, default=50, help="SKUs on sale (50)")
    parser.add_argument("--clients", type=int, default=16, help="shoppers at once (16)")
    parser.add_argument("--database-url", default=server_url())
    parser.add_argument("--redis-url", default=redis_url(), help="needed: the worker's queue")
    args = parser.parse_args()
    os.environ["NEXO_BENCH_DATABASE_URL"] = args.database_url
    if not args.redis_url:
        raise SystemExit("Redis is needed (processing runs in `nexo worker`)")
    found = await run(args)
    row = {k: v for k, v in found.items() if k != "events_by_outcome"}
    report("flash_sale", [row], {"events_by_outcome": found["events_by_outcome"],
                                 "cpus": os.cpu_count()})  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
