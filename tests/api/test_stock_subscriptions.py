"""Live stock over a real WebSocket (graphql-transport-ws): changes, channel quantities, alerts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from httpx_ws import WebSocketDisconnect
from starlette.applications import Starlette

from domain.api_keys import API_KEY_EVENTS
from tests.graphql import GraphQLSocket, data, gql, websocket

STOCK_CHANGED = """
subscription($skus: [String!]) {
  stockChanged(skus: $skus) {
    sku locationId locationCode onHand reserved available version reason
    channels { channelId name quantity }
  }
}"""
INVENTORY_ALERTS = "subscription { inventoryAlerts { id kind sku available threshold } }"
LEVELS = "levels { location { id } onHand reserved version } userErrors { code }"
MUTATIONS = {
    "createLocation": ("CreateLocationInput", "location { id } userErrors { code }"),
    "createInventoryItem": (
        "CreateInventoryItemInput",
        "inventoryItem { sku } userErrors { code }",
    ),
    "createChannel": ("CreateChannelInput", "channel { id } userErrors { code }"),
    "receiveStock": ("ReceiveStockInput", LEVELS),
    "adjustStock": ("AdjustStockInput", LEVELS),
    "transferStock": ("TransferStockInput", LEVELS),
    "reserveStock": ("ReserveStockInput", "reservation { id } userErrors { code }"),
}
RECEIVE_WITHIN = 1.0  # seconds from a mutation's answer to its event on the socket


@dataclass
class Shop:
    http: httpx.AsyncClient
    key: str
    wh: str
    st: str
    channel: str
    keys: int = 0

    async def mutate(self, name: str, /, **fields: Any) -> dict[str, Any]:
        input_type, selection = MUTATIONS[name]
        document = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} }} }}"
        if name in {"receiveStock", "adjustStock", "transferStock", "reserveStock"}:
            self.keys += 1
            fields["idempotencyKey"] = f"key-{self.keys}"
        payload: dict[str, Any] = data(
            await gql(self.http, document, {"input": fields}, key=self.key)
        )[name]
        assert payload["userErrors"] == [], payload
        return payload


@pytest.fixture
async def shop(http: httpx.AsyncClient, staff_key: str) -> Shop:
    """WH1 feeds channel "Shop" (safety buffer 1); ST1 feeds no channel. SKU A low below 3."""
    setup = Shop(http, staff_key, "", "", "")
    setup.wh = (await setup.mutate("createLocation", code="WH1", name="Main", kind="WAREHOUSE"))[
        "location"
    ]["id"]
    setup.st = (await setup.mutate("createLocation", code="ST1", name="Store", kind="STORE"))[
        "location"
    ]["id"]
    await setup.mutate("createInventoryItem", sku="A", lowStockThreshold=3)
    await setup.mutate("createInventoryItem", sku="B")
    setup.channel = (
        await setup.mutate(
            "createChannel",
            name="Shop",
            kind="SHOPIFY",
            currency="USD",
            locationIds=[setup.wh],
            bufferQuantity=1,
        )
    )["channel"]["id"]
    return setup


async def subscribed(
    app: Starlette,
    socket: GraphQLSocket,
    key: str,
    topic: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> str:
    """Open a subscription and return once the server has registered it on the bus."""
    assert (await socket.init(key))["type"] == "connection_ack"
    before = app.state.container.bus.fanout.subscriber_count(topic)
    op = await socket.subscribe(query, variables)
    async with asyncio.timeout(5):
        await app.state.container.bus.fanout.wait_for_subscribers(topic, before + 1)
    return op


async def next_event(socket: GraphQLSocket, op: str, field: str) -> dict[str, Any]:
    """The next event of `op`, which must arrive within RECEIVE_WITHIN seconds from now."""
    async with asyncio.timeout(RECEIVE_WITHIN):
        payload = await socket.next_payload(op)
    assert "errors" not in payload, payload
    event: dict[str, Any] = payload["data"][field]
    return event


async def test_stock_changes_stream_for_the_chosen_skus_only(
    app: Starlette, shop: Shop, readonly_key: str
) -> None:
    # A read-only key may subscribe: it only reads.
    async with websocket(app) as socket:
        op = await subscribed(app, socket, readonly_key, "stock", STOCK_CHANGED, {"skus": ["A"]})

        await shop.mutate("receiveStock", sku="A", locationId=shop.wh, quantity=10)
        assert await next_event(socket, op, "stockChanged") == {
            "sku": "A",
            "locationId": shop.wh,
            "locationCode": "WH1",
            "onHand": 10,
            "reserved": 0,
            "available": 10,
            "version": 1,
            "reason": "receive",
            "channels": [{"channelId": shop.channel, "name": "Shop", "quantity": 9}],
        }

        # B changes at the same location, then A again: the next message is A's next version,
        # so B's change was never sent to this subscriber.
        await shop.mutate("receiveStock", sku="B", locationId=shop.wh, quantity=5)
        await shop.mutate("reserveStock", sku="A", quantity=2, locationId=shop.wh)
        assert await next_event(socket, op, "stockChanged") == {
            "sku": "A",
            "locationId": shop.wh,
            "locationCode": "WH1",
            "onHand": 10,
            "reserved": 2,
            "available": 8,
            "version": 2,
            "reason": "reserve",
            "channels": [{"channelId": shop.channel, "name": "Shop", "quantity": 7}],
        }

        # A transfer changes two levels: one event each, in the order [from, to]; ST1 feeds
        # no channel, and the channel fed by WH1 sees what WH1 has left.
        await shop.mutate(
            "transferStock", sku="A", fromLocationId=shop.wh, toLocationId=shop.st, quantity=3
        )
        source = await next_event(socket, op, "stockChanged")
        target = await next_event(socket, op, "stockChanged")
        assert (source["locationCode"], source["onHand"], source["version"]) == ("WH1", 7, 3)
        assert source["reason"] == "transfer"
        assert source["channels"] == [{"channelId": shop.channel, "name": "Shop", "quantity": 4}]
        assert (target["locationCode"], target["onHand"], target["version"]) == ("ST1", 3, 1)
        assert target["channels"] == []
        await socket.complete(op)


async def test_an_unfiltered_subscriber_gets_every_sku(
    app: Starlette, shop: Shop, staff_key: str
) -> None:
    async with websocket(app) as socket:
        op = await subscribed(app, socket, staff_key, "stock", STOCK_CHANGED)
        await shop.mutate("receiveStock", sku="B", locationId=shop.st, quantity=4)
        await shop.mutate("receiveStock", sku="A", locationId=shop.st, quantity=1)
        first = await next_event(socket, op, "stockChanged")
        second = await next_event(socket, op, "stockChanged")
        assert [(e["sku"], e["onHand"], e["channels"]) for e in (first, second)] == [
            ("B", 4, []),
            ("A", 1, []),
        ]


async def test_alerts_stream_as_stock_crosses_thresholds(
    app: Starlette, shop: Shop, staff_key: str
) -> None:
    async with websocket(app) as socket:
        op = await subscribed(app, socket, staff_key, "inventory_alerts", INVENTORY_ALERTS)

        await shop.mutate("receiveStock", sku="A", locationId=shop.wh, quantity=10)
        back = await next_event(socket, op, "inventoryAlerts")
        assert (back["kind"], back["sku"], back["available"], back["threshold"]) == (
            "BACK_IN_STOCK",
            "A",
            10,
            3,
        )

        # No crossing (10 -> 11): no alert; then down to the threshold: low.
        await shop.mutate("receiveStock", sku="A", locationId=shop.wh, quantity=1)
        await shop.mutate("adjustStock", sku="A", locationId=shop.wh, delta=-8, reason="damaged")
        low = await next_event(socket, op, "inventoryAlerts")
        assert (low["kind"], low["available"]) == ("LOW_STOCK", 3)

        await shop.mutate("reserveStock", sku="A", quantity=3)
        out = await next_event(socket, op, "inventoryAlerts")
        assert (out["kind"], out["available"]) == ("OUT_OF_STOCK", 0)

        # What was streamed is what was stored.
        listed = data(
            await gql(shop.http, '{ alerts(sku: "A") { nodes { id kind } } }', key=staff_key)
        )["alerts"]["nodes"]
        assert listed == [
            {"id": out["id"], "kind": "OUT_OF_STOCK"},
            {"id": low["id"], "kind": "LOW_STOCK"},
            {"id": back["id"], "kind": "BACK_IN_STOCK"},
        ]
        await socket.complete(op)


async def test_a_bad_key_is_closed_4403_and_never_subscribed(app: Starlette, shop: Shop) -> None:
    fanout = app.state.container.bus.fanout
    async with websocket(app) as socket:
        # The subscribe is sent right behind the bad connection_init, without waiting.
        await socket.ws.send_json(
            {"type": "connection_init", "payload": {"authorization": "Bearer nexo_wrong"}}
        )
        await socket.ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": STOCK_CHANGED}}
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.receive()
    assert closed.value.code == 4403
    assert fanout.subscriber_count("stock") == 0
    await shop.mutate("receiveStock", sku="A", locationId=shop.wh, quantity=1)
    assert fanout.topics() == [API_KEY_EVENTS]  # the socket guard's own, nothing else


async def test_subscribing_before_connection_init_is_refused(app: Starlette) -> None:
    async with websocket(app) as socket:
        await socket.ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": STOCK_CHANGED}}
        )
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.receive()
    assert closed.value.code == 4401
    assert app.state.container.bus.fanout.topics() == [API_KEY_EVENTS]  # the socket guard's
