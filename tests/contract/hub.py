"""The hub as the contract suite drives it: through its API, with the jobs it asks for run when
the suite says (the real job functions), and one channel of the kind under test.

The channel is set up as a merchant would: a warehouse feeding it, its credentials, a rule
listing every product, and a catalog of two products: a shirt in six variants (size x colour)
and a mug with one. Time is the suite's: `later` skips it, so retries fall due without sleeps.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from adapters.container import Container
from adapters.db.token_store import SqlTokenStore
from domain.jobs import READ_QUEUES_JOB
from tests.api.catalog.support import create_channel, create_product, set_listing_rule, shirt
from tests.api.test_orders_api import ERRORS
from tests.api.test_sync_api import RECONCILE, STATUS, SYNC_LOG
from tests.api.test_webhooks import HeldJobs
from tests.contract.channel import ChannelUnderTest, HubSide, Start
from tests.graphql import data, gql
from tests.integration.sync.shop import Clock, gtin
from workers.registry import JOBS

MUG = "MUG"
SHIRTS = tuple(f"TS-{size}-{colour}" for size in "SML" for colour in ("RED", "BLUE"))
STOCK = {"TS-M-RED": 5, "TS-L-BLUE": 2, MUG: 3}
# Rounds of (notifications, jobs) before the hub and the channel must be quiet.
SETTLE_ROUNDS = 12
# Past any back-off of the first attempts and any pause a channel asks for.
RETRY_SECONDS = 400

JOB_FUNCTIONS = {spec.name: spec.function for spec in JOBS}

CHANNEL_LOCATIONS = "query { channels { id locationIds } }"
CREATE_CATEGORY = 'mutation { createCategory(input: {name: "Outdoor"}) { category { id } } }'
SET_CREDENTIALS = f"""
mutation($i: SetChannelCredentialsInput!) {{ setChannelCredentials(input: $i) {{ {ERRORS} }} }}"""
RECEIVE = f"mutation($i: ReceiveStockInput!) {{ receiveStock(input: $i) {{ {ERRORS} }} }}"
ADJUST = f"mutation($i: AdjustStockInput!) {{ adjustStock(input: $i) {{ {ERRORS} }} }}"
LEVELS = "query($sku: String!) { inventoryItem(sku: $sku) { onHand reserved available } }"
PUBLISHED = (
    "query($s: String!, $c: ID!) { channelAvailability(sku: $s, channelId: $c) { quantity } }"
)
LISTINGS = """
query($c: ID) {
  listings(channelId: $c, first: 100) {
    nodes { productId status externalId contentHash confirmedContentHash problems { code message }
            items { sku intendedQuantity confirmedQuantity intendedPrice { amount }
                    confirmedPrice { amount } externalId } }
  }
}"""
ORDERS = """
query($c: [ID!]) {
  orders(first: 100, filter: {channelIds: $c}) {
    nodes { id externalId status lines { id sku quantity status shippedQuantity } }
  }
}"""


def one_variant(
    handle: str, title: str, sku: str, price: str, currency: str, barcode: int
) -> dict[str, Any]:
    """A product of one variant (no options) with one image."""
    money = {"amount": price, "currencyCode": currency}
    image = {"url": f"https://img.example/{handle}/main.jpg", "altText": title, "skus": [sku]}
    variant = {"sku": sku, "optionValues": [], "price": money, "barcode": gtin(barcode)}
    return shirt(handle=handle, title=title, options=[], attributes=[], images=[image],
                 variants=[variant])  # fmt: skip


def catalog(currency: str) -> list[dict[str, Any]]:
    """The shirt (six variants) and the mug (one), priced in the channel's currency."""
    shirts = shirt()
    for variant in shirts["variants"]:
        for money in (variant["price"], variant["cost"]):
            money["currencyCode"] = currency
    return [shirts, one_variant("camp-mug", "Camp Mug", MUG, "9.50", currency, 900)]


