"""The catalog on PostgreSQL: bulk upserts, then product pages with their relations.

    python -m bench.catalog [--products 10000] [--quick] [--clients 2] [--pages 200]

Each run gets fresh databases, with a warehouse and two channels (shopify, webstore) whose
listing rules select every product, so listing automation is part of every upsert.
(a) `upsertProducts` over HTTP against one uvicorn process: `--products` products of three
    variants (Size S/M/L, GTIN-13 barcodes, two images, tags), 500 a call, from `--clients`
    concurrent clients;
(b) the same products through `domain.catalog.products.upsert_products` and the SQL unit of
    work, no HTTP (on a second database): what (a) costs over the service;
(c) `products(first: 100)` with variants, images and listings: `--pages` sequential
    requests over HTTP, walking the pages with `after` (and starting over at the end).
Then, in-process (the app through httpx.ASGITransport), the SQL statements one page costs
for first: 10, 50 and 100, counted on the engine. Needs PostgreSQL (--database-url, or
NEXO_BENCH_DATABASE_URL, default the local `test` server); uses Redis for the event bus when
NEXO_BENCH_REDIS_URL is reachable (set it empty to run without).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from bench.support import dsn, fresh_database, percentile, redis_url, report, server, server_url
from domain.catalog.gtin import check_digit
from domain.catalog.model import Attribute, Image, ProductOption, ProductSpec, VariantSpec
from domain.catalog.products import MAX_BATCH
from domain.money import Money

QUICK_PRODUCTS = 1_000
PAGE_SIZES = (10, 50, 100)
SIZES = ("S", "M", "L")
CURRENCY = "EUR"

ADJECTIVES = ("Classic", "Everyday", "Organic", "Vintage", "Relaxed", "Heavyweight", "Essential")
MATERIALS = ("Cotton", "Linen", "Merino", "Denim", "Fleece", "Bamboo", "Hemp")
GARMENTS = ("T-Shirt", "Hoodie", "Polo", "Sweater", "Jacket", "Shorts", "Chinos", "Cardigan")
COLORS = ("Black", "White", "Navy", "Olive", "Sand", "Burgundy", "Heather Grey", "Rust")
BRANDS = ("Northwind", "Atelier Sud", "Fjord & Field", "Common Thread", "Kestrel")
TAGS = ("new", "summer", "winter", "sustainable", "bestseller", "unisex", "sale", "basics")

SETUP_LOCATION = (
    'mutation { createLocation(input: {code: "WH1", name: "Main", kind: WAREHOUSE}) '
    "{ location { id } userErrors { field message } } }"
)
SETUP_CHANNEL = (
    "mutation($name: String!, $kind: ChannelKind!, $loc: ID!) { createChannel(input: "
    '{name: $name, kind: $kind, currency: "EUR", locationIds: [$loc]}) '
    "{ channel { id } userErrors { field message } } }"
)
SETUP_RULE = (
    "mutation($id: ID!) { setListingRule(input: {channelId: $id, selector: {kind: ALL}}) "
    "{ channel { id } userErrors { field message } } }"
)
UPSERT = (
    "mutation($input: UpsertProductsInput!) { upsertProducts(input: $input) { "
    "created updated unchanged failed userErrors { field message } "
    "results { index outcome userErrors { field message } } } }"
)
PAGE = (
    "query($first: Int!, $after: String) { products(first: $first, after: $after) { "
    "pageInfo { hasNextPage endCursor } edges { node { id handle title "
    "variants { sku price { amount currencyCode } } images { url } "
    "listings { status items { sku intendedQuantity } } } } } }"
)


@dataclass
class Run:
    done: int = 0
    failed: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def row(self, path: str, operation: str, unit: str) -> dict[str, Any]:
        return {
            "path": path,
            "operation": operation,
            "rate": rate(self),
            "unit": unit,
            "p50_ms": percentile(self.latencies, 50) * 1000,
            "p99_ms": percentile(self.latencies, 99) * 1000,
            "failed": self.failed,
        }


def rate(run: Run) -> float:
    return run.done / run.seconds if run.seconds else 0.0


def gtin13(number: int) -> str:
    body = f"20{number:010d}"  # GS1 prefix 20-29: numbers for internal use
    return f"{body}{check_digit(body)}"


def catalog(count: int) -> list[ProductSpec]:
    """`count` plausible apparel products with three sizes each; the same for every run."""
    rng = random.Random(20_260_101)
    specs = []
    for n in range(count):
        title = (
            f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(GARMENTS)} "
            f"- {rng.choice(COLORS)}"
        )
        handle = f"{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')}-{n}"
        cents = rng.randrange(1_490, 12_990, 100)
        specs.append(
            ProductSpec(
                handle=handle,
                title=title,
                description_html=f"<p>{title}, cut for every day.</p><ul><li>Machine wash</li>"
                "<li>Made in Portugal</li></ul>",
                brand=rng.choice(BRANDS),
                tags=tuple(rng.sample(TAGS, 3)),
                attributes=(Attribute("Material", title.split()[1]), Attribute("Fit", "Regular")),
                options=(ProductOption("Size", SIZES),),
                images=tuple(
                    Image(f"https://cdn.example.com/p/{n}/{side}.jpg", position=i)
                    for i, side in enumerate(("front", "back"))
                ),
                variants=tuple(
                    VariantSpec(
                        sku=f"BN-{n:06d}-{size}",
                        option_values=(size,),
                        price=Money(cents + 200 * (size == "L"), CURRENCY),
                        cost=Money(cents * 2 // 5, CURRENCY),
                        barcode=gtin13(n * len(SIZES) + v),
                        weight_grams=180 + 20 * v,
                    )
                    for v, size in enumerate(SIZES)
                ),
            )
        )
    return specs


def money_input(money: Money | None) -> dict[str, str] | None:
    return None if money is None else {"amount": str(money.amount), "currencyCode": money.currency}


def product_input(spec: ProductSpec) -> dict[str, Any]:
    """The GraphQL ProductInput for `spec`."""
    return {
        "handle": spec.handle,
        "title": spec.title,
        "descriptionHtml": spec.description_html,
        "brand": spec.brand,
        "tags": list(spec.tags),
        "attributes": [{"name": a.name, "value": a.value} for a in spec.attributes],
        "options": [{"name": o.name, "values": list(o.values)} for o in spec.options],
        "images": [{"url": i.url, "position": i.position} for i in spec.images],
        "variants": [
            {
                "sku": v.sku,
                "optionValues": list(v.option_values),
                "price": money_input(v.price),
                "cost": money_input(v.cost),
                "barcode": v.barcode,
                "weightGrams": v.weight_grams,
            }
            for v in spec.variants
        ],
    }


def batches(items: Sequence[Any], size: int = MAX_BATCH) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


async def upsert_with(
    send: Callable[[Sequence[Any]], Awaitable[tuple[int, list[str]]]],
    chunks: list[Sequence[Any]],
    clients: int,
) -> Run:
    """Send the chunks from `clients` concurrent senders; `send` returns (failed, errors)."""
    run = Run()
    queue = list(reversed(chunks))

    async def client() -> None:
        while queue:
            chunk = queue.pop()
            started = time.perf_counter()
            failed, errors = await send(chunk)
            run.latencies.append(time.perf_counter() - started)
            run.done += len(chunk) - failed
            run.failed += failed
            run.errors.extend(errors)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    run.seconds = time.perf_counter() - started
    return run


async def gql(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def payload(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = data[name]
    if found.get("userErrors"):
        raise RuntimeError(f"{name}: {found['userErrors']}")
    return found


async def set_up_channels(http: httpx.AsyncClient) -> None:
    """A warehouse; a Shopify and a web-store channel listing every product."""
    location = payload(await gql(http, SETUP_LOCATION), "createLocation")["location"]["id"]
    for name, kind in (("Shopify", "SHOPIFY"), ("Web store", "WEBSTORE")):
        created = await gql(http, SETUP_CHANNEL, name=name, kind=kind, loc=location)
        channel = payload(created, "createChannel")["channel"]["id"]
        payload(await gql(http, SETUP_RULE, id=channel), "setListingRule")


async def upsert_over_http(http: httpx.AsyncClient, specs: list[ProductSpec], clients: int) -> Run:
    async def send(chunk: Sequence[ProductSpec]) -> tuple[int, list[str]]:
        data = await gql(http, UPSERT, input={"products": [product_input(s) for s in chunk]})
        result = data["upsertProducts"]
        errors = [f"{e['field']}: {e['message']}" for e in result["userErrors"]]
        for item in result["results"]:
            errors.extend(f"{e['field']}: {e['message']}" for e in item["userErrors"])
        return result["failed"] + (len(chunk) if result["userErrors"] else 0), errors

    return await upsert_with(send, batches(specs), clients)


async def upsert_in_service(container: Any, specs: list[ProductSpec], clients: int) -> Run:
    from domain.catalog.products import UpsertOutcome, upsert_products

    async def send(chunk: Sequence[ProductSpec]) -> tuple[int, list[str]]:
        async with container.uow() as uow:
            results = await upsert_products(
                uow, list(chunk), container.listing_formats, now=datetime.now(UTC)
            )
            await uow.commit()
        failed = [r for r in results if r.outcome is UpsertOutcome.FAILED]
        return len(failed), [f"{e.field}: {e.message}" for r in failed for e in r.errors]

    return await upsert_with(send, batches(specs), clients)


async def walk_pages(http: httpx.AsyncClient, requests: int, first: int) -> Run:
    """`requests` sequential pages of `first`, following `after` and starting over at the end."""
    run = Run()
    after: str | None = None
    started = time.perf_counter()
    for _ in range(requests):
        began = time.perf_counter()
        response = await http.post(
            "/graphql", json={"query": PAGE, "variables": {"first": first, "after": after}}
        )
        run.latencies.append(time.perf_counter() - began)
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            run.failed += 1
            run.errors.append(str(body.get("errors") or response.status_code))
            after = None
            continue
        run.done += 1
        info = body["data"]["products"]["pageInfo"]
        after = info["endCursor"] if info["hasNextPage"] else None
    run.seconds = time.perf_counter() - started
    return run


async def statements_per_page(url: str, key: str, redis: str | None) -> dict[str, int]:
    """SQL statements one page costs (a second page, after a warm-up), in-process."""
    from sqlalchemy import event

    from adapters.container import build_container
    from adapters.settings import Settings
    from api.app import create_app
    from workers.registry import JOBS

    settings = Settings(
        database_url=url,
        redis_url=redis,
        environment="prod",
        log_level="WARNING",
        auth_cache_seconds=300,
        rate_limits=False,  # throughput is measured, not admission
    )
    container = build_container(settings, JOBS)
    app = create_app(settings, container=container)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])  # (conn, cursor, statement, parameters, context, many)

    event.listen(container.engine.sync_engine, "before_cursor_execute", count)
    counts: dict[str, int] = {}
    await container.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench.test",
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        ) as http:
            for first in PAGE_SIZES:
                page = await gql(http, PAGE, first=first, after=None)  # warm: key, caches
                after = page["products"]["pageInfo"]["endCursor"]
                statements.clear()
                page = await gql(http, PAGE, first=first, after=after)
                if len(page["products"]["edges"]) != first:
                    raise RuntimeError(f"first: {first} gave {len(page['products']['edges'])}")
                counts[f"first: {first}"] = len(statements)
                if os.environ.get("NEXO_BENCH_SHOW_SQL"):
                    print(f"-- first: {first}", *statements, sep="\n")
    finally:
        event.remove(container.engine.sync_engine, "before_cursor_execute", count)
        await container.close()
    return counts


async def issue_key(url: str, redis: str | None) -> str:
    from adapters.container import build_container
    from adapters.settings import Settings
    from domain.access import Role
    from domain.api_keys import create_api_key

    container = build_container(Settings(database_url=url, redis_url=redis))
    try:
        async with container.uow() as uow:
            key = (await create_api_key(uow, name="bench", role=Role.STAFF)).secret
            await uow.commit()
    finally:
        await container.close()
    return key


async def stored(url: str) -> dict[str, int]:
    """Rows written, and listings by status (what listing automation made of them)."""
    conn = await asyncpg.connect(dsn(url))
    try:
        counts = {
            table: int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
            for table in ("products", "variants")
        }
        for status, count in await conn.fetch(
            "SELECT status, count(*) FROM listings GROUP BY status ORDER BY status"
        ):
            counts[f"listings {status}"] = int(count)
        await conn.execute("ANALYZE")  # as autovacuum would, before pages are read
    finally:
        await conn.close()
    return counts


async def reachable_redis() -> str | None:
    redis = redis_url()
    if not redis:
        return None
    try:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(redis)
        await client.ping()
        await client.aclose()
    except Exception:
        return None
    return redis


async def service_path(specs: list[ProductSpec], clients: int, redis: str | None) -> Run:
    """(b): a second fresh database, set up alike, written through the domain service."""
    from adapters.container import build_container
    from adapters.settings import Settings
    from api.app import create_app
    from workers.registry import JOBS

    async with fresh_database() as url:
        key = await issue_key(url, redis)
        settings = Settings(
            database_url=url,
            redis_url=redis,
            environment="prod",
            log_level="WARNING",
            rate_limits=False,  # throughput is measured, not admission
        )
        container = build_container(settings, JOBS, pool_size=max(clients, 2))
        app = create_app(settings, container=container)
        await container.start()
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://bench.test",
                headers={"Authorization": f"Bearer {key}"},
            ) as http:
                await set_up_channels(http)
            return await upsert_in_service(container, specs, clients)
        finally:
            await container.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url",
        default=server_url(),
        help="the PostgreSQL server to create the run's databases on",
    )
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_PRODUCTS:,} products")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    count = QUICK_PRODUCTS if args.quick else args.products
    # bench.support creates databases on the server NEXO_BENCH_DATABASE_URL names.
    os.environ["NEXO_BENCH_DATABASE_URL"] = args.database_url

    redis = await reachable_redis()
    specs = catalog(count)
    async with fresh_database() as url:
        key = await issue_key(url, redis)
        with server(url, redis) as base:
            async with httpx.AsyncClient(
                base_url=base,
                headers={"Authorization": f"Bearer {key}"},
                timeout=600,
                limits=httpx.Limits(max_connections=args.clients + 1),
            ) as http:
                await set_up_channels(http)
                http_upsert = await upsert_over_http(http, specs, args.clients)
                counts = await stored(url)
                pages = await walk_pages(http, args.pages, max(PAGE_SIZES))
        statements = await statements_per_page(url, key, redis)
    service_upsert = await service_path(specs, args.clients, redis)

    for name, run in (("(a)", http_upsert), ("(b)", service_upsert), ("(c)", pages)):
        for error in run.errors[:5]:
            print(f"{name} failure: {error}")
    operation = f"upsert {count:,}x{len(SIZES)}, {MAX_BATCH}/call"
    report(
        "catalog",
        [
            http_upsert.row("(a) GraphQL HTTP", operation, "products/s"),
            service_upsert.row("(b) domain service", operation, "products/s"),
            pages.row("(c) GraphQL HTTP", f"products(first: {max(PAGE_SIZES)})", "pages/s"),
        ],
        {
            "statements_per_page": statements,
            "stored": counts,
            "a/b": round(rate(http_upsert) / rate(service_upsert), 3)
            if rate(service_upsert)
            else None,
            "clients": args.clients,
            "event_bus": "redis" if redis else "in-process",
            "targets": "(a) >= 500 products/s; (c) p99 < 100 ms; equal statements per page",
        },
    )


if __name__ == "__main__":
    # The event loop uvicorn runs Nexo on (uvicorn[standard] brings uvloop): same for all paths.
    import uvloop

    uvloop.run(main())
