"""What only Amazon does, through the hub: INVALID listings, notifications the hub cannot place,
FBA orders, the shared LWA token."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.db.feeds_in_flight import SqlFeedsInFlight
from adapters.db.tables import amazon_feeds, channel_locations
from domain.inventory import setup
from domain.sync.relay import Relay
from tests.contract.amazon import AmazonUnderTest
from tests.contract.channel import Delivery
from tests.contract.hub import MUG, Hub, one_variant

ATTENTION = """
query($c: [ID!]) {
  orders(first: 100, filter: {channelIds: $c}) {
    nodes { externalId status needsAttention attentionReason lines { sku quantity } }
  }
}"""


def amazon(hub: Hub) -> AmazonUnderTest:
    channel = hub.channel
    assert isinstance(channel, AmazonUnderTest)
    return channel


async def test_an_invalid_listing_shows_amazons_issues_and_blocks_nothing_else(hub: Hub) -> None:
    lamp = one_variant("desk-lamp", "Desk Lamp", "LAMP", "30.00", hub.channel.currency, 901)
    lamp["brand"] = None  # Amazon requires a brand; the hub's own checks do not

    assert (await hub.create_product(lamp))["userErrors"] == []
    await hub.receive(MUG, 2)
    await hub.settle()

    [listing] = [n for n in await hub.listings() if n["items"][0]["sku"] == "LAMP"]
    assert listing["status"] == "ERROR"
    [problem] = listing["problems"]
    assert problem["code"] == "CHANNEL_REJECTED"
    assert "LAMP: brand: 'brand' is required but not supplied. (90220)" in problem["message"]
    assert await hub.channel.item("LAMP") is None
    shown = await hub.channel.item(MUG)  # the rest goes on
    assert shown is not None
    assert shown.quantity == 5
    assert (await hub.listed(MUG))["confirmedQuantity"] == 5


async def test_an_order_for_a_sku_the_hub_does_not_know_is_kept_and_flagged(hub: Hub) -> None:
    seller = amazon(hub).sandbox.seller
    attributes: dict[str, Any] = dict(seller.listings.items[MUG].attributes)
    seller.listings.put("OLD-STOCK", "HOME", attributes)  # listed on Amazon only

    placed = await hub.channel.sell([("OLD-STOCK", 1)], Delivery.ONCE)
    await hub.settle()

    found = (await hub.call(ATTENTION, c=[hub.channel_id]))["orders"]["nodes"]
    [order] = [o for o in found if o["externalId"] == placed]
    assert order["needsAttention"] is True
    assert "OLD-STOCK" in order["attentionReason"]
    assert await hub.stock(MUG) == (3, 0, 3)


async def test_the_lwa_token_is_asked_for_once_and_renewed_when_amazon_refuses_it(
    hub: Hub,
) -> None:
    seller = amazon(hub).sandbox.seller
    assert seller.token_grants == 1  # every call so far shared one token
    seller.tokens.clear()  # Amazon forgets it (revoked, or expired early)

    await hub.receive(MUG, 1)
    await hub.settle()

    assert seller.token_grants == 2
    assert (await hub.listed(MUG))["confirmedQuantity"] == 4


async def test_many_skus_go_as_one_listings_feed_and_a_refused_message_fails_only_its_sku(
    hub: Hub,
) -> None:
    channel = amazon(hub)
    channel.connect(feed_threshold=3)  # three SKUs at once make a feed here (500 by default)
    seller = channel.sandbox.seller
    seller.listings.delete("TS-S-RED")  # gone from Amazon behind the hub's back
    before, calls = len(seller.feeds.feeds), len(channel.sandbox.calls)

    for sku in ("TS-S-RED", "TS-S-BLUE", "TS-M-BLUE", MUG):
        await hub.receive(sku, 1)
    await hub.settle()

    [feed] = list(seller.feeds.feeds.values())[before:]
    assert (feed.feed_type, feed.status) == ("JSON_LISTINGS_FEED", "DONE")
    operations = {c["operation"] for c in channel.sandbox.calls[calls:]}
    assert "createFeed" in operations
    assert "patchListingsItem" not in operations
    for sku, quantity in {"TS-S-BLUE": 1, "TS-M-BLUE": 1, MUG: 4}.items():
        assert (await hub.listed(sku))["confirmedQuantity"] == quantity
        shown = await hub.channel.item(sku)
        assert shown is not None
        assert shown.quantity == quantity
    [refused] = [c for c in await hub.calls("push_quantities") if c["outcome"] == "PARTIAL"]
    # Its feed message was refused (Amazon's issue, by SKU); the others in the feed stand.
    assert refused["message"].startswith("TS-S-RED: SKU 'TS-S-RED' is not a listings item")
    assert await hub.channel.item("TS-S-RED") is None


class SecondPushReleasesTheFirst:
    """A connector whose ports hold a quantity push, once armed, until another has started:
    a relay with one call out at a time never gets past it (the wait times out)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.armed = False
        self.started = 0
        self.second = asyncio.Event()

    def connect(self, channel: Any, config: Any, sealed: Any) -> Any:
        port = self.inner.connect(channel, config, sealed)
        outer = self

        class Port:
            def __getattr__(self, name: str) -> Any:
                return getattr(port, name)

            async def push_quantities(self, updates: Any) -> Any:
                if outer.armed:
                    outer.started += 1
                    if outer.started == 1:
                        await asyncio.wait_for(outer.second.wait(), timeout=30)
                    else:
                        outer.second.set()
                return await port.push_quantities(updates)

        return Port()


