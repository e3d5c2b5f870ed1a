"""The web store's checkout: `checkoutReserve` then `placeOrder` of one-unit carts, 16 in
flight, against one API process on PostgreSQL (with Redis when it answers).

Orders/s, the p50/p99 of the requests, server CPU per order, and `reserveStock`'s rate on
the same server in the same run for reference. Every accepted order is checked afterwards:
stored once, ALLOCATED, holding its unit under the order, and the ledger audit clean.
Driven by wrk (installed by `make bench-checkout` when missing): one connection per thread,
so each connection's requests alternate the cart's hold and its order.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.reservations import seed as seed_stock
from bench.reservations import settle, wrk_run
from bench.support import (
    SERVER_PIDS,
    cpu_seconds,
    dsn,
    fresh_database,
    issue_admin_key,
    keys_in,
    redis_url,
    report,
    server,
)

CREATE_CHANNEL = """
mutation($input: CreateChannelInput!) {
  createChannel(input: $input) { channel { id } userErrors { field code message } }
}"""


def web_store(base: str, key: str, location: uuid.UUID) -> str:
    body = httpx.post(
        f"{base}/graphql",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "query": CREATE_CHANNEL,
            "variables": {
                "input": {
                    "name": "Bench web store",
                    "kind": "WEBSTORE",
                    "currency": "USD",
                    "locationIds": [str(location)],
                }
            },
        },
        timeout=30,
    ).json()
    payload = body["data"]["createChannel"]
    assert payload["userErrors"] == [], payload
    return str(keys_in(payload["channel"]["id"]))


def checkout_run(
    base: str, key: str, channel: str, skus: int, connections: int, seconds: float
) -> dict[str, Any]:
    env = {**os.environ, "NEXO_KEY": key, "NEXO_CHANNEL": channel, "NEXO_SKUS": str(skus)}
    script = str(Path(__file__).with_name("checkout.lua"))
    threads = [f"-t{connections}", f"-c{connections}"]
    warm = ["wrk", *threads, "-d1s", "-s", script, base]
    subprocess.run(warm, env={**env, "NEXO_RUN": uuid.uuid4().hex}, check=True, capture_output=True)
    command = ["wrk", *threads, f"-d{max(1, round(seconds))}s", "-s", script, base]
    env["NEXO_RUN"] = uuid.uuid4().hex
    pid = SERVER_PIDS[base]
    cpu = cpu_seconds(pid)
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    stats: dict[str, Any] = json.loads(
        next(x for x in output.splitlines() if x.startswith("WRK "))[4:]
    )
    stats["cpu_seconds"] = cpu_seconds(pid) - cpu
    return stats


async def check(url: str, channel: str, placed: int) -> dict[str, Any]:
    """What the database holds: orders by status, units held under orders, the audit."""
    from adapters.container import build_container
    from adapters.settings import Settings
    from domain.inventory.queries import audit

    conn = await asyncpg.connect(dsn(url))
    try:
        statuses = dict(
            await conn.fetch(
                "SELECT status, count(*) FROM orders WHERE channel_id = $1 GROUP BY status",
                uuid.UUID(channel),
            )
        )
        held = await conn.fetchval(
            "SELECT coalesce(sum(quantity), 0) FROM reservations "
            "WHERE status = 'active' AND reference LIKE 'order:%'"
        )
    finally:
        await conn.close()
    container = build_container(Settings(database_url=url))
    try:
        async with container.uow(readonly=True) as uow:
            report_ = await audit(uow)
    finally:
        await container.close()
    orders = sum(statuses.values())
    return {
        "orders_stored": orders,
        "orders_by_status": statuses,
        "units_held_by_orders": int(held),
        "every_order_held": set(statuses) == {"allocated"} and held == orders,
        "placed_answers_at_least": placed,
        "audit_clean": report_.clean,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skus", type=int, default=10_000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench.checkout needs wrk: `make bench-checkout` installs it")

    redis = redis_url()
    async with fresh_database() as url:
        location, _ = await seed_stock(url, args.skus)
        key = await issue_admin_key(url)
        with server(url, redis) as base:
            channel = web_store(base, key, location)
            await settle(url)
            reserve = wrk_run(base, key, location, args.skus, args.concurrency, args.seconds)
            await settle(url)
            stats = checkout_run(base, key, channel, args.skus, args.concurrency, args.seconds)
        checks = await check(url, channel, stats["placed"])

    orders_per_second = stats["placed"] / stats["seconds"]
    reserve_rate = reserve.ok / reserve.seconds
    rows = [
        {
            "path": "reserveStock (reference)",
            "per_second": round(reserve_rate, 1),
            "p50_ms": round(reserve.p50 * 1000, 2),
            "p99_ms": round(reserve.p99 * 1000, 2),
            "cpu_ms": round(reserve.cpu_seconds / max(reserve.ok, 1) * 1000, 3),
            "failed": reserve.failed,
        },
        {
            "path": "checkout (hold + order)",
            "per_second": round(orders_per_second, 1),
            "p50_ms": round(stats["p50_ms"], 2),
            "p99_ms": round(stats["p99_ms"], 2),
            "cpu_ms": round(stats["cpu_seconds"] / max(stats["placed"], 1) * 1000, 3),
            "failed": stats["refused"] + stats["errors"],
        },
    ]
    report(
        "checkout",
        rows,
        {
            "orders_per_second": round(orders_per_second, 1),
            "checkout_over_reserve": round(orders_per_second / reserve_rate, 3),
            "latency": "per request (a hold or an order), wrk",
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "skus": args.skus,
            "event_bus": "redis" if redis else "in-process",
            **checks,
        },
    )


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
