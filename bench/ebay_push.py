"""eBay: 20,000 SKU quantities pushed through `bulk_update_price_quantity`, against the floor
eBay's call quota allows.

    python -m bench.ebay_push [--quick] [--skus N] [--group-size N] [--database-url URL]
                              [--redis-url URL]

What runs: `nexo-sandbox ebay` as its own process (every request and answer checked against
eBay's OpenAPI specs, as always), seeded with N published listings (items in groups of
`--group-size` variants, with their offers); in this process, the hub's eBay port as a worker
connects it (`adapters.channels.ebay`: the token store on a fresh PostgreSQL database, the
shared rate limiter on Redis, or in memory with `--redis-url ''`), pushing every SKU's
quantity in batches of 25, as the relay sends them (`ChannelLimits.quantities_per_call`),
one batch after the other (one relay run drains a channel at a time).

The floor: eBay meters the Inventory API by calls a day (2,000,000; a 429 for the rest of the
day once spent), and the client spreads that quota over the day (`client.quota_bucket`: a
burst of a thousandth of it, then 2,000,000 - 2,000 calls over 86,400 s, 23.1 a second). A
bench starting with the burst unspent would measure nothing but latency (800 calls fit in the
burst of 2,000), so the run starts in the steady state of a channel busy all day: the API's
bucket empty. The floor is then the fewest calls (N / 25, rounded up) at the quota's pace.
The ratio is the measured time over that floor (target <= 1.2). No time scale is needed.

Not measured here: the relay's own bookkeeping around each call (claiming outbox rows,
recording the outcome); bench/sync.py measures that for Shopify over real processes.
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

from adapters.channels.ebay.adapter import PER_CALL
from adapters.channels.ebay.client import DAILY_QUOTAS, INVENTORY, quota_bucket
from adapters.channels.ebay.connect import ebay_factory
from adapters.container import build_container
from adapters.settings import Settings
from bench.support import free_port, fresh_database, redis_url, server_url
from bench.sync import print_table, reachable, running
from domain.channels.availability import CHANNEL_DEFAULTS
from domain.channels.config import ChannelConfig
from domain.channels.model import Channel, ChannelKind
from domain.channels.port import Outcome, QuantityUpdate

CLIENT_SECRET = "bench-secret"
REFRESH_TOKEN = "v^1.1#bench-refresh"
OFFER = {
    "marketplaceId": "EBAY_US",
    "format": "FIXED_PRICE",
    "categoryId": "15687",
    "merchantLocationKey": "WH-1",
    "listingPolicies": {
        "fulfillmentPolicyId": "6196947000",
        "paymentPolicyId": "6196944000",
        "returnPolicyId": "6196946000",
    },
    "pricingSummary": {"price": {"value": "19.90", "currency": "USD"}},
}


async def add_channel(container: Any) -> Channel:
    channel = Channel(
        id=uuid.uuid4(), name="eBay bench", kind=ChannelKind.EBAY, currency="USD", priority=1,
        location_ids=(), rule=CHANNEL_DEFAULTS, created_at=datetime.now(UTC),
    )  # fmt: skip
    async with container.uow() as uow:
        await uow.channels.add(channel)
        await uow.commit()
    return channel


async def run(args: argparse.Namespace, redis: str | None) -> dict[str, Any]:
    count = args.skus
    skus = [f"BULK-{n // args.group_size:05d}-{n % args.group_size:03d}" for n in range(count)]
    client_id = f"nexo-bench-{uuid.uuid4().hex[:8]}"  # the limiter's buckets: this run's own
    port = free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    argv = ["ebay", "--port", str(port), "--client-id", client_id,
            "--client-secret", CLIENT_SECRET, "--refresh-token", REFRESH_TOKEN]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXO_")}
    spec = quota_bucket(DAILY_QUOTAS[INVENTORY])
    async with fresh_database(args.database_url) as url:
        settings = Settings(
            database_url=url, redis_url=redis, secret_key=SecretStr(Fernet.generate_key().decode())
        )
        container = build_container(settings)
        try:
            with running("sandbox", argv, env, f"{sandbox_url}/_sandbox/state", program="sandbox"):
                async with httpx.AsyncClient(base_url=sandbox_url, timeout=300) as sandbox:
                    began = time.monotonic()
                    seeded = await sandbox.post(
                        "/_sandbox/seed",
                        json={"skus": skus, "groupSize": args.group_size, "offer": OFFER},
                    )
                    seeded.raise_for_status()
                    listings: dict[str, str] = seeded.json()["listings"]
                    seed_s = time.monotonic() - began
                    channel = await add_channel(container)
                    credentials = {
                        "client_id": client_id, "client_secret": CLIENT_SECRET,
                        "refresh_token": REFRESH_TOKEN, "api_url": sandbox_url,
                    }  # fmt: skip
                    connect = ebay_factory(
                        container.channel_http, container.rate_limiter, container.tokens
                    )
                    ebay = connect(channel, ChannelConfig(channel.id), credentials)
                    quantities = {sku: 1 + n % 9 for n, sku in enumerate(skus)}
                    updates = [
                        QuantityUpdate(sku, quantities[sku], {"listing_id": listings[sku]}, None)
                        for sku in skus
                    ]
                    outcomes: dict[Outcome, int] = {}
                    # A channel busy all day: the quota's burst is spent.
                    key = f"ebay:{client_id}:{INVENTORY}"
                    await container.rate_limiter.observe(key, spec, 0.0)
                    started = time.monotonic()
                    for start in range(0, len(updates), PER_CALL):
                        for result in await ebay.push_quantities(updates[start : start + PER_CALL]):
                            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
                    took = time.monotonic() - started
                    state = (await sandbox.get("/_sandbox/state")).json()
        finally:
            await container.close()
    shown = state["items"]
    wrong = sum(shown.get(sku) != quantity for sku, quantity in quantities.items())
    calls = math.ceil(count / PER_CALL)
    floor = calls / spec.rate
    return {
        "skus": count,
        "group_size": args.group_size,
        "limiter": "redis" if redis else "memory",
        "time_s": took,
        "floor_s": floor,
        "ratio": took / floor,
        "fewest_calls": calls,
        "bulk_calls": state["bulk_calls"],
        "calls_per_s": state["bulk_calls"] / took if took else 0.0,
        "pace_per_s": spec.rate,
        "confirmed": outcomes.get(Outcome.CONFIRMED, 0),
        "not_confirmed": sum(n for o, n in outcomes.items() if o is not Outcome.CONFIRMED),
        "wrong_on_ebay": wrong,
        "spec_violations": len(state["violations"]),
        "seed_s": seed_s,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2,000 SKUs")
    parser.add_argument("--skus", type=int, help="SKUs (20,000; quick 2,000)")
    parser.add_argument("--group-size", type=int, default=20, help="variants a listing")
    parser.add_argument("--database-url", default=server_url())
    parser.add_argument(
        "--redis-url", default=redis_url() or "", help="the shared rate limiter; '' in memory"
    )
    args = parser.parse_args()
    args.skus = args.skus or (2_000 if args.quick else 20_000)
    redis = await reachable(args.redis_url or None)
    result = await run(args, redis)
    print(json.dumps({"bench": "ebay_push", **result}))
    print_table("eBay bulk push (bulk_update_price_quantity, 25 SKUs a call)", [result])


if __name__ == "__main__":
    asyncio.run(main())