async def test_a_push_bigger_than_a_feed_has_its_feeds_in_flight_together_processed_in_turn(
    hub: Hub,
) -> None:
    channel = amazon(hub)
    # Any SKU goes by feed and a feed carries four, the first a quarter, the next a half of
    # that: the relay claims, reads and uploads the next feed while Amazon processes the last,
    # and Amazon processes them one at a time.
    channel.connect(feed_threshold=1, feed_size=4)
    held = SecondPushReleasesTheFirst(hub.context["relay"].connector)
    hub.context["relay"] = replace(hub.context["relay"], connector=held)
    await hub.receive(MUG, 1)
    await hub.settle()  # the relay has met the channel as it is now connected
    seller = channel.sandbox.seller
    before = len(seller.feeds.feeds)
    skus = ("TS-S-RED", "TS-S-BLUE", "TS-M-BLUE", "TS-L-RED")

    held.armed = True
    for sku in skus:
        await hub.receive(sku, 3)
    await hub.settle()

    assert held.started == 3
    feeds = list(seller.feeds.feeds.values())[before:]
    assert [f.status for f in feeds] == ["DONE", "DONE", "DONE"]
    for earlier, later in itertools.pairwise(feeds):
        assert later.starts >= earlier.ends  # one seller's feeds are processed in turn
    for sku in skus:
        assert (await hub.listed(sku))["confirmedQuantity"] == 3
        shown = await hub.channel.item(sku)
        assert shown is not None
        assert shown.quantity == 3


class Stopped(BaseException):
    """The relay's process stops (a deploy, a crash): nothing after this point runs."""


async def stop(_seconds: float) -> None:
    raise Stopped


