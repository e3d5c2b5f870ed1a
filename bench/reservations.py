"""Reservations on PostgreSQL: raw SQL vs the domain service vs GraphQL over HTTP.

    python -m bench.reservations [--seconds 8] [--concurrency 16] [--skus 10000]

(a) raw: the statements the service's reservation boils down to (conditional UPDATE +
    ledger INSERT + COMMIT) sent with asyncpg on `concurrency` connections: our ceiling;
(b) service: the reservation desk (`adapters.desks.reservations`) through the SQL
    unit of work: what `reserveStock` calls; concurrent calls are held together;
(b1) the same reservations one by one (`domain.inventory.reservations.reserve`): the
    reference path, for comparison;
(c) graphql: `reserveStock` over HTTP against one uvicorn process.
Each runs on one hot SKU, then spread over `--skus` SKUs. Needs PostgreSQL
(NEXO_BENCH_DATABASE_URL, default the local `test` server); uses Redis for the event bus
when NEXO_BENCH_REDIS_URL is reachable (set it empty to run without).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.support import (
    SERVER_PIDS,
    cpu_seconds,
    dsn,
    fresh_database,
    percentile,
    redis_url,
    report,
    server,
)

HOT_STOCK = 1_000_000_000
ACTOR = "bench"


@dataclass
class Run:
    ok: int = 0
    failed: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of the process doing the work: the bench's, or the server's
    p50: float | None = None  # when the load generator reports percentiles itself
    p99: float | None = None

    def row(self, name: str, target: str) -> dict[str, Any]:
        return {
            "path": name,
            "skus": target,
            "reservations_per_s": self.ok / self.seconds if self.seconds else 0.0,
            "p50_ms": (self.p50 if self.p50 is not None else percentile(self.latencies, 50)) * 1000,
            "p99_ms": (self.p99 if self.p99 is not None else percentile(self.latencies, 99)) * 1000,
            "failed": self.failed,
            "cpu_ms_per_ok": self.cpu_seconds / self.ok * 1000 if self.ok else None,
        }


async def drive(
    one: Callable[[str], Awaitable[bool]], skus: list[str], concurrency: int, seconds: float
) -> Run:
    """Call `one(sku)` from `concurrency` loops for `seconds` (after a short warm-up)."""
    run = Run()
    measuring = False
    stop_at = time.monotonic() + 1.0 + seconds
    rng = random.Random(7)

    async def loop() -> None:
        while time.monotonic() < stop_at:
            sku = skus[0] if len(skus) == 1 else rng.choice(skus)
            started = time.perf_counter()
            ok = await one(sku)
            if measuring:
                run.latencies.append(time.perf_counter() - started)
                if ok:
                    run.ok += 1
                else:
                    run.failed += 1

    async def clock() -> None:
        nonlocal measuring
        await asyncio.sleep(1.0)  # warm-up: connections, prepared statements, caches
        measuring = True
        started, cpu = time.monotonic(), time.process_time()
        await asyncio.sleep(seconds)
        run.seconds = time.monotonic() - started
        run.cpu_seconds = time.process_time() - cpu

    await asyncio.gather(clock(), *(loop() for _ in range(concurrency)))
    return run


async def seed(url: str, skus: int) -> tuple[uuid.UUID, list[str]]:
    """One warehouse; `skus` SKUs with plenty of stock, received through the ledger."""
    location = uuid.uuid4()
    now = datetime.now(UTC)
    names = [f"BENCH-{i:05d}" for i in range(skus)]
    conn = await asyncpg.connect(dsn(url))
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO locations (id, code, name, kind, created_at) "
                "VALUES ($1, 'WH', 'Bench warehouse', 'warehouse', now())",
                location,
            )
            await conn.copy_records_to_table(
                "inventory_items",
                records=[(s, None, HOT_STOCK, now) for s in names],
                columns=["sku", "low_stock_threshold", "available", "created_at"],
            )
            await conn.copy_records_to_table(
                "stock_levels",
                records=[(uuid.uuid4(), s, location, HOT_STOCK, 0, 1) for s in names],
                columns=["id", "sku", "location_id", "on_hand", "reserved", "version"],
            )
            await conn.execute(
                "INSERT INTO stock_movements (id, sku, location_id, on_hand_delta, reserved_delta,"
                " reason, actor, created_at) SELECT gen_random_uuid(), sku, location_id, on_hand,"
                " 0, 'receive', 'bench', now() FROM stock_levels"
            )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return location, names


async def settle(url: str) -> None:
    """Each path starts from the same state: the dead rows the paths before it left are
    vacuumed and the dirty pages written, rather than cleaned up while it is measured."""
    conn = await asyncpg.connect(dsn(url))
    try:
        await conn.execute("VACUUM ANALYZE")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def check(url: str) -> dict[str, Any]:
    """After every path: the audit (every level against its ledger, every SKU's total
    against its levels) and the units held against the active reservations' quantities."""
    from adapters.container import build_container
    from adapters.settings import Settings
    from domain.inventory.queries import audit

    container = build_container(Settings(database_url=url))
    try:
        async with container.uow(readonly=True) as uow:
            report = await audit(uow)
    finally:
        await container.close()
    conn = await asyncpg.connect(dsn(url))
    try:
        reserved = await conn.fetchval("SELECT sum(reserved) FROM stock_levels")
        held = await conn.fetchval(
            "SELECT coalesce(sum(quantity), 0) FROM reservations WHERE status = 'active'"
        )
        raw = await conn.fetchval(
            "SELECT coalesce(sum(reserved_delta), 0) FROM stock_movements"
            " WHERE reason = 'reserve' AND reservation_id IS NULL"
        )
    finally:
        await conn.close()
    # (a) moves levels, not the SKU totals the service keeps: a total is off by exactly
    # the units (a) reserved of that SKU, and by nothing else.
    off = sum(m.actual_available - m.expected_available for m in report.total_mismatches)
    return {
        "audit_levels_vs_ledger": "clean" if not report.mismatches else report.mismatches[:3],
        "levels_checked": report.checked_levels,
        "sku_totals_off_by": off,
        "units_reserved_by_raw_path": raw,
        # (a) writes ledger rows without reservation rows; every other path writes both.
        "units_reserved": reserved,
        "units_in_reservations_and_raw_rows": held + raw,
    }


