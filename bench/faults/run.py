"""One run of the fault harness: start everything, load it while faults strike, let it settle,
read the end, check the history.

Everything runs on a fresh PostgreSQL database and the harness's own redis-server; the
processes share one environment: the stock-edit hold at 2 s (as the e2e tests have it) and
a relay presumed dead after 20 s (150 in production), so a killed worker's claimed rows
come back within the run, not after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from cryptography.fernet import Fernet

from adapters.queue.arq import ArqJobQueue
from bench.faults import processes as p
from bench.faults.checker import CAPPED, LEDGER_WINDOW, Violation, check
from bench.faults.endstate import add_marketplaces, add_shop, read_database
from bench.faults.faults import Injector, schedule
from bench.faults.hub import Hub
from bench.faults.load import Load, Plan
from bench.faults.marketplaces import KINDS, Marketplace, argv_options, ready_path
from bench.faults.model import EndState
from bench.faults.monitor import OutboxWatch, p95_ms
from bench.faults.recorder import Recorder
from bench.faults.stage import Stage, build, set_policy
from bench.support import DEFAULT_DATABASE, ROOT, dsn, free_port, fresh_database, issue_admin_key
from bench.support import nexo_env as bench_env
from bench.sync import ACCESS_TOKEN, API_SECRET
from domain.jobs import PULL_JOB

SETTLE_PULL_EVERY = 5.0
SETTLE_POLL = 1.0
SANDBOX_TIMEOUT = 20.0
# Seconds between the harness's own pulls of a marketplace, beside the workers' (every minute):
# Amazon's searchOrders allows a burst of 20, then one call in 180 s; spent, the hub waits
# minutes for the orders that explain a lowered figure.
PULL_AT_MOST = {"amazon": 120.0}


@dataclass
class Options:
    seconds: float = 600.0
    seed: int = 1
    database_url: str = DEFAULT_DATABASE  # the server a fresh database is made on
    out: Path | None = None
    redis_port: int | None = None  # default: a free one
    redis_db: int = 8
    shoppers: int = 6
    converge_within: float = 60.0
    ledger_window: float = LEDGER_WINDOW
    policy: str = "ACCEPT_CHANNEL_EDITS"
    policy_also: tuple[str, ...] = ()  # other marketplaces under `policy` (else HUB_WINS)


@dataclass
class Result:
    directory: Path
    history: list[dict[str, Any]]
    end: EndState
    violations: list[Violation]
    webhook_log: list[dict[str, Any]] = field(default_factory=list)
    # Per other marketplace: the notifications its sandbox dropped and duplicated.
    notifications: dict[str, dict[str, int]] = field(default_factory=dict)
    propagation_p95_ms: float = float("nan")
    outbox_max_age: float = 0.0
    outbox_oldest: str = ""


def nexo_env(url: str, redis: str) -> dict[str, str]:
    env = bench_env(url, redis, Fernet.generate_key().decode())
    env.update(NEXO_STOCK_EDIT_HOLD_SECONDS="2", NEXO_OUTBOX_STUCK_SECONDS="20")
    return env


async def run(options: Options) -> Result:
    directory = options.out or ROOT / "var" / "faults" / time.strftime("%Y%m%d-%H%M%S")
    directory.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(directory / "history.jsonl")
    fleet = p.Fleet(directory)
    try:
        async with fresh_database(options.database_url) as url:
            try:
                result = await _run_on(url, options, fleet, recorder)
            finally:
                fleet.stop_all()
    finally:
        fleet.stop_all()
        recorder.close()
    result.violations = check(
        recorder.records,
        result.end,
        converge_within=options.converge_within,
        ledger_window=options.ledger_window,
    )
    (directory / "end.json").write_text(json.dumps(result.end.to_json()))
    (directory / "violations.txt").write_text("\n\n".join(v.render() for v in result.violations))
    return result


@dataclass
class Wiring:
    """Where the run's processes answer, and the environment they share."""

    env: dict[str, str]
    shop_name: str
    shop_url: str
    apis: list[str]
    markets: dict[str, str] = field(default_factory=dict)  # kind -> its sandbox's URL


