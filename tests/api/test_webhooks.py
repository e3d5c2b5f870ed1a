"""Shopify webhooks into the inbox, and what the hub does with them.

A hub with a warehouse feeding a Shopify channel (backed by the Shopify sandbox, whose
webhooks POST to this app) and a web store; one shirt listed on Shopify through the relay.
The merchant then edits stock in Shopify admin. Jobs enqueued by the app are held, so each
test runs them when it says so (the real job functions, called directly).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from adapters.channels.shopify.connect import shopify_factory
from adapters.container import Container, build_container
from adapters.db.tables import alerts, outbox
from adapters.ratelimit import MemoryRateLimiter
from adapters.settings import Settings
from domain.catalog.channel_settings import set_channel_credentials
from domain.jobs import (
    ALLOCATE_JOB,
    DRAIN_JOB,
    PROCESS_INBOX_JOB,
    PROCESS_INBOX_MANY_JOB,
    PULL_JOB,
    RECHECK_JOB,
)
from domain.orders.ports import OrderFilter
from domain.orders.pull import PULL_WAIT_LIMIT, pull_orders
from domain.sync import inbox
from domain.sync import reconcile as reconciliation
from domain.sync.relay import Relay
from sandbox.shopify import ShopifySandbox
from sandbox.shopify.webhooks import sign
from tests.api.catalog.support import create_product, shirt
from tests.graphql import data, gql
from workers.jobs.inbox import process_inbox, retry_inbox
from workers.jobs.orders import allocate_order
from workers.jobs.sync import drain_channel, recheck_drifts, reconcile_channel

SHOP = "nexo-demo.myshopify.com"
SHOP_LOCATION = "gid://shopify/Location/1"
SECRET = "sandbox-secret"
CREDENTIALS = {"shop_domain": SHOP, "access_token": "shpat_sandbox", "api_secret": SECRET}
SKU = "TS-S-RED"
STOCK_TOPIC = "inventory_levels/update"

INBOX = """
query($c: ID!, $s: InboxStatus, $first: Int!, $after: String) {
  inboxEvents(channelId: $c, status: $s, first: $first, after: $after) {
    edges { cursor node { id eventId topic kind status error attempts sku occurredAt
                          receivedAt processedAt payload } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SET_POLICY = """
mutation($input: SetStockEditPolicyInput!) {
  setStockEditPolicy(input: $input) { channel { id } policy userErrors { field message code } }
}"""
MOVEMENTS = """
query($sku: String!) {
  stockMovements(sku: $sku, first: 100) {
    nodes { location { id } onHandDelta reservedDelta reason actor detail }
  }
}"""
ITEM = """
query($sku: String!) { inventoryItem(sku: $sku) { onHand reserved available } }"""
RECEIVE = """
mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { userErrors { field message } } }"""
AUDIT = "{ inventoryAudit { mismatches { sku } totalMismatches { sku } } }"
ALERTS = "{ alerts(first: 50) { nodes { kind sku channelId message } } }"


class HeldJobs:
    """The app's queue, held: jobs are recorded, and run only when a test runs them."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[Any, ...]]] = []

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float = 0
    ) -> bool:
        if not (job_id or "").startswith("periodic:"):  # sweeps: tests run them themselves
            self.jobs.append((job, args))
        return True

    def take(self, name: str) -> list[tuple[Any, ...]]:
        taken = [args for job, args in self.jobs if job == name]
        self.jobs = [(job, args) for job, args in self.jobs if job != name]
        return taken

    def events(self) -> list[str]:
        """The events processing was asked for: by the intake (one request for the events
        it stored together) or one by one (a held edit, the sweep), oldest first."""
        asked = [
            inbox_id
            for job, args in self.jobs
            if job in (PROCESS_INBOX_JOB, PROCESS_INBOX_MANY_JOB)
            for inbox_id in (args[0] if job == PROCESS_INBOX_MANY_JOB else [args[0]])
        ]
        self.take(PROCESS_INBOX_JOB)
        self.take(PROCESS_INBOX_MANY_JOB)
        return asked


@dataclass
class Hub:
    http: httpx.AsyncClient
    key: str
    container: Container
    sandbox: ShopifySandbox
    location: str
    shopify: str
    web: str
    held: HeldJobs = field(default_factory=HeldJobs)

    async def call(self, query: str, **variables: Any) -> Any:
        return data(await gql(self.http, query, variables, key=self.key))

    async def events(self, status: str | None = None) -> list[dict[str, Any]]:
        page = (await self.call(INBOX, c=self.shopify, s=status, first=100))["inboxEvents"]
        assert page["pageInfo"]["hasNextPage"] is False
        return [edge["node"] for edge in page["edges"]]

    async def pull(self) -> None:
        """A pull of the shop's orders, read to the end: a figure the shop lowered waits
        for one that started after it arrived (the sale's order may come only by it)."""
        await pull_orders(self.container.uow, self.container.connector, uuid.UUID(self.shopify))
        self.held.take(PULL_JOB)

    async def process(self) -> list[str]:
        """Run every held processing request (the job itself), after a pull of the shop's
        orders; returns the events' ids."""
        ids = self.held.events()
        await self.pull()
        for inbox_id in ids:
            await process_inbox(self.container.job_context, inbox_id)
        return ids

    async def relay(self) -> None:
        """Run the held relay requests, and what they request in turn, to the end."""
        while requests := self.held.take(DRAIN_JOB):
            for (channel_id,) in requests:
                await drain_channel(self.container.job_context, channel_id)

    async def policy(self, policy: str) -> dict[str, Any]:
        given = {"channelId": self.shopify, "policy": policy}
        payload: dict[str, Any] = (await self.call(SET_POLICY, input=given))["setStockEditPolicy"]
        return payload

    async def pending(self) -> set[tuple[str, str, str]]:
        """Outbox rows waiting: (channel id, kind, key)."""
        async with self.container.engine.connect() as conn:
            rows = await conn.execute(
                select(outbox.c.channel_id, outbox.c.kind, outbox.c.key).where(
                    outbox.c.status == "pending"
                )
            )
            return {(str(r.channel_id), r.kind, r.key) for r in rows}

    async def sync_log(self) -> list[Any]:
        async with self.container.uow(readonly=True) as uow:
            return await uow.sync_log.page(
                channel_id=uuid.UUID(self.shopify), outcome=None, first=100, after=None
            )

    async def inventory_item_id(self, sku: str) -> int:
        async with self.container.uow(readonly=True) as uow:
            _, item = (await uow.listings.items_on(uuid.UUID(self.shopify), [sku]))[sku]
        return int(item.refs["inventory_item_id"].rsplit("/", 1)[1])

    async def post(
        self, body: bytes, headers: dict[str, str], channel: str | None = None
    ) -> httpx.Response:
        return await self.http.post(
            f"/webhooks/{channel or self.shopify}", content=body, headers=headers
        )


def signed(body: bytes, *, topic: str = STOCK_TOPIC, event_id: str | None = None) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-01-05T10:00:00.000Z",
        "X-Shopify-Hmac-Sha256": sign(body, SECRET),
    }


def stock_body(item_id: int, available: int, at: str = "2026-01-05T10:00:00Z") -> bytes:
    payload = {
        "inventory_item_id": item_id,
        "location_id": 1,
        "available": available,
        "updated_at": at,
    }
    return json.dumps(payload).encode()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Edits lowering the shop's figure are acted on at once here; the hold has its tests."""
    return settings.model_copy(update={"stock_edit_hold_seconds": 0.0})


@pytest.fixture
async def hub(
    http: httpx.AsyncClient, staff_key: str, container: Container, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Hub]:
    async def ok(query: str, name: str, **variables: Any) -> Any:
        payload = data(await gql(http, query, variables, key=staff_key))[name]
        assert not payload.get("userErrors"), payload
        return payload

    location = (
        await ok(
            'mutation { createLocation(input: {code: "WH", name: "Warehouse", kind: WAREHOUSE})'
            " { location { id } userErrors { field message } } }",
            "createLocation",
        )
    )["location"]["id"]
    create = (
        "mutation($i: CreateChannelInput!) { createChannel(input: $i)"
        " { channel { id } userErrors { field message } } }"
    )
    shopify = (
        await ok(create, "createChannel", i={"name": "Shopify", "kind": "SHOPIFY",
                 "currency": "USD", "locationIds": [location]})
    )["channel"]["id"]  # fmt: skip
    web = (
        await ok(create, "createChannel", i={"name": "Web", "kind": "WEBSTORE",
                 "currency": "USD", "locationIds": [location]})
    )["channel"]["id"]  # fmt: skip
    sandbox = ShopifySandbox(
        webhook_url=f"http://nexo.test/webhooks/{shopify}", webhook_client=http
    )
    shop_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=f"https://{SHOP}"
    )
    try:
        container.connector.register("shopify", shopify_factory(shop_http, MemoryRateLimiter()))
        await ok(
            "mutation($i: SetChannelCredentialsInput!) { setChannelCredentials(input: $i)"
            " { userErrors { field message } } }",
            "setChannelCredentials",
            i={"channelId": shopify,
               "credentials": [{"name": k, "value": v} for k, v in CREDENTIALS.items()]},
        )  # fmt: skip
        await ok(
            "mutation($i: SetListingRuleInput!) { setListingRule(input: $i)"
            " { userErrors { field message } } }",
            "setListingRule",
            i={"channelId": shopify, "selector": {"kind": "ALL"},
               "settings": [{"name": "locationId", "value": SHOP_LOCATION}]},
        )  # fmt: skip
        created = await create_product(http, staff_key, shirt())
        assert not created["userErrors"], created
        await ok(
            "mutation($i: ReceiveStockInput!) { receiveStock(input: $i)"
            " { userErrors { field message } } }",
            "receiveStock",
            i={"sku": SKU, "locationId": location, "quantity": 10, "idempotencyKey": "in-1"},
        )
        # The relay lists the shirt on Shopify; Shopify's webhooks about it come back in step.
        await container.queue.drain()
        await sandbox.deliver_pending_webhooks()
        await container.queue.drain()
        made = Hub(http, staff_key, container, sandbox, location, shopify, web)
        assert sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 10
        monkeypatch.setattr(container.queue, "enqueue", made.held.enqueue)
        yield made
    finally:
        await shop_http.aclose()
        await sandbox.aclose()


def delivered(sandbox: ShopifySandbox) -> list[int | None]:
    return [entry["status"] for entry in sandbox.webhook_log]


# Receiving


async def test_setup_events_were_all_in_step(hub: Hub) -> None:
    # Shopify reported back each quantity the relay set: nothing to do, nothing pending.
    events = await hub.events()
    assert events
    assert {(e["status"], e["error"]) for e in events if e["kind"] == "STOCK_EDIT"} == {
        ("PROCESSED", None)
    }
    assert {e["status"] for e in events if e["kind"] == "OTHER"} <= {"IGNORED"}
    assert not [c for c in await hub.sync_log() if c.operation == "stock_edit"]


async def test_an_edit_in_shopify_admin_is_stored_once_and_processed_by_a_job(hub: Hub) -> None:
    before = await hub.events()
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 3)

    assert delivered(hub.sandbox)[-1] == 200
    events = await hub.events()
    assert len(events) == len(before) + 1
    new = events[0]
    assert (new["topic"], new["kind"], new["status"], new["attempts"]) == (
        STOCK_TOPIC, "STOCK_EDIT", "RECEIVED", 0,
    )  # fmt: skip
    assert json.loads(new["payload"])["available"] == 3
    # Nothing was acted on inline: the app only asked for a run.
    assert hub.held.jobs == [(PROCESS_INBOX_MANY_JOB, ([new["id"]],))]

    assert await hub.process() == [new["id"]]
    [done] = [e for e in await hub.events() if e["id"] == new["id"]]
    assert (done["status"], done["sku"]) == ("PROCESSED", SKU)
    assert done["processedAt"] is not None


async def test_unsigned_tampered_or_foreign_webhooks_are_401_and_store_nothing(
    hub: Hub, container: Container
) -> None:
    before = await hub.events()
    item = await hub.inventory_item_id(SKU)
    body = stock_body(item, 4)
    unsigned = {k: v for k, v in signed(body).items() if k != "X-Shopify-Hmac-Sha256"}
    tampered = stock_body(item, 40)
    wrong_secret = {**signed(body), "X-Shopify-Hmac-Sha256": sign(body, "someone-else")}

    answers = [
        await hub.post(body, unsigned),
        await hub.post(tampered, signed(body)),
        await hub.post(body, wrong_secret),
        await hub.post(body, signed(body), channel=str(uuid.uuid4())),  # unknown channel
        await hub.post(body, signed(body), channel="not-a-channel"),
        await hub.post(body, signed(body), channel=hub.web),  # no credentials, no webhooks
    ]

    assert [a.status_code for a in answers] == [401] * 6
    assert await hub.events() == before
    assert hub.held.jobs == []


async def test_a_body_over_one_megabyte_is_refused(hub: Hub) -> None:
    body = b'{"padding": "' + b"x" * (1024 * 1024) + b'"}'
    answer = await hub.post(body, signed(body))
    assert answer.status_code == 413
    assert hub.held.jobs == []


async def test_the_same_event_delivered_three_times_is_one_row(hub: Hub) -> None:
    before = len(await hub.events())
    body = stock_body(await hub.inventory_item_id(SKU), 7)
    event_id = str(uuid.uuid4())
    # Each redelivery has its own webhook id (and could be signed again); the event id repeats.
    answers = [await hub.post(body, signed(body, event_id=event_id)) for _ in range(3)]

    assert [(a.status_code, a.json()["status"]) for a in answers] == [
        (200, "received"), (200, "duplicate"), (200, "duplicate"),
    ]  # fmt: skip
    events = await hub.events()
    assert len(events) == before + 1
    assert [e["eventId"] for e in events].count(event_id) == 1
    assert len(hub.held.events()) == 1


async def test_the_same_event_delivered_five_times_at_once_is_one_row(hub: Hub) -> None:
    before = len(await hub.events())
    body = stock_body(await hub.inventory_item_id(SKU), 7)
    event_id = str(uuid.uuid4())
    answers = await asyncio.gather(
        *(hub.post(body, signed(body, event_id=event_id)) for _ in range(5))
    )

    assert sorted(a.json()["status"] for a in answers) == ["duplicate"] * 4 + ["received"]
    events = await hub.events()
    assert len(events) == before + 1
    assert len(hub.held.events()) == 1


async def test_shopifys_own_duplicate_delivery_is_one_row(hub: Hub) -> None:
    before = len(await hub.events())
    hub.sandbox.faults.duplicate_webhooks = 1
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 6)

    assert [e["outcome"] for e in hub.sandbox.webhook_log[-2:]] == ["delivered", "duplicate"]
    assert delivered(hub.sandbox)[-2:] == [200, 200]
    assert len(await hub.events()) == before + 1