async def raw_path(url: str, location: uuid.UUID, concurrency: int):  # type: ignore[no-untyped-def]
    pool = await asyncpg.create_pool(dsn(url), min_size=concurrency, max_size=concurrency)

    async def one(sku: str) -> bool:
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE stock_levels SET reserved = reserved + $3, version = version + 1 "
                "WHERE sku = $1 AND location_id = $2 AND on_hand - reserved >= $3 "
                "RETURNING on_hand, reserved, version",
                sku,
                location,
                1,
            )
            if row is None:
                return False
            await conn.execute(
                "INSERT INTO stock_movements (id, sku, location_id, on_hand_delta, "
                "reserved_delta, reason, actor, created_at) "
                "VALUES ($1, $2, $3, 0, $4, 'reserve', $5, now())",
                uuid.uuid4(),
                sku,
                location,
                1,
                ACTOR,
            )
            return True

    return pool, one


async def _python_client(
    base: str,
    key: str,
    location: uuid.UUID,
    targets: list[tuple[str, list[str]]],
    args: argparse.Namespace,
    query: str,
    graphql: dict[str, Run],
) -> None:
    """The load generator when wrk is not installed: httpx, sharing the machine's CPUs."""
    limits = httpx.Limits(max_connections=args.concurrency * 2)
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as http:

        async def graphql_one(sku: str) -> bool:
            response = await http.post(
                "/graphql",
                json={
                    "query": query,
                    "variables": {
                        "sku": sku,
                        "loc": str(location),
                        "key": uuid.uuid4().hex,
                    },
                },
            )
            body = response.json()
            return bool(body["data"]["reserveStock"]["reservation"])

        for label, chosen in targets:
            graphql[label] = await drive(graphql_one, chosen, args.concurrency * 2, args.seconds)


