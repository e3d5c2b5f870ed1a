"""Nexo's own pushes, reported back by the shop, are echoes, not edits made on the shop.

A hub with a warehouse feeding a Shopify channel (the Shopify sandbox, whose webhooks POST to
this app) that accepts stock edits made on the shop and keeps one unit back (buffer 1); five
SKUs of ten units, listed (the shop shows 9). Jobs the app enqueues are held, so each test
runs the relay, the webhooks and the inbox as the scenario needs (the real job functions).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.channels.shopify.connect import shopify_factory
from adapters.container import Container
from adapters.db.tables import inbox as inbox_table
from adapters.db.tables import outbox
from adapters.ratelimit import MemoryRateLimiter
from adapters.settings import Settings
from domain.jobs import BACKORDER_JOB, DRAIN_JOB, RECHECK_JOB
from domain.sync.reconcile import reconcile_channel as reconcile
from domain.sync.relay import Relay
from sandbox.shopify import ShopifySandbox
from tests.api.catalog.support import create_product, shirt
from tests.api.test_webhooks import CREDENTIALS, SHOP, SHOP_LOCATION, HeldJobs
from tests.graphql import data, gql
from workers.jobs.inbox import process_inbox
from workers.jobs.orders import fill_backorders
from workers.jobs.sync import drain_channel, recheck_drifts, reconcile_channel

SKUS = ("TS-S-RED", "TS-S-BLUE", "TS-M-RED", "TS-M-BLUE", "TS-L-RED")
ADJUSTMENTS = 50
# Edits lowering the shop's figure wait this long for their order (30 s in production): the
# shop's reports of earlier pushes are then decided well after later pushes were confirmed.
HOLD_SECONDS = 1.0
LATENCY_SECONDS = 0.3
SETTLES_WITHIN = 60.0
POLL = 0.02

ADJUST = """
mutation($i: AdjustStockInput!) { adjustStock(input: $i) { userErrors { field message } } }"""
ITEM = "query($sku: String!) { inventoryItem(sku: $sku) { onHand reserved available } }"
MOVEMENTS = """
query($sku: String!) {
  stockMovements(sku: $sku, first: 100) { nodes { onHandDelta reason detail } }
}"""
AUDIT = "{ inventoryAudit { mismatches { sku } totalMismatches { sku } } }"


@dataclass
class Hub:
    http: httpx.AsyncClient
    key: str
    container: Container
    sandbox: ShopifySandbox
    location: str
    shopify: str
    held: HeldJobs = field(default_factory=HeldJobs)

    async def call(self, query: str, **variables: Any) -> Any:
        return data(await gql(self.http, query, variables, key=self.key))

    def context(self, hold_seconds: float = HOLD_SECONDS) -> dict[str, Any]:
        ctx = {**self.container.job_context}
        ctx["settings"] = ctx["settings"].model_copy(
            update={"stock_edit_hold_seconds": hold_seconds}
        )
        return ctx

    async def adjust(self, sku: str, delta: int, key: str) -> None:
        given = {"sku": sku, "locationId": self.location, "delta": delta,
                 "reason": "found", "idempotencyKey": key}  # fmt: skip
        assert (await self.call(ADJUST, i=given))["adjustStock"]["userErrors"] == []

    async def relay(self) -> None:
        # Stock that arrives asks for its backorders to be filled: none wait here.
        for args in self.held.take(BACKORDER_JOB):
            await fill_backorders(self.container.job_context, *args)
        while requests := self.held.take(DRAIN_JOB):
            for (channel_id,) in requests:
                await drain_channel(self.container.job_context, channel_id)

    async def webhooks(self, ctx: dict[str, Any]) -> None:
        """Deliver what the shop has to say, and process what the inbox was asked to."""
        await self.sandbox.deliver_pending_webhooks()
        for inbox_id in self.held.events():
            await process_inbox(ctx, inbox_id)

    async def relay_and_webhooks(self) -> None:
        await self.relay()
        await self.webhooks(self.context(hold_seconds=0))

    async def stock_events(self) -> list[dict[str, Any]]:
        """The shop's stock reports as the inbox holds them, oldest first."""
        c = inbox_table.c
        async with self.container.engine.connect() as conn:
            rows = await conn.execute(
                select(c.status, c.error, c.body)
                .where(c.topic == "inventory_levels/update")
                .order_by(c.received_at)
            )
            return [
                {"status": r.status, "error": r.error, "payload": json.loads(r.body)} for r in rows
            ]

    async def on_hand(self, sku: str) -> int:
        found: int = (await self.call(ITEM, sku=sku))["inventoryItem"]["onHand"]
        return found

    async def channel_edits(self, sku: str) -> list[tuple[int, str]]:
        nodes = (await self.call(MOVEMENTS, sku=sku))["stockMovements"]["nodes"]
        return [(m["onHandDelta"], m["detail"]) for m in nodes if m["reason"] == "CHANNEL_EDIT"]

    async def quiet(self) -> bool:
        """Nothing left to do: no job asked for, no webhook to deliver, no open event or row."""
        if self.held.jobs or self.sandbox.webhooks.pending:
            return False
        async with self.container.engine.connect() as conn:
            rows = await conn.execute(select(outbox.c.id).where(outbox.c.status != "done"))
            events = await conn.execute(
                select(inbox_table.c.id).where(inbox_table.c.status.in_(("received", "failed")))
            )
            return not rows.first() and not events.first()