# Credentials change


SET_CREDENTIALS = """
mutation($i: SetChannelCredentialsInput!) {
  setChannelCredentials(input: $i) { userErrors { field message } }
}"""
ROTATED = "rotated-secret"


def signed_with(secret: str, body: bytes) -> dict[str, str]:
    return {**signed(body), "X-Shopify-Hmac-Sha256": sign(body, secret)}


async def rotate_elsewhere(settings: Settings, channel: str, secret: str) -> None:
    """Change the channel's webhook secret as another API process would: this app's
    process is not told."""
    other = build_container(settings)
    try:
        async with other.uow() as uow:
            await set_channel_credentials(
                uow, uuid.UUID(channel), {**CREDENTIALS, "api_secret": secret}, other.secrets,
                now=datetime.now(UTC),
            )  # fmt: skip
            await uow.commit()
    finally:
        await other.close()


async def test_after_a_rotation_through_the_api_the_old_secret_is_refused(hub: Hub) -> None:
    first = stock_body(987654321, 1)
    assert (await hub.post(first, signed(first))).status_code == 200  # the secret is known
    rotated = {**CREDENTIALS, "api_secret": ROTATED}
    given = {"channelId": hub.shopify,
             "credentials": [{"name": k, "value": v} for k, v in rotated.items()]}  # fmt: skip
    assert (await hub.call(SET_CREDENTIALS, i=given))["setChannelCredentials"]["userErrors"] == []
    before = await hub.events()
    hub.held.jobs.clear()

    old, new = stock_body(987654321, 2), stock_body(987654321, 3)
    assert (await hub.post(old, signed(old))).status_code == 401
    assert await hub.events() == before
    assert hub.held.jobs == []
    answer = await hub.post(new, signed_with(ROTATED, new))
    assert (answer.status_code, answer.json()["status"]) == (200, "received")
    assert len(await hub.events()) == len(before) + 1


