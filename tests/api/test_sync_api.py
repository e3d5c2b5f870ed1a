"""The sync engine through the API: the call log, a channel's backlog, live calls, reconcile."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.container import Container
from adapters.queue.inprocess import InProcessJobQueue
from domain.channels.outbox import Dirty, OutboxKind
from domain.jobs import RECONCILE_JOB
from domain.sync.model import CallOutcome, SyncCall
from domain.sync.relay import SYNC_TOPIC, sync_event
from tests.graphql import GraphQLSocket, data, gql, websocket
from workers.registry import JOBS

SYNC_LOG = """
query($channelId: ID, $outcome: SyncOutcome, $first: Int, $after: String) {
  syncLog(channelId: $channelId, outcome: $outcome, first: $first, after: $after) {
    edges { cursor node { id channelId operation keys outcome attempt latencyMs message
                          createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
STATUS = """
query($channelId: ID!) {
  channelSyncStatus(channelId: $channelId) {
    channelId pending oldestPendingAt oldestPendingAgeSeconds dead calls failures throttles
  }
}"""
SYNC_EVENTS = """
subscription($channelId: ID) {
  syncEvents(channelId: $channelId) { id channelId operation keys outcome attempt latencyMs
                                      message createdAt }
}"""
RECONCILE = """
mutation($input: RequestReconcileInput!) {
  requestReconcile(input: $input) { channelId queued userErrors { field message code } }
}"""
CREATE_CHANNEL = """
mutation($name: String!) {
  createChannel(input: {name: $name, kind: SHOPIFY, currency: "USD"}) {
    channel { id } userErrors { code }
  }
}"""


@dataclass(frozen=True)
class Seeded:
    shop: str
    market: str
    calls: list[SyncCall]  # newest first, as the log lists them
    now: datetime


async def create_channel(http: httpx.AsyncClient, key: str, name: str) -> str:
    created = data(await gql(http, CREATE_CHANNEL, {"name": name}, key=key))["createChannel"]
    assert created["userErrors"] == []
    return str(created["channel"]["id"])


def call(
    channel: str, outcome: CallOutcome, at: datetime, keys: tuple[str, ...] = ("A",)
) -> SyncCall:
    return SyncCall(
        id=uuid.uuid4(),
        channel_id=uuid.UUID(channel),
        operation="push_quantities",
        keys=keys,
        outcome=outcome,
        attempt=1 if outcome is CallOutcome.OK else 2,
        latency_ms=120,
        message=None if outcome is CallOutcome.OK else f"{outcome.value} by the channel",
        created_at=at,
    )


def node(c: SyncCall) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "channelId": str(c.channel_id),
        "operation": c.operation,
        "keys": list(c.keys),
        "outcome": c.outcome.name,
        "attempt": c.attempt,
        "latencyMs": c.latency_ms,
        "message": c.message,
        "createdAt": c.created_at.isoformat(),
    }


@pytest.fixture
async def seeded(http: httpx.AsyncClient, staff_key: str, container: Container) -> Seeded:
    """Shop: five calls (one older than an hour) and a backlog; Market: one call, no backlog."""
    shop = await create_channel(http, staff_key, "Shop")
    market = await create_channel(http, staff_key, "Market")
    now = datetime.now(UTC).replace(microsecond=0)
    calls = [
        call(market, CallOutcome.OK, now - timedelta(minutes=1), ("M1", "M2")),
        call(shop, CallOutcome.DEAD, now - timedelta(minutes=5)),
        call(shop, CallOutcome.THROTTLED, now - timedelta(minutes=10)),
        call(shop, CallOutcome.FAILED, now - timedelta(minutes=20)),
        call(shop, CallOutcome.OK, now - timedelta(minutes=30), ("A", "B")),
        call(shop, CallOutcome.OK, now - timedelta(hours=3)),
    ]
    async with container.uow() as uow:
        await uow.sync_log.add(calls)
        # A waits from ten minutes ago and is being sent; B waits for a retry; C is dead.
        await uow.outbox.mark(
            [Dirty(uuid.UUID(shop), OutboxKind.QUANTITY, "A")], now - timedelta(minutes=10)
        )
        await uow.outbox.mark(
            [Dirty(uuid.UUID(shop), OutboxKind.QUANTITY, k) for k in ("B", "C")],
            now - timedelta(minutes=1),
        )
        claimed = {e.key: e.id for e in await uow.outbox.claim(uuid.UUID(shop), now, 10)}
        await uow.outbox.retry([claimed["B"]], "busy", now + timedelta(minutes=1))
        await uow.outbox.bury([claimed["C"]], "gone")
        await uow.commit()
    return Seeded(shop, market, calls, now)


async def sync_log(http: httpx.AsyncClient, key: str, **variables: Any) -> dict[str, Any]:
    page: dict[str, Any] = data(await gql(http, SYNC_LOG, variables, key=key))["syncLog"]
    return page


async def test_the_sync_log_lists_calls_newest_first(
    http: httpx.AsyncClient, readonly_key: str, seeded: Seeded
) -> None:
    page = await sync_log(http, readonly_key)
    assert [e["node"] for e in page["edges"]] == [node(c) for c in seeded.calls]
    assert page["pageInfo"]["hasNextPage"] is False


async def test_the_sync_log_filters_by_channel_and_outcome(
    http: httpx.AsyncClient, readonly_key: str, seeded: Seeded
) -> None:
    shop = await sync_log(http, readonly_key, channelId=seeded.shop)
    assert [e["node"]["id"] for e in shop["edges"]] == [str(c.id) for c in seeded.calls[1:]]

    ok = await sync_log(http, readonly_key, channelId=seeded.shop, outcome="OK")
    assert [e["node"]["keys"] for e in ok["edges"]] == [["A", "B"], ["A"]]

    throttled = await sync_log(http, readonly_key, outcome="THROTTLED")
    assert [e["node"] for e in throttled["edges"]] == [node(seeded.calls[2])]


async def test_the_sync_log_pages_by_cursor(
    http: httpx.AsyncClient, readonly_key: str, seeded: Seeded
) -> None:
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = await sync_log(http, readonly_key, channelId=seeded.shop, first=2, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == [str(c.id) for c in seeded.calls[1:]]
    assert page["pageInfo"]["hasNextPage"] is False

    bad = await gql(http, SYNC_LOG, {"after": "not-a-cursor"}, key=readonly_key)
    assert bad["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "after"}
    too_many = await gql(http, SYNC_LOG, {"first": 101}, key=readonly_key)
    assert too_many["errors"][0]["extensions"]["field"] == "first"


async def test_channel_sync_status_counts_the_backlog_and_the_last_hour(
    http: httpx.AsyncClient, readonly_key: str, seeded: Seeded
) -> None:
    status = data(await gql(http, STATUS, {"channelId": seeded.shop}, key=readonly_key))[
        "channelSyncStatus"
    ]
    age = status.pop("oldestPendingAgeSeconds")
    assert 600 <= age < 660
    assert datetime.fromisoformat(status.pop("oldestPendingAt")) == seeded.now - timedelta(
        minutes=10
    )
    # The three-hour-old call is outside the window; DEAD counts as a failure.
    assert status == {
        "channelId": seeded.shop,
        "pending": 2,
        "dead": 1,
        "calls": 4,
        "failures": 2,
        "throttles": 1,
    }

    quiet = data(await gql(http, STATUS, {"channelId": seeded.market}, key=readonly_key))[
        "channelSyncStatus"
    ]
    assert quiet == {
        "channelId": seeded.market,
        "pending": 0,
        "oldestPendingAt": None,
        "oldestPendingAgeSeconds": None,
        "dead": 0,
        "calls": 1,
        "failures": 0,
        "throttles": 0,
    }

    unknown = await gql(http, STATUS, {"channelId": str(uuid.uuid4())}, key=readonly_key)
    assert unknown["data"] is None
    assert unknown["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "channelId"}


async def subscribed(
    app: Starlette, socket: GraphQLSocket, key: str, variables: dict[str, Any]
) -> str:
    """Subscribe to syncEvents and return once the server listens on the bus."""
    assert (await socket.init(key))["type"] == "connection_ack"
    fanout = app.state.container.bus.fanout
    before = fanout.subscriber_count(SYNC_TOPIC)
    op = await socket.subscribe(SYNC_EVENTS, variables)
    async with asyncio.timeout(5):
        await fanout.wait_for_subscribers(SYNC_TOPIC, before + 1)
    return op


async def test_sync_events_stream_the_chosen_channels_calls(
    app: Starlette, container: Container, readonly_key: str, seeded: Seeded
) -> None:
    market_call = call(seeded.market, CallOutcome.OK, seeded.now)
    shop_call = call(seeded.shop, CallOutcome.THROTTLED, seeded.now, ("A", "B"))
    async with websocket(app) as socket:
        op = await subscribed(app, socket, readonly_key, {"channelId": seeded.shop})
        await container.bus.publish(SYNC_TOPIC, sync_event(market_call).payload)
        await container.bus.publish(SYNC_TOPIC, sync_event(shop_call).payload)
        # The market's call came first on the bus; the first message is the shop's.
        payload = await socket.next_payload(op, within=2)
        assert payload == {"data": {"syncEvents": node(shop_call)}}
        await socket.complete(op)


async def test_an_unfiltered_sync_subscriber_gets_every_channel(
    app: Starlette, container: Container, staff_key: str, seeded: Seeded
) -> None:
    calls = [
        call(seeded.market, CallOutcome.OK, seeded.now),
        call(seeded.shop, CallOutcome.DEAD, seeded.now),
    ]
    async with websocket(app) as socket:
        op = await subscribed(app, socket, staff_key, {})
        for c in calls:
            await container.bus.publish(SYNC_TOPIC, sync_event(c).payload)
        received = [await socket.next_payload(op, within=2) for _ in calls]
        assert [p["data"]["syncEvents"] for p in received] == [node(c) for c in calls]
        await socket.complete(op)


async def test_request_reconcile_queues_the_job_when_workers_know_it(
    http: httpx.AsyncClient,
    container: Container,
    staff_key: str,
    readonly_key: str,
    seeded: Seeded,
) -> None:
    body = await gql(http, RECONCILE, {"input": {"channelId": seeded.shop}}, key=staff_key)
    payload = data(body)["requestReconcile"]
    if any(spec.name == RECONCILE_JOB for spec in JOBS):
        assert payload == {"channelId": seeded.shop, "queued": True, "userErrors": []}
        # The in-process queue runs it now; let it finish before the database goes away.
        assert isinstance(container.queue, InProcessJobQueue)
        await container.queue.drain()
    else:
        # The job is not registered (yet): the request is refused, not silently lost.
        assert payload == {
            "channelId": None,
            "queued": False,
            "userErrors": [
                {
                    "field": None,
                    "message": "reconciliation is not available",
                    "code": "INVALID_INPUT",
                }
            ],
        }

    unknown = data(
        await gql(http, RECONCILE, {"input": {"channelId": str(uuid.uuid4())}}, key=staff_key)
    )["requestReconcile"]
    assert (unknown["queued"], unknown["userErrors"][0]["code"]) == (False, "NOT_FOUND")
    assert unknown["userErrors"][0]["field"] == "channelId"

    refused = await gql(http, RECONCILE, {"input": {"channelId": seeded.shop}}, key=readonly_key)
    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


async def test_request_reconcile_is_refused_when_no_worker_runs_it(
    http: httpx.AsyncClient, staff_key: str, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under arq an unknown job would be accepted and fail later in a worker.
    monkeypatch.setattr("api.schema.sync.JOBS", [])
    body = await gql(http, RECONCILE, {"input": {"channelId": seeded.shop}}, key=staff_key)
    assert data(body)["requestReconcile"] == {
        "channelId": None,
        "queued": False,
        "userErrors": [
            {"field": None, "message": "reconciliation is not available", "code": "INVALID_INPUT"}
        ],
    }


async def test_a_channel_that_cannot_be_synced_says_why_in_its_status_and_readyz(
    http: httpx.AsyncClient, staff_key: str
) -> None:
    shop = await create_channel(http, staff_key, "Shop")  # Shopify, no credentials
    status = data(
        await gql(
            http,
            "query($c: ID!) { channelSyncStatus(channelId: $c) { problem } }",
            {"c": shop},
            key=staff_key,
        )
    )["channelSyncStatus"]

    assert status["problem"] is not None
    ready = await http.get("/readyz")
    assert ready.status_code == 200  # the process itself is ready
    assert ready.json()["channels"]["Shop"] == status["problem"]
