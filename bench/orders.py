"""Shopify order webhooks: acknowledged by one API process, then processed into reserved orders.

    python -m bench.orders [--quick] [--orders 5000] [--clients 32] [--skus 300]

Real processes on a fresh PostgreSQL database, with Redis (required: processing runs in a
`nexo worker`). A Shopify channel (its webhook secret sealed with the run's key) is fed by one
warehouse holding plenty of `--skus` SKUs; the SKUs are not listed on the channel, so the
relay runs that follow reservations find nothing to send (pushing quantities is bench.sync's).

(1) acknowledge: `nexo serve` (one uvicorn process; no worker running, so nothing but the
    acknowledgement happens in it) receives `--orders` signed `orders/create` webhooks
    (`--quick`: 1,000), REST-shaped Shopify orders of one to three lines, each with its own
    X-Shopify-Event-Id and HMAC-SHA256 signature, from `--clients` keep-alive connections.
    The requests are built before the clock starts and sent by a bare asyncio HTTP/1.1
    client, so the load generator takes little of the CPU the server needs. A warm-up of a
    tenth as many (at most 200) goes first, unmeasured. Reports webhooks/s and the
    acknowledgement's p50/p99. Targets: >= 500/s, p99 < 100 ms.
(2) process: every event stored, one `nexo worker` starts; from the first event it processes
    until every order is allocated (each line reserved), polled on the database: orders/s.
    Target: >= 200/s. The time from the worker's start is reported too.

Each stage also reports the CPU one webhook or one order cost the Nexo process (`cpu_ms`)
and PostgreSQL (`db_cpu_ms`), read from /proc (see CpuMeter), and the connections opened to
the database: rates move with whatever else the machine runs, CPU per item much less so.

Needs PostgreSQL (--database-url, or NEXO_BENCH_DATABASE_URL, default the local `test`
server) and Redis (--redis-url, or NEXO_BENCH_REDIS_URL; give it a database no other worker
listens on, or that worker takes the run's jobs).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from cryptography.fernet import Fernet

from bench.support import (
    ROOT,
    dsn,
    free_port,
    fresh_database,
    issue_admin_key,
    keys_in,
    nexo_env,
    percentile,
    redis_url,
    report,
    server_url,
)

QUICK_ORDERS = 1_000
SHOP_DOMAIN = "nexo-demo.myshopify.com"
API_SECRET = "bench-secret"
API_VERSION = "2026-01"
STOCK_PER_SKU = 1_000_000
MAX_WARM_UP = 200
START_TIMEOUT = 30.0
PROCESS_TIMEOUT = 900.0
POLL = 0.1
TARGET_ACK_RATE, TARGET_ACK_P99_MS, TARGET_PROCESS_RATE = 500.0, 100.0, 200.0

CREATE_LOCATION = (
    'mutation { createLocation(input: {code: "WH", name: "Bench warehouse", kind: WAREHOUSE})'
    " { location { id } userErrors { field message } } }"
)
CREATE_CHANNEL = (
    'mutation($loc: ID!) { createChannel(input: {name: "Shopify", kind: SHOPIFY, currency: "USD",'
    " locationIds: [$loc]}) { channel { id } userErrors { field message } } }"
)
SET_CREDENTIALS = (
    "mutation($input: SetChannelCredentialsInput!) { setChannelCredentials(input: $input) "
    "{ userErrors { field message } } }"
)
SET_RULE = (
    "mutation($id: ID!) { setListingRule(input: {channelId: $id, selector: {kind: ALL}, "
    'settings: [{name: "locationId", value: "gid://shopify/Location/1"}]}) '
    "{ userErrors { field message } } }"
)
CREATE_ITEM = (
    "mutation($sku: String!) { createInventoryItem(input: {sku: $sku}) "
    "{ inventoryItem { sku } userErrors { field message } } }"
)
RECEIVE = (
    "mutation($sku: String!, $loc: ID!, $quantity: Int!, $key: String!) { receiveStock(input: "
    "{sku: $sku, locationId: $loc, quantity: $quantity, idempotencyKey: $key}) "
    "{ levels { available } userErrors { field message } } }"
)


# Processes ---------------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        return self.log.read_text()[-2000:]

    def check(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.tail()}")


@contextmanager
def running(
    name: str, argv: Sequence[str], env: dict[str, str], *, program: str = "api.cli"
) -> Iterator[Process]:
    """`nexo ARGV` (or `python -m PROGRAM ARGV`) as its own process until the block ends
    (SIGTERM, then SIGKILL)."""
    log = Path(tempfile.mkstemp(prefix=f"nexo-bench-{name}-", suffix=".log")[1])
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", program, *argv],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Process(name, popen, log)
    finally:
        popen.terminate()
        try:
            popen.wait(15)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(5)


def wait_healthy(server: Process, base: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        server.check()
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start: {server.tail()}")
        time.sleep(0.1)


async def reachable(redis: str) -> bool:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis)
    try:
        await client.ping()
    except Exception:
        return False
    finally:
        await client.aclose()
    return True


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (from the state on); [] if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User + system CPU a process has used so far (Linux); with `reaped`, that of its
    children that have ended instead. 0 when it cannot be read."""
    fields = _stat(pid)
    if not fields:
        return 0.0
    first = 13 if reaped else 11  # cutime, cstime / utime, stime
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuMeter:
    """CPU used by one Nexo process and by PostgreSQL for this run's database, over a stretch.

    Rates move with whatever else the machine runs; CPU per webhook or per order much less.
    The database's share: its backends, sampled every POLL (they can come and go: a pool's
    overflow connections are closed when handed back), plus the CPU of every backend that
    ended meanwhile, which the postmaster holds once it has reaped them (any database's, so
    other work on the server adds to it). Read from /proc: 0 for a server on another machine.
    `sessions` counts the connections opened to the database meanwhile.
    """

    url: str
    pid: int
    conn: Any = field(default=None, init=False)
    _process: float = 0.0
    _first: dict[int, float] = field(default_factory=dict)
    _last: dict[int, float] = field(default_factory=dict)
    _postmaster: int = 0
    _reaped: float = 0.0
    _sessions: int = 0
    _sampling: asyncio.Task[None] | None = None

    async def _backends(self) -> dict[int, float]:
        rows = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {row["pid"]: cpu_seconds(row["pid"]) for row in rows}

    async def _session_count(self) -> int:
        count: int = await self.conn.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        )
        return count

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(POLL)
            self._last.update(await self._backends())

    async def start(self) -> None:
        self.conn = await asyncpg.connect(dsn(self.url))
        own = await self.conn.fetchval("SELECT pg_backend_pid()")
        stat = _stat(own)
        self._postmaster = int(stat[1]) if stat else 0
        self._sessions = await self._session_count()
        self._first = await self._backends()
        self._last = dict(self._first)
        self._reaped = cpu_seconds(self._postmaster, reaped=True)
        self._process = cpu_seconds(self.pid)
        self._sampling = asyncio.create_task(self._sample())

    async def stop(self) -> tuple[float, float, int]:
        """(CPU seconds of the Nexo process, of the database; sessions opened) since `start`."""
        process = cpu_seconds(self.pid) - self._process
        assert self._sampling is not None
        self._sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sampling
        alive = await self._backends()
        reaped = cpu_seconds(self._postmaster, reaped=True) - self._reaped
        # An ended backend's whole life is in `reaped`: less what it had used before `start`.
        ended_before = sum(cpu for pid, cpu in self._first.items() if pid not in alive)
        live = sum(cpu - self._first.get(pid, 0.0) for pid, cpu in alive.items())
        sessions = await self._session_count() - self._sessions - 1  # less its own
        await self.conn.close()
        return process, live + reaped - ended_before, sessions


