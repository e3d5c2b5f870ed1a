"""A channel's bad day: throttled, failing, silent or talking nonsense. Each call that meets it is
a recorded failure, retried until the channel has what the hub meant; nothing crashes, nothing
is lost, nothing is done twice."""

from __future__ import annotations

import logging
import uuid

import pytest

from domain.sync.relay import MAX_ATTEMPTS
from tests.api.test_orders_api import CREATE_SHIPMENT
from tests.api.test_webhooks import ALERTS
from tests.contract.channel import Delivery, Fault
from tests.contract.hub import MUG, Hub, one_variant

THROTTLES = (Fault.THROTTLED, Fault.TOO_MANY_REQUESTS)
DOWN = 1000  # calls: the channel is down until it recovers


async def shown_quantity(hub: Hub, sku: str) -> int | None:
    item = await hub.channel.item(sku)
    assert item is not None, f"{sku} is not on the channel"
    return item.quantity


def logged_failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The outcomes the channel's adapter logged for calls that did not succeed (every
    adapter logs each call as `channel.call`)."""
    return [
        str(getattr(r, "outcome", None))
        for r in caplog.records
        if r.getMessage() == "channel.call" and getattr(r, "outcome", "ok") != "ok"
    ]


@pytest.mark.parametrize("fault", list(Fault))
async def test_a_call_meeting_a_fault_is_recorded_and_retried_and_nothing_is_lost(
    hub: Hub, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # A push: recorded in the sync log, retried when due (at once, if the channel says so).
    await hub.channel.inject(fault)
    await hub.receive(MUG, 4)
    await hub.settle()

    expected = "THROTTLED" if fault in THROTTLES else "FAILED"
    failed = [c for c in await hub.calls("push_quantities") if c["outcome"] == expected]
    assert [(c["keys"], bool(c["message"])) for c in failed] == [([MUG], True)]
    status = await hub.status()
    assert status["dead"] == 0
    assert status["throttles" if fault in THROTTLES else "failures"] == 1
    await hub.later()
    assert await shown_quantity(hub, MUG) == 7
    assert (await hub.listed(MUG))["confirmedQuantity"] == 7
    assert (await hub.calls("push_quantities"))[-1]["outcome"] == "OK"
    assert (await hub.status())["pending"] == 0

    # A pull: takes nothing, and the next pull takes the order, once.
    caplog.clear()
    placed = await hub.channel.sell([(MUG, 1)], Delivery.LOST)
    await hub.channel.inject(fault)
    assert await hub.pull() == 0
    assert logged_failures(caplog)
    assert await hub.orders() == []
    await hub.later()  # past any pause the channel asked for
    assert await hub.pull() == 1
    await hub.settle()
    assert [(o["externalId"], o["status"]) for o in await hub.orders()] == [(placed, "ALLOCATED")]
    alerts = (await hub.call(ALERTS))["alerts"]["nodes"]
    assert [a for a in alerts if a["kind"] == "SYNC_FAILED"] == []


async def test_a_listing_whose_answer_was_lost_is_published_once(hub: Hub) -> None:
    lamp = one_variant("desk-lamp", "Desk Lamp", "LAMP", "30.00", hub.channel.currency, 901)
    await hub.channel.inject(Fault.GARBAGE)  # carried out by the channel, its answer lost

    assert (await hub.create_product(lamp))["userErrors"] == []
    await hub.settle()
    assert (await hub.calls("upsert_listing"))[-1]["outcome"] == "FAILED"
    await hub.later()

    [listing] = [n for n in await hub.listings() if n["items"][0]["sku"] == "LAMP"]
    assert listing["status"] == "ACTIVE"
    shown = await hub.channel.item("LAMP")  # the channel lists it once
    assert shown is not None
    assert shown.listing == listing["externalId"]


@pytest.mark.parametrize("fault", [Fault.UNAVAILABLE, Fault.TIMEOUT])
async def test_a_shipment_confirmation_meeting_a_fault_reaches_the_channel_once(
    hub: Hub, fault: Fault
) -> None:
    placed = await hub.channel.sell([(MUG, 2)], Delivery.ONCE)
    await hub.settle()
    [order] = await hub.orders()
    await hub.channel.inject(fault, calls=DOWN)

    given = {"orderId": order["id"], "locationId": hub.location, "carrier": "UPS",
             "trackingNumber": "1Z-LATE", "idempotencyKey": str(uuid.uuid4()),
             "lineIds": [ln["id"] for ln in order["lines"]]}  # fmt: skip
    await hub.change(CREATE_SHIPMENT, "createShipment", input=given)
    await hub.settle()
    assert [c["outcome"] for c in await hub.calls("confirm_shipment")] == ["FAILED"]
    assert (await hub.channel.order(placed)).lines[MUG].shipped == 0
    await hub.channel.recover()
    await hub.later()

    shown = await hub.channel.order(placed)
    assert (shown.lines[MUG].shipped, shown.tracking_numbers) == (2, ("1Z-LATE",))
    assert [c["outcome"] for c in await hub.calls("confirm_shipment")] == ["FAILED", "OK"]


async def test_a_channel_failing_for_good_dead_letters_and_alerts_and_a_later_change_goes_out(
    hub: Hub,
) -> None:
    await hub.channel.inject(Fault.SERVER_ERROR, calls=DOWN)
    await hub.receive(MUG, 4)
    await hub.settle()
    for _ in range(MAX_ATTEMPTS - 1):
        await hub.later()

    outcomes = [c["outcome"] for c in await hub.calls("push_quantities")]
    assert outcomes[-2:] == ["FAILED", "DEAD"]
    status = await hub.status()
    assert (status["pending"], status["dead"]) == (0, 1)
    alerts = (await hub.call(ALERTS))["alerts"]["nodes"]
    assert [(a["sku"], a["channelId"]) for a in alerts if a["kind"] == "SYNC_FAILED"] == [
        (MUG, hub.channel_id)
    ]
    assert await shown_quantity(hub, MUG) == 3

    await hub.channel.recover()
    await hub.receive(MUG, 1)  # the next change takes the hub's figure
    await hub.settle()
    assert await shown_quantity(hub, MUG) == 8
