"""Orders across real processes: the Shopify sandbox, one `nexo serve` on PostgreSQL and Redis,
and one `nexo worker`.

An order placed on the shop reaches Nexo by its signed webhook and is reserved there; the web
store sells one fewer and the shop ends up showing what Nexo publishes to it. Shipping the
order in Nexo fulfils it on the shop with the tracking number. However many times the shop
delivers one order, Nexo keeps one order and one reservation. A worker killed between storing
an order and reserving it leaves the order to the next worker, which reserves it in seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from adapters.container import build_container
from adapters.db.engine import create_engine
from adapters.settings import Settings
from domain.access import Role
from domain.api_keys import create_api_key
from domain.catalog.gtin import check_digit
from tests import services
from tests.e2e.sandbox_process import CREDENTIALS, SHOP_LOCATION, Sandbox, Workers, sandbox_running
from tests.e2e.servers import Server, nexo_env, serving
from tests.graphql import data

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.solo]

T = TypeVar("T")

STOCK = 10
# Nexo keeps one unit back from the shop: what the shop shows is Nexo's figure, not its own.
SHOP_BUFFER = 1
# A new product is listed, then its quantities set: two relay runs on a polling worker.
LISTED_WITHIN = 30.0
# Webhook -> inbox -> `process_inbox` -> `allocate_order`: two jobs on a worker that polls
# every 0.5 s; generous, for two shared cores.
RESERVED_WITHIN = 20.0
# Nexo's figure, or a shipment, reaches the shop through one relay run.
REACHES_SHOP_WITHIN = 20.0
DELIVERIES = 10
POLL = 0.05
# An order whose worker died before reserving it is reserved by another worker this soon
# (its allocation's lease lapses, 5 s, and the next sweep, every second, takes it over).
RECOVERED_WITHIN = 10.0
SKUS = ("ORDER-1", "SHIP-1", "DUP-1", "DUPEV-1", "CRASH-1")

ORDER_TOPICS = ["orders/create", "orders/updated", "inventory_levels/update"]
CREATE_LOCATION = """
mutation { createLocation(input: {code: "WH", name: "Warehouse", kind: WAREHOUSE}) {
  location { id } userErrors { field message code } } }"""
CREATE_CHANNEL = """
mutation($input: CreateChannelInput!) {
  createChannel(input: $input) { channel { id } userErrors { field message code } } }"""
SET_CREDENTIALS = """
mutation($input: SetChannelCredentialsInput!) {
  setChannelCredentials(input: $input) { userErrors { field message code } } }"""
SET_LISTING_RULE = """
mutation($input: SetListingRuleInput!) {
  setListingRule(input: $input) { userErrors { field message code } } }"""
CREATE_PRODUCT = """
mutation($input: ProductInput!) {
  createProduct(input: $input) { product { id } userErrors { field message code } } }"""
RECEIVE = """
mutation($input: ReceiveStockInput!) {
  receiveStock(input: $input) { levels { onHand } userErrors { field message code } } }"""
CREATE_SHIPMENT = """
mutation($input: CreateShipmentInput!) {
  createShipment(input: $input) {
    order { status lines { status shippedQuantity } }
    shipment { carrier trackingNumber }
    userErrors { field message code } } }"""
ORDERS = """
query($c: ID!) { orders(first: 100, filter: {channelIds: [$c]}) { edges { node {
  id externalId status lines { id sku quantity status reservationId } } } } }"""
STOCK_QUERY = """
query($sku: String!, $shop: ID!, $web: ID!) {
  inventoryItem(sku: $sku) { onHand reserved available }
  reservations(sku: $sku, status: ACTIVE, first: 100) { nodes { id } }
  shop: channelAvailability(sku: $sku, channelId: $shop) { quantity }
  web: channelAvailability(sku: $sku, channelId: $web) { quantity }
}"""
SYNC_STATUS = "query($c: ID!) { channelSyncStatus(channelId: $c) { pending dead } }"
INBOX = """
query($c: ID!) { inboxEvents(channelId: $c, first: 100) { edges { node {
  eventId topic status error payload } } } }"""


@dataclass(frozen=True)
class Stock:
    """A SKU as Nexo sees it now: its totals, its holds and what two channels are offered."""

    on_hand: int
    reserved: int
    available: int
    holds: int
    shop: int
    web: int


@dataclass
class Shop:
    """Nexo (one server, one worker) selling through the sandbox shop and a web store."""

    server: Server
    key: str
    sandbox: Sandbox
    workers: Workers
    database_url: str
    location: str = ""
    shopify: str = ""
    webstore: str = ""

    @property
    def webhook_url(self) -> str:
        return f"{self.server.base_url}/webhooks/{self.shopify}"

    def call(self, query: str, **variables: Any) -> dict[str, Any]:
        with self.server.client(self.key) as http:
            response = http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return data(response.json())

    def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        """A mutation that must succeed: its payload."""
        (payload,) = self.call(query, **variables).values()
        assert payload["userErrors"] == [], payload
        found: dict[str, Any] = payload
        return found

    def connect(self) -> None:
        """A location feeding a Shopify channel (the sandbox) and a web store."""
        self.location = self.ok(CREATE_LOCATION)["location"]["id"]
        self.shopify = self.channel("Shopify", "SHOPIFY", bufferQuantity=SHOP_BUFFER)
        self.webstore = self.channel("Web store", "WEBSTORE")
        credentials = {**CREDENTIALS, "api_url": self.sandbox.url}
        self.ok(
            SET_CREDENTIALS,
            input={"channelId": self.shopify,
                   "credentials": [{"name": k, "value": v} for k, v in credentials.items()]},
        )  # fmt: skip
        self.ok(
            SET_LISTING_RULE,
            input={"channelId": self.shopify, "selector": {"kind": "ALL"},
                   "settings": [{"name": "locationId", "value": SHOP_LOCATION}]},
        )  # fmt: skip

    def channel(self, name: str, kind: str, **rule: Any) -> str:
        created = {"name": name, "kind": kind, "currency": "USD",
                   "locationIds": [self.location], **rule}  # fmt: skip
        channel_id: str = self.ok(CREATE_CHANNEL, input=created)["channel"]["id"]
        return channel_id

    def stock_up(self, handle: str, skus: tuple[str, ...]) -> None:
        """A product with these SKUs, STOCK of each; returns once the shop lists them."""
        self.ok(CREATE_PRODUCT, input=product(handle, skus))
        for sku in skus:
            self.ok(RECEIVE, input={"sku": sku, "locationId": self.location, "quantity": STOCK,
                                    "idempotencyKey": f"stock-{sku}"})  # fmt: skip
        wait_until(
            lambda: all(self.sandbox.quantities().get(s) == STOCK - SHOP_BUFFER for s in skus),
            LISTED_WITHIN,
            lambda: f"the shop never listed {handle}: {self.sandbox.quantities()}",
        )

    def send_webhooks_to(self, url: str) -> None:
        """Where the shop delivers its order and stock events."""
        response = httpx.post(
            f"{self.sandbox.url}/_sandbox/webhooks",
            json={"url": url, "topics": ORDER_TOPICS},
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def place(self, sku: str) -> str:
        """A customer buys one `sku` on the shop; the shop's order id (a gid)."""
        response = httpx.post(
            f"{self.sandbox.url}/_sandbox/orders", json={"lines": [[sku, 1]]}, timeout=30
        )
        assert response.status_code == 201, response.text
        order_id: str = response.json()["id"]
        return order_id

    def orders(self, external_id: str) -> list[dict[str, Any]]:
        """Nexo's orders on the Shopify channel with this external id."""
        edges = self.call(ORDERS, c=self.shopify)["orders"]["edges"]
        return [e["node"] for e in edges if e["node"]["externalId"] == external_id]

    def allocated(self, external_id: str) -> dict[str, Any] | None:
        """The order once Nexo has reserved it, else None."""
        found = self.orders(external_id)
        if len(found) == 1 and found[0]["status"] == "ALLOCATED":
            return found[0]
        return None

    def stock(self, sku: str) -> Stock:
        found = self.call(STOCK_QUERY, sku=sku, shop=self.shopify, web=self.webstore)
        item = found["inventoryItem"]
        return Stock(
            on_hand=item["onHand"],
            reserved=item["reserved"],
            available=item["available"],
            holds=len(found["reservations"]["nodes"]),
            shop=found["shop"]["quantity"],
            web=found["web"]["quantity"],
        )

    def in_step(self, sku: str) -> bool:
        """The shop shows what Nexo offers it, nothing waits to be sent, no event is open."""
        status = self.call(SYNC_STATUS, c=self.shopify)["channelSyncStatus"]
        open_events = [e for e in self.inbox() if e["status"] in ("RECEIVED", "FAILED")]
        shown = self.sandbox.quantities().get(sku)
        return (
            status == {"pending": 0, "dead": 0}
            and not open_events
            and shown == self.stock(sku).shop
        )

    def inbox(self) -> list[dict[str, Any]]:
        edges = self.call(INBOX, c=self.shopify)["inboxEvents"]["edges"]
        return [e["node"] for e in edges]

    def fulfillments(self, external_id: str) -> list[dict[str, Any]]:
        """The shop's fulfillments of one of its orders."""
        state = httpx.get(f"{self.sandbox.url}/_sandbox/state", timeout=10).json()
        return [f for f in state["fulfillments"] if f["orderId"] == external_id]


