"""Channel sync on the Shopify sandbox: stock-change propagation latency, and a bulk push.

    python -m bench.sync [--quick] [--database-url URL] [--redis-url URL] [--only latency|bulk]

Real processes on a fresh PostgreSQL database per run: the Shopify sandbox (`nexo-sandbox
shopify`, the Standard plan's bucket: 2,000 points, 100 restored a second), `nexo serve` and,
with Redis, one `nexo worker` (arq) running the relay; without Redis the relay runs in-process
inside `nexo serve`. What the shop shows is learnt from its `inventory_levels/update` webhooks,
received by a small server in this process; the sandbox's own delivery pump wakes every 200 ms,
so the bench asks it to deliver every 20 ms (`POST /_sandbox/webhooks/deliver`).

(1) latency: 200 SKUs (20 products of 10 sizes) listed with stock; then `adjustStock` +1 at a
    steady 50 a second, round-robin over the SKUs, each with its own idempotency key, for 60 s
    (`--quick`: 15 s). A change is committed when its mutation answers; it is accepted when
    the shop first shows that SKU at the quantity it implies or more (quantities only grow:
    a later, coalesced value carries it). Run with arq and with the in-process queue.
    Also reported: how long the mutations took to answer, and whether the shop ends at the
    hub's last quantity for every SKU (`final_mismatch`).
(2) bulk: 20,000 SKUs (`--quick`: 2,000) in products of 100 sizes (publishing costs about
    2.3 points a SKU at the plan's rate, less in bigger products) listed with no stock, the
    outbox drained and the shop's bucket full; then `receiveStock` for every SKU from 16
    clients, timed from the first receive until the shop shows every quantity. The floor is
    what the shop's cost model allows: the fewest `inventorySetQuantities` calls (250
    quantities each) at the cost the sandbox charges, less the full bucket, over the restore
    rate, and never less than the time the hub takes to take the receipts in.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.support import (
    ROOT,
    free_port,
    fresh_database,
    issue_admin_key,
    keys_in,
    nexo_env,
    percentile,
    redis_url,
    server_url,
)

ADMIN_GRAPHQL = "/admin/api/2026-01/graphql.json"
SHOP_LOCATION = "gid://shopify/Location/1"
ACCESS_TOKEN = "shpat_sandbox"
API_SECRET = "sandbox-secret"
STANDARD_RESTORE = 100.0  # points a second
STANDARD_BUCKET = 2000.0
QUANTITIES_PER_CALL = 250  # Shopify's input array limit for inventorySetQuantities
SET_QUANTITIES = "inventorySetQuantities"
LEVELS_READ = "nodes"  # reconciliation reads levels through `nodes(ids:)`
DELIVER_EVERY = 0.02
START_TIMEOUT = 30.0

CREATE_LOCATION = (
    'mutation { createLocation(input: {code: "WH1", name: "Main", kind: WAREHOUSE}) '
    "{ location { id } userErrors { field message } } }"
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
    "mutation($id: ID!, $loc: String!) { setListingRule(input: {channelId: $id, "
    'selector: {kind: ALL}, settings: [{name: "locationId", value: $loc}]}) '
    "{ userErrors { field message } } }"
)
UPSERT = (
    "mutation($input: UpsertProductsInput!) { upsertProducts(input: $input) { failed "
    "userErrors { field message } results { index userErrors { field message } } } }"
)
RECEIVE = (
    "mutation($sku: String!, $loc: ID!, $quantity: Int!, $key: String!) { receiveStock(input: "
    "{sku: $sku, locationId: $loc, quantity: $quantity, idempotencyKey: $key}) "
    "{ levels { available } userErrors { code message } } }"
)
ADJUST = (
    "mutation($sku: String!, $loc: ID!, $key: String!) { adjustStock(input: {sku: $sku, "
    'locationId: $loc, delta: 1, reason: "bench", idempotencyKey: $key}) '
    "{ levels { available } userErrors { code message } } }"
)
SYNC_STATUS = (
    "query($id: ID!) { channelSyncStatus(channelId: $id) "
    "{ pending dead calls failures throttles } }"
)


# Processes ---------------------------------------------------------------------------------


@contextmanager
def running(
    name: str,
    argv: Sequence[str],
    env: dict[str, str],
    ready: str | None,
    *,
    program: str = "api.cli",
) -> Iterator[None]:
    """`nexo ARGV` (or `python -m PROGRAM ARGV`) as its own process, until the block ends;
    `ready` is a URL it answers once up."""
    log = Path(tempfile.mkstemp(prefix=f"nexo-bench-{name}-", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", program, *argv],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {log.read_text()[-2000:]}")
            if ready is None:
                time.sleep(1.0)  # an arq worker has no door to knock on; it must stay up
                if process.poll() is None:
                    break
                continue
            try:
                if httpx.get(ready, timeout=1).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield
        if process.poll() is not None:
            raise RuntimeError(f"{name} died during the run: {log.read_text()[-2000:]}")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# What the shop shows -----------------------------------------------------------------------


@dataclass
class Hooks:
    """`inventory_levels/update` webhooks as they arrive, stamped on this process's clock."""

    events: list[tuple[float, int, int]] = field(default_factory=list)  # (t, item id, available)

    async def receive(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.events.append(
            (time.monotonic(), int(body["inventory_item_id"]), int(body["available"]))
        )
        return Response(status_code=200)

    def by_sku(
        self, skus_by_item: dict[int, str], since: int = 0
    ) -> dict[str, list[tuple[float, int]]]:
        found: dict[str, list[tuple[float, int]]] = {}
        for at, item, available in self.events[since:]:
            sku = skus_by_item.get(item)
            if sku is not None:
                found.setdefault(sku, []).append((at, available))
        return found


@contextlib.asynccontextmanager
async def hook_receiver(hooks: Hooks) -> AsyncIterator[str]:
    """A uvicorn server in this event loop; yields the URL to subscribe."""
    port = free_port()
    app = Starlette(routes=[Route("/hook", hooks.receive, methods=["POST"])])
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )
    receiver = uvicorn.Server(config)
    task = asyncio.create_task(receiver.serve())
    try:
        while not receiver.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        receiver.should_exit = True
        await task