@dataclass
class Hub:
    http: httpx.AsyncClient
    key: str
    container: Container
    held: HeldJobs
    clock: Clock
    channel: ChannelUnderTest
    channel_id: str = ""
    location: str = ""
    category: str = ""  # the catalog's category, mapped to the channel's (`channel.category`)

    def __post_init__(self) -> None:
        relay = replace(self.container.relay, clock=self.clock, jitter=lambda: 0.5,
                        linger_seconds=0.0)  # fmt: skip
        self.context = {**self.container.job_context, "relay": relay}
        self.container.clock = self.clock  # webhooks are judged by the suite's time too

    # The API

    async def call(self, query: str, **variables: Any) -> Any:
        return data(await gql(self.http, query, variables, key=self.key))

    async def change(self, query: str, name: str, **variables: Any) -> dict[str, Any]:
        """A mutation that must be accepted; returns its payload."""
        payload: dict[str, Any] = (await self.call(query, **variables))[name]
        assert payload["userErrors"] == [], payload
        return payload

    async def create_product(self, product: dict[str, Any]) -> dict[str, Any]:
        """A product of the catalog's category (which the channel lists under); its payload."""
        created: dict[str, Any] = await create_product(
            self.http, self.key, {**product, "categoryId": self.category}
        )
        return created

    async def receive(self, sku: str, quantity: int) -> None:
        given = {"sku": sku, "locationId": self.location, "quantity": quantity,
                 "idempotencyKey": str(uuid.uuid4())}  # fmt: skip
        await self.change(RECEIVE, "receiveStock", i=given)

    async def adjust(self, sku: str, delta: int) -> None:
        given = {"sku": sku, "locationId": self.location, "delta": delta, "reason": "count",
                 "idempotencyKey": str(uuid.uuid4())}  # fmt: skip
        await self.change(ADJUST, "adjustStock", i=given)

    async def stock(self, sku: str) -> tuple[int, int, int]:
        """(on hand, reserved, available) of the SKU in the hub."""
        item = (await self.call(LEVELS, sku=sku))["inventoryItem"]
        return item["onHand"], item["reserved"], item["available"]

    async def published(self, sku: str) -> int:
        """The quantity the hub publishes for the SKU on the channel."""
        found = await self.call(PUBLISHED, s=sku, c=self.channel_id)
        return int(found["channelAvailability"]["quantity"])

    async def listings(self) -> list[dict[str, Any]]:
        found = await self.call(LISTINGS, c=self.channel_id)
        nodes: list[dict[str, Any]] = found["listings"]["nodes"]
        return nodes

    async def listed(self, sku: str) -> dict[str, Any]:
        """The SKU's item in the hub's listing on the channel."""
        items = [i for n in await self.listings() for i in n["items"] if i["sku"] == sku]
        assert len(items) == 1, items
        found: dict[str, Any] = items[0]
        return found

    async def orders(self) -> list[dict[str, Any]]:
        found = await self.call(ORDERS, c=[self.channel_id])
        nodes: list[dict[str, Any]] = found["orders"]["nodes"]
        return nodes

    async def calls(self, operation: str | None = None) -> list[dict[str, Any]]:
        """The channel's sync log, oldest first (of one operation when named)."""
        page = (await self.call(SYNC_LOG, channelId=self.channel_id, first=100))["syncLog"]
        assert page["pageInfo"]["hasNextPage"] is False
        nodes = [edge["node"] for edge in reversed(page["edges"])]
        return [n for n in nodes if operation in (None, n["operation"])]

    async def status(self) -> dict[str, Any]:
        found = await self.call(STATUS, channelId=self.channel_id)
        status: dict[str, Any] = found["channelSyncStatus"]
        return status

    async def request_reconcile(self) -> None:
        payload = await self.call(RECONCILE, input={"channelId": self.channel_id})
        assert payload["requestReconcile"]["queued"] is True, payload

    # The workers

    async def run(self, job: str, *args: Any) -> Any:
        """One job, now, as a worker runs it."""
        return await JOB_FUNCTIONS[job](self.context, *args)

    async def settle(self) -> None:
        """Deliver what the channel has to say and run the jobs the hub asks for, until both
        are quiet: what is left waits for its time (a retry) or for a pull."""
        for _ in range(SETTLE_ROUNDS):
            told = await self.channel.deliver_notifications()
            jobs, self.held.jobs = self.held.jobs, []
            if not jobs and not told:
                return
            for job, args in jobs:
                await self.run(job, *args)
        raise AssertionError(f"hub and channel still busy after {SETTLE_ROUNDS} rounds")

    async def pull(self) -> int:
        """The periodic pull of the channel's orders; returns how many changed."""
        changed: int = await self.run("pull_orders", self.channel_id)
        return changed

    async def later(self) -> None:
        """Time passes until what waits for a retry is due; the relay runs, the hub settles."""
        self.clock.advance(RETRY_SECONDS)
        await self.run("drain_channel", self.channel_id)
        await self.settle()


async def open_hub(hub: Hub) -> Hub:
    """The channel created, connected and listing the catalog, with the stock in STOCK."""
    channel = hub.channel
    hub.channel_id = await create_channel(hub.http, hub.key, "Market", channel.kind,
                                          channel.currency)  # fmt: skip
    [hub.location] = [
        c["locationIds"][0]
        for c in (await hub.call(CHANNEL_LOCATIONS))["channels"]
        if c["id"] == hub.channel_id
    ]
    given = {
        "channelId": hub.channel_id,
        "credentials": [{"name": k, "value": v} for k, v in channel.credentials.items()],
    }
    await hub.change(SET_CREDENTIALS, "setChannelCredentials", i=given)  # fmt: skip
    hub.category = (await hub.call(CREATE_CATEGORY))["createCategory"]["category"]["id"]
    mapped = [{"categoryId": hub.category, "channelCategoryId": channel.category}]
    ruled = await set_listing_rule(
        hub.http, hub.key, hub.channel_id, selector={"kind": "ALL"},
        settings=[{"name": k, "value": v} for k, v in channel.settings.items()],
        categoryMap=mapped if channel.category else [],
    )  # fmt: skip
    assert ruled["userErrors"] == [], ruled
    await channel.subscribe(str(hub.http.base_url.join(f"/webhooks/{hub.channel_id}")))
    for product in catalog(channel.currency):
        created = await hub.create_product(product)
        assert created["userErrors"] == [], created
    for sku, quantity in STOCK.items():
        await hub.receive(sku, quantity)
    await hub.settle()
    return hub


@asynccontextmanager
async def hub_on(
    start: Start,
    http: httpx.AsyncClient,
    staff_key: str,
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Hub]:
    """The hub (`open_hub`) on the channel `start` brings up: the hub's jobs held for the
    suite to run, its token store and the channel's adapter on the suite's clock, and the
    queue-reading job within the channel's reach."""
    held = HeldJobs()
    monkeypatch.setattr(container.queue, "enqueue", held.enqueue)
    clock = Clock()
    tokens = SqlTokenStore(container.engine, lambda: container.secrets, clock=clock)
    side = HubSide(
        http, container.connector, clock=lambda: clock().timestamp(), tokens=tokens,
        read_queues=lambda: JOB_FUNCTIONS[READ_QUEUES_JOB](container.job_context),
    )  # fmt: skip
    async with start(side) as channel:
        yield await open_hub(Hub(http, staff_key, container, held, clock, channel))
