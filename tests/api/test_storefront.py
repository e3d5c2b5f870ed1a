"""The own web store as an API client: what it shows, holding a cart, letting it go, live
quantities."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from domain.inventory.events import STOCK_TOPIC
from domain.inventory.reservations import expire_reservations
from tests.api.catalog.support import create_product, shirt
from tests.graphql import GraphQLSocket, data, gql, websocket

ERRORS = "userErrors { field message code }"
RESERVATIONS = "reservations { id sku quantity status expiresAt reference location { id } }"
CHECKOUT = f"""
mutation($input: CheckoutReserveInput!) {{
  checkoutReserve(input: $input) {{ {RESERVATIONS} replayed {ERRORS} }}
}}"""
RELEASE_CART = f"""
mutation($input: ReleaseCartInput!) {{
  releaseCart(input: $input) {{ {RESERVATIONS} replayed {ERRORS} }}
}}"""
ITEMS = """
query($channelId: ID!, $skus: [String!]!) {
  storefrontItems(channelId: $channelId, skus: $skus) {
    sku quantity price { amount currencyCode } compareAtPrice { amount currencyCode }
  }
}"""
AVAILABILITY = """
subscription($channelId: ID!, $skus: [String!]) {
  channelAvailabilityChanged(channelId: $channelId, skus: $skus) {
    sku channelId quantity version changedAt
  }
}"""
LEVELS = "query($sku: String!) { inventoryItem(sku: $sku) { onHand reserved available } }"
RECEIVE = """
mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { userErrors { code } } }"""
CREATE_LOCATION = """
mutation($code: String!, $kind: LocationKind!) {
  createLocation(input: {code: $code, name: $code, kind: $kind}) { location { id } }
}"""
CREATE_CHANNEL = """
mutation($input: CreateChannelInput!) {
  createChannel(input: $input) { channel { id } userErrors { code } }
}"""
SCHEDULE_SALE = """
mutation($input: ScheduleSalePriceInput!) {
  scheduleSalePrice(input: $input) { userErrors { code } }
}"""

S_RED, M_RED, M_BLUE = "TS-S-RED", "TS-M-RED", "TS-M-BLUE"


@dataclass
class Store:
    """Web (WEBSTORE, USD, buffer 1) is fed by WH1; ST1 feeds nothing; Marketplace is Shopify."""

    http: httpx.AsyncClient
    key: str
    web: str
    web_eu: str
    marketplace: str
    wh: str
    st: str
    received: int = 0

    async def run(self, document: str, **variables: Any) -> dict[str, Any]:
        return data(await gql(self.http, document, variables, key=self.key))

    async def receive(self, sku: str, location: str, quantity: int) -> None:
        self.received += 1
        body = await self.run(
            RECEIVE,
            input={"sku": sku, "locationId": location, "quantity": quantity,
                   "idempotencyKey": f"receive-{self.received}"},
        )  # fmt: skip
        assert body["receiveStock"]["userErrors"] == []

    async def levels(self, sku: str) -> dict[str, int]:
        item: dict[str, int] = (await self.run(LEVELS, sku=sku))["inventoryItem"]
        return item

    async def checkout(
        self, cart: str, lines: list[tuple[str, int]], key: str, channel: str | None = None
    ) -> dict[str, Any]:
        body = await self.run(
            CHECKOUT,
            input={"channelId": channel or self.web, "cartId": cart, "idempotencyKey": key,
                   "lines": [{"sku": s, "quantity": q} for s, q in lines]},
        )  # fmt: skip
        payload: dict[str, Any] = body["checkoutReserve"]
        return payload

    async def release(self, cart: str, key: str) -> dict[str, Any]:
        body = await self.run(
            RELEASE_CART, input={"channelId": self.web, "cartId": cart, "idempotencyKey": key}
        )
        payload: dict[str, Any] = body["releaseCart"]
        return payload


async def create_channel(store_http: httpx.AsyncClient, key: str, **fields: Any) -> str:
    body = data(await gql(store_http, CREATE_CHANNEL, {"input": fields}, key=key))
    assert body["createChannel"]["userErrors"] == []
    return str(body["createChannel"]["channel"]["id"])


@pytest.fixture
async def store(http: httpx.AsyncClient, staff_key: str) -> Store:
    assert (await create_product(http, staff_key, shirt()))["userErrors"] == []

    async def location(code: str, kind: str) -> str:
        body = data(await gql(http, CREATE_LOCATION, {"code": code, "kind": kind}, key=staff_key))
        return str(body["createLocation"]["location"]["id"])

    wh, st = await location("WH1", "WAREHOUSE"), await location("ST1", "STORE")
    store = Store(
        http,
        staff_key,
        web=await create_channel(http, staff_key, name="Web", kind="WEBSTORE", currency="USD",
                                 locationIds=[wh], bufferQuantity=1),
        web_eu=await create_channel(http, staff_key, name="Web EU", kind="WEBSTORE",
                                    currency="EUR", locationIds=[wh]),
        marketplace=await create_channel(http, staff_key, name="Marketplace", kind="SHOPIFY",
                                         currency="USD", locationIds=[wh]),
        wh=wh,
        st=st,
    )  # fmt: skip
    await store.receive(S_RED, wh, 5)
    await store.receive(M_RED, wh, 3)
    return store


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


def summary(reservations: list[dict[str, Any]]) -> list[tuple[str, int, str, str | None]]:
    return [(r["sku"], r["quantity"], r["status"], r["reference"]) for r in reservations]


async def test_checkout_holds_every_line_for_the_cart(store: Store) -> None:
    # ST1 sorts before WH1 and has stock, but only WH1 feeds the web store.
    await store.receive(S_RED, store.st, 10)
    before = datetime.now(UTC)
    payload = await store.checkout("c1", [(S_RED, 2), (M_RED, 1)], "checkout-c1")

    assert payload["userErrors"] == []
    assert payload["replayed"] is False
    assert summary(payload["reservations"]) == [
        (S_RED, 2, "ACTIVE", "cart:c1"),
        (M_RED, 1, "ACTIVE", "cart:c1"),
    ]
    for reservation in payload["reservations"]:
        assert reservation["location"]["id"] == store.wh
        expires = datetime.fromisoformat(reservation["expiresAt"])
        assert (
            before + timedelta(seconds=900) <= expires <= datetime.now(UTC) + timedelta(seconds=900)
        )
    assert await store.levels(S_RED) == {"onHand": 15, "reserved": 2, "available": 13}
    assert await store.levels(M_RED) == {"onHand": 3, "reserved": 1, "available": 2}

    # The same key again (a retried request): the same reservations, nothing more held.
    again = await store.checkout("c1", [(S_RED, 2), (M_RED, 1)], "checkout-c1")
    assert again["replayed"] is True
    assert again["reservations"] == payload["reservations"]
    assert await store.levels(S_RED) == {"onHand": 15, "reserved": 2, "available": 13}


async def test_a_short_line_holds_nothing_and_is_named(store: Store) -> None:
    payload = await store.checkout("c2", [(S_RED, 1), (M_RED, 4)], "checkout-c2")

    assert payload["reservations"] == []
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("lines[1].quantity", "INSUFFICIENT_STOCK")
    ]
    assert M_RED in payload["userErrors"][0]["message"]
    assert await store.levels(S_RED) == {"onHand": 5, "reserved": 0, "available": 5}
    assert await store.levels(M_RED) == {"onHand": 3, "reserved": 0, "available": 3}

    # Nothing was recorded under the key: once the cart fits, the same key goes through.
    fixed = await store.checkout("c2", [(S_RED, 1), (M_RED, 4)], "checkout-c2")
    assert fixed["userErrors"] != []
    await store.receive(M_RED, store.wh, 1)
    fixed = await store.checkout("c2", [(S_RED, 1), (M_RED, 4)], "checkout-c2")
    assert (fixed["userErrors"], fixed["replayed"]) == ([], False)
    assert await store.levels(M_RED) == {"onHand": 4, "reserved": 4, "available": 0}


async def test_checkout_refuses_other_channels_and_bad_carts(store: Store) -> None:
    async def errors(
        channel: str | None = None, cart: str = "c3", lines: list[tuple[str, int]] | None = None
    ) -> list[tuple[str | None, str]]:
        payload = await store.checkout(
            cart, [(S_RED, 1)] if lines is None else lines, "k3", channel
        )
        assert payload["reservations"] == []
        return [(e["field"], e["code"]) for e in payload["userErrors"]]

    assert await errors(channel=store.marketplace) == [("channelId", "INVALID_INPUT")]
    assert await errors(channel="00000000-0000-0000-0000-000000000000") == [
        ("channelId", "NOT_FOUND")
    ]
    nowhere = await create_channel(store.http, store.key, name="Web 2", kind="WEBSTORE",
                                   currency="USD")  # fmt: skip
    assert await errors(channel=nowhere) == [("channelId", "INVALID_INPUT")]
    assert await errors(cart=" ") == [("cartId", "INVALID_INPUT")]
    assert await errors(lines=[("NOPE", 1)]) == [("lines[0].sku", "NOT_FOUND")]
    assert await errors(lines=[(S_RED, 0)]) == [("lines[0].quantity", "INVALID_QUANTITY")]
    assert await errors(lines=[]) == [("lines", "INVALID_INPUT")]
    assert await store.levels(S_RED) == {"onHand": 5, "reserved": 0, "available": 5}


async def test_a_read_only_key_cannot_reserve(store: Store, readonly_key: str) -> None:
    body = await gql(
        store.http,
        CHECKOUT,
        {"input": {"channelId": store.web, "cartId": "c4", "idempotencyKey": "k4",
                   "lines": [{"sku": S_RED, "quantity": 1}]}},
        key=readonly_key,
    )  # fmt: skip
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_release_cart_lets_go_of_what_the_cart_holds(store: Store) -> None:
    held = await store.checkout("c5", [(S_RED, 2), (M_RED, 1)], "checkout-c5")
    other = await store.checkout("c6", [(S_RED, 1)], "checkout-c6")

    released = await store.release("c5", "release-c5")
    assert released["userErrors"] == []
    assert released["replayed"] is False
    assert sorted(r["id"] for r in released["reservations"]) == sorted(
        r["id"] for r in held["reservations"]
    )
    assert {r["status"] for r in released["reservations"]} == {"RELEASED"}
    # Only cart c6's unit is still held.
    assert await store.levels(S_RED) == {"onHand": 5, "reserved": 1, "available": 4}
    assert await store.levels(M_RED) == {"onHand": 3, "reserved": 0, "available": 3}

    # A retry with the same key answers the same; another key finds nothing left to release.
    again = await store.release("c5", "release-c5")
    assert (again["replayed"], again["reservations"]) == (True, released["reservations"])
    later = await store.release("c5", "release-c5-later")
    assert (later["reservations"], later["userErrors"]) == ([], [])
    assert await store.levels(S_RED) == {"onHand": 5, "reserved": 1, "available": 4}
    assert summary(other["reservations"]) == [(S_RED, 1, "ACTIVE", "cart:c6")]

    too_long = await store.release("c6", "k" * 161)
    assert [(e["field"], e["code"]) for e in too_long["userErrors"]] == [
        ("idempotencyKey", "INVALID_INPUT")
    ]


async def test_storefront_items_show_channel_quantity_and_price(
    store: Store, readonly_key: str
) -> None:
    now = datetime.now(UTC)
    sale = {"channelId": store.web, "sku": M_RED,
            "price": {"amount": "15.00", "currencyCode": "USD"},
            "startsAt": (now - timedelta(hours=1)).isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat()}  # fmt: skip
    assert (await store.run(SCHEDULE_SALE, input=sale))["scheduleSalePrice"]["userErrors"] == []
    await store.receive(S_RED, store.st, 10)  # ST1 does not feed the web store

    # A read-only key reads; an unknown SKU is a null entry; the order is the order asked.
    body = await gql(
        store.http,
        ITEMS,
        {"channelId": store.web, "skus": [S_RED, "NOPE", M_RED, M_BLUE]},
        key=readonly_key,
    )
    assert data(body)["storefrontItems"] == [
        # WH1 has 5; the channel keeps a buffer of 1.
        {"sku": S_RED, "quantity": 4, "price": usd("20.00"), "compareAtPrice": None},
        None,
        {"sku": M_RED, "quantity": 2, "price": usd("15.00"), "compareAtPrice": usd("20.00")},
        {"sku": M_BLUE, "quantity": 0, "price": usd("20.00"), "compareAtPrice": None},
    ]

    # No USD -> EUR rate: the quantity is known, the price is not.
    eu = data(await gql(store.http, ITEMS, {"channelId": store.web_eu, "skus": [S_RED]},
                        key=readonly_key))["storefrontItems"]  # fmt: skip
    assert eu == [{"sku": S_RED, "quantity": 5, "price": None, "compareAtPrice": None}]


async def test_storefront_items_refuse_bad_requests(store: Store) -> None:
    async def error(channel: str, skus: list[str]) -> dict[str, Any]:
        body = await gql(store.http, ITEMS, {"channelId": channel, "skus": skus}, key=store.key)
        assert body["data"] is None
        extensions: dict[str, Any] = body["errors"][0]["extensions"]
        return extensions

    empty = await gql(store.http, ITEMS, {"channelId": store.web, "skus": []}, key=store.key)
    assert data(empty)["storefrontItems"] == []
    too_many = [f"SKU-{n}" for n in range(101)]
    assert await error(store.web, too_many) == {"code": "INVALID_INPUT", "field": "skus"}
    assert await error(store.marketplace, [S_RED]) == {
        "code": "INVALID_INPUT",
        "field": "channelId",
    }
    assert (await error("nope", [S_RED]))["code"] == "NOT_FOUND"


async def subscribed(
    app: Starlette, socket: GraphQLSocket, key: str, variables: dict[str, Any]
) -> str:
    """Subscribe to channelAvailabilityChanged; return once the server listens on the bus."""
    assert (await socket.init(key))["type"] == "connection_ack"
    fanout = app.state.container.bus.fanout
    before = fanout.subscriber_count(STOCK_TOPIC)
    op = await socket.subscribe(AVAILABILITY, variables)
    async with asyncio.timeout(5):
        await fanout.wait_for_subscribers(STOCK_TOPIC, before + 1)
    return op


async def test_channel_availability_streams_the_channels_new_quantity(
    app: Starlette, store: Store, readonly_key: str
) -> None:
    async with websocket(app) as socket:
        op = await subscribed(app, socket, readonly_key, {"channelId": store.web, "skus": [S_RED]})

        await store.receive(M_RED, store.wh, 1)  # a SKU not asked for
        await store.receive(S_RED, store.st, 4)  # a location not feeding the web store
        await store.receive(S_RED, store.wh, 2)
        payload = await socket.next_payload(op, within=2)
        event = payload["data"]["channelAvailabilityChanged"]
        assert datetime.fromisoformat(event.pop("changedAt")) <= datetime.now(UTC)
        # WH1 now has 7; the buffer keeps 1 back. The first message is this change: the
        # two before it were never sent.
        assert event == {"sku": S_RED, "channelId": store.web, "quantity": 6, "version": 2}

        await store.checkout("c7", [(S_RED, 3)], "checkout-c7")
        event = (await socket.next_payload(op, within=2))["data"]["channelAvailabilityChanged"]
        assert (event["quantity"], event["version"]) == (3, 3)
        await socket.complete(op)


async def test_channel_availability_needs_a_web_store(
    app: Starlette, store: Store, readonly_key: str
) -> None:
    async with websocket(app) as socket:
        assert (await socket.init(readonly_key))["type"] == "connection_ack"
        op = await socket.subscribe(AVAILABILITY, {"channelId": store.marketplace})
        message = await socket.receive(within=2)
        assert message["id"] == op
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"] == {"code": "INVALID_INPUT", "field": "channelId"}
    assert app.state.container.bus.fanout.subscriber_count(STOCK_TOPIC) == 0


async def test_concurrent_checkouts_of_the_last_units_never_oversell(store: Store) -> None:
    # M_RED: 3 units at WH1. Twenty carts want one each, all at once.
    async def cart(n: int) -> dict[str, Any]:
        return await store.checkout(f"race-{n}", [(M_RED, 1)], key=f"race-{n}")

    answers = await asyncio.gather(*(cart(n) for n in range(20)))

    held = [a for a in answers if a["reservations"]]
    refused = [a for a in answers if a["userErrors"]]
    assert len(held) == 3
    assert len(refused) == 17
    assert {e["code"] for a in refused for e in a["userErrors"]} == {"INSUFFICIENT_STOCK"}
    assert await store.levels(M_RED) == {"onHand": 3, "reserved": 3, "available": 0}


async def test_an_expired_cart_frees_its_units(store: Store, container: Any) -> None:
    body = await store.run(
        CHECKOUT,
        input={"channelId": store.web, "cartId": "slow", "idempotencyKey": "slow-1",
               "expiresInSeconds": 1, "lines": [{"sku": M_RED, "quantity": 2}]},
    )  # fmt: skip
    assert body["checkoutReserve"]["userErrors"] == []
    assert (await store.levels(M_RED))["available"] == 1

    # The expiry job runs every few seconds; run its use case at a time past the expiry.
    released = await expire_reservations(
        container.uow, clock=lambda: datetime.now(UTC) + timedelta(seconds=2)
    )
    assert released <= 1  # the periodic job may have released it first: either way, once
    assert await store.levels(M_RED) == {"onHand": 3, "reserved": 0, "available": 3}