async def until(check: Callable[[], Awaitable[bool]], step: Callable[[], Awaitable[None]]) -> None:
    deadline = time.monotonic() + SETTLES_WITHIN
    while not await check():
        assert time.monotonic() < deadline, "did not settle in time"
        await step()
        await asyncio.sleep(POLL)


@pytest.fixture
def settings(settings: Settings) -> Settings:
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
    channel = {"name": "Shopify", "kind": "SHOPIFY", "currency": "USD",
               "locationIds": [location], "bufferQuantity": 1}  # fmt: skip
    shopify = (
        await ok(
            "mutation($i: CreateChannelInput!) { createChannel(input: $i)"
            " { channel { id } userErrors { field message } } }",
            "createChannel",
            i=channel,
        )
    )["channel"]["id"]
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
        for sku in SKUS:
            await ok(
                "mutation($i: ReceiveStockInput!) { receiveStock(input: $i)"
                " { userErrors { field message } } }",
                "receiveStock",
                i={"sku": sku, "locationId": location, "quantity": 10,
                   "idempotencyKey": f"in-{sku}"},
            )  # fmt: skip
        await ok(
            "mutation($i: SetStockEditPolicyInput!) { setStockEditPolicy(input: $i)"
            " { policy userErrors { field message } } }",
            "setStockEditPolicy",
            i={"channelId": shopify, "policy": "ACCEPT_CHANNEL_EDITS"},
        )
        # The relay lists the shirt on Shopify; Shopify's webhooks about it come back in step.
        await container.queue.drain()
        await sandbox.deliver_pending_webhooks()
        await container.queue.drain()
        made = Hub(http, staff_key, container, sandbox, location, shopify)
        assert [sandbox.inventory_quantity(sku, SHOP_LOCATION) for sku in SKUS] == [9] * 5
        monkeypatch.setattr(container.queue, "enqueue", made.held.enqueue)
        yield made
    finally:
        await shop_http.aclose()
        await sandbox.aclose()


async def test_quick_adjustments_reported_back_by_a_slow_shop_change_no_stock(hub: Hub) -> None:
    """The issue's reproduction: 50 quick +1s over five SKUs while each push takes 0.3 s;
    the shop reports every figure it was set to, and the reports are decided after the hold,
    when later pushes have long been confirmed."""
    hub.sandbox.faults.latency_seconds = LATENCY_SECONDS
    ctx = hub.context()
    adjusting = True

    async def adjust() -> None:
        nonlocal adjusting
        for n in range(ADJUSTMENTS):
            await hub.adjust(SKUS[n % len(SKUS)], 1, f"adj-{n}")
            await asyncio.sleep(POLL)  # quick, not all at once: pushes go out in between
        adjusting = False

    async def relay() -> None:
        while adjusting:
            await hub.relay()
            await asyncio.sleep(POLL)

    async def webhooks() -> None:
        while adjusting:
            await hub.webhooks(ctx)
            await asyncio.sleep(POLL)

    await asyncio.gather(adjust(), relay(), webhooks())

    async def step() -> None:
        await hub.relay()
        await hub.webhooks(ctx)

    await until(hub.quiet, step)

    assert {sku: await hub.channel_edits(sku) for sku in SKUS} == {sku: [] for sku in SKUS}
    assert [await hub.on_hand(sku) for sku in SKUS] == [20] * 5
    assert [hub.sandbox.inventory_quantity(sku, SHOP_LOCATION) for sku in SKUS] == [19] * 5
    # Reconciliation reads the shop in step with the hub: nothing to import, nothing drifted.
    assert await reconcile_channel(hub.container.job_context, hub.shopify) == 0
    assert [await hub.on_hand(sku) for sku in SKUS] == [20] * 5
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


class WorkerKilled(BaseException):
    """The worker dies: nothing after the shop's answer runs, not even an error handler."""


Hook = Callable[[], Awaitable[None]]