async def test_after_a_rotation_by_another_process_the_old_secret_is_refused_here(
    hub: Hub, settings: Settings
) -> None:
    first = stock_body(987654321, 1)
    assert (await hub.post(first, signed(first))).status_code == 200  # the secret is known
    await rotate_elsewhere(settings, hub.shopify, ROTATED)
    before = await hub.events()

    # The remembered secret takes it; the statement storing it finds the credentials changed.
    old = stock_body(987654321, 2)
    assert (await hub.post(old, signed(old))).status_code == 401
    assert await hub.events() == before
    new = stock_body(987654321, 3)
    assert (await hub.post(new, signed_with(ROTATED, new))).json()["status"] == "received"


async def test_after_a_rotation_by_another_process_the_new_secret_is_taken_here(
    hub: Hub, settings: Settings
) -> None:
    first = stock_body(987654321, 1)
    assert (await hub.post(first, signed(first))).status_code == 200  # the secret is known
    await rotate_elsewhere(settings, hub.shopify, ROTATED)
    before = await hub.events()

    # The remembered secret refuses the new signature: checked again with the stored one.
    new = stock_body(987654321, 2)
    answer = await hub.post(new, signed_with(ROTATED, new))
    assert (answer.status_code, answer.json()["status"]) == (200, "received")
    events = await hub.events()
    assert len(events) == len(before) + 1
    assert json.loads(events[0]["payload"])["available"] == 2


