"""eBay across real processes: `nexo-sandbox ebay`, one `nexo serve` on PostgreSQL and Redis,
and one `nexo worker`.

A shirt in Size x Colour is listed on eBay as one item group; a sale on the web store lowers
what eBay offers. eBay's signed ORDER_CONFIRMATION brings an order in (a forged one is refused
and stores nothing), and an order whose notification never came is found by the pull of
orders by `lastmodifieddate`; each is reserved once, and shipping it in Nexo sends eBay a
shipping fulfillment with the carrier and the tracking number.

The pull is the one the next notification asks for: the periodic one (every minute) would
find the order too, but waiting for it would double this test's runtime.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.fernet import Fernet

from tests import services
from tests.api.catalog.support import shirt
from tests.e2e.sandbox_process import Sandbox, Workers, sandbox_running
from tests.e2e.servers import Server, nexo_env, serving
from tests.e2e.test_order_processes import _admin_key
from tests.graphql import data

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

T = TypeVar("T")

STOCK = 10
SIZES, COLOURS = ("S", "M"), ("Red", "Blue")
SKUS = tuple(f"EB-{size}-{colour.upper()}" for size in SIZES for colour in COLOURS)
VARIES_BY = ["Size", "Colour"]
# What `nexo-sandbox ebay` accepts by default.
CREDENTIALS = {
    "client_id": "nexo-sandbox-app",
    "client_secret": "sandbox-secret",
    "refresh_token": "v^1.1#sandbox-refresh",
    "verification_token": "sandbox-verification-token-0123456789abcdef",
}
SETTINGS = {
    "marketplaceId": "EBAY_US",
    "merchantLocationKey": "WH-1",
    "fulfillmentPolicyId": "6196947000",
    "paymentPolicyId": "6196944000",
    "returnPolicyId": "6196946000",
    "categoryId": "15687",
}
# Items, the group, offers, the group's publication, then quantities: a few relay runs.
LISTED_WITHIN = 30.0
# Nexo's figure reaches eBay through one relay run (a worker polling every 50 ms).
REACHES_EBAY_WITHIN = 15.0
# Notification -> inbox -> process_inbox -> pull_orders -> allocate_order: four jobs.
RESERVED_WITHIN = 20.0
POLL = 0.05

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
PLACE_ORDER = """
mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id status } userErrors { field message code } } }"""
CREATE_SHIPMENT = """
mutation($input: CreateShipmentInput!) {
  createShipment(input: $input) {
    order { status } shipment { carrier trackingNumber } userErrors { field message code } } }"""
ORDERS = """
query($c: ID!) { orders(first: 100, filter: {channelIds: [$c]}) { edges { node {
  id externalId status lines { id sku quantity status } } } } }"""
STOCK_QUERY = """
query($sku: String!, $c: ID!) {
  inventoryItem(sku: $sku) { onHand reserved available }
  reservations(sku: $sku, status: ACTIVE, first: 100) { nodes { id } }
  channelAvailability(sku: $sku, channelId: $c) { quantity }
}"""
INBOX = """
query($c: ID!) { inboxEvents(channelId: $c, first: 100) { edges { node {
  eventId topic status payload } } } }"""


@dataclass
class Ebay:
    """Nexo (one server, one worker) selling on the eBay sandbox and on a web store."""

    server: Server
    key: str
    sandbox: Sandbox
    workers: Workers
    location: str = ""
    ebay: str = ""
    webstore: str = ""

    @property
    def endpoint(self) -> str:
        return f"{self.server.base_url}/webhooks/{self.ebay}"

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

    def channel(self, name: str, kind: str) -> str:
        created = {"name": name, "kind": kind, "currency": "USD", "locationIds": [self.location]}
        channel_id: str = self.ok(CREATE_CHANNEL, input=created)["channel"]["id"]
        return channel_id

    def connect(self) -> None:
        """A warehouse feeding an eBay channel (the sandbox) and a web store; eBay sends its
        notifications to the hub once the endpoint has answered its challenge."""
        self.location = self.ok(CREATE_LOCATION)["location"]["id"]
        self.ebay = self.channel("eBay", "EBAY")
        self.webstore = self.channel("Web store", "WEBSTORE")
        credentials = {**CREDENTIALS, "api_url": self.sandbox.url}
        self.ok(
            SET_CREDENTIALS,
            input={"channelId": self.ebay,
                   "credentials": [{"name": k, "value": v} for k, v in credentials.items()]},
        )  # fmt: skip
        self.ok(
            SET_LISTING_RULE,
            input={"channelId": self.ebay, "selector": {"kind": "ALL"},
                   "settings": [{"name": k, "value": v} for k, v in SETTINGS.items()]},
        )  # fmt: skip
        answer = self.sandbox.http.post("/_sandbox/subscribe", json={"endpoint": self.endpoint})
        assert answer.status_code == 200, answer.text

    def state(self) -> dict[str, Any]:
        found: dict[str, Any] = self.sandbox.http.get("/_sandbox/state").json()
        return found

    def offered(self) -> dict[str, int]:
        """What a buyer can buy of each SKU on eBay now."""
        found: dict[str, int] = self.state()["items"]
        return found

    def stock_up(self) -> None:
        """The Size x Colour shirt, STOCK of each; returns once eBay sells them."""
        self.ok(CREATE_PRODUCT, input=size_by_colour_shirt())
        for sku in SKUS:
            self.ok(RECEIVE, input={"sku": sku, "locationId": self.location, "quantity": STOCK,
                                    "idempotencyKey": f"stock-{sku}"})  # fmt: skip
        wait_until(
            lambda: self.listed() and all(self.offered().get(sku) == STOCK for sku in SKUS),
            LISTED_WITHIN,
            lambda: f"eBay offers {self.offered()}, groups {self.state()['groups']}",
        )

    def listed(self) -> bool:
        """Every item group is published as a listing."""
        groups = self.state()["groups"].values()
        return bool(groups) and all(group["listed"] for group in groups)

    def offers(self, sku: str, quantity: int) -> bool:
        return self.offered().get(sku) == quantity

    def fulfillments(self, order_id: str) -> list[dict[str, Any]]:
        """eBay's shipping fulfillments of one of its orders."""
        found: list[dict[str, Any]] = self.state()["fulfillments"].get(order_id, [])
        return found

    def sell_on_ebay(self, sku: str, quantity: int = 1) -> str:
        """A buyer checks out on eBay; the order id."""
        answer = self.sandbox.http.post("/_sandbox/orders", json={"lines": [[sku, quantity]]})
        assert answer.status_code == 201, answer.text
        order_id: str = answer.json()["orderId"]
        return order_id

    def notifications(self, *, lost: bool) -> None:
        answer = self.sandbox.http.post("/_sandbox/faults", json={"drop_webhooks": int(lost)})
        assert answer.status_code == 200, answer.text

    def orders(self, external_id: str) -> list[dict[str, Any]]:
        edges = self.call(ORDERS, c=self.ebay)["orders"]["edges"]
        return [e["node"] for e in edges if e["node"]["externalId"] == external_id]

    def allocated(self, external_id: str) -> dict[str, Any] | None:
        found = self.orders(external_id)
        if len(found) == 1 and found[0]["status"] == "ALLOCATED":
            return found[0]
        return None

    def stock(self, sku: str) -> tuple[int, int, int, int, int]:
        """(on hand, reserved, available, active holds, what eBay is offered)."""
        found = self.call(STOCK_QUERY, sku=sku, c=self.ebay)
        item = found["inventoryItem"]
        holds, offered = found["reservations"]["nodes"], found["channelAvailability"]["quantity"]
        return item["onHand"], item["reserved"], item["available"], len(holds), offered

    def inbox(self) -> list[dict[str, Any]]:
        return [e["node"] for e in self.call(INBOX, c=self.ebay)["inboxEvents"]["edges"]]