class Hooked:
    """A connector whose ports run `before` once, just before a call of one method, and
    `after` once, just after it (the channel has done it; Nexo has not recorded it yet)."""

    def __init__(self, inner: Any, method: str, *, before: Hook | None = None,
                 after: Hook | None = None):  # fmt: skip
        self.inner, self.method = inner, method
        self.before, self.after = before, after

    def connect(self, channel: Any, config: Any, sealed: Any) -> Any:
        port = self.inner.connect(channel, config, sealed)
        outer = self

        async def hooked(*args: Any) -> Any:
            before, outer.before = outer.before, None
            if before is not None:
                await before()
            answered = await getattr(port, outer.method)(*args)
            after, outer.after = outer.after, None
            if after is not None:
                await after()
            return answered

        class Port:
            def __getattr__(self, name: str) -> Any:
                return hooked if name == outer.method else getattr(port, name)

        return Port()


def relay_with(hub: Hub, then: Hook) -> Relay:
    """The hub's relay, running `then` right after the shop carried out a quantity push and
    before the relay records its answer (the push is in flight for Nexo)."""
    relay: Relay = hub.container.job_context["relay"]
    return replace(relay, connector=Hooked(relay.connector, "push_quantities", after=then))


async def recover(hub: Hub) -> None:
    """What a worker does after another died: the dead relay's rows go back to be sent."""
    relay: Relay = hub.container.job_context["relay"]
    async with hub.container.uow() as uow:
        now = relay.clock()
        stuck = await uow.outbox.due_channels(now, stuck_before=now + timedelta(seconds=1))
        assert stuck == [uuid.UUID(hub.shopify)]
        await uow.commit()
    await relay.drain(uuid.UUID(hub.shopify))


@pytest.mark.parametrize("heard_by", ["webhook", "reconciliation"])
async def test_a_push_whose_outcome_a_crash_lost_is_recognised_when_it_comes_back(
    hub: Hub, heard_by: str
) -> None:
    sku = SKUS[0]
    await hub.adjust(sku, 1, "adj-1")  # the hub publishes 10 ...

    async def die() -> None:
        raise WorkerKilled

    with pytest.raises(WorkerKilled):  # ... the shop takes it, and the worker dies
        await relay_with(hub, die).drain(uuid.UUID(hub.shopify))
    assert hub.sandbox.inventory_quantity(sku, SHOP_LOCATION) == 10
    await hub.adjust(sku, 1, "adj-2")  # the hub publishes 11 meanwhile

    if heard_by == "webhook":
        await hub.webhooks(hub.context(hold_seconds=0))
        assert await hub.channel_edits(sku) == []
        [echo] = [e for e in await hub.stock_events() if e["payload"]["available"] == 10]
        assert echo["status"] == "processed"
        assert "an echo of Nexo's push" in echo["error"]
    else:
        hub.sandbox.faults.drop_webhooks = 1  # its report never comes: a read finds it
        await hub.sandbox.deliver_pending_webhooks()
        assert await reconcile_channel(hub.container.job_context, hub.shopify) == 1

    assert await hub.channel_edits(sku) == []
    assert await hub.on_hand(sku) == 12
    await recover(hub)
    await until(hub.quiet, hub.relay_and_webhooks)
    assert hub.sandbox.inventory_quantity(sku, SHOP_LOCATION) == 11
    assert await reconcile_channel(hub.container.job_context, hub.shopify) == 0
    assert await hub.channel_edits(sku) == []
    assert await hub.on_hand(sku) == 12
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


async def test_a_merchants_edit_while_a_push_is_in_flight_is_applied_once_from_the_right_figure(
    hub: Hub,
) -> None:
    sku = SKUS[0]
    await hub.adjust(sku, 1, "adj-1")  # the hub publishes 10

    async def meanwhile() -> None:
        # The shop shows the pushed 10; before the relay records it, the hub moves on to 11
        # and the merchant types 15 in Shopify's admin: the shop reports 10, then 15.
        await hub.adjust(sku, 1, "adj-2")
        await hub.sandbox.edit_inventory(sku, SHOP_LOCATION, 15)
        await hub.webhooks(hub.context(hold_seconds=0))

    await relay_with(hub, meanwhile).drain(uuid.UUID(hub.shopify))

    assert await hub.channel_edits(sku) == [(5, "edited on Shopify: 10 -> 15")]
    assert await hub.on_hand(sku) == 17  # 10, two +1s here, +5 on the shop
    # The push's answer, recorded after the shop's reports, leaves their newer figure: the
    # hub's 16 goes out over the shop's 15 at once, never stale, never dead-lettered.
    await until(hub.quiet, hub.relay_and_webhooks)
    assert hub.sandbox.inventory_quantity(sku, SHOP_LOCATION) == 16
    assert await reconcile_channel(hub.container.job_context, hub.shopify) == 0
    assert await hub.on_hand(sku) == 17
    async with hub.container.engine.connect() as conn:
        dead = await conn.execute(select(outbox.c.id).where(outbox.c.status == "dead"))
        assert dead.first() is None
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


