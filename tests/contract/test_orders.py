"""Orders: taken once whichever way they come (pushed, pulled, pushed twice), reserved, shipped
with tracking, cancelled on the channel or in the hub (each asked again and again: one
cancellation), and a line the hub cannot fill cancelled there."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.test_orders_api import CANCEL_ORDER, CREATE_SHIPMENT, SET_POLICY_AND_LOSERS
from tests.api.test_webhooks import INBOX
from tests.contract.channel import Delivery, ShownLine
from tests.contract.hub import MUG, Hub

TEE = "TS-M-RED"  # 5 in stock


def lines_of(order: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted((ln["sku"], ln["quantity"], ln["status"]) for ln in order["lines"])


async def order_events(hub: Hub) -> list[dict[str, Any]]:
    page = (await hub.call(INBOX, c=hub.channel_id, s=None, first=100))["inboxEvents"]
    return [edge["node"] for edge in page["edges"] if edge["node"]["kind"] == "ORDER"]


async def test_an_order_the_channel_pushes_is_taken_once_and_reserved(hub: Hub) -> None:
    placed = await hub.channel.sell([(TEE, 2), (MUG, 1)], Delivery.ONCE)

    await hub.settle()

    [order] = await hub.orders()
    assert (order["externalId"], order["status"]) == (placed, "ALLOCATED")
    assert lines_of(order) == [(MUG, 1, "ALLOCATED"), (TEE, 2, "ALLOCATED")]
    assert await hub.stock(TEE) == (5, 2, 3)
    item = await hub.channel.item(TEE)
    assert item is not None
    assert item.quantity == await hub.published(TEE) == 3
    events = await order_events(hub)
    assert events
    assert {e["status"] for e in events} == {"PROCESSED"}
    # The same order read again by the pull is the same order.
    await hub.pull()
    await hub.settle()
    assert [o["id"] for o in await hub.orders()] == [order["id"]]
    assert await hub.stock(TEE) == (5, 2, 3)


async def test_an_order_whose_notifications_were_lost_is_pulled_once(hub: Hub) -> None:
    placed = await hub.channel.sell([(TEE, 1)], Delivery.LOST)
    await hub.settle()
    assert await hub.orders() == []

    assert await hub.pull() == 1
    await hub.settle()
    assert await hub.pull() == 0

    [order] = await hub.orders()
    assert (order["externalId"], order["status"]) == (placed, "ALLOCATED")
    assert await hub.stock(TEE) == (5, 1, 4)
    item = await hub.channel.item(TEE)
    assert item is not None
    assert item.quantity == 4


async def test_notifications_delivered_twice_are_one_event_each_and_one_order(hub: Hub) -> None:
    placed = await hub.channel.sell([(MUG, 2)], Delivery.TWICE)

    await hub.settle()

    events = await order_events(hub)
    assert events
    assert len({e["eventId"] for e in events}) == len(events)
    [order] = await hub.orders()
    assert (order["externalId"], lines_of(order)) == (placed, [(MUG, 2, "ALLOCATED")])
    assert await hub.stock(MUG) == (3, 2, 1)  # reserved once


async def test_shipments_reach_the_channel_with_their_tracking_numbers(hub: Hub) -> None:
    placed = await hub.channel.sell([(TEE, 2), (MUG, 1)], Delivery.ONCE)
    await hub.settle()
    [order] = await hub.orders()
    line = {ln["sku"]: ln["id"] for ln in order["lines"]}
    parcels = [
        ("1Z-PARCEL-1", [(line[TEE], 1)]),
        ("1Z-PARCEL-2", [(line[TEE], 1), (line[MUG], 1)]),
    ]

    shown = []
    for tracking, parcel in parcels:
        given = {"orderId": order["id"], "locationId": hub.location, "carrier": "UPS",
                 "trackingNumber": tracking, "idempotencyKey": str(uuid.uuid4()),
                 "lines": [{"lineId": i, "quantity": q} for i, q in parcel]}  # fmt: skip
        shipped = await hub.change(CREATE_SHIPMENT, "createShipment", input=given)
        await hub.settle()
        shown.append(await hub.channel.order(placed))

    assert [{sku: ln.shipped for sku, ln in s.lines.items()} for s in shown] == [
        {TEE: 1, MUG: 0}, {TEE: 2, MUG: 1},
    ]  # fmt: skip
    assert shown[-1].tracking_numbers == ("1Z-PARCEL-1", "1Z-PARCEL-2")
    assert shipped["order"]["status"] == "SHIPPED"
    detail = (await hub.call("query($id: ID!) { order(id: $id) { shipments { channelShipmentId "
                             "} } }", id=order["id"]))["order"]  # fmt: skip
    assert all(s["channelShipmentId"] for s in detail["shipments"])
    confirmations = await hub.calls("confirm_shipment")
    assert [c["outcome"] for c in confirmations] == ["OK", "OK"]
    assert await hub.stock(TEE) == (3, 0, 3)


async def test_a_line_the_hub_cannot_fill_is_cancelled_on_the_channel(hub: Hub) -> None:
    given = {"channelId": hub.channel_id, "policy": "FIRST_COME", "losingLines": "CANCEL"}
    await hub.change(SET_POLICY_AND_LOSERS, "setConflictPolicy", input=given)
    await hub.adjust(MUG, -3)  # the last mugs are gone; the channel has not heard yet

    placed = await hub.channel.sell([(MUG, 1), (TEE, 1)], Delivery.ONCE)
    await hub.settle()

    [order] = await hub.orders()
    assert lines_of(order) == [(MUG, 1, "CANCELLED"), (TEE, 1, "ALLOCATED")]
    shown = await hub.channel.order(placed)
    assert shown.lines == {
        MUG: ShownLine(MUG, ordered=1, cancelled=1, shipped=0),
        TEE: ShownLine(TEE, ordered=1, cancelled=0, shipped=0),
    }
    assert [c["outcome"] for c in await hub.calls("cancel_lines")] == ["OK"]
    mug = await hub.channel.item(MUG)
    assert mug is not None
    assert mug.quantity == 0  # the cancelled unit does not come back on the channel


@pytest.mark.parametrize("delivery", [Delivery.ONCE, Delivery.LOST], ids=["pushed", "pulled"])
async def test_an_order_cancelled_on_the_channel_lets_its_units_go(
    hub: Hub, delivery: Delivery
) -> None:
    placed = await hub.channel.sell([(MUG, 2)], Delivery.ONCE)
    await hub.settle()

    # In the second it was placed: the channel's version has the same (whole-second) stamp.
    await hub.channel.cancel(placed, delivery)
    await hub.pull()  # taking it by the pull too changes nothing more
    await hub.settle()

    assert (await hub.channel.order(placed)).cancelled
    [order] = await hub.orders()
    assert (order["status"], lines_of(order)) == ("CANCELLED", [(MUG, 2, "CANCELLED")])
    assert await hub.stock(MUG) == (3, 0, 3)
    mug = await hub.channel.item(MUG)
    assert mug is not None
    assert mug.quantity == await hub.published(MUG) == 3


async def test_an_order_cancelled_in_the_hub_is_cancelled_on_the_channel_once(hub: Hub) -> None:
    placed = await hub.channel.sell([(MUG, 2)], Delivery.ONCE)
    await hub.settle()
    [order] = await hub.orders()
    cancel = {"orderId": order["id"], "reason": "customer asked", "idempotencyKey": "cancel-1"}

    for _ in range(10):
        await hub.change(CANCEL_ORDER, "cancelOrder", input=cancel)
        await hub.settle()
    await hub.pull()  # what the channel now says of it changes nothing more
    await hub.settle()

    shown = await hub.channel.order(placed)
    # Cancelled whole where the channel cancels orders, else its line: nothing left to ship.
    assert shown.cancelled or shown.lines[MUG].cancelled == 2
    assert [c["outcome"] for c in await hub.calls("cancel_lines")] == ["OK"]
    [order] = await hub.orders()
    assert (order["status"], lines_of(order)) == ("CANCELLED", [(MUG, 2, "CANCELLED")])
    assert await hub.stock(MUG) == (3, 0, 3)