def first_at_least(seen: list[tuple[float, int]], quantity: int) -> float | None:
    """When the shop first showed `quantity` or more (it only grows in these runs)."""
    for at, available in seen:
        if available >= quantity:
            return at
    return None


# One run's processes ------------------------------------------------------------------------


@dataclass
class Stack:
    """The processes of one run and the clients to them."""

    hub: httpx.AsyncClient  # nexo serve, as an admin
    shop: httpx.AsyncClient  # the sandbox
    shop_url: str
    shop_domain: str
    hooks: Hooks
    hook_url: str

    async def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.hub.post("/graphql", json={"query": query, "variables": variables})
        response.raise_for_status()
        body: dict[str, Any] = keys_in(response.json())
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        for name, found in data.items():
            if isinstance(found, dict) and found.get("userErrors"):
                raise RuntimeError(f"{name}: {found['userErrors']}")
        return data

    async def shop_state(self) -> dict[str, Any]:
        state: dict[str, Any] = (await self.shop.get("/_sandbox/state")).json()
        return state

    async def shop_calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = (await self.shop.get("/_sandbox/calls")).json()
        return calls

    async def subscribe(self) -> None:
        body = {"url": self.hook_url, "topics": ["inventory_levels/update"]}
        (await self.shop.post("/_sandbox/webhooks", json=body)).raise_for_status()

    async def deliver_often(self) -> None:
        """Ask the shop to deliver due webhooks every DELIVER_EVERY (its pump waits 200 ms)."""
        while True:
            with contextlib.suppress(httpx.HTTPError):
                await self.shop.post("/_sandbox/webhooks/deliver")
            await asyncio.sleep(DELIVER_EVERY)

    async def bucket(self) -> dict[str, float]:
        """The shop's throttle status (a one-point query)."""
        response = await self.shop.post(
            ADMIN_GRAPHQL,
            json={"query": "{ shop { id } }"},
            headers={"X-Shopify-Access-Token": ACCESS_TOKEN},
        )
        status: dict[str, float] = response.json()["extensions"]["cost"]["throttleStatus"]
        return status

    async def full_bucket(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            status = await self.bucket()
            if status["currentlyAvailable"] >= status["maximumAvailable"] - 5:
                return
            await asyncio.sleep(0.5)
        raise RuntimeError("the shop's bucket did not fill up")


@contextlib.asynccontextmanager
async def stack(
    database_url: str, redis: str | None, *, restore_rate: float, bucket_size: float
) -> AsyncIterator[Stack]:
    """Sandbox, `nexo serve` and (with Redis) one `nexo worker`, and an admin key."""
    from cryptography.fernet import Fernet

    key = await issue_admin_key(database_url)
    env = nexo_env(database_url, redis, Fernet.generate_key().decode())
    # A shop of its own: the shared rate limiter (Redis) keys buckets by shop domain.
    shop_name = f"nexo-bench-{uuid.uuid4().hex[:8]}"
    shop_port, hub_port = free_port(), free_port()
    shop_url, hub_url = f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{hub_port}"
    hooks = Hooks()
    async with AsyncExitStack() as stack_:
        argv = [
            "shopify", "--port", str(shop_port), "--shop", shop_name,
            "--access-token", ACCESS_TOKEN, "--api-secret", API_SECRET,
            "--restore-rate", str(restore_rate), "--bucket-size", str(bucket_size),
        ]  # fmt: skip
        shop_up = f"{shop_url}/_sandbox/calls"
        stack_.enter_context(running("sandbox", argv, env, shop_up, program="sandbox"))
        hook_url = await stack_.enter_async_context(hook_receiver(hooks))
        serve = ["serve", "--port", str(hub_port)]
        stack_.enter_context(running("serve", serve, env, f"{hub_url}/healthz"))
        if redis:
            stack_.enter_context(running("worker", ["worker"], env, None))
        hub = await stack_.enter_async_context(
            httpx.AsyncClient(
                base_url=hub_url,
                headers={"Authorization": f"Bearer {key}"},
                timeout=300,
                limits=httpx.Limits(max_connections=64),
            )
        )
        shop = await stack_.enter_async_context(httpx.AsyncClient(base_url=shop_url, timeout=120))
        yield Stack(hub, shop, shop_url, f"{shop_name}.myshopify.com", hooks, hook_url)


# The hub's side ----------------------------------------------------------------------------


@dataclass
class Hub:
    location: str
    channel: str


async def connect_shop(run: Stack) -> Hub:
    """A warehouse and a Shopify channel on it, connected to the sandbox, listing everything."""
    location = (await run.gql(CREATE_LOCATION))["createLocation"]["location"]["id"]
    channel = (await run.gql(CREATE_CHANNEL, loc=location))["createChannel"]["channel"]["id"]
    credentials = {
        "shop_domain": run.shop_domain,
        "access_token": ACCESS_TOKEN,
        "api_secret": API_SECRET,
        "api_url": run.shop_url,
    }
    await run.gql(
        SET_CREDENTIALS,
        input={
            "channelId": channel,
            "credentials": [{"name": k, "value": v} for k, v in credentials.items()],
        },
    )
    await run.gql(SET_RULE, id=channel, loc=SHOP_LOCATION)
    return Hub(location, channel)


def catalog(prefix: str, products: int, variants: int) -> list[dict[str, Any]]:
    """`products` ProductInputs of `variants` sizes each; SKUs PREFIX-pppp-vvv."""
    sizes = [f"S{v:03d}" for v in range(variants)]
    return [
        {
            "handle": f"{prefix.lower()}-{p:05d}",
            "title": f"Bench {prefix.title()} {p}",
            "options": [{"name": "Size", "values": sizes}],
            "variants": [
                {
                    "sku": f"{prefix}-{p:05d}-{v:03d}",
                    "optionValues": [size],
                    "price": {"amount": "19.90", "currencyCode": "USD"},
                }
                for v, size in enumerate(sizes)
            ],
        }
        for p in range(products)
    ]


async def upsert(run: Stack, products: list[dict[str, Any]], *, variants_per_call: int) -> None:
    size = max(1, min(500, variants_per_call // len(products[0]["variants"])))
    for start in range(0, len(products), size):
        chunk = products[start : start + size]
        result = (await run.gql(UPSERT, input={"products": chunk}))["upsertProducts"]
        errors = [e for r in result["results"] for e in r["userErrors"]]
        if result["failed"] or errors:
            raise RuntimeError(f"upsertProducts failed: {errors[:3]}")


async def receive_all(
    run: Stack, hub: Hub, quantities: dict[str, int], clients: int
) -> tuple[float, float, list[str]]:
    """receiveStock for every SKU from `clients` clients: (first sent, last answered, failures)."""
    todo = iter(quantities.items())
    failures: list[str] = []
    last_ok = 0.0

    async def client() -> None:
        nonlocal last_ok
        for sku, quantity in todo:
            try:
                await run.gql(
                    RECEIVE, sku=sku, loc=hub.location, quantity=quantity, key=uuid.uuid4().hex
                )
                last_ok = max(last_ok, time.monotonic())
            except (httpx.HTTPError, RuntimeError) as error:
                failures.append(f"{sku}: {error!r}")

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return started, last_ok, failures


async def sync_status(run: Stack, hub: Hub) -> dict[str, int]:
    status: dict[str, int] = (await run.gql(SYNC_STATUS, id=hub.channel))["channelSyncStatus"]
    return status


async def settle(run: Stack, hub: Hub, skus: int, within: float, label: str) -> dict[int, str]:
    """Wait until the outbox is empty and the shop lists `skus` SKUs; their inventory items."""
    deadline = time.monotonic() + within
    started = time.monotonic()
    shown = -1.0
    idle = 0  # checks in a row with nothing pending and SKUs still missing
    calls_seen = len(await run.shop_calls())
    while True:
        status = await sync_status(run, hub)
        if status["pending"] == 0:
            state = await run.shop_state()
            items = skus_by_item(state)
            if len(items) >= skus:
                return items
            idle += 1
            if idle >= 10:
                raise RuntimeError(f"{label}: nothing pending, {len(items)} of {skus} SKUs listed")
        else:
            idle = 0
        if time.monotonic() > deadline:
            raise RuntimeError(f"{label}: not settled after {within:.0f} s: {status}")
        if time.monotonic() - shown >= 30:
            # What the shop was asked meanwhile shows what the relay is waiting for.
            shown = time.monotonic()
            calls = await run.shop_calls()
            asked = Counter(",".join(c.get("root_fields") or ["?"]) for c in calls[calls_seen:])
            calls_seen = len(calls)
            print(
                f"[{label}] {time.monotonic() - started:.0f} s: {status['pending']:,} keys "
                f"pending; the shop was asked {dict(asked)}",
                file=sys.stderr,
                flush=True,
            )
        await asyncio.sleep(1.0)


def skus_by_item(state: dict[str, Any]) -> dict[int, str]:
    return {
        int(variant["inventoryItem"]["id"].rsplit("/", 1)[1]): variant["sku"]
        for product in state["products"]
        for variant in product["variants"]
        if variant["sku"]
    }


def shop_quantities(state: dict[str, Any]) -> dict[str, int]:
    return {
        level["sku"]: int(level["quantities"]["available"])
        for level in state["inventoryLevels"]
        if level["locationId"] == SHOP_LOCATION
    }


@dataclass
class CallTally:
    """What the shop logged of a window of calls."""

    set_calls: int = 0
    set_points: int = 0
    set_cost: int = 0  # the dearest inventorySetQuantities seen (what one costs)
    throttled: int = 0
    level_reads: int = 0
    points: int = 0

    @classmethod
    def of(cls, calls: list[dict[str, Any]]) -> CallTally:
        tally = cls()
        for call in calls:
            cost = int(call.get("actual_cost") or 0)
            tally.points += cost
            if call.get("throttled"):
                tally.throttled += 1
                continue
            roots = call.get("root_fields") or []
            if SET_QUANTITIES in roots:
                tally.set_calls += 1
                tally.set_points += cost
                tally.set_cost = max(tally.set_cost, cost)
            if LEVELS_READ in roots:
                tally.level_reads += 1
        return tally


# (1) Propagation latency -------------------------------------------------------------------


@dataclass
class Change:
    sku: str
    sent: float
    committed: float  # when the mutation answered
    expected: int


async def steady_changes(
    run: Stack, hub: Hub, skus: list[str], rate: float, seconds: float
) -> tuple[list[Change], list[str], float]:
    """adjustStock +1 at `rate` a second, round-robin, each sent on schedule (open loop)."""
    changes: list[Change] = []
    failures: list[str] = []

    async def one(sku: str) -> None:
        sent = time.monotonic()
        try:
            data = await run.gql(ADJUST, sku=sku, loc=hub.location, key=uuid.uuid4().hex)
        except (httpx.HTTPError, RuntimeError) as error:
            failures.append(f"{sku}: {error!r}")
            return
        committed = time.monotonic()
        levels = data["adjustStock"]["levels"]
        expected = sum(int(level["available"]) for level in levels)
        changes.append(Change(sku, sent, committed, expected))

    total = round(rate * seconds)
    tasks: list[asyncio.Task[None]] = []
    started = time.monotonic()
    for n in range(total):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(skus[n % len(skus)])))
    await asyncio.gather(*tasks)
    return changes, failures, time.monotonic() - started


async def latency(args: argparse.Namespace, redis: str | None) -> dict[str, Any]:
    label = "arq, 1 worker" if redis else "in-process"
    products, variants = args.skus // 10, 10
    async with (
        fresh_database() as url,
        stack(url, redis, restore_rate=STANDARD_RESTORE, bucket_size=STANDARD_BUCKET) as run,
    ):
        hub = await connect_shop(run)
        await upsert(run, catalog("LAT", products, variants), variants_per_call=5000)
        skus = [f"LAT-{p:05d}-{v:03d}" for p in range(products) for v in range(variants)]
        await receive_all(run, hub, dict.fromkeys(skus, 100), clients=8)
        sku_of = await settle(run, hub, len(skus), within=300, label=f"latency {label}")
        shown = shop_quantities(await run.shop_state())
        if any(shown.get(sku) != 100 for sku in skus):
            raise RuntimeError("the shop does not show the initial stock after settling")
        await run.full_bucket()
        await run.subscribe()
        calls_before = len(await run.shop_calls())
        status_before = await sync_status(run, hub)
        deliver = asyncio.create_task(run.deliver_often())
        try:
            changes, failures, elapsed = await steady_changes(
                run, hub, skus, args.rate, args.seconds
            )
            load_ended = time.monotonic()
            # Drain: wait for every change to be seen, or the drain period to run out.
            highest: dict[str, int] = {}
            for change in changes:
                highest[change.sku] = max(highest.get(change.sku, 0), change.expected)
            drain_deadline = load_ended + args.drain
            while time.monotonic() < drain_deadline:
                seen = run.hooks.by_sku(sku_of)
                if all(
                    first_at_least(seen.get(sku, []), quantity) is not None
                    for sku, quantity in highest.items()
                ):
                    break
                await asyncio.sleep(0.2)
            drained = time.monotonic() - load_ended
        finally:
            deliver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deliver
        seen = run.hooks.by_sku(sku_of)
        latencies: list[float] = []
        from_sent: list[float] = []
        unseen = early = 0
        for change in changes:
            accepted = first_at_least(seen.get(change.sku, []), change.expected)
            if accepted is None:
                unseen += 1
                continue
            if accepted < change.committed:
                early += 1  # shown before the client read the answer
            latencies.append(max(0.0, accepted - change.committed))
            from_sent.append(accepted - change.sent)
        answers = [change.committed - change.sent for change in changes]
        tally = CallTally.of((await run.shop_calls())[calls_before:])
        status = await sync_status(run, hub)
        # Where the shop ended: every SKU at the hub's last quantity (not merely at least it).
        shown = shop_quantities(await run.shop_state())
        off = {sku: (shown.get(sku), q) for sku, q in highest.items() if shown.get(sku) != q}
    for failure in failures[:5]:
        print(f"latency ({label}) failure: {failure}", file=sys.stderr)
    for sku, (got, wanted) in list(off.items())[:5]:
        print(f"latency ({label}): shop ends at {got} x {sku}, hub at {wanted}", file=sys.stderr)
    return {
        "queue": label,
        "changes": len(changes),
        "changes_per_s": len(changes) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
        "unseen": unseen,
        "answer_p50_ms": percentile(answers, 50) * 1000,
        "answer_p95_ms": percentile(answers, 95) * 1000,
        "from_sent_p95_ms": percentile(from_sent, 95) * 1000,
        "final_mismatch": len(off),
        "failed": len(failures),
        "set_calls": tally.set_calls,
        "skus_per_call": len(changes) / tally.set_calls if tally.set_calls else 0.0,
        "throttled": tally.throttled,
        "points": tally.points,
        "level_reads": tally.level_reads,
        "drain_s": drained,
        "shown_before_answer": early,
        "throttles_logged": status["throttles"] - status_before["throttles"],
        "dead": status["dead"],
    }


# (2) Bulk push -----------------------------------------------------------------------------


async def watch_calls(run: Stack, seen: list[tuple[float, dict[str, Any]]], start: int) -> None:
    """Stamp the shop's new calls as they appear (its log has no times), every 250 ms."""
    known = start
    while True:
        calls = await run.shop_calls()
        now = time.monotonic()
        seen.extend((now, call) for call in calls[known:])
        known = len(calls)
        await asyncio.sleep(0.25)


async def bulk(args: argparse.Namespace, redis: str | None) -> dict[str, Any]:
    count, variants = args.bulk_skus, args.variants
    products = math.ceil(count / variants)
    count = products * variants
    async with (
        fresh_database() as url,
        stack(url, redis, restore_rate=args.restore_rate, bucket_size=args.bucket_size) as run,
    ):
        hub = await connect_shop(run)
        began = time.monotonic()
        await upsert(run, catalog("BULK", products, variants), variants_per_call=5000)
        upserted = time.monotonic() - began
        skus = [f"BULK-{p:05d}-{v:03d}" for p in range(products) for v in range(variants)]
        # Publication at the plan's rate: productSet costs about 2.3 points a SKU.
        sku_of = await settle(run, hub, count, within=7200, label="bulk publication")
        published = time.monotonic() - began - upserted
        await run.full_bucket()
        await run.subscribe()
        setup_calls = await run.shop_calls()
        calls_before = len(setup_calls)
        # Reconciliation reads levels at 4 points a SKU, on the same bucket as publication.
        publishing = CallTally.of(setup_calls)
        stamped: list[tuple[float, dict[str, Any]]] = []
        watcher = asyncio.create_task(watch_calls(run, stamped, calls_before))
        deliver = asyncio.create_task(run.deliver_often())
        quantities = {sku: 1 + n % 9 for n, sku in enumerate(skus)}
        try:
            started, received, failures = await receive_all(run, hub, quantities, args.clients)
            deadline = time.monotonic() + args.bulk_timeout
            done_at: float | None = None
            while time.monotonic() < deadline:
                seen = run.hooks.by_sku(sku_of)
                firsts = [first_at_least(seen.get(s, []), q) for s, q in quantities.items()]
                if all(at is not None for at in firsts):
                    done_at = max(at for at in firsts if at is not None)
                    break
                await asyncio.sleep(0.5)
            await asyncio.sleep(0.5)  # let the call watcher see the last calls
        finally:
            for task in (watcher, deliver):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        seen = run.hooks.by_sku(sku_of)
        missing = sum(first_at_least(seen.get(s, []), q) is None for s, q in quantities.items())
        shown = shop_quantities(await run.shop_state())
        wrong = sum(shown.get(s) != q for s, q in quantities.items())
        calls = (await run.shop_calls())[calls_before:]
        tally = CallTally.of(calls)
        set_stamps = [at for at, call in stamped if SET_QUANTITIES in (call["root_fields"] or [])]
        status = await sync_status(run, hub)
    for failure in failures[:5]:
        print(f"bulk failure: {failure}", file=sys.stderr)
    receive_s = received - started
    total_s = (done_at - started) if done_at is not None else float("nan")
    fewest = math.ceil(count / QUANTITIES_PER_CALL)
    per_call = tally.set_cost or 10
    bucket_floor = max(0.0, (fewest * per_call - args.bucket_size) / args.restore_rate)
    floor_s = max(bucket_floor, receive_s)
    return {
        "skus": count,
        "products": f"{products:,} x {variants}",
        "receive_s": receive_s,
        "receives_per_s": count / receive_s if receive_s else 0.0,
        "tail_s": total_s - receive_s,
        "total_s": total_s,
        "last_set_call_s": (max(set_stamps) - started) if set_stamps else float("nan"),
        "set_calls": tally.set_calls,
        "fewest_calls": fewest,
        "points": tally.points,
        "set_points": tally.set_points,
        "throttled": tally.throttled,
        "level_reads": tally.level_reads,
        "bucket_floor_s": bucket_floor,
        "floor_s": floor_s,
        "floor_is": "the bucket" if bucket_floor > receive_s else "receiving (bucket covers it)",
        "ratio": total_s / floor_s if floor_s else float("nan"),
        "missing": missing,
        "wrong_in_state": wrong,
        "failed": len(failures),
        "dead": status["dead"],
        "upsert_s": upserted,
        "publication_s": published,
        "publication_points": publishing.points,
        "publication_level_reads": publishing.level_reads,
        "cost_per_set_call": per_call,
    }


# Output ------------------------------------------------------------------------------------


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    columns = list(rows[0])
    cells = [[_fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


async def reachable(redis: str | None) -> str | None:
    if not redis:
        return None
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis)
    try:
        await client.ping()
    except Exception as error:
        raise SystemExit(
            f"Redis at {redis} does not answer ({error}); pass --redis-url ''"
        ) from None
    finally:
        await client.aclose()
    return redis


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="15 s of changes, 2,000 bulk SKUs")
    parser.add_argument("--database-url", default=server_url())
    parser.add_argument(
        "--redis-url",
        default=redis_url() or "",
        help="Redis for arq workers (default: the local one, db 15); '' runs jobs in-process",
    )
    parser.add_argument("--only", choices=("latency", "bulk"))
    parser.add_argument(
        "--queues",
        choices=("both", "arq", "in-process"),
        default="both",
        help="latency: which job queues to run (arq needs Redis)",
    )
    parser.add_argument("--skus", type=int, default=200, help="latency: SKUs (10 per product)")
    parser.add_argument("--rate", type=float, default=50.0, help="latency: changes a second")
    parser.add_argument("--seconds", type=float, help="latency: seconds of changes (60; quick 15)")
    parser.add_argument("--drain", type=float, default=120.0, help="latency: drain period, s")
    parser.add_argument("--bulk-skus", type=int, help="bulk: SKUs (20,000; quick 2,000)")
    parser.add_argument("--variants", type=int, default=100, help="bulk: variants a product")
    parser.add_argument("--clients", type=int, default=16, help="bulk: concurrent receivers")
    parser.add_argument("--bulk-timeout", type=float, default=1800.0)
    parser.add_argument("--restore-rate", type=float, default=STANDARD_RESTORE)
    parser.add_argument("--bucket-size", type=float, default=STANDARD_BUCKET)
    args = parser.parse_args()
    args.seconds = args.seconds or (15.0 if args.quick else 60.0)
    args.bulk_skus = args.bulk_skus or (2_000 if args.quick else 20_000)
    os.environ["NEXO_BENCH_DATABASE_URL"] = args.database_url
    redis = await reachable(args.redis_url)

    rows: list[dict[str, Any]] = []
    pushed: dict[str, Any] | None = None
    if args.only in (None, "latency"):
        queues = {"both": [redis, None], "arq": [redis], "in-process": [None]}[args.queues]
        for queue in dict.fromkeys(queues):  # without Redis, "both" is in-process once
            if queue is None and args.queues == "arq":
                raise SystemExit("--queues arq needs Redis (--redis-url)")
            rows.append(await latency(args, queue))
            print(json.dumps({"latency": rows[-1]}), file=sys.stderr, flush=True)
    if args.only in (None, "bulk"):
        pushed = await bulk(args, redis)
        print(json.dumps({"bulk": pushed}), file=sys.stderr, flush=True)

    print(
        json.dumps(
            {
                "benchmark": "sync",
                "latency": rows,
                "bulk": pushed,
                "latency_rate": args.rate,
                "latency_seconds": args.seconds,
                "restore_rate": args.restore_rate,
                "bucket_size": args.bucket_size,
                "bulk_queue": "arq, 1 worker" if redis else "in-process",
                "targets": "latency p95 < 1 s, unseen 0; bulk total/floor <= 1.2",
            }
        )
    )
    if rows:
        print_table(
            f"(1) propagation latency: {args.rate:g} adjustStock/s for {args.seconds:g} s "
            f"over {args.skus} SKUs (target p95 < 1,000 ms, unseen 0)",
            rows,
        )
    if pushed is not None:
        print_table(
            f"(2) bulk push on the sandbox at {args.restore_rate:g} points/s, bucket "
            f"{args.bucket_size:g} ({'arq' if redis else 'in-process'}; target ratio <= 1.2)",
            [{"figure": name, "value": value} for name, value in pushed.items()],
        )


if __name__ == "__main__":
    # The event loop uvicorn runs Nexo on (uvicorn[standard] brings uvloop): same for all paths.
    import uvloop

    uvloop.run(main())
