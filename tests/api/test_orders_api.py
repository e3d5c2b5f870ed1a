"""The order book over GraphQL: the web store's checkout completion, every channel's orders
listed and filtered, shipping, cancelling, unknown SKUs, groups, and live order events."""

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
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.events import ORDER_TOPIC
from domain.orders.ingest import ingest
from tests.api.catalog.support import create_product, shirt
from tests.graphql import GraphQLSocket, data, gql, websocket

S_RED, M_RED, M_BLUE = "TS-S-RED", "TS-M-RED", "TS-M-BLUE"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ADDRESS = {"line1": "1 Main St", "city": "Springfield", "country": "US"}
ERRORS = "userErrors { field message code }"
LINE_FIELDS = """
  id channelLineId channelSku sku quantity unitPrice { amount currencyCode } status
  location { id code } reservationId routedBy shippedQuantity
"""
ORDER_FIELDS = f"""
  id channelId externalId number status placedAt customer {{ name email phone }}
  shippingAddress currency total {{ amount currencyCode }} needsAttention attentionReason
  createdAt updatedAt lines {{ {LINE_FIELDS} }}
"""
DETAIL_FIELDS = f"""
  {ORDER_FIELDS}
  fees {{ kind amount {{ amount currencyCode }} channelLineId }}
  transitions {{ fromStatus toStatus actor reason at }}
  conflicts {{ sku quantity policy resolution winnerOrderId createdAt lineId }}
  shipments {{ id carrier trackingNumber location {{ id }} lines {{ lineId quantity }}
              channelShipmentId createdAt }}
"""
PLACE_ORDER = f"""
mutation($input: PlaceOrderInput!) {{
  placeOrder(input: $input) {{ order {{ {DETAIL_FIELDS} }} replayed {ERRORS} }}
}}"""
CREATE_SHIPMENT = f"""
mutation($input: CreateShipmentInput!) {{
  createShipment(input: $input) {{
    order {{ {DETAIL_FIELDS} }}
    shipment {{ id carrier trackingNumber location {{ id code }} lines {{ lineId quantity }} }}
    {ERRORS}
  }}
}}"""
CANCEL_ORDER = f"""
mutation($input: CancelOrderInput!) {{
  cancelOrder(input: $input) {{ order {{ {DETAIL_FIELDS} }} {ERRORS} }}
}}"""
DELIVERED = f"""
mutation($input: MarkOrderDeliveredInput!) {{
  markOrderDelivered(input: $input) {{ order {{ {DETAIL_FIELDS} }} {ERRORS} }}
}}"""
MAP_LINE = f"""
mutation($input: MapOrderLineSkuInput!) {{
  mapOrderLineSku(input: $input) {{ order {{ {DETAIL_FIELDS} }} {ERRORS} }}
}}"""
SET_POLICY = f"""
mutation($input: SetConflictPolicyInput!) {{
  setConflictPolicy(input: $input) {{ channelId policy {ERRORS} }}
}}"""
SET_POLICY_AND_LOSERS = f"""
mutation($input: SetConflictPolicyInput!) {{
  setConflictPolicy(input: $input) {{ channelId policy losingLines {ERRORS} }}
}}"""
SET_FULFILMENT = f"""
mutation($input: SetChannelFulfilmentInput!) {{
  setChannelFulfilment(input: $input) {{ channelId fulfilment {ERRORS} }}
}}"""
CHANNEL_RULES = "query { channels { id fulfilment conflictPolicy losingLines } }"
ORDER = f"query($id: ID!) {{ order(id: $id) {{ {DETAIL_FIELDS} }} }}"
ORDERS = """
query($first: Int!, $after: String, $filter: OrderFilter) {
  orders(first: $first, after: $after, filter: $filter) {
    nodes { id number status needsAttention transitions { toStatus } shipments { id } }
    pageInfo { hasNextPage endCursor }
  }
}"""
GROUPS = """
query { orderGroups { customerEmail address orders { id number channelId } } }"""
EVENTS = """
subscription($channelIds: [ID!]) {
  orderEvents(channelIds: $channelIds) {
    kind orderId channelId externalId number status needsAttention detail at
  }
}"""
CHECKOUT = f"""
mutation($input: CheckoutReserveInput!) {{
  checkoutReserve(input: $input) {{ reservations {{ id }} {ERRORS} }}
}}"""
RESERVATIONS = """
query($reference: String!, $status: ReservationStatus) {
  reservations(reference: $reference, status: $status) {
    nodes { id sku quantity status location { id } }
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


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


def fields(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


@dataclass
class Shop:
    """Web (WEBSTORE) and Market (SHOPIFY), both USD and fed by WH1; ST1 feeds neither.

    Stock at WH1: S_RED 5, M_RED 3, M_BLUE none. ST1 has 4 S_RED.
    """

    http: httpx.AsyncClient
    container: Container
    key: str
    web: str
    market: str
    wh: str
    st: str

    async def run(self, document: str, key: str | None = None, **variables: Any) -> dict[str, Any]:
        return data(await gql(self.http, document, variables, key=key or self.key))

    async def levels(self, sku: str) -> dict[str, int]:
        item: dict[str, int] = (await self.run(LEVELS, sku=sku))["inventoryItem"]
        return item

    async def order(self, order_id: str) -> dict[str, Any]:
        found: dict[str, Any] = (await self.run(ORDER, id=order_id))["order"]
        return found

    async def checkout(self, cart: str, lines: list[tuple[str, int]]) -> None:
        body = await self.run(
            CHECKOUT,
            input={"channelId": self.web, "cartId": cart, "idempotencyKey": f"checkout-{cart}",
                   "lines": [{"sku": s, "quantity": q} for s, q in lines]},
        )  # fmt: skip
        assert body["checkoutReserve"]["userErrors"] == []

    def place_input(
        self,
        cart: str,
        lines: list[tuple[str, int]],
        *,
        channel: str | None = None,
        key: str | None = None,
        email: str = "ada@example.com",
        address: dict[str, Any] | None = None,
        number: str | None = None,
    ) -> dict[str, Any]:
        return {
            "channelId": channel or self.web,
            "cartId": cart,
            "orderNumber": number,
            "customer": {"name": "Ada Lovelace", "email": email, "phone": "+1 555 0100"},
            "shippingAddress": ADDRESS if address is None else address,
            "lines": [{"sku": s, "quantity": q, "unitPrice": usd("20.00")} for s, q in lines],
            "idempotencyKey": key or f"place-{cart}",
        }

    async def place(self, cart: str, lines: list[tuple[str, int]], **kw: Any) -> dict[str, Any]:
        body = await self.run(PLACE_ORDER, input=self.place_input(cart, lines, **kw))
        payload: dict[str, Any] = body["placeOrder"]
        return payload

    async def placed(self, cart: str, lines: list[tuple[str, int]], **kw: Any) -> dict[str, Any]:
        payload = await self.place(cart, lines, **kw)
        assert payload["userErrors"] == []
        order: dict[str, Any] = payload["order"]
        return order

    async def take(
        self,
        channel: str,
        external_id: str,
        lines: list[tuple[str, int]],
        *,
        placed: datetime = T0,
        name: str = "Ada Lovelace",
        email: str = "ada@example.com",
        address: dict[str, Any] | None = None,
        status: str = "paid",
    ) -> str:
        """An order from a marketplace, taken in (and reserved) as the sync engine would."""
        incoming = ChannelOrder(
            external_id=external_id,
            number=f"#{external_id}",
            updated_at=placed,
            placed_at=placed,
            status=status,
            lines=tuple(
                ChannelOrderLine(f"{external_id}-{n}", sku, quantity, Money(1500, "USD"))
                for n, (sku, quantity) in enumerate(lines)
            ),
            customer={"name": name, "email": email, "phone": None},
            raw={"shipping_address": ADDRESS if address is None else address},
        )
        uows = self.container.uow
        taken = await ingest(uows, uuid.UUID(channel), incoming, actor="test-sync")
        await allocate(uows, taken.order.id, actor="test-sync")
        return str(taken.order.id)

    async def ship(self, **input: Any) -> dict[str, Any]:
        body = await self.run(
            CREATE_SHIPMENT,
            input={"locationId": self.wh, "carrier": "UPS", "trackingNumber": "1Z-1",
                   "idempotencyKey": "ship-1", **input},
        )  # fmt: skip
        payload: dict[str, Any] = body["createShipment"]
        return payload


@pytest.fixture
async def shop(http: httpx.AsyncClient, staff_key: str, container: Container) -> Shop:
    return await make_shop(http, staff_key, container)


async def make_shop(http: httpx.AsyncClient, staff_key: str, container: Container) -> Shop:
    assert (await create_product(http, staff_key, shirt()))["userErrors"] == []

    async def run(document: str, **variables: Any) -> dict[str, Any]:
        return data(await gql(http, document, variables, key=staff_key))

    async def location(code: str, kind: str) -> str:
        body = await run(CREATE_LOCATION, code=code, kind=kind)
        return str(body["createLocation"]["location"]["id"])

    async def channel(name: str, kind: str, wh: str) -> str:
        body = await run(
            CREATE_CHANNEL,
            input={"name": name, "kind": kind, "currency": "USD", "locationIds": [wh]},
        )
        assert body["createChannel"]["userErrors"] == []
        return str(body["createChannel"]["channel"]["id"])

    async def receive(sku: str, location: str, quantity: int) -> None:
        body = await run(
            RECEIVE,
            input={"sku": sku, "locationId": location, "quantity": quantity,
                   "idempotencyKey": f"receive-{sku}-{location}"},
        )  # fmt: skip
        assert body["receiveStock"]["userErrors"] == []

    wh, st = await location("WH1", "WAREHOUSE"), await location("ST1", "STORE")
    shop = Shop(
        http, container, staff_key, web=await channel("Web", "WEBSTORE", wh),
        market=await channel("Market", "SHOPIFY", wh), wh=wh, st=st,
    )  # fmt: skip
    await receive(S_RED, wh, 5)
    await receive(M_RED, wh, 3)
    await receive(S_RED, st, 4)
    return shop


def line_summary(order: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            ln["sku"],
            ln["quantity"],
            ln["status"],
            (ln["location"] or {}).get("code"),
            ln["routedBy"],
        )
        for ln in order["lines"]
    ]


def steps(order: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(t["fromStatus"], t["toStatus"]) for t in order["transitions"]]


# Placing the web store's order ------------------------------------------------------------


async def test_placing_a_cart_turns_its_hold_into_the_orders(shop: Shop) -> None:
    await shop.checkout("cart-1", [(S_RED, 2), (M_RED, 1)])
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 2, "available": 7}

    payload = await shop.place("cart-1", [(S_RED, 2), (M_RED, 1)], number="W-1001")

    assert (payload["userErrors"], payload["replayed"]) == ([], False)
    order = payload["order"]
    assert (order["channelId"], order["externalId"], order["number"]) == (
        shop.web, "cart-1", "W-1001",
    )  # fmt: skip
    assert (order["status"], order["needsAttention"]) == ("ALLOCATED", False)
    assert order["customer"] == {
        "name": "Ada Lovelace", "email": "ada@example.com", "phone": "+1 555 0100",
    }  # fmt: skip
    assert order["shippingAddress"] == ADDRESS
    assert line_summary(order) == [
        (S_RED, 2, "ALLOCATED", "WH1", "held at checkout"),
        (M_RED, 1, "ALLOCATED", "WH1", "held at checkout"),
    ]
    assert steps(order) == [(None, "ALLOCATED")]
    assert order["transitions"][0]["actor"] == "test-staff"

    # The cart's hold became the order's: the same units reserved, under the order.
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 2, "available": 7}
    assert await shop.levels(M_RED) == {"onHand": 3, "reserved": 1, "available": 2}
    cart = await shop.run(RESERVATIONS, reference="cart:cart-1", status="ACTIVE")
    assert cart["reservations"]["nodes"] == []
    held = (await shop.run(RESERVATIONS, reference=f"order:{order['id']}"))["reservations"]
    assert sorted(r["id"] for r in held["nodes"]) == sorted(
        ln["reservationId"] for ln in order["lines"]
    )
    assert {(r["status"], r["location"]["id"]) for r in held["nodes"]} == {("ACTIVE", shop.wh)}

    # The web store retries (same key, or a new one): the same order, nothing more held.
    for key in ("place-cart-1", "place-cart-1-retry"):
        again = await shop.place("cart-1", [(S_RED, 2), (M_RED, 1)], key=key, number="W-1001")
        assert (again["userErrors"], again["replayed"]) == ([], True)
        assert again["order"]["id"] == order["id"]
        assert again["order"]["lines"] == order["lines"]
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 2, "available": 7}
    listed = await shop.run(ORDERS, first=10, filter={"channelIds": [shop.web]})
    assert [n["id"] for n in listed["orders"]["nodes"]] == [order["id"]]


async def test_a_placed_order_has_its_total(shop: Shop) -> None:
    order = await shop.placed("cart-total", [(S_RED, 2), (M_RED, 1)])
    assert (order["currency"], order["total"]) == ("USD", usd("60.00"))


async def test_a_placed_order_keeps_the_fees_the_store_knows(shop: Shop) -> None:
    fee = {"kind": "Payment_Processing", "amount": usd("0.88")}
    bad = [
        {"kind": " ", "amount": usd("1.00")},
        {"kind": "fx", "amount": {"amount": "1.00", "currencyCode": "EUR"}},
    ]

    refused = await shop.run(
        PLACE_ORDER, input={**shop.place_input("cart-fee-bad", [(S_RED, 1)]), "fees": bad}
    )
    placed = await shop.run(
        PLACE_ORDER, input={**shop.place_input("cart-fee", [(S_RED, 1)]), "fees": [fee]}
    )

    assert (fields(refused["placeOrder"]), refused["placeOrder"]["order"]) == (
        [("fees[0].kind", "INVALID_INPUT"), ("fees[1].amount.currencyCode", "INVALID_INPUT")],
        None,
    )
    order = placed["placeOrder"]["order"]
    assert order["fees"] == [
        {"kind": "payment_processing", "amount": usd("0.88"), "channelLineId": None}
    ]
    assert (await shop.order(order["id"]))["fees"] == order["fees"]
    marketplace = await shop.take(shop.market, "mk-fees", [(S_RED, 1)])
    assert (await shop.order(marketplace))["fees"] == []  # Shopify's orders carry none
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 2, "available": 7}


async def test_placing_an_order_needs_a_web_store_and_a_readable_cart(shop: Shop) -> None:
    await shop.checkout("cart-2", [(S_RED, 1)])

    refused = await shop.place("cart-2", [(S_RED, 1)], channel=shop.market)
    assert fields(refused) == [("channelId", "INVALID_INPUT")]
    assert refused["order"] is None
    assert fields(await shop.place("cart-2", [(S_RED, 1)], channel=str(uuid.uuid4()))) == [
        ("channelId", "NOT_FOUND")
    ]

    bad = shop.place_input("cart-2", [(S_RED, 0)], address={"line1": ["not", "text"]})
    eur = {"amount": "5.00", "currencyCode": "EUR"}
    bad["lines"].append({"sku": M_RED, "quantity": 1, "unitPrice": eur})
    bad["lines"].append({"sku": " ", "quantity": 1, "unitPrice": usd("1.234")})
    body = await shop.run(PLACE_ORDER, input=bad)
    assert sorted(fields(body["placeOrder"]), key=str) == sorted(
        [
            ("shippingAddress", "INVALID_INPUT"),
            ("lines[0].quantity", "INVALID_INPUT"),
            ("lines[1].unitPrice.currencyCode", "INVALID_INPUT"),
            ("lines[2].sku", "INVALID_INPUT"),
            ("lines[2].unitPrice.amount", "INVALID_INPUT"),
        ],
        key=str,
    )
    assert fields(await shop.place("cart-2", [])) == [("lines", "INVALID_INPUT")]

    # Nothing happened: no order, and the cart still holds its unit.
    assert (await shop.run(ORDERS, first=10))["orders"]["nodes"] == []
    cart = await shop.run(RESERVATIONS, reference="cart:cart-2", status="ACTIVE")
    assert [r["sku"] for r in cart["reservations"]["nodes"]] == [S_RED]


# Unknown SKUs --------------------------------------------------------------------------------


async def test_an_order_with_an_unknown_sku_waits_until_the_line_is_mapped(shop: Shop) -> None:
    order_id = await shop.take(shop.market, "mk-1", [("MYSTERY-9", 2)])

    order = await shop.order(order_id)
    assert (order["status"], order["needsAttention"]) == ("OPEN", True)
    assert "MYSTERY-9" in order["attentionReason"]
    [line] = order["lines"]
    assert (line["sku"], line["channelSku"], line["status"]) == (None, "MYSTERY-9", "OPEN")
    listed = await shop.run(ORDERS, first=10, filter={"needsAttention": True})
    assert [n["id"] for n in listed["orders"]["nodes"]] == [order_id]

    unknown = await shop.run(
        MAP_LINE, input={"orderId": order_id, "lineId": line["id"], "sku": "NOPE-1"}
    )
    assert fields(unknown["mapOrderLineSku"]) == [("sku", "NOT_FOUND")]

    body = await shop.run(MAP_LINE, input={"orderId": order_id, "lineId": line["id"], "sku": S_RED})
    payload = body["mapOrderLineSku"]
    assert payload["userErrors"] == []
    mapped = payload["order"]
    assert (mapped["status"], mapped["needsAttention"], mapped["attentionReason"]) == (
        "ALLOCATED", False, None,
    )  # fmt: skip
    assert line_summary(mapped) == [(S_RED, 2, "ALLOCATED", "WH1", "whole order from WH1")]
    assert mapped["lines"][0]["channelSku"] == "MYSTERY-9"
    assert [t["reason"] for t in mapped["transitions"]][-2:] == [
        f"line mapped to {S_RED}",
        "stock reserved",
    ]
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 2, "available": 7}


async def test_a_reserved_line_cannot_be_mapped_to_another_sku(shop: Shop) -> None:
    order = await shop.placed("cart-remap", [(S_RED, 1)])
    line = order["lines"][0]["id"]

    body = await shop.run(MAP_LINE, input={"orderId": order["id"], "lineId": line, "sku": M_RED})

    assert fields(body["mapOrderLineSku"]) == [("lineId", "ILLEGAL_STATE")]
    assert await shop.order(order["id"]) == order


# Listing and reading ----------------------------------------------------------------------------


async def test_orders_are_filtered_and_paged_newest_placed_first(shop: Shop) -> None:
    day = timedelta(days=1)
    ids = {
        "m1": await shop.take(shop.market, "m1", [(S_RED, 1)], placed=T0 - 4 * day),
        "m2": await shop.take(shop.market, "m2", [("MYSTERY-1", 1)], placed=T0 - 3 * day,
                              name="Bob", email="bob@example.com"),
        "w1": await shop.take(shop.web, "w1", [(M_RED, 1)], placed=T0 - 2 * day,
                              name="Cy", email="cy@shop.example"),
        "m3": await shop.take(shop.market, "m3", [(S_RED, 1)], placed=T0 - day,
                              status="cancelled"),
        "w2": await shop.take(shop.web, "w2", [(M_BLUE, 1)], placed=T0, name="Dee",
                              email="dee@example.com"),
    }  # fmt: skip
    name_of = {order_id: name for name, order_id in ids.items()}

    async def numbers(first: int = 100, **filter: Any) -> list[str]:
        found: list[str] = []
        after: str | None = None
        while True:
            page = (await shop.run(ORDERS, first=first, after=after, filter=filter))["orders"]
            found += [name_of[n["id"]] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]

    assert await numbers() == ["w2", "m3", "w1", "m2", "m1"]
    assert await numbers(first=2) == ["w2", "m3", "w1", "m2", "m1"]
    first_page = (await shop.run(ORDERS, first=2))["orders"]
    assert first_page["pageInfo"]["hasNextPage"] is True
    # The list never reads details per row: they are for order(id:).
    assert {(n["transitions"], n["shipments"]) for n in first_page["nodes"]} == {(None, None)}

    assert await numbers(statuses=["ALLOCATED"]) == ["w1", "m1"]
    assert await numbers(statuses=["OPEN", "CANCELLED"]) == ["w2", "m3", "m2"]
    assert await numbers(channelIds=[shop.web]) == ["w2", "w1"]
    assert await numbers(needsAttention=True) == ["m2"]
    assert await numbers(needsAttention=False) == ["w2", "m3", "w1", "m1"]
    assert await numbers(sku=S_RED) == ["m3", "m1"]
    assert await numbers(customer="ADA") == ["m3", "m1"]
    assert await numbers(customer="shop.example") == ["w1"]
    window = await numbers(placedFrom=(T0 - 3 * day).isoformat(), placedTo=(T0 - day).isoformat())
    assert window == ["w1", "m2"]
    assert await numbers(channelIds=[shop.market], statuses=["ALLOCATED"]) == ["m1"]

    for variables, field in (
        ({"first": 0}, "first"),
        ({"first": 5, "after": "not-a-cursor"}, "after"),
        ({"first": 5, "filter": {"channelIds": ["nope"]}}, "filter.channelIds[0]"),
    ):
        body = await gql(shop.http, ORDERS, variables, key=shop.key)
        assert body["errors"][0]["extensions"]["field"] == field


async def test_one_order_shows_its_history_routing_and_conflicts(shop: Shop) -> None:
    placed = await shop.placed("cart-3", [(S_RED, 1)])
    order = await shop.order(placed["id"])
    # No cart held it: the order is born holding fresh units, never open.
    assert steps(order) == [(None, "ALLOCATED")]
    assert [t["reason"] for t in order["transitions"]] == [
        "placed at checkout: the cart's hold became the order's, what it lacked held anew",
    ]
    assert line_summary(order) == [(S_RED, 1, "ALLOCATED", "WH1", "held when the order was placed")]
    assert (order["conflicts"], order["shipments"]) == ([], [])

    # The market holds a contested unit for a person to decide; M_BLUE has none anywhere.
    body = await shop.run(SET_POLICY, input={"channelId": shop.market, "policy": "MANUAL"})
    assert body["setConflictPolicy"] == {
        "channelId": shop.market, "policy": "MANUAL", "userErrors": [],
    }  # fmt: skip
    short = await shop.order(await shop.take(shop.market, "mk-short", [(M_BLUE, 1)]))
    assert (short["status"], short["lines"][0]["status"]) == ("OPEN", "SHORT")
    [conflict] = short["conflicts"]
    assert (conflict["sku"], conflict["quantity"], conflict["policy"]) == (M_BLUE, 1, "MANUAL")
    assert conflict["resolution"] == "held for a person to decide (manual)"
    assert (conflict["winnerOrderId"], conflict["lineId"]) == (None, short["lines"][0]["id"])

    missing = await shop.run(SET_POLICY, input={"channelId": str(uuid.uuid4()), "policy": "MANUAL"})
    assert fields(missing["setConflictPolicy"]) == [("channelId", "NOT_FOUND")]
    assert (await shop.run(ORDER, id=str(uuid.uuid4())))["order"] is None
    body = await gql(shop.http, ORDER, {"id": "nope"}, key=shop.key)
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "id"}


# Shipping and cancelling ------------------------------------------------------------------------


async def test_shipping_reserved_lines_takes_their_stock_out_once(shop: Shop) -> None:
    order = await shop.placed("cart-4", [(S_RED, 2), (M_RED, 1)])
    line_ids = [ln["id"] for ln in order["lines"]]
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 2, "available": 7}

    payload = await shop.ship(orderId=order["id"], lineIds=line_ids)

    assert payload["userErrors"] == []
    shipped = payload["order"]
    assert shipped["status"] == "SHIPPED"
    assert [(ln["status"], ln["shippedQuantity"]) for ln in shipped["lines"]] == [
        ("SHIPPED", 2), ("SHIPPED", 1),
    ]  # fmt: skip
    shipment = payload["shipment"]
    assert (shipment["carrier"], shipment["trackingNumber"]) == ("UPS", "1Z-1")
    assert shipment["location"] == {"id": shop.wh, "code": "WH1"}
    assert shipment["lines"] == [
        {"lineId": line_ids[0], "quantity": 2}, {"lineId": line_ids[1], "quantity": 1},
    ]  # fmt: skip
    assert await shop.levels(S_RED) == {"onHand": 7, "reserved": 0, "available": 7}
    assert await shop.levels(M_RED) == {"onHand": 2, "reserved": 0, "available": 2}
    assert steps(shipped)[-1] == ("ALLOCATED", "SHIPPED")
    assert [s["id"] for s in shipped["shipments"]] == [shipment["id"]]

    # The same parcel again (a retry, even under another key): the same shipment, once.
    for key in ("ship-1", "ship-1-retry"):
        again = await shop.ship(orderId=order["id"], lineIds=line_ids, idempotencyKey=key)
        assert again["userErrors"] == []
        assert again["shipment"]["id"] == shipment["id"]
    assert await shop.levels(S_RED) == {"onHand": 7, "reserved": 0, "available": 7}
    assert len((await shop.order(order["id"]))["shipments"]) == 1
    held = (await shop.run(RESERVATIONS, reference=f"order:{order['id']}"))["reservations"]
    assert {r["status"] for r in held["nodes"]} == {"COMMITTED"}


async def test_a_shipment_that_cannot_be_made_changes_nothing(shop: Shop) -> None:
    # One line reserved at WH1, one waiting for its SKU: partially allocated.
    order_id = await shop.take(shop.market, "mk-2", [(S_RED, 1), ("MYSTERY-2", 1)])
    known, unknown = [ln["id"] for ln in (await shop.order(order_id))["lines"]]
    before = await shop.order(order_id)
    assert before["status"] == "PARTIALLY_ALLOCATED"

    attempts: list[tuple[dict[str, Any], list[tuple[str | None, str]]]] = [
        ({"lineIds": [known], "locationId": shop.st}, [("locationId", "INVALID_INPUT")]),
        ({"lines": [{"lineId": unknown, "quantity": 1}]}, [("lines[0].lineId", "ILLEGAL_STATE")]),
        ({"lineIds": [unknown]}, [("lineIds[0]", "ILLEGAL_STATE")]),
        ({"lines": [{"lineId": known, "quantity": 2}]},
         [("lines[0].quantity", "INVALID_QUANTITY")]),
        ({"lineIds": [str(uuid.uuid4())]}, [("lineIds[0]", "NOT_FOUND")]),
        ({}, [("lineIds", "INVALID_INPUT")]),
        ({"lineIds": [known], "lines": [{"lineId": known, "quantity": 1}]},
         [("lineIds", "INVALID_INPUT")]),
        ({"lineIds": [known], "trackingNumber": " "}, [("trackingNumber", "INVALID_INPUT")]),
    ]  # fmt: skip
    for n, (input, expected) in enumerate(attempts):
        payload = await shop.ship(**{"orderId": order_id, "trackingNumber": f"T-{n}", **input})
        assert (fields(payload), payload["order"]) == (expected, None), input
    missing = await shop.ship(orderId=str(uuid.uuid4()), lineIds=[known])
    assert fields(missing) == [("orderId", "NOT_FOUND")]

    assert await shop.order(order_id) == before
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 1, "available": 8}


async def test_a_second_line_in_the_same_parcel_is_not_dropped(shop: Shop) -> None:
    order = await shop.placed("cart-parcel", [(S_RED, 1), (M_RED, 1)])
    first, second = [ln["id"] for ln in order["lines"]]
    assert (await shop.ship(orderId=order["id"], lineIds=[first]))["userErrors"] == []

    payload = await shop.ship(orderId=order["id"], lineIds=[second], idempotencyKey="ship-2")

    statuses = [ln["status"] for ln in (await shop.order(order["id"]))["lines"]]
    assert payload["userErrors"] != [] or statuses == ["SHIPPED", "SHIPPED"]


async def test_a_line_ships_in_parts_and_never_more_than_it_has_left(shop: Shop) -> None:
    order = await shop.placed("cart-parts", [(S_RED, 3)])
    line = order["lines"][0]["id"]

    first = await shop.ship(orderId=order["id"], lines=[{"lineId": line, "quantity": 1}])

    assert first["userErrors"] == []
    assert first["order"]["status"] == "PARTIALLY_SHIPPED"
    assert [(ln["status"], ln["shippedQuantity"]) for ln in first["order"]["lines"]] == [
        ("PARTIALLY_SHIPPED", 1)
    ]
    assert await shop.levels(S_RED) == {"onHand": 8, "reserved": 2, "available": 6}
    too_many = await shop.ship(
        orderId=order["id"], lines=[{"lineId": line, "quantity": 3}], trackingNumber="1Z-2",
        idempotencyKey="ship-2",
    )  # fmt: skip
    assert (fields(too_many), too_many["order"]) == (
        [("lines[0].quantity", "INVALID_QUANTITY")],
        None,
    )
    assert await shop.levels(S_RED) == {"onHand": 8, "reserved": 2, "available": 6}

    # lineIds ship what each line has left.
    rest = await shop.ship(
        orderId=order["id"], lineIds=[line], trackingNumber="1Z-3", idempotencyKey="ship-3"
    )

    assert rest["userErrors"] == []
    assert rest["shipment"]["lines"] == [{"lineId": line, "quantity": 2}]
    assert rest["order"]["status"] == "SHIPPED"
    assert [(ln["status"], ln["shippedQuantity"]) for ln in rest["order"]["lines"]] == [
        ("SHIPPED", 3)
    ]
    assert await shop.levels(S_RED) == {"onHand": 6, "reserved": 0, "available": 6}
    assert steps(rest["order"])[-2:] == [
        ("ALLOCATED", "PARTIALLY_SHIPPED"), ("PARTIALLY_SHIPPED", "SHIPPED"),
    ]  # fmt: skip
    # Retried, the last parcel is the same shipment, not a refusal.
    again = await shop.ship(
        orderId=order["id"], lineIds=[line], trackingNumber="1Z-3", idempotencyKey="ship-3b"
    )
    assert (again["userErrors"], again["shipment"]["id"]) == ([], rest["shipment"]["id"])


async def test_a_shipped_order_is_marked_delivered_and_no_other(shop: Shop) -> None:
    order = await shop.placed("cart-deliver", [(S_RED, 1)])
    deliver = {"orderId": order["id"], "reason": "left at the door"}

    early = (await shop.run(DELIVERED, input=deliver))["markOrderDelivered"]

    assert (fields(early), early["order"]) == ([("orderId", "ILLEGAL_STATE")], None)
    assert (await shop.order(order["id"]))["status"] == "ALLOCATED"
    assert (await shop.ship(orderId=order["id"], lineIds=[order["lines"][0]["id"]]))[
        "userErrors"
    ] == []

    payload = (await shop.run(DELIVERED, input=deliver))["markOrderDelivered"]

    assert payload["userErrors"] == []
    assert payload["order"]["status"] == "DELIVERED"
    assert steps(payload["order"])[-1] == ("SHIPPED", "DELIVERED")
    assert payload["order"]["transitions"][-1]["reason"] == "left at the door"
    unknown = {"orderId": str(uuid.uuid4())}
    assert fields((await shop.run(DELIVERED, input=unknown))["markOrderDelivered"]) == [
        ("orderId", "NOT_FOUND")
    ]


async def test_a_channel_declares_who_ships_its_orders(shop: Shop) -> None:
    rules = {"channelId": shop.market, "fulfilment": "CHANNEL_MANAGED"}

    payload = (await shop.run(SET_FULFILMENT, input=rules))["setChannelFulfilment"]
    policy = (
        await shop.run(
            SET_POLICY_AND_LOSERS,
            input={"channelId": shop.market, "policy": "CHANNEL_PRIORITY", "losingLines": "CANCEL"},
        )
    )["setConflictPolicy"]

    assert payload == {"channelId": shop.market, "fulfilment": "CHANNEL_MANAGED", "userErrors": []}
    assert (policy["policy"], policy["losingLines"], policy["userErrors"]) == (
        "CHANNEL_PRIORITY", "CANCEL", [],
    )  # fmt: skip
    channels = {c["id"]: c for c in (await shop.run(CHANNEL_RULES))["channels"]}
    assert channels[shop.market] == {
        "id": shop.market, "fulfilment": "CHANNEL_MANAGED", "conflictPolicy": "CHANNEL_PRIORITY",
        "losingLines": "CANCEL",
    }  # fmt: skip
    assert channels[shop.web]["fulfilment"] == "MERCHANT"
    assert channels[shop.web]["losingLines"] == "BACKORDER"
    # Its orders no longer take the warehouse's stock: the market has no FBA location.
    order_id = await shop.take(shop.market, "mk-fba", [(S_RED, 1)])
    assert [ln["status"] for ln in (await shop.order(order_id))["lines"]] == ["CANCELLED"]
    assert (await shop.levels(S_RED))["reserved"] == 0

    unknown = {**rules, "channelId": str(uuid.uuid4())}
    missing = (await shop.run(SET_FULFILMENT, input=unknown))["setChannelFulfilment"]
    assert (fields(missing), missing["fulfilment"]) == ([("channelId", "NOT_FOUND")], None)


async def test_cancelling_releases_the_stock_but_not_once_shipped(shop: Shop) -> None:
    order = await shop.placed("cart-5", [(S_RED, 2)])
    assert (await shop.levels(S_RED))["reserved"] == 2
    cancel = {"orderId": order["id"], "reason": "customer asked", "idempotencyKey": "cancel-5"}

    payload = (await shop.run(CANCEL_ORDER, input=cancel))["cancelOrder"]

    assert payload["userErrors"] == []
    cancelled = payload["order"]
    assert cancelled["status"] == "CANCELLED"
    assert [ln["status"] for ln in cancelled["lines"]] == ["CANCELLED"]
    assert cancelled["transitions"][-1]["reason"] == "customer asked"
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 0, "available": 9}
    held = (await shop.run(RESERVATIONS, reference=f"order:{order['id']}"))["reservations"]
    assert {r["status"] for r in held["nodes"]} == {"RELEASED"}
    again = (await shop.run(CANCEL_ORDER, input=cancel))["cancelOrder"]
    assert (again["userErrors"], again["order"]["status"]) == ([], "CANCELLED")

    shipped = await shop.placed("cart-6", [(M_RED, 1)])
    assert (await shop.ship(orderId=shipped["id"], lineIds=[shipped["lines"][0]["id"]]))[
        "userErrors"
    ] == []
    cancel_shipped = {**cancel, "orderId": shipped["id"], "idempotencyKey": "cancel-6"}
    refused = (await shop.run(CANCEL_ORDER, input=cancel_shipped))["cancelOrder"]
    assert fields(refused) == [("orderId", "ILLEGAL_STATE")]
    assert (await shop.order(shipped["id"]))["status"] == "SHIPPED"


async def test_lines_of_a_partly_shipped_order_are_cancelled_but_not_its_shipped_one(
    shop: Shop,
) -> None:
    order = await shop.placed("cart-7", [(S_RED, 2), (M_RED, 1)])
    line = {ln["sku"]: ln["id"] for ln in order["lines"]}
    assert (await shop.ship(orderId=order["id"], lineIds=[line[M_RED]]))["userErrors"] == []
    before, levels = await shop.order(order["id"]), await shop.levels(S_RED)
    cancel = {"orderId": order["id"], "reason": "out of red", "idempotencyKey": "cut-7"}

    both = {**cancel, "lineIds": [line[S_RED], line[M_RED]]}
    refused = (await shop.run(CANCEL_ORDER, input=both))["cancelOrder"]
    unknown = {**cancel, "lineIds": [line[S_RED], "no-such-line"]}
    missing = (await shop.run(CANCEL_ORDER, input=unknown))["cancelOrder"]

    assert (fields(refused), refused["order"]) == ([("lineIds[1]", "ILLEGAL_STATE")], None)
    assert fields(missing) == [("lineIds[1]", "NOT_FOUND")]
    assert await shop.order(order["id"]) == before  # nothing changed
    assert await shop.levels(S_RED) == levels
    one = {**cancel, "lineIds": [line[S_RED]]}
    for _ in range(3):
        cut = (await shop.run(CANCEL_ORDER, input=one))["cancelOrder"]
        assert cut["userErrors"] == []
    statuses = {ln["sku"]: ln["status"] for ln in cut["order"]["lines"]}
    assert (cut["order"]["status"], statuses) == ("SHIPPED", {S_RED: "CANCELLED", M_RED: "SHIPPED"})
    assert await shop.levels(S_RED) == {**levels, "reserved": 0, "available": levels["onHand"]}
    reasons = [t["reason"] for t in cut["order"]["transitions"]]
    assert reasons.count("1 line(s) cancelled: out of red") == 1
    # The whole order now: nothing left to cancel, and it says so without an error.
    whole = await shop.run(CANCEL_ORDER, input={**cancel, "idempotencyKey": "cut-8"})
    assert whole["cancelOrder"]["userErrors"] == []
    assert whole["cancelOrder"]["order"]["status"] == "SHIPPED"


# Groups, events, permissions ---------------------------------------------------------------------


async def subscribed(app: Starlette, socket: GraphQLSocket, key: str, channels: Any) -> str:
    """Subscribe to orderEvents; return once the server listens on the bus."""
    assert (await socket.init(key))["type"] == "connection_ack"
    fanout = app.state.container.bus.fanout
    before = fanout.subscriber_count(ORDER_TOPIC)
    op = await socket.subscribe(EVENTS, {"channelIds": channels})
    async with asyncio.timeout(5):
        await fanout.wait_for_subscribers(ORDER_TOPIC, before + 1)
    return op


async def test_order_events_stream_a_channels_orders(
    app: Starlette, shop: Shop, readonly_key: str
) -> None:
    async with websocket(app) as socket:
        op = await subscribed(app, socket, readonly_key, [shop.web])

        await shop.take(shop.market, "mk-live", [(S_RED, 1)])  # another channel's: not sent
        order = await shop.placed("cart-live", [(S_RED, 1)], number="W-7")

        created = (await socket.next_payload(op, within=5))["data"]["orderEvents"]
        assert datetime.fromisoformat(created.pop("at")) <= datetime.now(UTC)
        assert created == {
            "kind": "created", "orderId": order["id"], "channelId": shop.web,
            "externalId": "cart-live", "number": "W-7", "status": "ALLOCATED",
            "needsAttention": False, "detail": None,
        }  # fmt: skip
        allocated = (await socket.next_payload(op, within=5))["data"]["orderEvents"]
        assert (allocated["kind"], allocated["status"]) == ("allocated", "ALLOCATED")
        await socket.complete(op)

    async with websocket(app) as socket:
        assert (await socket.init(readonly_key))["type"] == "connection_ack"
        op = await socket.subscribe(EVENTS, {"channelIds": ["nope"]})
        message = await socket.receive(within=5)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"] == {"code": "NOT_FOUND", "field": "channelIds[0]"}
    assert app.state.container.bus.fanout.subscriber_count(ORDER_TOPIC) == 0


async def test_a_read_only_key_cannot_change_orders(shop: Shop, readonly_key: str) -> None:
    order = await shop.placed("cart-ro", [(S_RED, 1)])
    line = order["lines"][0]["id"]
    attempts = [
        (PLACE_ORDER, shop.place_input("cart-ro-2", [(S_RED, 1)])),
        (CREATE_SHIPMENT, {"orderId": order["id"], "lineIds": [line], "locationId": shop.wh,
                           "carrier": "UPS", "trackingNumber": "1Z", "idempotencyKey": "s"}),
        (CANCEL_ORDER, {"orderId": order["id"], "reason": "no", "idempotencyKey": "c"}),
        (MAP_LINE, {"orderId": order["id"], "lineId": line, "sku": M_RED}),
        (SET_POLICY, {"channelId": shop.market, "policy": "MANUAL"}),
    ]  # fmt: skip
    for document, input in attempts:
        body = await gql(shop.http, document, {"input": input}, key=readonly_key)
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await shop.order(order["id"]) == order
    listed = await shop.run(ORDERS, readonly_key, first=10)
    assert [n["id"] for n in listed["orders"]["nodes"]] == [order["id"]]