def size_by_colour_shirt() -> dict[str, Any]:
    """The suite's shirt in two sizes and two colours (its pictures vary by colour)."""
    product = shirt("ebay-shirt", "EB")
    product["options"] = [{"name": "Size", "values": list(SIZES)},
                          {"name": "Colour", "values": list(COLOURS)}]  # fmt: skip
    product["variants"] = [v for v in product["variants"] if v["sku"] in SKUS]
    for image in product["images"]:
        image["skus"] = [sku for sku in image["skus"] if sku in SKUS]
    return product


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


@pytest.fixture(scope="module")
def ebay(postgres_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ebay]:
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
    home: Path = tmp_path_factory.mktemp("ebay-processes")
    env = nexo_env(
        NEXO_DATABASE_URL=postgres_url,
        NEXO_REDIS_URL=redis,
        NEXO_ENVIRONMENT="dev",
        # The server seals the channel's credentials, the worker opens them: one key for both.
        NEXO_SECRET_KEY=Fernet.generate_key().decode(),
    )
    with (
        sandbox_running(home, nexo_env(), kind="ebay") as sandbox,
        serving(home, env, "serve") as (server,),
    ):
        workers = Workers(home, env)
        try:
            workers.start()
            made = Ebay(server, key, sandbox, workers)
            made.connect()
            made.stock_up()
            yield made
            assert workers.live(), "the worker died:\n" + "\n".join(
                w.log.read_text() for w in workers.started
            )
            assert made.state()["violations"] == []  # every answer eBay's spec allows
        finally:
            complaints = workers.stop_all()
        assert not complaints, complaints


