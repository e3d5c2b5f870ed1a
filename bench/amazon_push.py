"""A 20,000-SKU stock push to Amazon, by JSON_LISTINGS_FEED, against the floor Amazon's limits set.

    python -m bench.amazon_push [--quick] [--skus N] [--database-url URL]

One process on a fresh PostgreSQL database: Nexo's container (the relay, the token store, the
rate limiter as `nexo serve` builds them) and the Amazon sandbox in the process (its documented
limits: every operation's rate and burst from the official models; feed processing at
2,000 messages a second after 0.5 s in the queue; listing changes applied after 1 s).

No periodic job runs (reconciliation, sweeps): the relay runs as the jobs the hub enqueues ask.
The channel has no notification queue here: the 20,000 LISTINGS_ITEM_MFN_QUANTITY_CHANGE echoes
of the setup and of the push stay in the sandbox's queue (taking them in is the inbox's work, not
the push's).

Setup (not timed): the catalog (products of 500 variants, Size x Color) is listed on Amazon.
Listing 20,000 SKUs one PUT at a time at Amazon's 5 a second would take over an hour, so the
sandbox's rates are scaled up 1,000-fold for the setup only (`rate_scale`, said to the client in
`x-amzn-RateLimit-Limit` as Amazon says a seller's own rate), and back to Amazon's before the
measured part.

Measured: stock is received for every SKU while the relay is held (the receipts are taken in
first; that time is reported too), then the relay drains the channel as its job does, timed
until the sandbox shows every SKU at its new quantity and the hub has confirmed each one.

Floor, from the sandbox's documented limits: Amazon processes one seller's feeds one after
another at the documented throughput (2,000 messages a second), each after 0.5 s in the queue,
so however the push is split into feeds the last message is processed no sooner than 0.5 s
plus 20,000 / 2,000 s after the first createFeed; the fewest feeds (25,000 messages a feed:
one for 20,000) need createFeedDocument and createFeed (a burst of 15 createFeed, then one every
120 s: no wait for up to 15 feeds), and the calls themselves (getFeed at 2 a second after a
burst of 15 included) cost nothing at these rates. The hub's own work (claiming the outbox,
computing quantities, building and uploading documents, recording the reports) is not in the
floor. Target: total / floor <= 1.2.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
import uuid
from collections import Counter
from typing import Any, cast

import httpx
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from adapters.channels.amazon.connect import amazon_factory
from adapters.container import build_container
from adapters.db.tables import listing_items, outbox
from adapters.ratelimit.memory import MemoryRateLimiter
from adapters.settings import Settings
from api.app import create_app
from bench.support import fresh_database, keys_in, report
from domain.access import Role
from domain.api_keys import create_api_key
from domain.inventory import stock_batches
from domain.inventory.model import MovementReason
from domain.sync.rate_limits import RateLimiter
from sandbox.amazon import AmazonSandbox
from sandbox.amazon.feeds import MESSAGES_PER_SECOND, QUEUE_SECONDS
from workers.registry import JOBS

API = "https://sellingpartnerapi-na.amazon.com"
SELLER, MARKETPLACE = "A2SANDBOXSELLER1", "ATVPDKIKX0DER"
FEED_MESSAGES = 25_000  # the listings feed schema's maxItems
CREATE_FEED_BURST = 15
SIZES = tuple(f"S{n:02d}" for n in range(20))
COLOURS = tuple(f"C{n:02d}" for n in range(25))  # 20 x 25 = 500 variants a product
SETUP_SCALE = 1000.0


async def gql(http: httpx.AsyncClient, key: str, query: str, **variables: Any) -> Any:
    answer = await http.post(
        "/graphql", json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    body = answer.json()
    assert "errors" not in body, body
    (payload,) = keys_in(body["data"]).values()
    if isinstance(payload, dict) and payload.get("userErrors"):
        raise AssertionError(payload["userErrors"])
    return payload


async def pending(container: Any) -> int:
    async with container.engine.connect() as conn:
        found: int = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
    return found


async def confirmed(container: Any, quantity: int) -> int:
    async with container.engine.connect() as conn:
        query = select(func.count()).where(listing_items.c.confirmed_quantity == quantity)
        found: int = (await conn.execute(query.select_from(listing_items))).scalar_one()
    return found


async def setup(http: httpx.AsyncClient, key: str, products: int) -> tuple[str, str, list[str]]:
    """The warehouse, the Amazon channel and the catalog; (channel id, location id, SKUs)."""
    location = (await gql(http, key, """mutation { createLocation(input: {code: "WH",
        name: "Warehouse", kind: WAREHOUSE}) { location { id } userErrors { message } } }"""))[
        "location"]["id"]  # fmt: skip
    category = (await gql(http, key, 'mutation { createCategory(input: {name: "Outdoor"}) '
                          "{ category { id } } }"))["category"]["id"]  # fmt: skip
    channel = (await gql(http, key, """mutation($i: CreateChannelInput!) { createChannel(input: $i)
        { channel { id } userErrors { message } } }""", i={"name": "Amazon US", "kind": "AMAZON",
        "currency": "USD", "locationIds": [location]}))["channel"]["id"]  # fmt: skip
    credentials = {"client_id": "amzn1.application-oa2-client.sandbox",
                   "client_secret": "sandbox-client-secret",
                   "refresh_token": "Atzr|sandbox-refresh-token", "api_url": API,
                   "token_url": f"{API}/auth/o2/token"}  # fmt: skip
    given = [{"name": k, "value": v} for k, v in credentials.items()]
    await gql(http, key, """mutation($i: SetChannelCredentialsInput!) {
        setChannelCredentials(input: $i) { userErrors { message } } }""",
              i={"channelId": channel, "credentials": given})  # fmt: skip
    settings = {"sellerId": SELLER, "marketplaceId": MARKETPLACE, "productType": "SHIRT",
                "gtinExemption": "true"}  # fmt: skip
    await gql(http, key, """mutation($i: SetListingRuleInput!) { setListingRule(input: $i)
        { userErrors { message } } }""", i={"channelId": channel, "selector": {"kind": "ALL"},
        "settings": [{"name": k, "value": v} for k, v in settings.items()],
        "categoryMap": [{"categoryId": category, "channelCategoryId": "2419332011"}]})  # fmt: skip
    skus: list[str] = []
    for p in range(products):
        variants = [{"sku": f"P{p:03d}-{s}-{c}", "optionValues": [s, c],
                     "price": {"amount": "20.00", "currencyCode": "USD"}}
                    for s in SIZES for c in COLOURS]  # fmt: skip
        skus += [v["sku"] for v in variants]
        await gql(http, key, """mutation($i: ProductInput!) { createProduct(input: $i)
            { product { id } userErrors { message } } }""", i={
            "handle": f"tee-{p:03d}", "title": f"Tee {p}", "brand": "Nexo Outdoors",
            "categoryId": category, "variants": variants,
            "options": [{"name": "Size", "values": list(SIZES)},
                        {"name": "Color", "values": list(COLOURS)}]})  # fmt: skip
    return channel, location, skus


async def listed(container: Any, skus: int) -> None:
    """Wait for the setup: every SKU listed and confirmed at 0, nothing left to send."""
    while True:
        await container.queue.drain()
        if not await pending(container) and await confirmed(container, 0) >= skus:
            return
        await asyncio.sleep(0.5)  # a retry waiting out its back-off


class Refillable:
    """The client's rate limiter, replaced by a fresh one between setup and measurement."""

    def __init__(self) -> None:
        self.inner = MemoryRateLimiter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