_barcodes = itertools.count(1)


def gtin(n: int) -> str:
    body = f"300{n:09d}"
    return body + str(check_digit(body))


def product(handle: str, skus: tuple[str, ...]) -> dict[str, Any]:
    """A product with one variant per SKU (option "Size")."""
    return {
        "handle": handle,
        "title": handle.replace("-", " ").title(),
        "brand": "Nexo Outdoors",
        "options": [{"name": "Size", "values": list(skus)}],
        "variants": [
            {
                "sku": sku,
                "optionValues": [sku],
                "price": {"amount": "20.00", "currencyCode": "USD"},
                "barcode": gtin(next(_barcodes)),
            }
            for sku in skus
        ],
    }


def wait_until(
    condition: Callable[[], T | None], within: float, explain: Callable[[], str] | None = None
) -> T:
    """Poll `condition` until it is truthy; returns its value, fails after `within` s."""
    deadline = time.monotonic() + within
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within}s" + (f": {explain()}" if explain else ""))
        time.sleep(POLL)


# The shop's deliveries, caught -------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def topic(self) -> str:
        return next(v for k, v in self.headers.items() if k.lower() == "x-shopify-topic")

    def replay_headers(self, **changed: str) -> dict[str, str]:
        """The shop's own headers (signature, topic, event id…), with `changed` ones set."""
        kept = {k: v for k, v in self.headers.items() if k.lower().startswith("x-shopify-")}
        kept["Content-Type"] = "application/json"
        for name, value in changed.items():
            kept = {k: v for k, v in kept.items() if k.lower() != name.lower()}
            kept[name] = value
        return kept