async def test_a_push_refused_as_stale_has_the_shop_read_and_converges(hub: Hub) -> None:
    """The merchant raised the shop's figure, and the shop's report of it was lost: the
    hub's next push compares with a figure the shop no longer shows. The refusal asks for a
    read of the shop, which finds the edit; the shop then shows the hub's figure, without
    waiting for the periodic reconciliation."""
    sku = SKUS[0]
    hub.sandbox.faults.drop_webhooks = 1
    await hub.sandbox.edit_inventory(sku, SHOP_LOCATION, 15)  # was 9
    await hub.adjust(sku, 1, "adj-1")  # the hub publishes 10, compared with 9: stale

    await hub.relay()

    requested = hub.held.take(RECHECK_JOB)
    assert requested == [(hub.shopify, [sku])]  # that SKU is read
    assert hub.sandbox.inventory_quantity(sku, SHOP_LOCATION) == 15
    for channel_id, skus in requested:
        await recheck_drifts(hub.container.job_context, channel_id, skus)

    async def step() -> None:
        await hub.relay()
        for channel_id, skus in hub.held.take(RECHECK_JOB):
            await recheck_drifts(hub.container.job_context, channel_id, skus)

    async def settled() -> bool:
        # The outbox's retry of the stale push waits out its back-off; a drain runs it now.
        await hub.container.queue.enqueue(DRAIN_JOB, hub.shopify)
        return (
            await hub.on_hand(sku) == 17
            and hub.sandbox.inventory_quantity(sku, SHOP_LOCATION) == 16
        )

    await until(settled, step)
    assert await hub.channel_edits(sku) == [(6, "found by reconciliation on Shopify: 9 -> 15")]


async def reconcile_around(hub: Hub, before: Hook | None = None, after: Hook | None = None) -> None:
    """A reconciliation of the shop, running `before` just before it reads the shop's figures
    and `after` just after."""
    relay: Relay = hub.container.job_context["relay"]
    hooked = Hooked(relay.connector, "read_levels", before=before, after=after)
    wrapped = replace(relay, connector=hooked)
    await reconcile(wrapped, uuid.UUID(hub.shopify))


async def test_a_push_made_while_reconciliation_reads_the_shop_is_not_an_edit(hub: Hub) -> None:
    """Found by the fault harness: a reconciliation read the hub's side, then an adjustment's
    push reached the shop, then the run read the shop and took the pushed figure for an edit
    made on the shop (+1 on hand, made up). The hub's side is read after the shop's now."""
    sku = SKUS[0]

    async def adjust_and_push() -> None:
        await hub.adjust(sku, 1, "adj-1")  # the hub publishes 10, and the shop shows it
        await hub.relay()
        assert hub.sandbox.inventory_quantity(sku, SHOP_LOCATION) == 10

    await reconcile_around(hub, before=adjust_and_push)

    assert await hub.channel_edits(sku) == []
    assert await hub.on_hand(sku) == 11
    assert (await hub.call(AUDIT))["inventoryAudit"] == {"mismatches": [], "totalMismatches": []}


async def test_a_figure_read_before_a_newer_one_was_confirmed_decides_nothing(hub: Hub) -> None:
    """The shop is read showing 10 (a push whose report came back); before the run decides,
    the hub's next figure, 8, is pushed and confirmed. The 10 read is older than what the hub
    knows: neither an edit (+2, made up) nor the figure the shop is recorded to show."""
    sku = SKUS[0]
    await hub.adjust(sku, 1, "adj-1")
    await until(hub.quiet, hub.relay_and_webhooks)  # 10 pushed, and its report heard
    assert hub.sandbox.inventory_quantity(sku, SHOP_LOCATION) == 10

    async def lower_and_push() -> None:
        await hub.adjust(sku, -2, "adj-2")  # the hub publishes 8: pushed and confirmed
        await hub.relay()
        assert hub.sandbox.inventory_quantity(sku, SHOP_LOCATION) == 8

    await reconcile_around(hub, after=lower_and_push)

    assert await hub.channel_edits(sku) == []
    assert await hub.on_hand(sku) == 9
    await until(hub.quiet, hub.relay_and_webhooks)
    assert hub.sandbox.inventory_quantity(sku, SHOP_LOCATION) == 8
    assert await reconcile_channel(hub.container.job_context, hub.shopify) == 0
    assert await hub.on_hand(sku) == 9