async def test_a_relay_started_after_another_stopped_polls_the_feed_it_created(hub: Hub) -> None:
    channel = amazon(hub)
    channel_id = uuid.UUID(hub.channel_id.rsplit("/", 1)[-1])
    in_flight = SqlFeedsInFlight(hub.container.engine)
    # The first relay stops right after createFeed, before its first getFeed.
    channel.connect(feed_threshold=2, feeds_in_flight=in_flight, pause=stop)
    seller = channel.sandbox.seller
    before, calls = len(seller.feeds.feeds), len(channel.sandbox.calls)
    skus = ("TS-S-RED", "TS-S-BLUE", "TS-M-BLUE")
    for sku in skus:
        await hub.receive(sku, 4)

    with pytest.raises(Stopped):
        await hub.settle()
    [feed] = list(seller.feeds.feeds.values())[before:]

    # Another relay takes the stopped one's rows once they count as stuck, builds the same
    # document from the same figures, and polls the feed already created for it.
    channel.connect(feed_threshold=2, feeds_in_flight=in_flight)
    relay: Relay = replace(hub.context["relay"])
    async with hub.container.uow() as uow:
        now = relay.clock()
        assert await uow.outbox.due_channels(now, stuck_before=now + timedelta(seconds=1)) == [
            channel_id
        ]
        await uow.commit()
    await relay.run(channel_id)

    assert list(seller.feeds.feeds.values())[before:] == [feed]
    created = [c for c in channel.sandbox.calls[calls:] if c["operation"] == "createFeed"]
    assert len(created) == 1
    assert feed.status == "DONE"
    for sku in skus:
        assert (await hub.listed(sku))["confirmedQuantity"] == 4
        shown = await hub.channel.item(sku)
        assert shown is not None
        assert shown.quantity == 4
    assert await in_flight.find(channel_id, "any") is None
    async with hub.container.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(amazon_feeds))).scalar() == 0


async def test_an_order_amazon_fulfils_never_touches_the_merchants_stock(hub: Hub) -> None:
    channel = amazon(hub)
    before = channel.sandbox.seller.listings.items[MUG].quantity
    placed = channel.sandbox.place_order([(MUG, 2)], fulfilled_by="AMAZON")  # FBA (AFN)

    await hub.settle()
    assert await hub.pull() == 0

    assert [o for o in await hub.orders() if o["externalId"] == placed] == []
    assert await hub.stock(MUG) == (3, 0, 3)
    assert channel.sandbox.seller.listings.items[MUG].quantity == before


async def test_fba_stock_is_counted_from_amazons_inventory_summaries_into_the_fba_location(
    hub: Hub,
) -> None:
    channel = amazon(hub)
    channel_id = uuid.UUID(hub.channel_id.rsplit("/", 1)[-1])
    async with hub.container.uow() as uow:
        fba = await setup.create_location(uow, code="FBA", name="FBA", kind="channel_managed")
        await uow.commit()
    async with hub.container.engine.begin() as conn:
        await conn.execute(
            channel_locations.insert().values(channel_id=channel_id, location_id=fba.id, position=1)
        )
    seller = channel.sandbox.seller
    seller.fba.receive(MUG, 12)
    seller.fba.receive("NOT-IN-HUB", 4)
    merchant_before = await level(hub, MUG, uuid.UUID(hub.location.rsplit("/", 1)[-1]))

    first = await hub.run("read_managed_stock")
    at_first = await level(hub, MUG, fba.id)
    seller.place_order([(MUG, 2)], fulfilled_by="AMAZON")  # 2 held for the buyer: still Amazon's
    unchanged = await hub.run("read_managed_stock")
    seller.fba.receive(MUG, 3)
    again = await hub.run("read_managed_stock")

    assert (first, unchanged, again) == (1, 0, 1)
    assert at_first == 12
    assert await level(hub, MUG, fba.id) == 15
    assert await level(hub, MUG, uuid.UUID(hub.location.rsplit("/", 1)[-1])) == merchant_before
    async with hub.container.uow(readonly=True) as uow:
        moves = await uow.inventory.list_movements(MUG, first=100, after=None)
    assert [(m.reason.value, m.on_hand_delta) for m in moves if m.location_id == fba.id] == [
        ("count", 12), ("count", 3)
    ]  # fmt: skip
    assert seller.violations == []
    assert {c["operation"] for c in channel.sandbox.calls} >= {"getInventorySummaries"}


async def level(hub: Hub, sku: str, location_id: uuid.UUID) -> int | None:
    async with hub.container.uow(readonly=True) as uow:
        snapshot = (await uow.inventory.snapshots([sku])).get(sku)
    found = snapshot.level_at(location_id) if snapshot else None
    return found.on_hand if found else None