class _Catch(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        assert isinstance(self.server, _Catcher)
        self.server.caught.append(Delivery(dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Catcher(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Catch)
        self.caught: list[Delivery] = []


@contextmanager
def catching() -> Iterator[tuple[str, list[Delivery]]]:
    """A local endpoint that keeps every webhook POSTed to it (and answers 200)."""
    catcher = _Catcher()
    thread = threading.Thread(target=catcher.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = catcher.server_address[:2]
        yield f"http://{host!s}:{port}/", catcher.caught
    finally:
        catcher.shutdown()
        catcher.server_close()
        thread.join(timeout=5)


def caught_order(shop: Shop, sku: str) -> tuple[str, Delivery]:
    """Place an order for `sku` with the shop's deliveries caught, not sent to Nexo: the
    shop's order id and its signed `orders/create` request."""
    with catching() as (url, caught):
        shop.send_webhooks_to(url)
        try:
            external_id = shop.place(sku)  # the shop delivers before it answers
        finally:
            shop.send_webhooks_to(shop.webhook_url)
    created = [d for d in caught if d.topic == "orders/create"]
    assert len(created) == 1, [d.topic for d in caught]
    assert json.loads(created[0].body)["admin_graphql_api_id"] == external_id
    return external_id, created[0]


async def deliver_at_once(url: str, requests: list[tuple[dict[str, str], bytes]]) -> list[Any]:
    """POST every request concurrently, each from its own client; the answers' bodies."""
    gate = asyncio.Barrier(len(requests))  # none is sent before every client is ready

    async def one(headers: dict[str, str], body: bytes) -> Any:
        async with httpx.AsyncClient(timeout=30) as http:
            await gate.wait()
            response = await http.post(url, content=body, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    return list(await asyncio.gather(*(one(headers, body) for headers, body in requests)))


@contextmanager
def reserving_blocked(url: str, sku: str) -> Iterator[None]:
    """The SKU's stock rows locked by another transaction: whatever reserves the SKU waits
    (taking an order in does not), until the block is lifted."""
    loop = asyncio.new_event_loop()
    engine = create_engine(url)
    try:
        conn = loop.run_until_complete(engine.connect())
        loop.run_until_complete(conn.begin())
        locked = loop.run_until_complete(
            conn.execute(
                text("SELECT id FROM stock_levels WHERE sku = :sku FOR UPDATE"), {"sku": sku}
            )
        ).all()
        assert locked, f"no stock row of {sku} to lock"
        try:
            yield
        finally:
            loop.run_until_complete(conn.rollback())
            loop.run_until_complete(conn.close())
    finally:
        loop.run_until_complete(engine.dispose())
        loop.close()


# The processes -----------------------------------------------------------------------------------


async def _admin_key(url: str) -> str:
    container = build_container(Settings(database_url=url))
    try:
        async with container.uow() as uow:
            issued = await create_api_key(uow, name="e2e-orders", role=Role.ADMIN)
            await uow.commit()
    finally:
        await container.close()
    return issued.secret


@pytest.fixture(scope="module")
def shop(postgres_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    if postgres_url is None:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    redis = services.TEST_REDIS_URL  # the `redis_url` fixture is per test, this is per module
    if not redis:
        services.absent("Redis", "NEXO_TEST_REDIS_URL")
    assert postgres_url is not None
    assert redis is not None
    # The session's database, shared with other modules.
    asyncio.run(services.empty_database(postgres_url))
    key = asyncio.run(_admin_key(postgres_url))
    home: Path = tmp_path_factory.mktemp("order-processes")
    env = nexo_env(
        NEXO_DATABASE_URL=postgres_url,
        NEXO_REDIS_URL=redis,
        NEXO_ENVIRONMENT="dev",
        # The server seals the channel's credentials, the worker opens them: one key for both.
        NEXO_SECRET_KEY=Fernet.generate_key().decode(),
    )
    with sandbox_running(home, nexo_env()) as sandbox, serving(home, env, "serve") as (server,):
        workers = Workers(home, env)
        try:
            workers.start()
            made = Shop(server, key, sandbox, workers, postgres_url)
            made.connect()
            made.stock_up("order-tee", SKUS)
            made.send_webhooks_to(made.webhook_url)
            yield made
            assert workers.live(), "the worker died:\n" + "\n".join(
                w.log.read_text() for w in workers.started
            )
        finally:
            complaints = workers.stop_all()
        assert not complaints, complaints


# The tests ---------------------------------------------------------------------------------------


def test_an_order_placed_on_the_shop_is_reserved_and_the_shop_shows_nexos_figure(
    shop: Shop,
) -> None:
    before = shop.stock("ORDER-1")
    assert before == Stock(STOCK, 0, STOCK, 0, STOCK - SHOP_BUFFER, STOCK)

    external_id = shop.place("ORDER-1")

    order = wait_until(
        lambda: shop.allocated(external_id),
        RESERVED_WITHIN,
        lambda: f"orders {shop.orders(external_id)}, inbox {shop.inbox()}",
    )
    assert [(ln["sku"], ln["quantity"], ln["status"]) for ln in order["lines"]] == [
        ("ORDER-1", 1, "ALLOCATED")
    ]
    after = shop.stock("ORDER-1")
    assert after == Stock(STOCK, 1, STOCK - 1, 1, STOCK - 1 - SHOP_BUFFER, STOCK - 1)
    wait_until(
        lambda: shop.in_step("ORDER-1"),
        REACHES_SHOP_WITHIN,
        lambda: f"shop {shop.sandbox.quantities().get('ORDER-1')}, Nexo {shop.stock('ORDER-1')}",
    )
    assert shop.sandbox.quantities()["ORDER-1"] == STOCK - 1 - SHOP_BUFFER


def test_shipping_in_nexo_fulfils_the_shop_order_with_the_tracking_number(shop: Shop) -> None:
    external_id = shop.place("SHIP-1")
    order = wait_until(lambda: shop.allocated(external_id), RESERVED_WITHIN)

    shipped = shop.ok(
        CREATE_SHIPMENT,
        input={"orderId": order["id"], "lineIds": [order["lines"][0]["id"]],
               "locationId": shop.location, "carrier": "UPS",
               "trackingNumber": "1Z999AA10123456784", "idempotencyKey": "ship-e2e-1"},
    )  # fmt: skip

    assert shipped["order"]["status"] == "SHIPPED"
    assert shipped["shipment"] == {"carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}
    assert shop.stock("SHIP-1") == Stock(
        STOCK - 1, 0, STOCK - 1, 0, STOCK - 1 - SHOP_BUFFER, STOCK - 1
    )
    (fulfillment,) = wait_until(
        lambda: shop.fulfillments(external_id),
        REACHES_SHOP_WITHIN,
        lambda: f"sync status {shop.call(SYNC_STATUS, c=shop.shopify)}",
    )
    assert fulfillment["status"] == "SUCCESS"
    assert fulfillment["totalQuantity"] == 1
    assert [(t["company"], t["number"]) for t in fulfillment["trackingInfo"]] == [
        ("UPS", "1Z999AA10123456784")
    ]
    shop_order = next(
        o
        for o in httpx.get(f"{shop.sandbox.url}/_sandbox/state", timeout=10).json()["orders"]
        if o["id"] == external_id
    )
    assert shop_order["displayFulfillmentStatus"] == "FULFILLED"


def test_one_webhook_delivered_ten_times_at_once_is_one_order_and_one_reservation(
    shop: Shop,
) -> None:
    external_id, delivery = caught_order(shop, "DUP-1")

    answers = asyncio.run(
        deliver_at_once(shop.webhook_url, [(delivery.replay_headers(), delivery.body)] * DELIVERIES)
    )

    assert sorted(a["status"] for a in answers) == ["duplicate"] * (DELIVERIES - 1) + ["received"]
    wait_until(lambda: shop.allocated(external_id), RESERVED_WITHIN)
    wait_until(lambda: shop.in_step("DUP-1"), REACHES_SHOP_WITHIN)
    assert len(shop.orders(external_id)) == 1
    assert shop.stock("DUP-1") == Stock(STOCK, 1, STOCK - 1, 1, STOCK - 1 - SHOP_BUFFER, STOCK - 1)
    stored = [e for e in shop.inbox() if e["payload"] == delivery.body.decode()]
    assert [(e["topic"], e["status"]) for e in stored] == [("orders/create", "PROCESSED")]


def test_one_order_delivered_as_ten_events_at_once_is_one_order_and_one_reservation(
    shop: Shop,
) -> None:
    # One order comes as several events (orders/create, then orders/updated as it is paid
    # or edited), each with its own id: ten of them at once are ten events stored and
    # processed side by side, all about one order.
    external_id, delivery = caught_order(shop, "DUPEV-1")
    requests = [
        (delivery.replay_headers(**{"X-Shopify-Event-Id": str(uuid.uuid4())}), delivery.body)
        for _ in range(DELIVERIES)
    ]

    answers = asyncio.run(deliver_at_once(shop.webhook_url, requests))

    assert [a["status"] for a in answers] == ["received"] * DELIVERIES
    wait_until(lambda: shop.allocated(external_id), RESERVED_WITHIN)
    wait_until(lambda: shop.in_step("DUPEV-1"), REACHES_SHOP_WITHIN)
    assert len(shop.orders(external_id)) == 1
    assert shop.stock("DUPEV-1") == Stock(
        STOCK, 1, STOCK - 1, 1, STOCK - 1 - SHOP_BUFFER, STOCK - 1
    )
    stored = [e for e in shop.inbox() if e["payload"] == delivery.body.decode()]
    assert sorted(e["status"] for e in stored) == ["PROCESSED"] * DELIVERIES


def test_an_order_whose_worker_died_before_reserving_it_is_reserved_within_seconds(
    shop: Shop,
) -> None:
    for worker in shop.workers.live():
        worker.kill()
    # The order is stored, then its reservation waits on the SKU's stock row: the worker is
    # killed (SIGKILL) with nothing of the reservation committed, as if it died in between.
    with reserving_blocked(shop.database_url, "CRASH-1"):
        doomed = shop.workers.start()
        external_id = shop.place("CRASH-1")
        stored = wait_until(
            lambda: shop.orders(external_id),
            RESERVED_WITHIN,
            lambda: f"inbox {shop.inbox()}\n{doomed.log.read_text()}",
        )
        doomed.kill()
    assert [o["status"] for o in stored] == ["OPEN"]
    assert [o["status"] for o in shop.orders(external_id)] == ["OPEN"]  # nobody reserved it
    assert shop.stock("CRASH-1").reserved == 0

    shop.workers.start()

    order = wait_until(
        lambda: shop.allocated(external_id),
        RECOVERED_WITHIN,
        lambda: f"orders {shop.orders(external_id)}, stock {shop.stock('CRASH-1')}",
    )
    assert [(ln["sku"], ln["status"]) for ln in order["lines"]] == [("CRASH-1", "ALLOCATED")]
    assert shop.stock("CRASH-1") == Stock(
        STOCK, 1, STOCK - 1, 1, STOCK - 1 - SHOP_BUFFER, STOCK - 1
    )