async def test_a_rotation_between_the_check_and_the_store_keeps_the_event_out(
    hub: Hub, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = stock_body(987654321, 1)
    assert (await hub.post(first, signed(first))).status_code == 200  # the secret is known
    before = await hub.events()
    verifiers = hub.container.verifiers
    remembered = verifiers.get

    async def rotated_meanwhile(channel_id: uuid.UUID, *, fresh: bool = False) -> Any:
        found = await remembered(channel_id, fresh=fresh)
        if not fresh:  # the remembered verifier goes out of date before the event is stored
            await rotate_elsewhere(settings, hub.shopify, ROTATED)
        return found

    monkeypatch.setattr(verifiers, "get", rotated_meanwhile)
    old = stock_body(987654321, 2)
    assert (await hub.post(old, signed(old))).status_code == 401
    assert await hub.events() == before


async def test_a_known_channels_webhook_costs_one_statement(hub: Hub) -> None:
    first = stock_body(987654321, 1)
    assert (await hub.post(first, signed(first))).status_code == 200  # the secret is known
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's explicit BEGIN (no round trip)
            statements.append(statement)

    engine = hub.container.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        body = stock_body(987654321, 2)
        assert (await hub.post(body, signed(body))).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    [insert] = statements
    assert insert.startswith("INSERT INTO inbox")


# Hub wins


async def test_under_hub_wins_the_drift_is_logged_and_nexos_number_goes_back(hub: Hub) -> None:
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 3)
    await hub.process()

    [drift] = [c for c in await hub.sync_log() if c.operation == "stock_edit"]
    assert drift.keys == (SKU,)
    assert drift.outcome.value == "ok"
    assert drift.message.startswith("channel showed 3, hub publishes 10")
    assert (hub.shopify, "quantity", SKU) in await hub.pending()
    assert hub.held.jobs == [(DRAIN_JOB, (hub.shopify,))]
    # Nexo's stock is untouched.
    assert (await hub.call(ITEM, sku=SKU))["inventoryItem"]["onHand"] == 10

    await hub.relay()
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 10
    assert await hub.pending() == set()


# Accepting channel edits


async def test_an_accepted_edit_adjusts_the_primary_location_and_every_channel_hears(
    hub: Hub,
) -> None:
    assert (await hub.policy("ACCEPT_CHANNEL_EDITS"))["policy"] == "ACCEPT_CHANNEL_EDITS"
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 13)
    [inbox_id] = await hub.process()

    movements = (await hub.call(MOVEMENTS, sku=SKU))["stockMovements"]["nodes"]
    edits = [m for m in movements if m["reason"] == "CHANNEL_EDIT"]
    assert [(m["location"]["id"], m["onHandDelta"], m["reservedDelta"]) for m in edits] == [
        (hub.location, 3, 0)
    ]
    assert edits[0]["actor"] == "channel:Shopify"
    assert (await hub.call(ITEM, sku=SKU))["inventoryItem"]["onHand"] == 13
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}
    pending = await hub.pending()
    assert (hub.web, "quantity", SKU) in pending
    assert (hub.shopify, "quantity", SKU) in pending
    [done] = [e for e in await hub.events() if e["id"] == inbox_id]
    assert done["status"] == "PROCESSED"
    assert "applied +3" in done["error"]

    # A second run of the same event (jobs run at least once) changes nothing.
    await process_inbox(hub.container.job_context, inbox_id)
    again = (await hub.call(MOVEMENTS, sku=SKU))["stockMovements"]["nodes"]
    assert [m["reason"] for m in again].count("CHANNEL_EDIT") == 1

    await hub.relay()
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 13


async def test_successive_edits_apply_each_change_once(hub: Hub) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 15)
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 12)
    await hub.process()
    # Shopify reports the hub's own update back: in step, nothing more applied.
    await hub.relay()
    await hub.sandbox.deliver_pending_webhooks()
    await hub.process()

    movements = (await hub.call(MOVEMENTS, sku=SKU))["stockMovements"]["nodes"]
    assert sorted(m["onHandDelta"] for m in movements if m["reason"] == "CHANNEL_EDIT") == [-3, 5]
    assert (await hub.call(ITEM, sku=SKU))["inventoryItem"]["onHand"] == 12
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 12


async def test_an_older_edit_processed_after_a_newer_one_is_ignored(hub: Hub) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    item = await hub.inventory_item_id(SKU)
    newer, older = (
        stock_body(item, 12, "2030-01-05T10:00:05Z"),
        stock_body(item, 15, "2030-01-05T10:00:01Z"),
    )
    assert (await hub.post(newer, signed(newer))).status_code == 200
    await hub.process()
    assert (await hub.post(older, signed(older))).status_code == 200
    await hub.process()

    statuses = {json.loads(e["payload"]).get("available"): e for e in await hub.events()}
    assert statuses[12]["status"] == "PROCESSED"
    assert (statuses[15]["status"], statuses[15]["error"]) == (
        "IGNORED", f"a later edit of {SKU} came first",
    )  # fmt: skip
    assert (await hub.call(ITEM, sku=SKU))["inventoryItem"]["onHand"] == 12


async def test_edits_of_one_sku_processed_at_once_each_count_once(hub: Hub) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    item = await hub.inventory_item_id(SKU)
    first = stock_body(item, 15, "2030-01-05T10:00:01Z")
    second = stock_body(item, 12, "2030-01-05T10:00:02Z")
    for body in (first, second):
        assert (await hub.post(body, signed(body))).status_code == 200
    ids = hub.held.events()
    await hub.pull()  # 15 then 12: the second lowers the figure, which waits for a pull

    # Two workers at once: whichever decides first, the second decides after it.
    await asyncio.gather(*(process_inbox(hub.container.job_context, i) for i in ids))

    assert (await hub.call(ITEM, sku=SKU))["inventoryItem"]["onHand"] == 12
    movements = (await hub.call(MOVEMENTS, sku=SKU))["stockMovements"]["nodes"]
    assert sum(m["onHandDelta"] for m in movements if m["reason"] == "CHANNEL_EDIT") == 2
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


