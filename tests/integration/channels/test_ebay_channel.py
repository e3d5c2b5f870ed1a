"""eBay beyond the contract suite: the day's revision cap under a hot SKU, signed
notifications (a forged one stores nothing), and the endpoint challenge — the hub as the
suite drives it (GraphQL, the real jobs, the suite's clock) against the eBay sandbox."""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest

from adapters.channels.ebay.revisions import BUDGET, KEPT
from adapters.container import Container
from adapters.settings import Settings
from sandbox.ebay.notifications import challenge_response
from sandbox.ebay.orders import stamp
from tests.api.test_webhooks import ALERTS, INBOX
from tests.contract.channel import Delivery
from tests.contract.ebay import CREDENTIALS, EbayUnderTest, ebay
from tests.contract.hub import MUG, SHIRTS, Hub, hub_on

SALES = 1000
DAY = 86_400
SLOT = 240  # seconds
SELLING = DAY - 7200  # the sales end two hours before midnight


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stock_edit_hold_seconds": 0.0})


@pytest.fixture
async def hub(
    http: httpx.AsyncClient, staff_key: str, container: Container, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Hub]:
    async with hub_on(ebay, http, staff_key, container, monkeypatch) as hub:
        yield hub


def sandbox_of(hub: Hub) -> EbayUnderTest:
    assert isinstance(hub.channel, EbayUnderTest)
    return hub.channel