RECEIPTS_PER_BATCH = 500  # as a stock file is taken in (domain/inventory/imports.py)


async def take_receipts(container: Any, location: str, skus: list[str], quantity: int) -> float:
    """Stock for every SKU, taken in while the relay is held (its jobs are not run), in
    batches as a stock file would be; seconds."""
    real_enqueue = container.queue.enqueue

    async def hold(job: str, *job_args: Any, **_: Any) -> bool:
        return True  # the outbox keeps what to send: the push below drains it

    container.queue.enqueue = hold
    started = time.perf_counter()
    try:
        for start in range(0, len(skus), RECEIPTS_PER_BATCH):
            entries = [
                stock_batches.StockEntry(MovementReason.RECEIVE, sku, uuid.UUID(location),
                                         quantity, f"bench-{sku}")
                for sku in skus[start : start + RECEIPTS_PER_BATCH]
            ]  # fmt: skip
            outcomes = await stock_batches.receive_and_count(container.uow, entries, actor="bench")
            refused = [o for o in outcomes if isinstance(o, Exception)]
            assert not refused, refused[:3]
    finally:
        container.queue.enqueue = real_enqueue
    return time.perf_counter() - started


async def push(container: Any, channel: str) -> float:
    """The relay drains the channel as its job does; seconds until nothing is left."""
    started = time.perf_counter()
    while True:
        drained = await container.relay.run(uuid.UUID(channel), budget_seconds=600)
        if not drained.more and not await pending(container):
            return time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    products = max(1, math.ceil(args.skus / (len(SIZES) * len(COLOURS))))
    async with fresh_database(args.database_url) as url:
        settings = Settings(database_url=url, secret_key=Fernet.generate_key().decode())
        limiter = Refillable()
        # No periodic job: reconciliation would read the 20,000 SKUs meanwhile (5 reads of 20
        # a second, 200 s) and the sweeps would drain the channel while it is held.
        container = build_container(settings, [j for j in JOBS if j.every_seconds is None])
        sandbox = AmazonSandbox(seller_id=SELLER, marketplace_id=MARKETPLACE, apply_delay=1.0)
        sandbox.seller.rate_scale = SETUP_SCALE
        amazon = httpx.AsyncClient(transport=httpx.ASGITransport(sandbox.app), base_url=API,
                                   timeout=120)  # fmt: skip
        container.connector.register(
            "amazon", amazon_factory(amazon, cast(RateLimiter, limiter), container.tokens)
        )
        app = create_app(settings, container=container)
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
            async with container.uow() as uow:
                key = (await create_api_key(uow, name="bench", role=Role.ADMIN)).secret
                await uow.commit()
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://nexo",
                                     timeout=600)  # fmt: skip
            started = time.perf_counter()
            channel, location, skus = await setup(http, key, products)
            skus = skus[: args.skus]
            await listed(container, len(skus))
            setup_s = time.perf_counter() - started
            # Amazon's documented rates from here on, and the buckets of a seller who has not
            # called lately (full), on both sides: the setup's 20,000 listing calls at 1,000
            # times the rates leave them drained (getFeedDocument's 10 then refill one per 45 s).
            sandbox.seller.rate_scale = 1.0
            sandbox.seller.buckets.clear()
            limiter.inner = MemoryRateLimiter()
            feeds_before, calls_before = len(sandbox.seller.feeds.feeds), len(sandbox.calls)

            quantity = 7
            receive_s = await take_receipts(container, location, skus, quantity)
            push_s = await push(container, channel)
            shown = sandbox.seller.listings
            assert all(shown.items[s].quantity == quantity for s in skus), "not all shown"
            assert await confirmed(container, quantity) == len(skus)
            feeds = list(sandbox.seller.feeds.feeds.values())[feeds_before:]
            operations = Counter(c["operation"] for c in sandbox.calls[calls_before:])
            await http.aclose()
        await amazon.aclose()
        floor_feeds = math.ceil(len(skus) / FEED_MESSAGES)
        waits = max(0, floor_feeds - CREATE_FEED_BURST) * (1 / 0.0083)
        floor_s = waits + QUEUE_SECONDS + len(skus) / MESSAGES_PER_SECOND
        calls = [c for c in sandbox.calls[calls_before:] if c["status"] == 429]
        report(
            "amazon_push",
            [{"skus": len(skus), "feeds": len(feeds), "push_s": round(push_s, 2),
              "floor_s": round(floor_s, 2), "ratio": round(push_s / floor_s, 3),
              "receive_s": round(receive_s, 2), "setup_s": round(setup_s, 1)}],
            {"feed_types": sorted({f.feed_type for f in feeds}),
             "messages_per_feed": [round((f.ends - f.starts) * MESSAGES_PER_SECOND) for f in feeds],
             "quota_exceeded": len(calls), "calls": dict(operations),
             "violations": len(sandbox.violations),
             "floor_is": f"{QUEUE_SECONDS} s queued + {len(skus)} messages at "
                         f"{MESSAGES_PER_SECOND:g}/s, one seller's feeds processed in turn",
             "target": "push_s / floor_s <= 1.2"},
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="2,000 SKUs")
    parser.add_argument("--database-url", help="a PostgreSQL server (a database is made on it)")
    args = parser.parse_args()
    if args.quick:
        args.skus = 2_000
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
