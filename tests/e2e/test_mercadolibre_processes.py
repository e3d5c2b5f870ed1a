"""MercadoLibre across real processes: `nexo-sandbox mercadolibre`, one `nexo serve` on
PostgreSQL and Redis, and two `nexo worker`s.

A shirt in Size x Colour is listed as one classic item with six variations; a sale on the web
store lowers that variation's quantity on MercadoLibre and deletes no variation. An order
notified by its pointer and a two-order pack whose pointers were lost (found by the pull the
next pointer asks for) are each reserved once, the pack as one order; shipping them in Nexo
tells their ME1 shipments the tracking numbers. Every access token revoked at once, both
workers need a new one together: the single-use refresh token is spent once, never twice,
and the account goes on working. Then an ME2 sale is shipped and delivered in Nexo as
MercadoLibre moves its parcel on, with no shipment made by hand: each move is told by a
pointer whose pull may come in the same turn as the pull before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography.fernet import Fernet

from tests import services
from tests.api.catalog.support import shirt
from tests.e2e.sandbox_process import Sandbox, Workers, sandbox_running
from tests.e2e.servers import Server, nexo_env, serving
from tests.e2e.test_ebay_processes import (
    CREATE_CHANNEL,
    CREATE_LOCATION,
    CREATE_PRODUCT,
    CREATE_SHIPMENT,
    ORDERS,
    PLACE_ORDER,
    RECEIVE,
    SET_CREDENTIALS,
    SET_LISTING_RULE,
    wait_until,
)
from tests.e2e.test_order_processes import _admin_key
from tests.graphql import data

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

T = TypeVar("T")

STOCK = 10
SKUS = tuple(f"ML-{size}-{colour}" for size in "SML" for colour in ("RED", "BLUE"))
CATEGORY = "MLA109282"
# What `nexo-sandbox mercadolibre` accepts by default.
CREDENTIALS = {
    "client_id": "4242424242",
    "client_secret": "sandbox-secret",
    "refresh_token": "TG-sandbox-refresh",
    "user_id": "123456789",
}
SETTINGS = {"listingModel": "classic", "listingTypeId": "gold_special", "shippingMode": "me1"}
WITHIN = 20.0
CREATE_CATEGORY = 'mutation { createCategory(input: {name: "Shirts"}) { category { id } } }'


@dataclass
class Meli:
    """Nexo (one server, two workers) selling on the MercadoLibre sandbox and a web store."""

    server: Server
    key: str
    sandbox: Sandbox
    location: str = ""
    meli: str = ""
    webstore: str = ""

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

    def channel(self, name: str, kind: str) -> str:
        created = {"name": name, "kind": kind, "currency": "ARS", "locationIds": [self.location]}
        channel_id: str = self.ok(CREATE_CHANNEL, input=created)["channel"]["id"]
        return channel_id

    def connect(self) -> None:
        self.location = self.ok(CREATE_LOCATION)["location"]["id"]
        self.meli = self.channel("MercadoLibre", "MERCADOLIBRE")
        self.webstore = self.channel("Web store", "WEBSTORE")
        credentials = {**CREDENTIALS, "api_url": self.sandbox.url}
        self.ok(SET_CREDENTIALS, input={"channelId": self.meli, "credentials": [
            {"name": k, "value": v} for k, v in credentials.items()]})  # fmt: skip
        category = self.call(CREATE_CATEGORY)["createCategory"]["category"]["id"]
        self.ok(SET_LISTING_RULE, input={
            "channelId": self.meli, "selector": {"kind": "ALL"},
            "settings": [{"name": k, "value": v} for k, v in SETTINGS.items()],
            "categoryMap": [{"categoryId": category, "channelCategoryId": CATEGORY}],
        })  # fmt: skip
        endpoint = f"{self.server.base_url}/webhooks/{self.meli}"
        answer = self.sandbox.http.post("/_sandbox/subscribe", json={"endpoint": endpoint})
        assert answer.status_code == 200, answer.text
        product = shirt("ml-shirt", "ML")
        for variant in product["variants"]:
            for money in (variant["price"], variant["cost"]):
                money["currencyCode"] = "ARS"
        self.ok(CREATE_PRODUCT, input={**product, "categoryId": category})
        for sku in SKUS:
            self.ok(RECEIVE, input={"sku": sku, "locationId": self.location, "quantity": STOCK,
                                    "idempotencyKey": f"stock-{sku}"})  # fmt: skip
        wait_until(lambda: self.offered() == dict.fromkeys(SKUS, STOCK), WITHIN,
                   lambda: f"MercadoLibre offers {self.offered()}")  # fmt: skip

    def state(self) -> dict[str, Any]:
        found: dict[str, Any] = self.sandbox.http.get("/_sandbox/state").json()
        return found

    def offered(self) -> dict[str, int]:
        found: dict[str, int] = self.state()["offered"]
        return found

    def sell(self, *lines: tuple[str, int], lost: bool = False) -> str:
        faults = self.sandbox.http.post("/_sandbox/faults", json={"drop_webhooks": int(lost)})
        assert faults.status_code == 200, faults.text
        answer = self.sandbox.http.post("/_sandbox/orders", json={"lines": list(lines)})
        assert answer.status_code == 201, answer.text
        sale: str = answer.json()["sale"]
        return sale

    def orders(self, external_id: str) -> list[dict[str, Any]]:
        edges = self.call(ORDERS, c=self.meli)["orders"]["edges"]
        return [e["node"] for e in edges if e["node"]["externalId"] == external_id]

    def allocated(self, external_id: str) -> dict[str, Any] | None:
        found = self.orders(external_id)
        if len(found) == 1 and found[0]["status"] == "ALLOCATED":
            return found[0]
        return None

    def available(self, sku: str) -> tuple[int, int]:
        found = self.call("query($s: String!) { inventoryItem(sku: $s) { reserved available } }",
                          s=sku)["inventoryItem"]  # fmt: skip
        return found["reserved"], found["available"]


def once(condition: Callable[[], T | None]) -> T:
    return wait_until(condition, WITHIN)


@pytest.fixture(scope="module")
def meli(postgres_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Meli]:
    if postgres_url is None:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    redis = services.TEST_REDIS_URL
    if not redis:
        services.absent("Redis", "NEXO_TEST_REDIS_URL")
    assert postgres_url is not None
    assert redis is not None
    asyncio.run(services.empty_database(postgres_url))
    key = asyncio.run(_admin_key(postgres_url))
    home: Path = tmp_path_factory.mktemp("mercadolibre-processes")
    secret = Fernet.generate_key().decode()  # the server seals, the workers open: one key
    env = nexo_env(NEXO_DATABASE_URL=postgres_url, NEXO_REDIS_URL=redis,
                   NEXO_ENVIRONMENT="dev", NEXO_SECRET_KEY=secret)  # fmt: skip
    with (
        sandbox_running(home, nexo_env(), kind="mercadolibre") as sandbox,
        serving(home, env, "serve") as (server,),
    ):
        workers = Workers(home, env)
        try:
            workers.start()
            workers.start()
            made = Meli(server, key, sandbox)
            made.connect()
            yield made
            assert len(workers.live()) == 2, "a worker died:\n" + "\n".join(
                w.log.read_text() for w in workers.started
            )
        finally:
            complaints = workers.stop_all()
        assert not complaints, complaints


def test_a_web_store_sale_lowers_one_variation_and_deletes_none(meli: Meli) -> None:
    [item] = meli.state()["items"]
    assert len(item["variations"]) == len(SKUS)

    sold = meli.ok(PLACE_ORDER, input={
        "channelId": meli.webstore, "cartId": "cart-1",
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "shippingAddress": {"line1": "Av. Corrientes 1", "city": "CABA", "country": "AR"},
        "lines": [{"sku": SKUS[0], "quantity": 2,
                   "unitPrice": {"amount": "20.00", "currencyCode": "ARS"}}],
        "idempotencyKey": "web-sale-1",
    })  # fmt: skip
    assert sold["order"]["status"] == "ALLOCATED"

    once(lambda: meli.offered()[SKUS[0]] == STOCK - 2)
    assert meli.offered() == {**dict.fromkeys(SKUS, STOCK), SKUS[0]: STOCK - 2}
    state = meli.state()
    assert state["deleted_variations"] == []
    assert [len(i["variations"]) for i in state["items"]] == [len(SKUS)]


def test_orders_by_pointer_and_by_pull_are_reserved_once_and_shipped_with_tracking(
    meli: Meli,
) -> None:
    pack = meli.sell((SKUS[1], 1), (SKUS[2], 2), lost=True)  # a cart of two orders, unheard
    notified = meli.sell((SKUS[3], 1))

    orders = {sale: once(partial(meli.allocated, sale)) for sale in (notified, pack)}
    lines = sorted((ln["sku"], ln["quantity"]) for ln in orders[pack]["lines"])
    assert lines == sorted([(SKUS[1], 1), (SKUS[2], 2)])  # one order for the cart
    assert meli.available(SKUS[2]) == (2, STOCK - 2)  # reserved once
    once(lambda: meli.offered()[SKUS[2]] == STOCK - 2)

    for n, sale in enumerate((notified, pack)):
        order = orders[sale]
        shipped = meli.ok(CREATE_SHIPMENT, input={
            "orderId": order["id"], "lineIds": [ln["id"] for ln in order["lines"]],
            "locationId": meli.location, "carrier": "OCA", "trackingNumber": f"OCA-{n}",
            "idempotencyKey": f"ship-{sale}"})  # fmt: skip
        assert shipped["order"]["status"] == "SHIPPED"
    once(lambda: sorted(t for ts in meli.state()["parcels"].values() for t in ts)
         == ["OCA-0", "OCA-1"])  # fmt: skip
    assert len(meli.orders(pack)) == len(meli.orders(notified)) == 1


def test_both_workers_needing_a_new_token_at_once_spend_the_refresh_token_once(
    meli: Meli,
) -> None:
    before = meli.state()["refreshes"]
    shown = meli.offered()
    assert meli.sandbox.http.post("/_sandbox/expire_tokens").status_code == 200
    for n, sku in enumerate(SKUS[3:]):  # a push for each worker, at the same moment
        meli.ok(RECEIVE, input={"sku": sku, "locationId": meli.location, "quantity": 1,
                                "idempotencyKey": f"more-{n}"})  # fmt: skip

    # Each SKU shows its new unit: both pushes were made (a figure the shop showed before
    # them would pass a weaker check before any token was asked for).
    once(lambda: all(meli.offered()[sku] == shown[sku] + 1 for sku in SKUS[3:]))
    state = meli.state()
    assert state["refused_grants"] == 0  # no refresh token was ever used twice
    assert state["refreshes"] == before + 1
    assert state["deleted_variations"] == []


def test_an_me2_parcel_is_shipped_and_delivered_in_nexo_as_mercadolibre_moves_it(
    meli: Meli,
) -> None:
    answer = meli.sandbox.http.post(
        "/_sandbox/orders", json={"lines": [[SKUS[5], 1]], "shippingMode": "me2"}
    )
    assert answer.status_code == 201, answer.text
    sale = answer.json()["sale"]
    shipment = answer.json()["orders"][0]["shipping"]["id"]
    once(partial(meli.allocated, sale))
    reserved, available = meli.available(SKUS[5])

    def status() -> str:
        [order] = meli.orders(sale)
        return str(order["status"])

    advance = f"/_sandbox/shipments/{shipment}/advance"
    assert meli.sandbox.http.post(advance).status_code == 200  # MercadoLibre took it
    once(lambda: status() == "SHIPPED")
    assert meli.available(SKUS[5]) == (reserved - 1, available)  # committed: it left
    assert meli.sandbox.http.post(advance).status_code == 200  # and tracked it home
    once(lambda: status() == "DELIVERED")
    assert len(meli.orders(sale)) == 1
