"""The replay window on eBay's signed send time (`publishDate`), through `POST /webhooks`.

A captured notification verifies forever; one sent longer ago than the window (here 120 s,
not the default, so the setting is what is read), or stamped further ahead than the skew
allowed (30 s), is refused with 401 and changes nothing: no inbox row, no order, no stock.
The hub as the suite drives it, on the suite's clock, against the eBay sandbox.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest

from adapters.settings import Settings
from sandbox.ebay.orders import stamp
from tests.api.test_webhooks import INBOX
from tests.contract.channel import Delivery
from tests.contract.hub import MUG, Hub
from tests.integration.channels.test_ebay_channel import hub, sandbox_of

__all__ = ["hub"]  # the fixture, shared with the eBay channel's tests

WINDOW = 120
SKEW = 30


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "stock_edit_hold_seconds": 0.0,
            "webhook_replay_window_seconds": float(WINDOW),
            "webhook_clock_skew_seconds": float(SKEW),
        }
    )


def notification(order_id: str, published: datetime | None, notification_id: str) -> bytes:
    """An ORDER_CONFIRMATION as eBay words it, published at `published` (None: no date).
    Its `eventDate` is long past: a resend keeps it, so it is not what is judged."""
    dates = {} if published is None else {"publishDate": stamp(published)}
    return json.dumps({
        "metadata": {"topic": "ORDER_CONFIRMATION", "schemaVersion": "1.0", "deprecated": False},
        "notification": {"notificationId": notification_id, "eventDate": "2026-01-01T00:00:00.000Z",
                         **dates, "publishAttemptCount": 1, "data": {"orderId": order_id}},
    }).encode()  # fmt: skip


async def post(hub: Hub, body: bytes, signature: str | None = None) -> tuple[int, Any]:
    signed = signature or sandbox_of(hub).sandbox.notifier.sign(body)
    answer = await hub.http.post(
        f"/webhooks/{hub.channel_id}", content=body, headers={"X-EBAY-SIGNATURE": signed}
    )
    return answer.status_code, answer.json()


async def state(hub: Hub) -> tuple[int, list[tuple[str, str]], tuple[int, int, int]]:
    """What a delivery could change: inbox rows, orders, the sold SKU's stock."""
    events = (await hub.call(INBOX, c=hub.channel_id, s=None, first=100))["inboxEvents"]
    orders = [(o["externalId"], o["status"]) for o in await hub.orders()]
    return len(events["edges"]), orders, await hub.stock(MUG)


async def test_a_fresh_notification_is_taken_and_its_replay_past_the_window_changes_nothing(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    first = await hub.channel.sell([(MUG, 1)], Delivery.LOST)
    fresh = notification(first, hub.clock(), "n-1")
    assert await post(hub, fresh) == (200, {"status": "received"})
    await hub.settle()
    taken = await state(hub)
    assert taken == (1, [(first, "ALLOCATED")], (3, 1, 2))

    # Another order's notification, captured as eBay sent it and never delivered, and the
    # first one again: each presented once the window is over.
    second = await hub.channel.sell([(MUG, 1)], Delivery.LOST)
    captured = notification(second, hub.clock(), "n-2")
    hub.clock.advance(WINDOW + 1)
    for replayed in (captured, fresh):
        assert await post(hub, replayed) == (401, {"error": "stale"})
    await hub.settle()
    assert await state(hub) == taken  # the second order is not taken in by it
    stale = [r for r in caplog.records if r.getMessage() == "webhook.stale"]
    assert [r.channel_id for r in stale] == [hub.channel_id] * 2
    assert all(r.reason.endswith(f"s ago, past the {WINDOW} s replay window") for r in stale)


async def test_a_forged_or_altered_publish_date_fails_the_signature(hub: Hub) -> None:
    placed = await hub.channel.sell([(MUG, 1)], Delivery.LOST)
    old = hub.clock() - timedelta(seconds=WINDOW + 60)
    captured = notification(placed, old, "n-1")
    signature = sandbox_of(hub).sandbox.notifier.sign(captured)
    assert await post(hub, captured, signature) == (401, {"error": "stale"})
    # The captured one made fresh: its publishDate rewritten, its signature kept.
    refreshed = captured.replace(stamp(old).encode(), stamp(hub.clock()).encode())
    assert refreshed != captured
    assert await post(hub, refreshed, signature) == (401, {"error": "unauthorized"})
    # Signed by eBay without a publishDate: no send time to judge it by.
    assert await post(hub, notification(placed, None, "n-2")) == (401, {"error": "stale"})
    await hub.settle()
    assert await state(hub) == (0, [], (3, 0, 3))


@pytest.mark.parametrize(
    ("sent", "taken"),
    [
        (-WINDOW, True),  # sent exactly the window ago: the edge is inside
        (-WINDOW - 1, False),
        (SKEW, True),  # the sender's clock ahead by exactly the skew allowed
        (SKEW + 1, False),
    ],
)
async def test_the_window_and_the_skew_bound_the_publish_date(
    hub: Hub, sent: int, taken: bool
) -> None:
    placed = await hub.channel.sell([(MUG, 1)], Delivery.LOST)
    now = hub.clock().replace(microsecond=0)  # eBay writes milliseconds: exactly the edge
    hub.container.clock = lambda: now  # judged at that instant, not a moment later
    answer = await post(hub, notification(placed, now + timedelta(seconds=sent), "n-1"))
    await hub.settle()
    if taken:
        assert answer == (200, {"status": "received"})
        assert await state(hub) == (1, [(placed, "ALLOCATED")], (3, 1, 2))
    else:
        assert answer == (401, {"error": "stale"})
        assert await state(hub) == (0, [], (3, 0, 3))


async def test_a_notification_held_up_at_ebay_is_stamped_when_sent_and_taken(hub: Hub) -> None:
    """eBay publishes anew on each attempt: a notification that waited at eBay longer than
    the window (an outage, a retry) carries the time it was sent, and is taken."""
    sandbox = sandbox_of(hub).sandbox
    placed = await hub.channel.sell([(MUG, 1)], Delivery.LOST)
    sandbox.notifier.publish("ORDER_CONFIRMATION", {"orderId": placed})
    hub.clock.advance(WINDOW * 10)
    await hub.settle()  # delivers it
    assert sandbox.notifier.log[-1]["status"] == 200
    assert await state(hub) == (1, [(placed, "ALLOCATED")], (3, 1, 2))
