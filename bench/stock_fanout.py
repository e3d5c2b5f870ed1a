"""Commit-to-subscriber latency of `stockChanged` with many WebSocket subscribers.

    python -m bench.stock_fanout [--subscribers 100] [--changes 200]

One uvicorn process on PostgreSQL (and Redis for the bus when reachable). `subscribers`
clients subscribe over graphql-transport-ws; after a warm-up that every subscriber has seen,
`changes` receiveStock mutations are sent `interval` apart (50 ms: 20 changes/s, 2,000
deliveries/s with 100 subscribers). Latency runs from the change's
`changedAt` (stamped by the service before its commit, so this slightly over-counts) to
each subscriber's receipt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import websockets

from bench.support import fresh_database, percentile, redis_url, report, server

SKU = "FAN-1"
SUBSCRIPTION = 'subscription { stockChanged(skus: ["FAN-1"]) { version changedAt } }'
MUTATION = (
    'mutation($loc: ID!, $key: String!) { receiveStock(input: {sku: "FAN-1", '
    "locationId: $loc, quantity: 1, idempotencyKey: $key}) { levels { version } } }"
)


@dataclass
class Watch:
    """What all subscribers saw: latencies of changes after `from_version`."""

    from_version: int | None = None
    last_version: int | None = None
    latencies: list[float] = field(default_factory=list)
    seen: dict[int, int] = field(default_factory=dict)  # subscriber -> highest version


async def subscriber(number: int, url: str, key: str, watch: Watch) -> None:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {key}"}}
        await ws.send(json.dumps(init))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
        await ws.send(json.dumps(subscribe))
        while watch.last_version is None or watch.seen.get(number, 0) < watch.last_version:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if message["type"] != "next":
                continue
            received = datetime.now(UTC)
            change = message["payload"]["data"]["stockChanged"]
            version = int(change["version"])
            watch.seen[number] = version
            measured = watch.from_version is not None and version > watch.from_version
            if measured and (watch.last_version is None or version <= watch.last_version):
                changed = datetime.fromisoformat(change["changedAt"])
                watch.latencies.append((received - changed).total_seconds())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument(
        "--interval", type=float, default=0.05, help="seconds between changes (default 0.05)"
    )
    args = parser.parse_args()

    from adapters.container import build_container
    from adapters.settings import Settings
    from domain.access import Role
    from domain.api_keys import create_api_key
    from domain.inventory.setup import create_inventory_item, create_location

    redis = redis_url()
    async with fresh_database() as url:
        container = build_container(Settings(database_url=url))
        async with container.uow() as uow:
            key = (await create_api_key(uow, name="bench", role=Role.STAFF)).secret
            location = await create_location(uow, code="WH", name="Bench", kind="warehouse")
            await create_inventory_item(uow, sku=SKU)
            await uow.commit()
        await container.close()

        with server(url, redis) as base:
            watch = Watch()
            ws_url = base.replace("http", "ws") + "/graphql"
            tasks = [
                asyncio.create_task(subscriber(n, ws_url, key, watch))
                for n in range(args.subscribers)
            ]
            async with httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as http:

                async def change() -> int:
                    variables: dict[str, Any] = {"loc": str(location.id), "key": uuid.uuid4().hex}
                    body = (
                        await http.post(
                            "/graphql", json={"query": MUTATION, "variables": variables}
                        )
                    ).json()
                    return int(body["data"]["receiveStock"]["levels"][0]["version"])

                # Subscriptions register asynchronously: warm up until every one has seen a change.
                version = 0
                deadline = time.monotonic() + 30
                while len(watch.seen) < args.subscribers:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"only {len(watch.seen)} subscribers got a change")
                    version = await change()
                    await asyncio.sleep(0.05)
                watch.from_version = version
                started = time.monotonic()
                for _ in range(args.changes):
                    version = await change()
                    await asyncio.sleep(args.interval)
                watch.last_version = version
                await change()  # wakes subscribers waiting past the last measured change
                await asyncio.wait_for(asyncio.gather(*tasks), 60)
                elapsed = time.monotonic() - started

    report(
        "stock_fanout",
        [
            {
                "subscribers": args.subscribers,
                "changes": args.changes,
                "deliveries": len(watch.latencies),
                "p50_ms": percentile(watch.latencies, 50) * 1000,
                "p99_ms": percentile(watch.latencies, 99) * 1000,
                "max_ms": max(watch.latencies) * 1000 if watch.latencies else float("nan"),
            }
        ],
        {
            "event_bus": "redis" if redis else "in-process",
            "seconds": round(elapsed, 2),
            "interval_s": args.interval,
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