# Setting up --------------------------------------------------------------------------------


async def ok(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    (payload,) = body["data"].values()
    if payload["userErrors"]:
        raise RuntimeError(f"user errors: {payload['userErrors']}")
    found: dict[str, Any] = payload
    return found


async def set_up(base: str, key: str, skus: list[str]) -> str:
    """A warehouse with plenty of every SKU, feeding a Shopify channel; the channel's uuid."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        location = (await ok(http, CREATE_LOCATION))["location"]["id"]
        # Its raw key: the webhook path names the channel by it.
        channel: str = keys_in((await ok(http, CREATE_CHANNEL, loc=location))["channel"]["id"])
        credentials = {
            "shop_domain": SHOP_DOMAIN,
            "access_token": "shpat_bench",
            "api_secret": API_SECRET,
            "api_url": "http://127.0.0.1:9",  # never called: nothing is listed
        }
        await ok(
            http,
            SET_CREDENTIALS,
            input={
                "channelId": channel,
                "credentials": [{"name": k, "value": v} for k, v in credentials.items()],
            },
        )
        # The port needs the shop's location even to verify a webhook.
        await ok(http, SET_RULE, id=channel)
        pending = iter(skus)

        async def stock_up() -> None:
            for sku in pending:
                await ok(http, CREATE_ITEM, sku=sku)
                await ok(http, RECEIVE, sku=sku, loc=location, quantity=STOCK_PER_SKU,
                         key=f"bench-{sku}")  # fmt: skip

        await asyncio.gather(*(stock_up() for _ in range(8)))
    return channel


# Webhooks ---------------------------------------------------------------------------------


def order_body(n: int, lines: list[tuple[str, int]], now: datetime) -> dict[str, Any]:
    """A Shopify REST Order, as `orders/create` carries it (cf. sandbox/shopify/payloads.py)."""
    order_id = 820_000_000_000 + n
    stamp = now.isoformat()
    total = sum(20 * quantity for _, quantity in lines)
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{1001 + n}",
        "order_number": 1001 + n,
        "number": n + 1,
        "email": f"buyer{n}@example.com",
        "contact_email": f"buyer{n}@example.com",
        "created_at": stamp,
        "updated_at": stamp,
        "processed_at": stamp,
        "currency": "USD",
        "total_price": f"{total:.2f}",
        "subtotal_price": f"{total:.2f}",
        "financial_status": "paid",
        "fulfillment_status": None,
        "test": False,
        "line_items": [
            {
                "id": order_id * 10 + i,
                "admin_graphql_api_id": f"gid://shopify/LineItem/{order_id * 10 + i}",
                "sku": sku,
                "title": f"Bench {sku}",
                "name": f"Bench {sku}",
                "quantity": quantity,
                "current_quantity": quantity,
                "fulfillable_quantity": quantity,
                "fulfillment_status": None,
                "price": "20.00",
                "variant_id": None,
                "product_id": None,
                "variant_title": None,
            }
            for i, (sku, quantity) in enumerate(lines)
        ],
        "customer": {
            "id": 710_000_000_000 + n,
            "admin_graphql_api_id": f"gid://shopify/Customer/{710_000_000_000 + n}",
            "email": f"buyer{n}@example.com",
            "first_name": "Bench",
            "last_name": f"Buyer {n}",
            "phone": None,
            "created_at": stamp,
            "updated_at": stamp,
        },
        "fulfillments": [],
    }


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(API_SECRET.encode(), body, hashlib.sha256).digest()).decode()


def webhook_requests(
    host: str, path: str, first: int, count: int, skus: list[str], rng: random.Random
) -> list[bytes]:
    """`count` raw HTTP/1.1 requests, each a signed `orders/create` of its own order."""
    built = []
    for n in range(first, first + count):
        now = datetime.now(UTC)
        lines = [(sku, rng.randint(1, 2)) for sku in rng.sample(skus, rng.randint(1, 3))]
        body = json.dumps(order_body(n, lines, now), separators=(",", ":")).encode()
        headers = {
            "Host": host,
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Hmac-Sha256": sign(body),
            "X-Shopify-Shop-Domain": SHOP_DOMAIN,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        built.append(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + body)
    return built


@dataclass
class Sent:
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the load generator's own CPU time
    latencies: list[float] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = next(
        (int(x.split(":", 1)[1]) for x in lines[1:] if x.lower().startswith("content-length:")),
        None,
    )
    if length is None:
        raise RuntimeError(f"an answer without Content-Length: {head!r}")
    return status, await reader.readexactly(length)


async def send(host: str, port: int, requests: list[bytes], clients: int) -> Sent:
    """Every request once, over `clients` keep-alive connections; each answer timed."""
    sent = Sent()
    pending = iter(requests)  # shared: each request goes out once, on a free connection

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for raw in pending:
                started = time.perf_counter()
                writer.write(raw)
                status, body = await _answer(reader)
                sent.latencies.append(time.perf_counter() - started)
                outcome = json.loads(body).get("status") if status == 200 else None
                sent.answers[f"{status} {outcome}" if outcome else str(status)] += 1
        finally:
            writer.close()
            await writer.wait_closed()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(clients)))
    sent.seconds = time.perf_counter() - started
    sent.cpu_seconds = time.process_time() - cpu
    return sent


# Processing -------------------------------------------------------------------------------


@dataclass
class Progress:
    stored: int
    processed: int
    orders: int
    allocated: int
    lines: int
    lines_allocated: int


async def progress(conn: asyncpg.Connection) -> Progress:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM inbox) AS stored,"
        " (SELECT count(*) FROM inbox WHERE status <> 'received') AS processed,"
        " (SELECT count(*) FROM orders) AS orders,"
        " (SELECT count(*) FROM orders WHERE status = 'allocated') AS allocated,"
        " (SELECT count(*) FROM order_lines) AS lines,"
        " (SELECT count(*) FROM order_lines WHERE status = 'allocated') AS lines_allocated"
    )
    return Progress(**dict(row))


async def process(url: str, env: dict[str, str], total: int) -> dict[str, Any]:
    """Start one worker; wait until every one of `total` orders is allocated."""
    conn = await asyncpg.connect(dsn(url))
    try:
        before = await progress(conn)
        if before.stored != total or before.processed or before.orders:
            raise RuntimeError(f"expected {total} waiting events and no order: {before}")
        with running("worker", ["worker"], env) as worker:
            meter = CpuMeter(url, worker.process.pid)
            await meter.start()
            started = time.monotonic()
            while True:
                now = await progress(conn)
                if now.allocated == total and now.lines_allocated == now.lines:
                    break
                worker.check()
                if time.monotonic() - started > PROCESS_TIMEOUT:
                    raise RuntimeError(f"not done within {PROCESS_TIMEOUT}s: {now}")
                await asyncio.sleep(POLL)
            wall = time.monotonic() - started
            worker_cpu, database_cpu, worker_sessions = await meter.stop()
        first, last = await conn.fetchrow(
            "SELECT (SELECT min(processed_at) FROM inbox),"
            " (SELECT max(at) FROM order_transitions WHERE to_status = 'allocated')"
        )
        reserved = await conn.fetchval("SELECT count(*) FROM reservations WHERE status = 'active'")
    finally:
        await conn.close()
    seconds = (last - first).total_seconds()
    return {
        "orders": total,
        "lines": now.lines,
        "reservations": reserved,
        "seconds": seconds,
        "rate": total / seconds if seconds > 0 else float("nan"),
        "wall_seconds": wall,
        "worker_cpu_ms": worker_cpu * 1000 / total,
        "database_cpu_ms": database_cpu * 1000 / total,
        "sessions": worker_sessions,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ORDERS:,} orders")
    parser.add_argument("--orders", type=int, default=5_000, help="measured webhooks (5,000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections (32)")
    parser.add_argument("--skus", type=int, default=300, help="SKUs ordered from (300)")
    parser.add_argument(
        "--database-url",
        default=server_url(),
        help="the PostgreSQL server to create the run's database on",
    )
    parser.add_argument("--redis-url", default=redis_url(), help="the Redis the processes share")
    args = parser.parse_args()
    count = QUICK_ORDERS if args.quick else args.orders
    warm = min(MAX_WARM_UP, max(1, count // 10))
    # bench.support creates databases on the server NEXO_BENCH_DATABASE_URL names.
    os.environ["NEXO_BENCH_DATABASE_URL"] = args.database_url
    if not args.redis_url or not await reachable(args.redis_url):
        raise SystemExit(f"Redis is needed (processing runs in `nexo worker`): {args.redis_url!r}")

    secret_key = Fernet.generate_key().decode()
    skus = [f"BENCH-{n:04d}" for n in range(args.skus)]
    rng = random.Random(7)
    async with fresh_database() as url:
        env = nexo_env(url, args.redis_url, secret_key)
        key = await issue_admin_key(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with running("serve", ["serve", "--port", str(port)], env) as server:
            wait_healthy(server, base)
            channel = await set_up(base, key, skus)
            path, host = f"/webhooks/{channel}", f"127.0.0.1:{port}"
            warm_up = webhook_requests(host, path, 0, warm, skus, rng)
            measured = webhook_requests(host, path, warm, count, skus, rng)
            await send("127.0.0.1", port, warm_up, args.clients)
            meter = CpuMeter(url, server.process.pid)
            await meter.start()
            acked = await send("127.0.0.1", port, measured, args.clients)
            server_cpu, database_cpu, sessions = await meter.stop()
            server.check()
            if acked.answers != Counter({"200 received": count}):
                raise RuntimeError(f"answers {dict(acked.answers)}: {server.tail()}")
        processed = await process(url, env, warm + count)

    ack_rate = count / acked.seconds
    p50, p99 = (percentile(acked.latencies, q) * 1000 for q in (50, 99))
    report(
        "orders",
        [
            {
                "stage": "(1) acknowledge webhooks",
                "orders": count,
                "seconds": acked.seconds,
                "per_s": ack_rate,
                "p50_ms": p50,
                "p99_ms": p99,
                "cpu_ms": server_cpu * 1000 / count,
                "db_cpu_ms": database_cpu * 1000 / count,
                "target": f">= {TARGET_ACK_RATE:.0f}/s, p99 < {TARGET_ACK_P99_MS:.0f} ms",
                "met": "yes" if ack_rate >= TARGET_ACK_RATE and p99 < TARGET_ACK_P99_MS else "no",
            },
            {
                "stage": "(2) inbox -> reserved order",
                "orders": processed["orders"],
                "seconds": processed["seconds"],
                "per_s": processed["rate"],
                "p50_ms": None,
                "p99_ms": None,
                "cpu_ms": processed["worker_cpu_ms"],
                "db_cpu_ms": processed["database_cpu_ms"],
                "target": f">= {TARGET_PROCESS_RATE:.0f}/s",
                "met": "yes" if processed["rate"] >= TARGET_PROCESS_RATE else "no",
            },
        ],
        {
            "answers": dict(acked.answers),
            "clients": args.clients,
            "client_cpu_seconds": round(acked.cpu_seconds, 2),
            "connections_opened": {"acknowledge": sessions, "process": processed["sessions"]},
            "skus": args.skus,
            "lines": processed["lines"],
            "reservations": processed["reservations"],
            "worker_wall_seconds": round(processed["wall_seconds"], 2),
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
    )


if __name__ == "__main__":
    # The event loop uvicorn runs Nexo on (uvicorn[standard] brings uvloop): the client's too.
    import uvloop

    uvloop.run(main())