def test_a_size_by_colour_shirt_is_one_item_group_and_a_web_store_sale_lowers_ebay(
    ebay: Ebay,
) -> None:
    (group,) = ebay.state()["groups"].values()
    assert sorted(group["variantSKUs"]) == sorted(SKUS)
    assert [s["name"] for s in group["variesBy"]["specifications"]] == VARIES_BY
    assert group["variesBy"]["aspectsImageVariesBy"] == ["Colour"]

    sold = ebay.ok(
        PLACE_ORDER,
        input={"channelId": ebay.webstore, "cartId": "cart-1",
               "customer": {"name": "Ada", "email": "ada@example.com"},
               "shippingAddress": {"line1": "1 Main St", "city": "Austin", "country": "US"},
               "lines": [{"sku": SKUS[0], "quantity": 2,
                          "unitPrice": {"amount": "20.00", "currencyCode": "USD"}}],
               "idempotencyKey": "web-sale-1"},
    )  # fmt: skip
    assert sold["order"]["status"] == "ALLOCATED"

    wait_until(
        lambda: ebay.offered()[SKUS[0]] == STOCK - 2,
        REACHES_EBAY_WITHIN,
        lambda: f"eBay offers {ebay.offered()[SKUS[0]]} of {SKUS[0]}",
    )
    assert ebay.stock(SKUS[0]) == (STOCK, 2, STOCK - 2, 1, STOCK - 2)
    assert ebay.offered()[SKUS[3]] == STOCK  # no other SKU sold there


def test_ebay_orders_by_signed_notification_and_by_pull_are_reserved_once_and_shipped(
    ebay: Ebay,
) -> None:
    notified_sku, pulled_sku = SKUS[1], SKUS[2]  # not the web store's

    # Not signed by eBay: refused, nothing stored.
    forged_body = json.dumps({
        "metadata": {"topic": "ORDER_CONFIRMATION", "schemaVersion": "1.0", "deprecated": False},
        "notification": {"notificationId": "forged-1", "eventDate": "2026-01-01T00:00:00.000Z",
                         "publishDate": "2026-01-01T00:00:00.000Z", "publishAttemptCount": 1,
                         "data": {"orderId": "12-00000-00000"}},
    }).encode()  # fmt: skip
    signature = base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()
    for kid in ("forged-kid", ebay.state()["public_key_id"]):  # unknown; eBay's, wrong signature
        forged = {"alg": "ecdsa", "kid": kid, "digest": "SHA1", "signature": signature}
        answer = httpx.post(
            ebay.endpoint,
            content=forged_body,
            headers={"Content-Type": "application/json",
                     "X-EBAY-SIGNATURE": base64.b64encode(json.dumps(forged).encode()).decode()},
            timeout=10,
        )  # fmt: skip
        assert answer.status_code == 401, answer.text
    assert ebay.inbox() == []

    # An order whose notification is lost, then one notified: the pull that the notification
    # asks for reads every order changed since the last pull, the lost one too.
    ebay.notifications(lost=True)
    pulled = ebay.sell_on_ebay(pulled_sku)
    ebay.notifications(lost=False)
    notified = ebay.sell_on_ebay(notified_sku)

    orders = {
        external_id: wait_until(
            partial(ebay.allocated, external_id),
            RESERVED_WITHIN,
            lambda: f"orders {ebay.call(ORDERS, c=ebay.ebay)}, inbox {ebay.inbox()}",
        )
        for external_id in (notified, pulled)
    }
    events = ebay.inbox()
    assert [(e["topic"], e["status"]) for e in events] == [("ORDER_CONFIRMATION", "PROCESSED")]
    assert json.loads(events[0]["payload"])["notification"]["data"]["orderId"] == notified
    for external_id, sku in ((notified, notified_sku), (pulled, pulled_sku)):
        assert [(ln["sku"], ln["quantity"], ln["status"]) for ln in orders[external_id]["lines"]] \
            == [(sku, 1, "ALLOCATED")]  # fmt: skip
        assert ebay.stock(sku) == (STOCK, 1, STOCK - 1, 1, STOCK - 1)  # reserved once
        wait_until(partial(ebay.offers, sku, STOCK - 1), REACHES_EBAY_WITHIN)

    for n, external_id in enumerate((notified, pulled)):
        order = orders[external_id]
        tracking = f"9400100000000000000{n}"
        shipped = ebay.ok(
            CREATE_SHIPMENT,
            input={"orderId": order["id"], "lineIds": [order["lines"][0]["id"]],
                   "locationId": ebay.location, "carrier": "USPS", "trackingNumber": tracking,
                   "idempotencyKey": f"ship-{external_id}"},
        )  # fmt: skip
        assert shipped["order"]["status"] == "SHIPPED"
        (fulfillment,) = wait_until(
            partial(ebay.fulfillments, external_id),
            REACHES_EBAY_WITHIN,
        )
        assert (fulfillment["shippingCarrierCode"], fulfillment["shipmentTrackingNumber"]) == (
            "USPS",
            tracking,
        )
        assert [li["quantity"] for li in fulfillment["lineItems"]] == [1]
    shown = {o["orderId"]: o for o in ebay.state()["orders"]}
    assert {shown[i]["orderFulfillmentStatus"] for i in (notified, pulled)} == {"FULFILLED"}
    assert len(ebay.orders(notified)) == len(ebay.orders(pulled)) == 1