def wrk_run(
    base: str, key: str, location: uuid.UUID, skus: int, connections: int, seconds: float
) -> Run:
    """Drive the server with wrk (a C load generator: the client costs little CPU)."""
    env = {
        **os.environ,
        "NEXO_KEY": key,
        "NEXO_LOCATION": str(location),
        "NEXO_SKUS": str(skus),
    }
    script = str(Path(__file__).with_name("reserve.lua"))
    warm = ["wrk", "-t2", f"-c{connections}", "-d1s", "-s", script, base]
    subprocess.run(warm, env={**env, "NEXO_RUN": uuid.uuid4().hex}, check=True, capture_output=True)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", script, base]
    # Each run's keys are its own: a run repeating the warm-up's keys would measure replays.
    env["NEXO_RUN"] = uuid.uuid4().hex
    pid = SERVER_PIDS[base]
    cpu = cpu_seconds(pid)
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(pid) - cpu
    line = next(x for x in output.splitlines() if x.startswith("WRK "))
    stats = json.loads(line[4:])
    run = Run(seconds=stats["seconds"], cpu_seconds=cpu)
    run.ok = stats["requests"] - stats["failed"]
    run.failed = stats["failed"]
    run.p50 = stats["p50_ms"] / 1000
    run.p99 = stats["p99_ms"] / 1000
    return run


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument(
        "--python-client", action="store_true", help="drive (c) with httpx even if wrk exists"
    )
    args = parser.parse_args()

    from adapters.container import build_container
    from adapters.settings import Settings
    from domain.access import Role
    from domain.api_keys import create_api_key
    from domain.inventory import reservations

    redis = redis_url()
    if redis:
        try:
            import redis.asyncio as aioredis

            client = aioredis.Redis.from_url(redis)
            await client.ping()
            await client.aclose()
        except Exception:
            redis = None

    rows: list[dict[str, Any]] = []
    async with fresh_database() as url:
        location, skus = await seed(url, args.skus)
        hot = [skus[0]]
        targets = [("1 (hot)", hot), (f"{len(skus):,}", skus)]

        pool, raw_one = await raw_path(url, location, args.concurrency)
        raw: dict[str, Run] = {}
        for label, chosen in targets:
            await settle(url)
            raw[label] = await drive(raw_one, chosen, args.concurrency, args.seconds)
        await pool.close()

        container = build_container(
            Settings(database_url=url, redis_url=redis), pool_size=args.concurrency
        )
        await container.start()
        try:
            desk = container.reservation_desk

            async def service_one(sku: str) -> bool:
                await desk.reserve(
                    sku=sku, quantity=1, key=uuid.uuid4().hex, actor=ACTOR, location_id=location
                )
                return True

            async def one_by_one(sku: str) -> bool:
                await reservations.reserve(
                    container.uow,
                    sku=sku,
                    quantity=1,
                    key=uuid.uuid4().hex,
                    actor=ACTOR,
                    location_id=location,
                )
                return True

            service: dict[str, Run] = {}
            single: dict[str, Run] = {}
            for label, chosen in targets:
                await settle(url)
                service[label] = await drive(service_one, chosen, args.concurrency, args.seconds)
            for label, chosen in targets:
                await settle(url)
                single[label] = await drive(one_by_one, chosen, args.concurrency, args.seconds)
            async with container.uow() as uow:
                key = (await create_api_key(uow, name="bench", role=Role.STAFF)).secret
                await uow.commit()
        finally:
            await container.close()

        query = (
            "mutation($sku: String!, $loc: ID!, $key: String!) { reserveStock(input: "
            "{sku: $sku, quantity: 1, locationId: $loc, idempotencyKey: $key}) "
            "{ reservation { id } userErrors { code } } }"
        )
        graphql: dict[str, Run] = {}
        with server(url, redis) as base:
            if shutil.which("wrk") and not args.python_client:
                for label, chosen in targets:
                    await settle(url)
                    graphql[label] = wrk_run(
                        base, key, location, len(chosen), args.concurrency * 2, args.seconds
                    )
            else:
                await _python_client(base, key, location, targets, args, query, graphql)

        checks = await check(url)
        for label, _ in targets:
            a, b, b1, c = raw[label], service[label], single[label], graphql[label]
            rows.append(a.row("(a) raw asyncpg", label))
            rows.append(b.row("(b) domain service", label))
            rows.append(b1.row("(b1) one by one", label))
            rows.append(c.row("(c) GraphQL HTTP", label))
        ratios = {}
        for label, _ in targets:
            base_rate = raw[label].ok / raw[label].seconds
            for name, run in (
                ("b/a", service[label]),
                ("b1/a", single[label]),
                ("c/a", graphql[label]),
            ):
                ratios[f"{name} {label}"] = round(run.ok / run.seconds / base_rate, 3)

    report(
        "reservations",
        rows,
        {
            "ratios": ratios,
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "event_bus": "redis" if redis else "in-process",
            **checks,
        },
    )


if __name__ == "__main__":
    # The event loop uvicorn runs Nexo on (uvicorn[standard] brings uvloop): same for all paths.
    import uvloop

    uvloop.run(main())