# The cap is counted by the sandbox and budgeted in the rate limiter, not the database: one
# backend proves it (a day costs about 330 drains).
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_hot_sku_sold_all_day_stays_within_the_revision_cap_and_ends_right(
    hub: Hub,
) -> None:
    """1,000 sales elsewhere at random moments of one calendar day (eBay's cap is per day),
    the sales of each 4 minutes taken in together and drained at once, as the queue would:
    that is more drains than the day's 250 revisions, yet eBay never refuses a revision, and
    before the day is out its listing shows the hub's figure. (Without the budget the cap is
    met in the afternoon, and eBay shows a stale figure until midnight.)"""
    sandbox = sandbox_of(hub).sandbox
    now = hub.clock()
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), UTC)
    hub.clock.advance((midnight - now).total_seconds() + 60)  # one calendar day to sell in
    await hub.receive(MUG, SALES)
    await hub.settle()
    moments = random.Random(17)
    slots = Counter(int(moments.uniform(0, SELLING) // SLOT) for _ in range(SALES))
    elapsed = 0
    for slot in sorted(slots):
        hub.clock.advance(slot * SLOT - elapsed)
        elapsed = slot * SLOT
        await hub.adjust(MUG, -slots[slot])  # sold at the shop's counter
        await hub.settle()
    assert len(slots) > 250
    hub.clock.advance(SELLING + 3600 - elapsed)  # the last deferral comes due, the same day
    assert hub.clock().date() == midnight.date()
    await hub.run("drain_channel", hub.channel_id)
    await hub.settle()

    [listing] = [lst for lst in sandbox.store.listings.values() if MUG in lst.skus]
    assert max(listing.revisions.values()) <= 250, listing.revisions
    item = await hub.channel.item(MUG)
    assert item is not None
    assert item.quantity == await hub.published(MUG) == 3  # 3 + 1000 received - 1000 sold
    refused = [c for c in sandbox.calls if c["path"].endswith("price_quantity")
               and c["status"] != 200]  # fmt: skip
    assert refused == []  # eBay never refused a revision
    assert (await hub.status())["dead"] == 0
    alerts = (await hub.call(ALERTS))["alerts"]["nodes"]
    assert [a for a in alerts if a["kind"] == "SYNC_FAILED"] == []  # no push was refused


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the budget is not the database's
async def test_a_sell_out_goes_out_at_once_when_restocks_have_spent_the_revisions(
    hub: Hub,
) -> None:
    """Restocks raise the mug's quantity one at a time until its listing's revisions for now
    are spent and the next restock waits; a sell-out elsewhere then still reaches eBay at once,
    on the revisions kept for lowering a quantity. (Without them eBay would show units the
    merchant no longer has for the quarter of an hour until the next revision.)"""
    await hub.receive(MUG, 10)
    await hub.settle()

    async def shown() -> int:
        item = await hub.channel.item(MUG)
        assert item is not None
        return item.quantity

    restocks = 0
    while await shown() == await hub.published(MUG):
        assert restocks < BUDGET.capacity, "the restocks never waited"
        await hub.receive(MUG, 1)
        await hub.settle()
        restocks += 1
    assert restocks >= BUDGET.capacity - KEPT - 2  # the budget's own, less the listing's first
    assert await shown() == await hub.published(MUG) - 1  # the last restock waits its turn

    await hub.adjust(MUG, -(await hub.published(MUG)))  # sold out at the shop's counter
    await hub.settle()
    assert await hub.published(MUG) == 0
    assert await shown() == 0  # at once: the clock has not moved


async def test_a_signed_order_notification_is_taken_and_a_forged_one_stores_nothing(
    hub: Hub,
) -> None:
    sandbox = sandbox_of(hub).sandbox
    placed = await hub.channel.sell([(MUG, 1)], Delivery.LOST)
    body = json.dumps({
        "metadata": {"topic": "ORDER_CONFIRMATION", "schemaVersion": "1.0", "deprecated": False},
        "notification": {"notificationId": "forged-1", "eventDate": "2026-01-01T00:00:00.000Z",
                         "publishDate": stamp(hub.clock()), "publishAttemptCount": 1,
                         "data": {"orderId": placed}},
    }).encode()  # fmt: skip
    url = f"/webhooks/{hub.channel_id}"
    good = sandbox.notifier.sign(body)
    forged = json.loads(base64.b64decode(good))
    forged["signature"] = base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()
    for header in (base64.b64encode(json.dumps(forged).encode()).decode(), "not base64 !"):
        answer = await hub.http.post(url, content=body, headers={"X-EBAY-SIGNATURE": header})
        assert answer.status_code == 401
    tampered = body.replace(b"forged-1", b"forged-2")
    answer = await hub.http.post(url, content=tampered, headers={"X-EBAY-SIGNATURE": good})
    assert answer.status_code == 401
    events = (await hub.call(INBOX, c=hub.channel_id, s=None, first=100))["inboxEvents"]
    assert events["edges"] == []

    answer = await hub.http.post(url, content=body, headers={"X-EBAY-SIGNATURE": good})
    assert answer.status_code == 200
    await hub.settle()
    [order] = await hub.orders()
    assert (order["externalId"], order["status"]) == (placed, "ALLOCATED")
    assert await hub.stock(MUG) == (3, 1, 2)


async def test_the_endpoint_answers_ebays_challenge_and_nothing_else(hub: Hub) -> None:
    url = f"/webhooks/{hub.channel_id}"
    answer = await hub.http.get(url, params={"challenge_code": "abc123"})
    endpoint = str(hub.http.base_url.join(url))
    expected = challenge_response("abc123", CREDENTIALS["verification_token"], endpoint)
    assert answer.json() == {"challengeResponse": expected}
    assert (await hub.http.get(url)).status_code == 404
    assert (await hub.http.get("/webhooks/not-a-channel")).status_code == 404


async def test_an_expired_token_is_refreshed_once_and_the_call_goes_through(hub: Hub) -> None:
    sandbox = sandbox_of(hub).sandbox
    sandbox.expire_tokens()  # eBay refuses the token the hub holds: 401, then a new one
    await hub.receive(MUG, 2)
    await hub.settle()
    item = await hub.channel.item(MUG)
    assert item is not None
    assert item.quantity == 5
    assert len(sandbox.tokens) == 1
    hub.clock.advance(timedelta(hours=3).total_seconds())  # past the token's two hours
    await hub.receive(MUG, 1)
    await hub.settle()
    assert (await hub.channel.item(MUG)).quantity == 6  # type: ignore[union-attr]
    assert len(sandbox.tokens) == 2


CONVERSION = """
query($from: DateTime!, $to: DateTime!, $byDay: Boolean!) {
  conversionReport(from: $from, to: $to, byDay: $byDay) {
    firstDay lastDay rows { channelId sku day views orders units conversionPercent }
    series(metric: "conversion_percent") { key points { x y } }
  }
}"""


async def test_the_views_ebay_reports_become_conversion_per_sku_and_day(hub: Hub) -> None:
    """eBay counts views per listing (its traffic report): the two shirts share one
    variation listing, so its 7 views count for each. Orders: MUG 2 orders, 3 units today."""
    sandbox = sandbox_of(hub).sandbox
    today = hub.clock().date()
    yesterday = today - timedelta(days=1)
    sandbox.view(MUG, 40)
    sandbox.view(MUG, 10, yesterday)
    sandbox.view("TS-M-RED", 7)
    await hub.channel.sell([(MUG, 2)], Delivery.ONCE)
    await hub.channel.sell([(MUG, 1)], Delivery.ONCE)
    await hub.settle()

    stored = await hub.run("read_channel_views")
    sandbox.view(MUG, 1000)  # read within the hour: not asked again, not stored
    again = await hub.run("read_channel_views")
    span = {"from": f"{yesterday}T00:00:00Z", "to": f"{today + timedelta(days=1)}T00:00:00Z"}
    by_day = (await hub.call(CONVERSION, **span, byDay=True))["conversionReport"]
    whole = (await hub.call(CONVERSION, **span, byDay=False))["conversionReport"]
    csv = await hub.http.get("/reports/conversion.csv", params=span,
                             headers={"Authorization": f"Bearer {hub.key}"})  # fmt: skip

    assert (stored, again) == (21, 0)  # 7 SKUs x 3 days (today and 2 back), once
    c, d0, d1 = hub.channel_id, str(yesterday), str(today)
    assert (by_day["firstDay"], by_day["lastDay"]) == (d0, d1)
    rows = [tuple(r.values()) for r in by_day["rows"]]
    assert rows[:2] == [(c, MUG, d0, 10, 0, 0, "0.00"), (c, MUG, d1, 40, 2, 3, "5.00")]
    assert rows[2:] == [
        (c, shirt, day, views, 0, 0, "0.00" if views else None)
        for shirt in sorted(SHIRTS) for day, views in ((d0, 0), (d1, 7))
    ]  # fmt: skip
    assert by_day["series"][0] == {
        "key": f"{c} / {MUG}", "points": [{"x": d0, "y": "0.00"}, {"x": d1, "y": "5.00"}]
    }  # fmt: skip
    assert tuple(whole["rows"][0].values()) == (c, MUG, None, 50, 2, 3, "4.00")
    assert csv.status_code == 200
    assert csv.text.splitlines()[:2] == [
        "channel,sku,day,views,orders,units,conversion_percent", f"{c},{MUG},,50,2,3,4.00",
    ]  # fmt: skip
    assert sandbox.violations == []
