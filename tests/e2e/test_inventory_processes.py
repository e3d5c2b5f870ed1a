"""Inventory across real processes: two `nexo serve` on one PostgreSQL and one Redis.

A change made through one process reaches a subscriber of the other (Redis pub/sub), and a
burst of concurrent reservations over HTTP never takes more than there is.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from adapters.container import build_container
from adapters.settings import Settings
from api.cli import migrate
from domain.access import Role
from domain.api_keys import create_api_key
from tests import services
from tests.e2e.servers import Server, nexo_env, serving
from tests.graphql import data, gql, keys_in

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.solo]

STOCK_CHANGED = """
subscription($skus: [String!]) {
  stockChanged(skus: $skus) {
    sku locationId locationCode onHand reserved available version reason
    channels { channelId name quantity }
  }
}"""
CREATE_LOCATION = """
mutation($code: String!) {
  createLocation(input: {code: $code, name: "E2E", kind: WAREHOUSE}) {
    location { id } userErrors { code }
  }
}"""
CREATE_ITEM = """
mutation($sku: String!) {
  createInventoryItem(input: {sku: $sku}) { inventoryItem { sku } userErrors { code } }
}"""
RECEIVE = """
mutation($sku: String!, $location: ID!, $quantity: Int!, $key: String!) {
  receiveStock(input: {sku: $sku, locationId: $location, quantity: $quantity,
                       idempotencyKey: $key}) {
    levels { onHand reserved version } userErrors { code }
  }
}"""
RESERVE = """
mutation($sku: String!, $key: String!) {
  reserveStock(input: {sku: $sku, quantity: 1, idempotencyKey: $key}) {
    reservation { id quantity status } replayed userErrors { field code }
  }
}"""
FIND = """
query($sku: String!) {
  inventoryItem(sku: $sku) { onHand reserved available stockState }
  reservations(sku: $sku, status: ACTIVE, first: 100) { nodes { id } pageInfo { hasNextPage } }
  stockMovements(sku: $sku, first: 100) { nodes { reason } }
  alerts(sku: $sku) { nodes { kind } }
  inventoryAudit { checkedLevels mismatches { sku locationId expected actual }
    totalMismatches { sku expected actual } }
}"""
NUDGE_DEADLINE = 10.0  # seconds for a subscription on process 1 to show it is live
CROSS_PROCESS_WITHIN = 2.0  # seconds from a mutation's answer on process 2 to the event
RESERVATIONS = 200
UNITS = 10


@dataclass
class Site:
    home: Path
    env: dict[str, str]
    staff_key: str
    readonly_key: str


async def _issue_keys(database_url: str) -> tuple[str, str]:
    container = build_container(Settings(database_url=database_url))
    try:
        async with container.uow() as uow:
            staff = await create_api_key(uow, name="e2e-staff", role=Role.STAFF)
            readonly = await create_api_key(uow, name="e2e-readonly", role=Role.READONLY)
            await uow.commit()
    finally:
        await container.close()
    return staff.secret, readonly.secret


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A fresh, migrated PostgreSQL database with two keys, and the test Redis."""
    if not services.TEST_DATABASE_URL:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    if not services.TEST_REDIS_URL:
        services.absent("Redis", "NEXO_TEST_REDIS_URL")
    assert services.TEST_DATABASE_URL is not None
    assert services.TEST_REDIS_URL is not None
    url = services.create_database(services.TEST_DATABASE_URL)
    try:
        migrate(Settings(database_url=url))
        staff, readonly = asyncio.run(_issue_keys(url))
        env = nexo_env(
            NEXO_DATABASE_URL=url, NEXO_REDIS_URL=services.TEST_REDIS_URL, NEXO_ENVIRONMENT="dev"
        )
        yield Site(tmp_path_factory.mktemp("inventory-processes"), env, staff, readonly)
    finally:
        services.drop_database(services.TEST_DATABASE_URL, url)


@pytest.fixture(scope="module")
def servers(site: Site) -> Iterator[list[Server]]:
    with serving(site.home, site.env, "first", "second") as started:
        yield started


@asynccontextmanager
async def client(server: Server, **limits: int) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=60, limits=httpx.Limits(**limits)
    ) as http:
        yield http


async def setup_sku(http: httpx.AsyncClient, key: str) -> tuple[str, str, str]:
    """A new SKU, and a location's id and code (unique: Redis pub/sub is shared by every run)."""
    suffix = uuid.uuid4().hex[:10]
    sku, code = f"E2E-{suffix}", f"L-{suffix}"
    created = data(await gql(http, CREATE_LOCATION, {"code": code}, key=key))["createLocation"]
    assert created["userErrors"] == []
    item = data(await gql(http, CREATE_ITEM, {"sku": sku}, key=key))["createInventoryItem"]
    assert item["userErrors"] == []
    return sku, created["location"]["id"], code


async def receive(
    http: httpx.AsyncClient, key: str, sku: str, location: str, quantity: int, op_key: str
) -> dict[str, Any]:
    variables = {"sku": sku, "location": location, "quantity": quantity, "key": op_key}
    payload: dict[str, Any] = data(await gql(http, RECEIVE, variables, key=key))["receiveStock"]
    assert payload["userErrors"] == []
    level: dict[str, Any] = payload["levels"][0]
    return level


