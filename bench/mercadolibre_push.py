"""MercadoLibre: 20,000 SKU quantities pushed, item by item, against the floor the sandbox's
rate limit allows.

    python -m bench.mercadolibre_push [--quick] [--skus N] [--variations N] [--rate R]
                                      [--user-products] [--database-url URL] [--redis-url URL]

What runs: `nexo-sandbox mercadolibre --calls-per-second R` as its own process (a token
bucket of R calls a second, R at once: a 429 without Retry-After beyond it), seeded with N
SKUs as classic items of `--variations` variations each; in this process, the hub's
MercadoLibre port as a worker connects it (`adapters.channels.mercadolibre`: the token store
on a fresh PostgreSQL database, the shared rate limiter on Redis, or in memory with
`--redis-url ''`), told the account's quota (60 R a minute), pushing every SKU's quantity in
batches of `PER_CALL`, as the relay sends them, one batch after the other.

Each item's quantities go in one `PUT /items/{id}` naming every variation (one left out would
be deleted), after the batch's items are read (a multiget, 20 items a call): the fewest calls
are one PUT per item and one multiget per 20 items. The floor is those calls at the sandbox's
rate, from an empty bucket (the client's bucket starts empty too: a channel busy all day);
the ratio is the measured time over it (target <= 1.2).

`--user-products`: the seller is on the User Products model (`--user-products` for the
sandbox too): each SKU is its own item and user product, whose stock is read (its
`x-version`) and written (`PUT /user-products/{id}/stock/type/selling_address`), two calls a
SKU on the stock resource's own limit — the sandbox's set to R a second here too
(`--up-stock-calls-per-minute`, the account told the same): the floor is 2 N / R.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from adapters.channels.mercadolibre.adapter import PER_CALL
from adapters.channels.mercadolibre.client import minute_bucket, up_stock_bucket
from adapters.channels.mercadolibre.connect import mercadolibre_factory
from adapters.channels.mercadolibre.items import MULTIGET
from adapters.container import build_container
from adapters.settings import Settings
from bench.support import free_port, fresh_database, redis_url, server_url
from bench.sync import print_table, reachable, running
from domain.channels.availability import CHANNEL_DEFAULTS
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel, ChannelKind
from domain.channels.port import Outcome, QuantityUpdate

CLIENT_SECRET = "bench-secret"
REFRESH_TOKEN = "TG-bench-refresh"
SELLER = "123456789"


def family_item(number: int, sku: str) -> dict[str, Any]:
    """A User Products item: one variant of its family (ten a family)."""
    return {
        "title": f"Remera {number // 10} T{number % 10}", "family_name": f"Remera {number // 10}",
        "category_id": "MLA109282", "price": 19990, "currency_id": "ARS",
        "available_quantity": 0, "buying_mode": "buy_it_now", "listing_type_id": "gold_special",
        "condition": "new", "pictures": [],
        "attributes": [{"id": "SIZE", "value_name": f"T{number % 10}"},
                       {"id": "SELLER_SKU", "value_name": sku}],
    }  # fmt: skip


def item(number: int, skus: list[str]) -> dict[str, Any]:
    return {
        "title": f"Remera {number}", "category_id": "MLA109282", "price": 19990,
        "currency_id": "ARS", "available_quantity": 0, "buying_mode": "buy_it_now",
        "listing_type_id": "gold_special", "condition": "new", "pictures": [],
        "attributes": [] if len(skus) > 1 else [{"id": "SELLER_SKU", "value_name": skus[0]}],
        "variations": [
            {"attribute_combinations": [{"name": "Talle", "value_name": f"T{n}"}],
             "price": 19990, "available_quantity": 0,
             "attributes": [{"id": "SELLER_SKU", "value_name": sku}]}
            for n, sku in enumerate(skus)
        ] if len(skus) > 1 else [],
    }  # fmt: skip


async def add_channel(container: Any) -> Channel:
    channel = Channel(
        id=uuid.uuid4(), name="MercadoLibre bench", kind=ChannelKind.MERCADOLIBRE,
        currency="ARS", priority=1, location_ids=(), rule=CHANNEL_DEFAULTS,
        created_at=datetime.now(UTC),
    )  # fmt: skip
    async with container.uow() as uow:
        await uow.channels.add(channel)
        await uow.commit()
    return channel


async def seed(
    sandbox: httpx.AsyncClient, skus: list[str], size: int, family: bool
) -> dict[str, dict[str, str]]:
    refs: dict[str, dict[str, str]] = {}
    groups = [skus[start : start + size] for start in range(0, len(skus), size)]
    if family:  # User Products: an item (and a user product) per SKU
        groups = [[sku] for sku in skus]
    for start in range(0, len(groups), 200):
        bodies = [family_item(start + n, group[0]) if family else item(start + n, group)
                  for n, group in enumerate(groups[start : start + 200])]  # fmt: skip
        answer = await sandbox.post("/_sandbox/seed", json={"items": bodies})
        answer.raise_for_status()
        for made, group in zip(answer.json()["items"], groups[start : start + 200], strict=True):
            if family:
                refs[group[0]] = {"item_id": made["id"], "user_product_id": made["user_product_id"]}
            elif made["variations"]:
                for variation in made["variations"]:
                    refs[variation["sku"]] = {"item_id": made["id"],
                                              "variation_id": str(variation["id"])}  # fmt: skip
            else:
                refs[group[0]] = {"item_id": made["id"]}
    return refs


async def run(args: argparse.Namespace, redis: str | None) -> dict[str, Any]:
    count, size, rate, family = args.skus, args.variations, args.rate, args.user_products
    size = 1 if family else size
    skus = [f"ML-{n // size:05d}-{n % size:03d}" for n in range(count)]
    client_id = str(4_000_000_000 + uuid.uuid4().int % 100_000_000)  # this run's own buckets
    port = free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    argv = ["mercadolibre", "--port", str(port), "--client-id", client_id,
            "--client-secret", CLIENT_SECRET, "--refresh-token", REFRESH_TOKEN,
            "--seller-id", SELLER, "--calls-per-second", str(rate),
            "--up-stock-calls-per-minute", str(int(rate * 60))]  # fmt: skip
    if family:
        argv.append("--user-products")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXO_")}
    per_minute = int(rate * 60)
    async with fresh_database(args.database_url) as url:
        settings = Settings(
            database_url=url, redis_url=redis, secret_key=SecretStr(Fernet.generate_key().decode())
        )
        container = build_container(settings)
        try:
            with running("sandbox", argv, env, f"{sandbox_url}/_sandbox/state", program="sandbox"):
                async with httpx.AsyncClient(base_url=sandbox_url, timeout=300) as sandbox:
                    began = time.monotonic()
                    refs = await seed(sandbox, skus, size, family)
                    seed_s = time.monotonic() - began
                    channel = await add_channel(container)
                    credentials = {
                        "client_id": client_id, "client_secret": CLIENT_SECRET,
                        "refresh_token": REFRESH_TOKEN, "user_id": SELLER,
                        "api_url": sandbox_url, "calls_per_minute": str(per_minute),
                        "up_stock_calls_per_minute": str(per_minute),
                    }  # fmt: skip
                    connect = mercadolibre_factory(
                        container.channel_http, container.rate_limiter, container.tokens
                    )
                    meli = connect(channel, ChannelConfig(channel.id), credentials)
                    quantities = {sku: 1 + n % 9 for n, sku in enumerate(skus)}
                    updates = [QuantityUpdate(sku, quantities[sku], refs[sku]) for sku in skus]
                    outcomes: dict[Outcome, int] = {}
                    key = f"mercadolibre:{client_id}:{SELLER}"
                    # A channel busy all day: the account's bucket is spent (the sandbox's
                    # second of burst is then never reached: the client keeps below its rate).
                    before = (await sandbox.get("/_sandbox/state")).json()["calls"]
                    await container.rate_limiter.observe(key, minute_bucket(per_minute), 0.0)
                    await container.rate_limiter.observe(
                        f"{key}:up-stock", up_stock_bucket(per_minute), 0.0
                    )
                    started = time.monotonic()
                    for start in range(0, len(updates), PER_CALL):
                        for result in await meli.push_quantities(updates[start : start + PER_CALL]):
                            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
                    took = time.monotonic() - started
                    state = (await sandbox.get("/_sandbox/state")).json()
        finally:
            await container.close()
    wrong = sum(state["offered"].get(sku) != quantity for sku, quantity in quantities.items())
    items = math.ceil(count / size)
    fewest = 2 * count if family else items + math.ceil(items / MULTIGET)
    floor = fewest / rate
    calls = state["calls"] - before
    return {
        "skus": count,
        "model": "user_products" if family else "classic",
        "variations": size,
        "limiter": "redis" if redis else "memory",
        "time_s": took,
        "floor_s": floor,
        "ratio": took / floor,
        "fewest_calls": fewest,
        "calls": calls,
        "throttled": state["throttled"],
        "calls_per_s": calls / took if took else 0.0,
        "rate_per_s": rate,
        "confirmed": outcomes.get(Outcome.CONFIRMED, 0),
        "not_confirmed": sum(n for o, n in outcomes.items() if o is not Outcome.CONFIRMED),
        "wrong_on_meli": wrong,
        "variations_deleted": len(state["deleted_variations"]),
        "seed_s": seed_s,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2,000 SKUs")
    parser.add_argument("--skus", type=int, help="SKUs (20,000; quick 2,000)")
    parser.add_argument("--variations", type=int, default=20, help="variations an item")
    parser.add_argument("--rate", type=float, default=200.0, help="the sandbox's calls a second")
    parser.add_argument(
        "--user-products", action="store_true", help="the User Products model: a SKU an item"
    )
    parser.add_argument("--database-url", default=server_url())
    parser.add_argument(
        "--redis-url", default=redis_url() or "", help="the shared rate limiter; '' in memory"
    )
    args = parser.parse_args()
    args.skus = args.skus or (2_000 if args.quick else 20_000)
    redis = await reachable(args.redis_url or None)
    result = await run(args, redis)
    print(json.dumps({"bench": "mercadolibre_push", **result}))
    title = (
        "a read and a write per user product"
        if args.user_products
        else "a PUT per item naming every variation"
    )
    print_table(f"MercadoLibre push ({title})", [result])


if __name__ == "__main__":
    asyncio.run(main())