async def _start_fleet(url: str, options: Options, fleet: p.Fleet) -> Wiring:
    """Redis, then every marketplace sandbox, two API processes and two workers (all at once)."""
    port = options.redis_port or free_port()
    fleet.add("redis", p.redis_argv(port), dict(os.environ), p.redis_ready(port))
    await fleet.start("redis")
    env = nexo_env(url, f"redis://127.0.0.1:{port}/{options.redis_db}")
    shop_name, shop_port = f"nexo-faults-{uuid.uuid4().hex[:8]}", free_port()
    wiring = Wiring(env, shop_name, f"http://127.0.0.1:{shop_port}", [])
    fleet.add(
        "sandbox",
        p.sandbox_argv(shop_port, shop_name, ACCESS_TOKEN, API_SECRET),
        env,
        p.http_ready(f"{wiring.shop_url}/_sandbox/webhooks/log"),
    )
    for kind in KINDS:
        market_port = free_port()
        wiring.markets[kind] = f"http://127.0.0.1:{market_port}"
        argv = p.marketplace_argv(kind, market_port, argv_options(kind))
        fleet.add(kind, argv, env, p.http_ready(wiring.markets[kind] + ready_path(kind)))
    for name in ("api-1", "api-2"):
        api = free_port()
        wiring.apis.append(f"http://127.0.0.1:{api}")
        fleet.add(name, p.serve_argv(api), env, p.http_ready(f"{wiring.apis[-1]}/healthz"))
    for name in ("worker-1", "worker-2"):
        fleet.add(name, p.worker_argv(), env)
    await fleet.start("sandbox", *KINDS, "api-1", "api-2", "worker-1", "worker-2")
    return wiring


async def _run_on(url: str, options: Options, fleet: p.Fleet, recorder: Recorder) -> Result:
    key = await issue_admin_key(url)
    wiring = await _start_fleet(url, options, fleet)
    hub = Hub(wiring.apis, key, recorder)
    queue = ArqJobQueue(wiring.env["NEXO_REDIS_URL"], queue_name=wiring.env["NEXO_QUEUE_NAME"])
    async with contextlib.AsyncExitStack() as clients:
        shop = await clients.enter_async_context(
            httpx.AsyncClient(base_url=wiring.shop_url, timeout=SANDBOX_TIMEOUT)
        )
        stage = Stage(hub, shop, recorder)
        for kind, market_url in wiring.markets.items():
            http = httpx.AsyncClient(base_url=market_url, timeout=SANDBOX_TIMEOUT)
            stage.markets[kind] = Marketplace(
                kind, market_url, await clients.enter_async_context(http)
            )
        try:
            shop_domain = f"{wiring.shop_name}.myshopify.com"
            await build(stage, wiring.shop_url, shop_domain, wiring.apis[0])
            await set_policy(stage, options.policy, options.policy_also)
            recorder.setup(
                webstore=stage.webstore,
                shopify=stage.shopify,
                channels=stage.channels,
                locations=stage.locations,
                webstore_locations=[stage.locations["WH1"]],
                skus=stage.skus,
                hot=stage.hot,
                seconds=options.seconds,
                seed=options.seed,
                policy=options.policy,
            )

            pulled: dict[str, float] = {}

            async def pull() -> None:
                for kind, channel in stage.channels.items():
                    if recorder.now() - pulled.get(kind, -math.inf) >= PULL_AT_MOST.get(kind, 0):
                        await queue.enqueue(PULL_JOB, channel)
                        pulled[kind] = recorder.now()

            return await _load_and_settle(url, options, fleet, stage, pull)
        finally:
            await hub.aclose()
            await queue.close()