class Subscriber:
    """A graphql-transport-ws client on the `websockets` library."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws

    async def receive(self, within: float) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), within))
        return message

    async def init(self, key: str) -> None:
        await self.ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {key}"}})
        )
        assert (await self.receive(5))["type"] == "connection_ack"

    async def subscribe(self, op: str, query: str, variables: dict[str, Any]) -> None:
        payload = {"query": query, "variables": variables}
        await self.ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))

    async def next(self, op: str, within: float) -> dict[str, Any]:
        """The data of the next `next` message of `op`, answering pings on the way."""
        async with asyncio.timeout(within):
            while True:
                message = await self.receive(within)
                if message["type"] == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                    continue
                assert message.get("id") == op, message
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                event: dict[str, Any] = keys_in(message["payload"]["data"])
                return event


async def test_a_change_on_one_process_reaches_a_subscriber_of_the_other(
    site: Site, servers: list[Server]
) -> None:
    first, second = servers
    async with client(second) as http:
        sku, location, code = await setup_sku(http, site.staff_key)
        async with connect(
            first.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=5
        ) as ws:
            subscriber = Subscriber(ws)
            await subscriber.init(site.readonly_key)
            await subscriber.subscribe("1", STOCK_CHANGED, {"skus": [sku]})

            # Nothing on the wire says when process 1 has registered the subscription: nudge
            # the SKU through process 2 until an event comes back, then the path is live.
            deadline = time.monotonic() + NUDGE_DEADLINE
            nudges = 0
            while True:
                nudges += 1
                await receive(http, site.staff_key, sku, location, 1, f"nudge-{nudges}")
                try:
                    seen = (await subscriber.next("1", within=0.25))["stockChanged"]
                    break
                except TimeoutError:
                    assert time.monotonic() < deadline, "no event reached process 1 in time"
            # Each nudge adds 1 and bumps the version by 1.
            assert seen["onHand"] == seen["version"] <= nudges

            level = await receive(http, site.staff_key, sku, location, 5, "the-change")
            assert level == {"onHand": nudges + 5, "reserved": 0, "version": nudges + 1}
            async with asyncio.timeout(CROSS_PROCESS_WITHIN):
                event = seen
                while event["version"] < level["version"]:
                    previous = event["version"]
                    event = (await subscriber.next("1", within=CROSS_PROCESS_WITHIN))[
                        "stockChanged"
                    ]
                    assert event["version"] == previous + 1, "events arrive in order, none lost"
            assert event == {
                "sku": sku,
                "locationId": location,
                "locationCode": code,
                "onHand": nudges + 5,
                "reserved": 0,
                "available": nudges + 5,
                "version": nudges + 1,
                "reason": "receive",
                "channels": [],
            }
            await ws.send(json.dumps({"id": "1", "type": "complete"}))


async def test_concurrent_reservations_never_take_more_than_there_is(
    site: Site, servers: list[Server]
) -> None:
    server = servers[0]
    key = site.staff_key
    async with client(server, max_connections=50, max_keepalive_connections=50) as http:
        sku, location, _ = await setup_sku(http, key)
        await receive(http, key, sku, location, UNITS, "stock-in")

        async def reserve(n: int) -> dict[str, Any]:
            body = await gql(http, RESERVE, {"sku": sku, "key": f"{sku}-{n}"}, key=key)
            payload: dict[str, Any] = data(body)["reserveStock"]
            return payload

        results = await asyncio.gather(*(reserve(n) for n in range(RESERVATIONS)))

        won = [r for r in results if r["reservation"] is not None]
        lost = [r for r in results if r["reservation"] is None]
        assert len(won) == UNITS
        assert len(lost) == RESERVATIONS - UNITS
        assert all(r["userErrors"] == [] and r["replayed"] is False for r in won)
        assert {(r["reservation"]["quantity"], r["reservation"]["status"]) for r in won} == {
            (1, "ACTIVE")
        }
        assert all(
            r["userErrors"] == [{"field": "quantity", "code": "INSUFFICIENT_STOCK"}] for r in lost
        ), [r["userErrors"] for r in lost if r["userErrors"][0]["code"] != "INSUFFICIENT_STOCK"]

        found = data(await gql(http, FIND, {"sku": sku}, key=site.readonly_key))
    assert found["inventoryItem"] == {
        "onHand": UNITS,
        "reserved": UNITS,
        "available": 0,
        "stockState": "OUT",
    }
    assert {r["id"] for r in found["reservations"]["nodes"]} == {
        r["reservation"]["id"] for r in won
    }
    assert found["reservations"]["pageInfo"]["hasNextPage"] is False
    reasons = [m["reason"] for m in found["stockMovements"]["nodes"]]
    assert sorted(reasons) == ["RECEIVE"] + ["RESERVE"] * UNITS
    # Back in stock when received, out of stock once: each crossing alerts once.
    assert [a["kind"] for a in found["alerts"]["nodes"]] == ["OUT_OF_STOCK", "BACK_IN_STOCK"]
    assert found["inventoryAudit"]["mismatches"] == []
    assert found["inventoryAudit"]["totalMismatches"] == []
    assert found["inventoryAudit"]["checkedLevels"] >= 1