async def test_an_edit_below_what_is_reserved_fails_and_alerts_when_out_of_attempts(
    hub: Hub,
) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    reserved = await hub.call(
        "mutation($i: ReserveStockInput!) { reserveStock(input: $i)"
        " { userErrors { field message } } }",
        i={"sku": SKU, "quantity": 8, "idempotencyKey": "r-1", "locationId": hub.location},
    )
    assert reserved["reserveStock"]["userErrors"] == []
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 0)  # Shopify showed 10: -10
    [inbox_id] = await hub.process()

    [failed] = [e for e in await hub.events() if e["id"] == inbox_id]
    assert (failed["status"], failed["attempts"], failed["sku"]) == ("FAILED", 1, SKU)
    assert "reserved 8" in failed["error"]
    assert (await hub.call(ITEM, sku=SKU))["inventoryItem"] == {
        "onHand": 10, "reserved": 8, "available": 2,
    }  # fmt: skip

    # The sweep retries it while attempts remain; the last failure raises an alert.
    for attempt in range(2, inbox.MAX_ATTEMPTS + 1):
        assert await retry_inbox(hub.container.job_context) == 1
        await hub.process()
        [failed] = [e for e in await hub.events() if e["id"] == inbox_id]
        assert (failed["status"], failed["attempts"]) == ("FAILED", attempt)
    assert await retry_inbox(hub.container.job_context) == 0
    async with hub.container.engine.connect() as conn:
        raised = (await conn.execute(select(alerts))).all()
    [alert] = [a for a in raised if a.kind == "INBOUND_FAILED"]
    assert (alert.sku, str(alert.channel_id)) == (SKU, hub.shopify)
    assert "reserved 8" in alert.message
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


# What is not a stock edit to act on


async def test_an_unreadable_verified_payload_fails_for_good_with_the_reason(hub: Hub) -> None:
    body = b"this is not json"
    event_id = str(uuid.uuid4())
    answers = [await hub.post(body, signed(body, event_id=event_id)) for _ in range(2)]
    assert [a.json()["status"] for a in answers] == ["received", "duplicate"]
    [inbox_id] = await hub.process()

    [failed] = [e for e in await hub.events() if e["id"] == inbox_id]
    # Stored as its headers name it (the body is not read on arrival), then failed.
    assert (failed["status"], failed["topic"], failed["eventId"], failed["payload"]) == (
        "FAILED", STOCK_TOPIC, event_id, "this is not json",
    )  # fmt: skip
    assert failed["error"] == f"unreadable payload: {STOCK_TOPIC} webhook body is not JSON"
    assert failed["attempts"] == inbox.MAX_ATTEMPTS  # retrying cannot help
    assert await retry_inbox(hub.container.job_context) == 0
    # Surfaced as an alert, though it names no SKU.
    nodes = (await hub.call(ALERTS))["alerts"]["nodes"]
    alerts_now = [a for a in nodes if a["kind"] == "INBOUND_FAILED"]
    assert [(a["kind"], a["sku"], a["channelId"]) for a in alerts_now] == [
        ("INBOUND_FAILED", None, hub.shopify)
    ]
    assert event_id in alerts_now[0]["message"]
    assert "not JSON" in alerts_now[0]["message"]


async def test_a_stock_edit_of_an_item_nexo_does_not_list_is_ignored(hub: Hub) -> None:
    body = stock_body(987654321, 4)
    assert (await hub.post(body, signed(body))).status_code == 200
    [inbox_id] = await hub.process()
    [ignored] = [e for e in await hub.events() if e["id"] == inbox_id]
    assert ignored["status"] == "IGNORED"
    assert ignored["error"] == (
        "no SKU has inventory_item_id=gid://shopify/InventoryItem/987654321, "
        "location_id=gid://shopify/Location/1"
    )
    assert await hub.pending() == set()


async def test_an_order_webhook_is_taken_into_the_order_book_once(hub: Hub) -> None:
    await hub.sandbox.place_order([(SKU, 1)], location_gid=SHOP_LOCATION)
    await hub.process()

    [order] = [e for e in await hub.events() if e["kind"] == "ORDER"]
    assert (order["topic"], order["status"]) == ("orders/create", "PROCESSED")
    async with hub.container.uow(readonly=True) as uow:
        taken = await uow.orders.page(first=10, after=None, filter=OrderFilter())
    assert len(taken) == 1
    assert [(ln.sku, ln.quantity) for ln in taken[0].lines] == [(SKU, 1)]
    async with hub.container.uow() as uow:
        swept = await inbox.sweep(uow, datetime.now(UTC) + timedelta(minutes=5))
        await uow.commit()
    assert uuid.UUID(order["id"]) not in swept  # processed: nothing to retry


async def test_a_lost_processing_request_is_found_by_the_sweep(hub: Hub) -> None:
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 5)
    [lost] = hub.held.events()  # the queue lost it

    async with hub.container.uow() as uow:
        assert await inbox.sweep(uow, datetime.now(UTC)) == []  # not a minute old yet
        swept = await inbox.sweep(uow, datetime.now(UTC) + timedelta(minutes=2))
        await uow.commit()
    assert [str(i) for i in swept] == [lost]
    assert await hub.process() == [lost]
    [done] = [e for e in await hub.events() if e["id"] == lost]
    assert done["status"] == "PROCESSED"


# The API


async def test_inbox_events_page_by_cursor_and_filter_by_status(hub: Hub) -> None:
    for n in range(3):
        body = stock_body(987654321, n)
        await hub.post(body, signed(body))
    await hub.process()
    everything = await hub.events()
    first = (await hub.call(INBOX, c=hub.shopify, s=None, first=2, after=None))["inboxEvents"]
    rest = (
        await hub.call(INBOX, c=hub.shopify, s=None, first=100,
                       after=first["pageInfo"]["endCursor"])
    )["inboxEvents"]  # fmt: skip
    assert first["pageInfo"]["hasNextPage"] is True
    paged = [e["node"]["id"] for e in first["edges"] + rest["edges"]]
    assert paged == [e["id"] for e in everything]
    ignored = await hub.events("IGNORED")
    assert len(ignored) >= 3
    assert {e["status"] for e in ignored} == {"IGNORED"}


