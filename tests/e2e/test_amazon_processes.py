"""Amazon across real processes: `nexo-sandbox amazon`, `nexo-sandbox shopify`, one `nexo serve`
on PostgreSQL and Redis, one `nexo worker`.

A product tagged for Amazon is listed there (its parent and its children); a sale on Shopify
lowers the Amazon quantity; an Amazon order reaches Nexo through the seller's notification
queue (read by the worker) and, when its notification is dropped, through the order pull,
and is reserved once either way; shipping it in Nexo confirms the shipment on Amazon with its
tracking number; an order Amazon fulfils (FBA) never touches the merchant's stock.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.fernet import Fernet

from adapters.queue.arq import ArqJobQueue
from domain.jobs import PULL_JOB
from tests import services
from tests.e2e.sandbox_process import CREDENTIALS as SHOP_CREDENTIALS
from tests.e2e.sandbox_process import (
    SHOP_LOCATION,
    Sandbox,
    Workers,
    _stop,
    _wait_until_answering,
    sandbox_running,
)
from tests.e2e.servers import RUN_QUEUE, SANDBOX, Server, free_port, nexo_env, serving
from tests.e2e.test_order_processes import (
    CREATE_CHANNEL,
    CREATE_LOCATION,
    CREATE_PRODUCT,
    CREATE_SHIPMENT,
    INBOX,
    ORDERS,
    RECEIVE,
    SET_CREDENTIALS,
    SET_LISTING_RULE,
    _admin_key,
    gtin,
)
from tests.graphql import data

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

T = TypeVar("T")
SELLER, MARKETPLACE = "A2SANDBOXSELLER1", "ATVPDKIKX0DER"
SIZES = ("AMZ-S", "AMZ-M", "AMZ-L")
STOCK = 6
WITHIN = 40.0  # listing, a relay run, a queue read (every 5 s) and two jobs, on shared cores
POLL = 0.1
CREATE_CATEGORY = 'mutation { createCategory(input: {name: "Outdoor"}) { category { id } } }'
STOCK_QUERY = "query($sku: String!) { inventoryItem(sku: $sku) { onHand reserved available } }"


@dataclass
class Amazon:
    url: str
    http: httpx.Client

    def listings(self) -> dict[str, int | None]:
        found: dict[str, int | None] = self.http.get("/_sandbox/listings").json()
        return found

    def listing(self, sku: str) -> dict[str, Any] | None:
        answer = self.http.get(f"/_sandbox/listings/{sku}")
        return answer.json() if answer.status_code == 200 else None

    def place(self, lines: list[tuple[str, int]], **options: Any) -> str:
        answer = self.http.post("/_sandbox/orders", json={"lines": lines, **options})
        assert answer.status_code == 200, answer.text
        order_id: str = answer.json()["orderId"]
        return order_id

    def order(self, order_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.http.get(f"/_sandbox/orders/{order_id}").json()
        return found

    def faults(self, **settings: Any) -> None:
        assert self.http.post("/_sandbox/faults", json=settings).status_code == 200


@dataclass
class Hub:
    server: Server
    key: str
    amazon: Amazon
    shop: Sandbox
    location: str = ""
    amazon_id: str = ""
    shopify_id: str = ""

    def call(self, query: str, **variables: Any) -> dict[str, Any]:
        with self.server.client(self.key) as http:
            response = http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return data(response.json())

    def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        (payload,) = self.call(query, **variables).values()
        assert payload["userErrors"] == [], payload
        found: dict[str, Any] = payload
        return found

    def channel(self, name: str, kind: str, credentials: dict[str, str], **rule: Any) -> str:
        made = {"name": name, "kind": kind, "currency": "USD", "locationIds": [self.location]}
        channel_id: str = self.ok(CREATE_CHANNEL, input=made)["channel"]["id"]
        given = [{"name": k, "value": v} for k, v in credentials.items()]
        self.ok(SET_CREDENTIALS, input={"channelId": channel_id, "credentials": given})
        self.ok(SET_LISTING_RULE, input={"channelId": channel_id, "selector": {"kind": "ALL"},
                                         **rule})  # fmt: skip
        return channel_id

    def orders(self, channel_id: str, external_id: str) -> list[dict[str, Any]]:
        edges = self.call(ORDERS, c=channel_id)["orders"]["edges"]
        return [e["node"] for e in edges if e["node"]["externalId"] == external_id]

    def allocated(self, channel_id: str, external_id: str) -> dict[str, Any] | None:
        found = self.orders(channel_id, external_id)
        return found[0] if len(found) == 1 and found[0]["status"] == "ALLOCATED" else None

    def inbox(self) -> list[dict[str, Any]]:
        edges = self.call(INBOX, c=self.amazon_id)["inboxEvents"]["edges"]
        return [e["node"] for e in edges]

    def stock(self, sku: str) -> tuple[int, int, int]:
        item = self.call(STOCK_QUERY, sku=sku)["inventoryItem"]
        return item["onHand"], item["reserved"], item["available"]


def wait_until(condition: Callable[[], T | None], explain: Callable[[], object]) -> T:
    deadline = time.monotonic() + WITHIN
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not within {WITHIN}s: {explain()}")
        time.sleep(POLL)


@contextmanager
def amazon_running(home: Path) -> Iterator[Amazon]:
    port = free_port()
    log = home / "amazon.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*SANDBOX, "amazon", "--host", "127.0.0.1", "--port", str(port),
             "--apply-delay", "0.5"],
            cwd=home, env=nexo_env(), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=url, timeout=10)
    try:
        _wait_until_answering(Sandbox(process, url, log, http))
        yield Amazon(url, http)
        assert process.poll() is None, log.read_text()
        assert http.get("/_sandbox/stats").json()["violations"] == []
    finally:
        http.close()
        complaint = _stop(process, "the Amazon sandbox", log)
        if complaint:
            pytest.fail(complaint)


def pull_now(redis: str, channel_id: str) -> None:
    """The periodic pull (every minute), asked for now."""

    async def enqueue() -> None:
        queue = ArqJobQueue(redis, queue_name=RUN_QUEUE)
        await queue.start()
        try:
            await queue.enqueue(PULL_JOB, channel_id)
        finally:
            await queue.close()

    asyncio.run(enqueue())


@pytest.fixture(scope="module")
def hub(postgres_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    if postgres_url is None:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    redis = services.TEST_REDIS_URL
    if not redis:
        services.absent("Redis", "NEXO_TEST_REDIS_URL")
    assert postgres_url is not None
    assert redis is not None
    asyncio.run(services.empty_database(postgres_url))
    key = asyncio.run(_admin_key(postgres_url))
    home: Path = tmp_path_factory.mktemp("amazon-processes")
    env = nexo_env(
        NEXO_DATABASE_URL=postgres_url, NEXO_REDIS_URL=redis, NEXO_ENVIRONMENT="dev",
        NEXO_SECRET_KEY=Fernet.generate_key().decode(),
    )  # fmt: skip
    with (
        amazon_running(home) as amazon,
        sandbox_running(home, nexo_env()) as shop,
        serving(home, env, "serve") as (server,),
    ):
        workers = Workers(home, env)
        try:
            workers.start()
            made = Hub(server, key, amazon, shop)
            connect(made)
            yield made
            assert workers.live(), "\n".join(w.log.read_text() for w in workers.started)
        finally:
            complaints = workers.stop_all()
        assert not complaints, complaints


def connect(hub: Hub) -> None:
    """A warehouse feeding Amazon and Shopify; a product of three sizes, STOCK of each."""
    hub.location = hub.ok(CREATE_LOCATION)["location"]["id"]
    category = hub.call(CREATE_CATEGORY)["createCategory"]["category"]["id"]
    amazon = {"client_id": "amzn1.application-oa2-client.sandbox",
              "client_secret": "sandbox-client-secret",
              "refresh_token": "Atzr|sandbox-refresh-token", "api_url": hub.amazon.url,
              "token_url": f"{hub.amazon.url}/auth/o2/token",
              "queue_url": f"{hub.amazon.url}/sqs", "aws_region": "us-east-1",
              "aws_access_key_id": "AKIASANDBOXQUEUE0001",
              "aws_secret_access_key": "sandbox/aws-secret-access-key"}  # fmt: skip
    settings = {"sellerId": SELLER, "marketplaceId": MARKETPLACE, "productType": "SHIRT"}
    hub.amazon_id = hub.channel(
        "Amazon US", "AMAZON", amazon,
        settings=[{"name": k, "value": v} for k, v in settings.items()],
        categoryMap=[{"categoryId": category, "channelCategoryId": "2419332011"}],
    )  # fmt: skip
    hub.shopify_id = hub.channel(
        "Shopify", "SHOPIFY", {**SHOP_CREDENTIALS, "api_url": hub.shop.url},
        settings=[{"name": "locationId", "value": SHOP_LOCATION}],
    )  # fmt: skip
    product = {
        "handle": "amazon-tee", "title": "Amazon Tee", "brand": "Nexo Outdoors",
        "categoryId": category, "options": [{"name": "Size", "values": list(SIZES)}],
        "variants": [{"sku": sku, "optionValues": [sku], "barcode": gtin(900 + n),
                      "price": {"amount": "20.00", "currencyCode": "USD"}}
                     for n, sku in enumerate(SIZES)],
    }  # fmt: skip
    hub.ok(CREATE_PRODUCT, input=product)
    for sku in SIZES:
        hub.ok(RECEIVE, input={"sku": sku, "locationId": hub.location, "quantity": STOCK,
                               "idempotencyKey": f"stock-{sku}"})  # fmt: skip


def test_a_product_is_listed_on_amazon_as_a_parent_and_its_children(hub: Hub) -> None:
    shown = wait_until(
        lambda: (q := hub.amazon.listings()) and all(q.get(s) == STOCK for s in SIZES) and q,
        lambda: hub.amazon.listings(),
    )
    assert set(shown) == {"amazon-tee", *SIZES}
    parent = hub.amazon.listing("amazon-tee")
    assert parent is not None
    assert parent["attributes"]["parentage_level"][0]["value"] == "parent"
    assert parent["attributes"]["variation_theme"] == [{"name": "SIZE"}]
    for sku in SIZES:
        child = hub.amazon.listing(sku)
        assert child is not None
        assert child["parent"] == "amazon-tee"


def test_a_sale_on_shopify_lowers_the_amazon_quantity(hub: Hub) -> None:
    wait_until(lambda: hub.shop.quantities().get("AMZ-S") == STOCK, hub.shop.quantities)
    placed = httpx.post(f"{hub.shop.url}/_sandbox/orders", json={"lines": [["AMZ-S", 2]]},
                        timeout=30)  # fmt: skip
    assert placed.status_code == 201, placed.text
    # The shop's webhooks are not pointed at Nexo here: its pull (every minute) or this one.
    pull_now(services.TEST_REDIS_URL or "", hub.shopify_id)

    wait_until(lambda: hub.stock("AMZ-S") == (STOCK, 2, STOCK - 2), lambda: hub.stock("AMZ-S"))
    wait_until(
        lambda: (hub.amazon.listing("AMZ-S") or {}).get("quantity") == STOCK - 2,
        lambda: hub.amazon.listing("AMZ-S"),
    )


def test_an_amazon_order_arrives_by_its_notification_and_is_reserved_once(hub: Hub) -> None:
    hub.amazon.faults(duplicate_webhooks=1.0)
    try:
        placed = hub.amazon.place([["AMZ-M", 1]])
    finally:
        hub.amazon.faults(duplicate_webhooks=0)

    order = wait_until(lambda: hub.allocated(hub.amazon_id, placed),
                       lambda: hub.orders(hub.amazon_id, placed))  # fmt: skip
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [("AMZ-M", 1)]
    assert hub.stock("AMZ-M") == (STOCK, 1, STOCK - 1)

    # Shipped in Nexo: the shipment is confirmed on Amazon, with its tracking number.
    hub.ok(CREATE_SHIPMENT, input={
        "orderId": order["id"], "lineIds": [order["lines"][0]["id"]],
        "locationId": hub.location, "carrier": "UPS", "trackingNumber": "1ZAMAZON0001",
        "idempotencyKey": "amazon-ship-1"})  # fmt: skip
    shipped = wait_until(
        lambda: (o := hub.amazon.order(placed))["packages"] and o, lambda: hub.amazon.order(placed)
    )
    assert [(p["carrier"], p["tracking"]) for p in shipped["packages"]] == [("UPS", "1ZAMAZON0001")]
    assert shipped["fulfillment"]["fulfillmentStatus"] == "SHIPPED"


def test_an_order_whose_notification_was_dropped_is_pulled_and_reserved_once(hub: Hub) -> None:
    hub.amazon.faults(drop_webhooks=1.0)
    try:
        placed = hub.amazon.place([["AMZ-L", 2]])
    finally:
        hub.amazon.faults(drop_webhooks=0)
    assert hub.orders(hub.amazon_id, placed) == []

    pull_now(services.TEST_REDIS_URL or "", hub.amazon_id)
    pull_now(services.TEST_REDIS_URL or "", hub.amazon_id)  # twice: still one order

    wait_until(
        lambda: hub.allocated(hub.amazon_id, placed), lambda: hub.orders(hub.amazon_id, placed)
    )
    assert len(hub.orders(hub.amazon_id, placed)) == 1
    assert hub.stock("AMZ-L") == (STOCK, 2, STOCK - 2)


def test_an_order_amazon_fulfils_never_touches_the_merchants_stock(hub: Hub) -> None:
    before = hub.stock("AMZ-L")
    placed = hub.amazon.place([["AMZ-L", 3]], fulfilledBy="AMAZON")

    # Its notification is read, kept, and not acted on by this merchant-fulfilled channel.
    [event] = wait_until(
        lambda: [e for e in hub.inbox() if placed in e["payload"] and e["status"] == "IGNORED"],
        hub.inbox,
    )
    assert "fulfilled by Amazon" in event["topic"]
    pull_now(services.TEST_REDIS_URL or "", hub.amazon_id)
    assert hub.orders(hub.amazon_id, placed) == []
    assert hub.stock("AMZ-L") == before