async def _load_and_settle(
    url: str, options: Options, fleet: p.Fleet, stage: Stage, pull: Any
) -> Result:
    recorder = stage.recorder
    watch = OutboxWatch(dsn(url))
    injector = Injector(fleet, stage, recorder)
    background = [asyncio.create_task(watch.run()), asyncio.create_task(injector.supervise())]
    try:
        plan = Plan(seconds=options.seconds, seed=options.seed, shoppers=options.shoppers)
        load = Load(stage, plan, pull)
        recorder.phase("load_start")
        await asyncio.gather(load.run(), injector.run(schedule(options.seconds, options.seed)))
        recorder.phase("load_end")
        conn = await asyncpg.connect(dsn(url))
        try:
            await settle(stage, load, conn, options.converge_within)
            end = add_shop(await read_database(conn), await stage.shop_state())
            await add_marketplaces(end, stage.markets)
            propagation = await watch.propagation(conn)
        finally:
            await conn.close()
        webhook_log = (await stage.shop.get("/_sandbox/webhooks/log")).json()
        notifications = {}
        for kind, market in stage.markets.items():
            done = await market.faults({})
            notifications[kind] = {"dropped": done["dropped"], "duplicated": done["duplicated"]}
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
    return Result(
        directory=recorder.path.parent,
        history=recorder.records,
        end=end,
        violations=[],
        webhook_log=webhook_log,
        notifications=notifications,
        propagation_p95_ms=p95_ms(propagation),
        outbox_max_age=watch.max_age,
        outbox_oldest=watch.oldest,
    )


async def settle(stage: Stage, load: Load, conn: asyncpg.Connection, within: float) -> None:
    """Until every marketplace shows the hub's figures and holds no order Nexo lacks, and
    nothing waits to be sent or processed; or `within` seconds. Pulls orders meanwhile."""
    recorder = stage.recorder
    deadline = recorder.now() + within
    pulled = float("-inf")
    while recorder.now() < deadline:
        if recorder.now() - pulled >= SETTLE_PULL_EVERY:
            await load.pull()
            pulled = recorder.now()
        try:
            apart = await stage.sample()
            placed = await _placed(stage, recorder.records)
        except (httpx.HTTPError, RuntimeError):
            await asyncio.sleep(SETTLE_POLL)
            continue
        taken = {
            (str(row["channel_id"]), row["external_id"])
            for row in await conn.fetch("SELECT channel_id, external_id FROM orders")
        }
        # A figure a channel's cap holds back (eBay's revisions) goes out after the settling:
        # waiting for it is waiting for the cap, not for Nexo.
        held = {
            (str(row["channel_id"]), row["key"])
            for row in await conn.fetch(
                "SELECT channel_id, key FROM outbox WHERE kind = 'quantity' AND status <> 'dead'"
                " AND available_at > now() + make_interval(secs => $1)",
                max(0.0, deadline - recorder.now()),
            )
        }
        waiting = await conn.fetchval(
            "SELECT (SELECT count(*) FROM outbox WHERE status <> 'dead'"
            " AND available_at <= now() + make_interval(secs => $1))"
            " + (SELECT count(*) FROM inbox WHERE status IN ('received', 'failed'))",
            max(0.0, deadline - recorder.now()),
        )
        everywhere = len(apart) == len(stage.channels) and all(
            kind in CAPPED and all((stage.channels[kind], sku) in held for sku in skus)
            for kind, skus in apart.items()
            if skus
        )
        if everywhere and not waiting and placed <= taken:
            break
        await asyncio.sleep(SETTLE_POLL)
    recorder.phase("drained")


async def _placed(stage: Stage, history: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(channel, order id) of every order a marketplace holds or was seen to accept."""
    state = await stage.shop_state()
    placed = {(stage.shopify, str(o["id"])) for o in state["orders"]}
    for record in history:
        if record.get("kind") == "shop_order" and record.get("external"):
            placed.add((stage.channels[record.get("channel", "shopify")], record["external"]))
    return placed