async def test_setting_the_policy_needs_a_known_channel_and_a_writer(
    hub: Hub, readonly_key: str
) -> None:
    unknown = await hub.call(
        SET_POLICY, input={"channelId": str(uuid.uuid4()), "policy": "HUB_WINS"}
    )
    assert unknown["setStockEditPolicy"]["userErrors"][0]["code"] == "NOT_FOUND"
    refused = await gql(
        hub.http, SET_POLICY, {"input": {"channelId": hub.shopify, "policy": "HUB_WINS"}},
        key=readonly_key,
    )  # fmt: skip
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    set_ = await hub.policy("ACCEPT_CHANNEL_EDITS")
    assert (set_["channel"]["id"], set_["policy"]) == (hub.shopify, "ACCEPT_CHANNEL_EDITS")
    async with hub.container.uow(readonly=True) as uow:
        config = await uow.channel_configs.get(uuid.UUID(hub.shopify))
    assert config is not None
    assert config.stock_edit_policy.value == "accept_channel_edits"
    assert config.credentials_set  # the rest of the configuration is kept


# A sale lowers the shop's own figure: the edit waits for the sale's order


async def sell_one_on_the_shop(hub: Hub) -> list[str]:
    """An order placed on the shop: its stock webhook (10 -> 9) and its order webhook, each
    processed once with the hold on; returns the ids of the events that were held."""
    ctx = {**hub.container.job_context}
    ctx["settings"] = ctx["settings"].model_copy(update={"stock_edit_hold_seconds": 30.0})
    await hub.sandbox.place_order([(SKU, 1)], location_gid=SHOP_LOCATION)
    # The stock webhook first: a channel does not promise the order's comes before it (the
    # other way round the order is reserved at once, and the edit finds the hub in step).
    for inbox_id in reversed(hub.held.events()):
        await process_inbox(ctx, inbox_id)
    return hub.held.events()  # asked again, deferred


async def after_the_hold(hub: Hub, inbox_id: str) -> inbox.Processed:
    """The held event run again once its hold is over (for it, as good as no hold) and the
    shop's orders were pulled."""
    await hub.pull()
    return await inbox.process(
        hub.container.uow, hub.container.connector, uuid.UUID(inbox_id), hold=timedelta(0)
    )


@pytest.mark.parametrize("policy", ["HUB_WINS", "ACCEPT_CHANNEL_EDITS"])
async def test_a_sale_on_the_shop_is_neither_pushed_back_nor_counted_twice(
    hub: Hub, policy: str
) -> None:
    await hub.policy(policy)
    held = await sell_one_on_the_shop(hub)

    # The stock edit waits; the order is reserved, so the hub publishes 9 as well, and
    # what goes out meanwhile leaves the shop's 9 standing.
    assert len(held) == 1
    [edit] = [e for e in await hub.events() if e["id"] == held[0]]
    assert edit["status"] == "RECEIVED"
    for order_id, lease in hub.held.take(ALLOCATE_JOB):
        await allocate_order(hub.container.job_context, order_id, lease)
    await hub.relay()
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 9

    done = await after_the_hold(hub, held[0])

    assert done.status is inbox.InboxStatus.PROCESSED
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"], item["available"]) == (10, 1, 9)  # counted once
    movements = (await hub.call(MOVEMENTS, sku=SKU))["stockMovements"]["nodes"]
    assert [m for m in movements if m["reason"] == "CHANNEL_EDIT"] == []
    await hub.relay()
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 9
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


@pytest.mark.parametrize("policy", ["HUB_WINS", "ACCEPT_CHANNEL_EDITS"])
@pytest.mark.parametrize("orders_first", [True, False])
async def test_quick_sales_on_the_shop_count_once_in_whatever_order_the_webhooks_come(
    hub: Hub, policy: str, orders_first: bool
) -> None:
    """Two sales before the hub hears of either: the older stock update reports a figure
    the newer sale has since lowered (and, orders first, the hub already publishes)."""
    await hub.policy(policy)
    ctx = {**hub.container.job_context}
    ctx["settings"] = ctx["settings"].model_copy(update={"stock_edit_hold_seconds": 30.0})
    await hub.sandbox.place_order([(SKU, 2)], location_gid=SHOP_LOCATION)  # the shop: 8
    await hub.sandbox.place_order([(SKU, 2)], location_gid=SHOP_LOCATION)  # the shop: 6
    ids = hub.held.events()
    topics = {e["id"]: e["topic"] for e in await hub.events()}
    stock = [i for i in ids if topics[i] == STOCK_TOPIC]
    orders = [i for i in ids if topics[i] != STOCK_TOPIC]

    for inbox_id in (orders + stock) if orders_first else (stock + orders):
        await process_inbox(ctx, inbox_id)
    for inbox_id in hub.held.events():  # held stock updates, run later
        await after_the_hold(hub, inbox_id)

    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"], item["available"]) == (10, 4, 6)
    movements = (await hub.call(MOVEMENTS, sku=SKU))["stockMovements"]["nodes"]
    assert [m for m in movements if m["reason"] == "CHANNEL_EDIT"] == []
    done = {e["id"]: e for e in await hub.events()}
    assert done[stock[0]]["status"] == "IGNORED"  # from before the second sale
    assert done[stock[1]]["status"] == "PROCESSED"  # in step
    await hub.relay()
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 6
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


async def test_a_drop_no_order_explains_is_pushed_back_once_the_hold_is_over(hub: Hub) -> None:
    ctx = {**hub.container.job_context}
    ctx["settings"] = ctx["settings"].model_copy(update={"stock_edit_hold_seconds": 30.0})
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 4)  # lowered in Shopify's admin
    [inbox_id] = hub.held.events()
    await process_inbox(ctx, inbox_id)
    assert hub.held.events() == [inbox_id]  # asked again, for later
    assert (hub.shopify, "quantity", SKU) not in await hub.pending()

    await after_the_hold(hub, inbox_id)

    assert (hub.shopify, "quantity", SKU) in await hub.pending()
    await hub.relay()
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 10


async def test_a_rise_on_the_shop_is_not_held(hub: Hub) -> None:
    ctx = {**hub.container.job_context}
    ctx["settings"] = ctx["settings"].model_copy(update={"stock_edit_hold_seconds": 30.0})
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 14)
    [inbox_id] = hub.held.events()
    await process_inbox(ctx, inbox_id)
    assert hub.held.events() == []
    assert (hub.shopify, "quantity", SKU) in await hub.pending()  # pushed back at once


# A sale whose order webhook was lost: the lowered figure waits for the order pull


async def channel_edits(hub: Hub) -> list[dict[str, Any]]:
    movements = (await hub.call(MOVEMENTS, sku=SKU))["stockMovements"]["nodes"]
    return [m for m in movements if m["reason"] == "CHANNEL_EDIT"]


async def run_held(hub: Hub, inbox_id: str, **clock: Any) -> inbox.Processed:
    """The event run once its fixed hold is over (hold 0), with no pull in between."""
    return await inbox.process(
        hub.container.uow, hub.container.connector, uuid.UUID(inbox_id), hold=timedelta(0),
        **clock,
    )  # fmt: skip


async def allocate_held(hub: Hub) -> None:
    for order_id, lease in hub.held.take(ALLOCATE_JOB):
        await allocate_order(hub.container.job_context, order_id, lease)


async def test_a_sale_whose_order_webhook_was_lost_is_not_taken_for_an_edit(hub: Hub) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    await hub.pull()  # the shop's orders were pulled before the sale
    hub.sandbox.faults.drop_webhooks = 1  # orders/create never comes
    await hub.sandbox.place_order([(SKU, 1)], location_gid=SHOP_LOCATION)
    [edit_id] = hub.held.events()
    topics = {e["id"]: e["topic"] for e in await hub.events()}
    assert topics[edit_id] == STOCK_TOPIC  # the order's own webhook was the one dropped

    held = await run_held(hub, edit_id)

    assert (held.status, held.held_until is not None) == (inbox.InboxStatus.RECEIVED, True)
    assert hub.held.take(PULL_JOB) == [(hub.shopify,)]  # a pull is asked for
    assert await channel_edits(hub) == []
    await hub.pull()  # brings the order
    await allocate_held(hub)
    done = await run_held(hub, edit_id)

    assert done.status in (inbox.InboxStatus.PROCESSED, inbox.InboxStatus.IGNORED)
    assert await channel_edits(hub) == []
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"], item["available"]) == (10, 1, 9)
    async with hub.container.uow(readonly=True) as uow:
        [order] = await uow.orders.page(first=10, after=None, filter=OrderFilter())
    assert order.status.value == "allocated"
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


async def test_reconciliation_leaves_a_sale_not_yet_pulled_to_the_pull(hub: Hub) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    await hub.pull()
    hub.sandbox.faults.drop_webhooks = 2  # neither the order nor the stock update comes
    await hub.sandbox.place_order([(SKU, 1)], location_gid=SHOP_LOCATION)
    assert hub.held.events() == []

    await reconcile_channel(hub.container.job_context, hub.shopify)

    assert await channel_edits(hub) == []
    assert hub.held.take(PULL_JOB) == [(hub.shopify,)]
    [logged] = [c for c in await hub.sync_log() if c.operation == "reconcile"]
    assert "left until the channel's orders are pulled: " + SKU in (logged.message or "")
    await hub.pull()
    await allocate_held(hub)
    await reconcile_channel(hub.container.job_context, hub.shopify)
    await hub.relay()

    assert await channel_edits(hub) == []
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"], item["available"]) == (10, 1, 9)
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 9
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


async def test_a_merchants_drop_on_the_shop_is_applied_once_after_a_pull(hub: Hub) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    await hub.pull()
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 4)  # lowered in Shopify's admin
    [edit_id] = hub.held.events()

    held = await run_held(hub, edit_id)
    assert held.status is inbox.InboxStatus.RECEIVED
    assert await channel_edits(hub) == []
    await hub.pull()  # no order: the drop is the merchant's
    done = await run_held(hub, edit_id)
    again = await run_held(hub, edit_id)

    assert done.status is inbox.InboxStatus.PROCESSED
    assert again.skipped
    assert [m["onHandDelta"] for m in await channel_edits(hub)] == [-6]
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"]) == (4, 0)


async def test_a_drop_waits_for_the_pull_at_most_ten_minutes(hub: Hub) -> None:
    """Pulls that keep failing do not hold a merchant's edit for ever: it is decided, and
    the sync log says without the channel's orders."""
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 4)
    [edit_id] = hub.held.events()
    async with hub.container.uow(readonly=True) as uow:
        entry = await uow.inbox.get(uuid.UUID(edit_id))
    assert entry is not None
    arrived = entry.received_at

    late = await run_held(hub, edit_id, clock=lambda: arrived + timedelta(minutes=9, seconds=59))
    assert late.status is inbox.InboxStatus.RECEIVED
    assert late.held_until == arrived + inbox.PULL_WAIT_LIMIT
    assert await channel_edits(hub) == []
    done = await run_held(hub, edit_id, clock=lambda: arrived + timedelta(minutes=10))

    assert done.status is inbox.InboxStatus.PROCESSED
    assert [m["onHandDelta"] for m in await channel_edits(hub)] == [-6]
    messages = [c.message or "" for c in await hub.sync_log() if c.operation == "stock_edit"]
    assert any("decided without Shopify's orders pulled" in m for m in messages)


# Reconciliation finds a lowered figure whose webhooks were lost: it is seen once, and decided
# by a later run, once a pull that started after it was seen has read the shop's orders


async def receive_on_hub(hub: Hub, quantity: int, key: str) -> None:
    given = {"sku": SKU, "locationId": hub.location, "quantity": quantity, "idempotencyKey": key}
    payload = (await hub.call(RECEIVE, i=given))["receiveStock"]
    assert payload["userErrors"] == []


async def reconcile(hub: Hub) -> None:
    await reconcile_channel(hub.container.job_context, hub.shopify)


async def test_a_sale_whose_webhooks_were_lost_converges_once_the_pull_brought_its_order(
    hub: Hub,
) -> None:
    """Neither the order's webhook nor its stock update comes, and the hub's figure moved
    meanwhile: the push is refused as stale and asks for a read of the shop. The lowered
    figure waits for a pull; once the pull brought the order, the next run takes the drop
    for that sale (not an edit) and the shop is set to the hub's figure."""
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    await hub.pull()
    hub.sandbox.faults.drop_webhooks = 2
    await hub.sandbox.place_order([(SKU, 1)], location_gid=SHOP_LOCATION)  # the shop: 9
    await receive_on_hub(hub, 5, "in-2")  # the hub: 15, sent as a change from 10
    await hub.relay()
    assert hub.held.take(RECHECK_JOB) == [(hub.shopify, [SKU])]  # refused as stale: read it

    await recheck_drifts(hub.container.job_context, hub.shopify, [SKU])
    assert hub.held.take(PULL_JOB) == [(hub.shopify,)]
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 9  # left as it is
    await hub.pull()  # brings the order
    await allocate_held(hub)
    await reconcile(hub)
    await hub.relay()

    assert await channel_edits(hub) == []
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"], item["available"]) == (15, 1, 14)
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 14
    async with hub.container.uow(readonly=True) as uow:
        [order] = await uow.orders.page(first=10, after=None, filter=OrderFilter())
    assert (order.status.value, [(ln.sku, ln.quantity) for ln in order.lines]) == (
        "allocated", [(SKU, 1)],
    )  # fmt: skip
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


async def test_a_drop_reconciliation_finds_with_no_order_behind_it_is_imported_after_the_pull(
    hub: Hub,
) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    await hub.pull()
    hub.sandbox.faults.drop_webhooks = 1
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 4)  # lowered in Shopify's admin

    await reconcile(hub)
    assert await channel_edits(hub) == []
    assert hub.held.take(PULL_JOB) == [(hub.shopify,)]
    await hub.pull()  # no order: the drop is the merchant's
    await reconcile(hub)
    await reconcile(hub)  # decided once

    assert [m["onHandDelta"] for m in await channel_edits(hub)] == [-6]
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"]) == (4, 0)
    await hub.relay()
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 4


async def test_a_drop_and_a_sale_both_unreported_import_only_what_the_sale_does_not_explain(
    hub: Hub,
) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    await hub.pull()
    hub.sandbox.faults.drop_webhooks = 3
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 6)  # the merchant: 10 -> 6
    await hub.sandbox.place_order([(SKU, 1)], location_gid=SHOP_LOCATION)  # a sale: 5

    await reconcile(hub)
    await hub.pull()
    await allocate_held(hub)
    await reconcile(hub)
    await hub.relay()

    assert [m["onHandDelta"] for m in await channel_edits(hub)] == [-4]
    item = (await hub.call(ITEM, sku=SKU))["inventoryItem"]
    assert (item["onHand"], item["reserved"], item["available"]) == (6, 1, 5)
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 5


async def test_a_figure_left_waiting_is_read_again_alone_and_decided_after_the_pull(
    hub: Hub,
) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    await hub.pull()
    hub.sandbox.faults.drop_webhooks = 1
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 4)
    await reconcile(hub)
    assert hub.held.take(RECHECK_JOB) == [(hub.shopify,)]  # asked for, a few seconds on
    await hub.pull()

    await recheck_drifts(hub.container.job_context, hub.shopify)

    assert [m["onHandDelta"] for m in await channel_edits(hub)] == [-6]
    logged = [c for c in await hub.sync_log() if c.operation == "reconcile"]
    assert (logged[0].message or "").startswith("checked 1, drifted 1")  # that SKU alone
    assert hub.held.take(RECHECK_JOB) == []  # nothing left waiting
    await hub.relay()
    assert hub.sandbox.inventory_quantity(SKU, SHOP_LOCATION) == 4


async def test_a_figure_that_moves_while_it_waits_waits_for_a_pull_after_it_moved(
    hub: Hub,
) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")
    await hub.pull()
    hub.sandbox.faults.drop_webhooks = 2
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 6)
    await reconcile(hub)
    await hub.pull()
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 4)  # another figure: seen anew

    await reconcile(hub)
    assert await channel_edits(hub) == []
    assert hub.held.take(PULL_JOB) == [(hub.shopify,)]  # again, after the new figure
    await hub.pull()
    await reconcile(hub)

    assert [(m["onHandDelta"], m["detail"]) for m in await channel_edits(hub)] == [
        (-6, "found by reconciliation on Shopify: 10 -> 4")
    ]


async def test_a_drop_on_a_channel_whose_pulls_never_end_is_decided_after_ten_minutes(
    hub: Hub,
) -> None:
    await hub.policy("ACCEPT_CHANNEL_EDITS")  # never pulled
    hub.sandbox.faults.drop_webhooks = 1
    await hub.sandbox.edit_inventory(SKU, SHOP_LOCATION, 4)
    await reconcile(hub)
    assert hub.held.take(PULL_JOB) == [(hub.shopify,)]  # asked for, never run
    relay: Relay = hub.container.job_context["relay"]
    seen = datetime.now(UTC)

    async def reconcile_later(by: timedelta) -> reconciliation.ReconcileReport:
        later = replace(relay, clock=lambda: seen + by)
        return await reconciliation.reconcile_channel(later, uuid.UUID(hub.shopify))

    waiting = await reconcile_later(timedelta(minutes=9))
    assert (waiting.awaiting_orders, await channel_edits(hub)) == ([SKU], [])
    done = await reconcile_later(PULL_WAIT_LIMIT)

    assert done.unpulled == [SKU]
    assert [m["onHandDelta"] for m in await channel_edits(hub)] == [-6]
    [logged, *_] = [c for c in await hub.sync_log() if c.operation == "reconcile"]
    assert "decided without the channel's orders pulled: " + SKU in (logged.message or "")
