"""The Shopify adapter against the Shopify sandbox: listings, stock, prices, orders, shipments,
webhooks and the bad days (outages, throttling, bad credentials, a small bucket)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from adapters.channels.shopify.adapter import ShopifyChannel
from adapters.channels.shopify.client import ShopifyClient
from adapters.channels.shopify.mapping import ShopifyListingFormat
from adapters.ratelimit.memory import MemoryRateLimiter
from domain.channels.listing import ListingDraft
from domain.channels.port import (
    ChannelMisconfigured,
    ChannelRejected,
    ChannelThrottled,
    ChannelUnavailable,
    InboundKind,
    ListingRefs,
    Outcome,
    PriceUpdate,
    QuantityUpdate,
    ShipmentNotice,
)
from domain.money import Money
from domain.sync.rate_limits import BucketSpec
from sandbox.shopify import ShopifySandbox
from sandbox.shopify.mutations import MUTATION
from tests.unit.channels.drafts import trail_shirt_draft

SHOP = "nexo-demo.myshopify.com"
TOKEN = "shpat_sandbox"
SECRET = "sandbox-secret"
HOOKS = "https://nexo.test/webhooks/shopify"

Delivery = tuple[dict[str, str], bytes]


class Clock:
    """The sandbox's clock, moved by hand where a test needs orders in one second."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def deliveries() -> list[Delivery]:
    return []


@pytest.fixture
async def webhook_client(deliveries: list[Delivery]) -> AsyncIterator[httpx.AsyncClient]:
    def receive(request: httpx.Request) -> httpx.Response:
        deliveries.append((dict(request.headers), request.content))
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receive)) as client:
        yield client


@pytest.fixture
def sandbox_options() -> dict[str, Any]:
    return {}


@pytest.fixture
async def sandbox(
    webhook_client: httpx.AsyncClient, sandbox_options: dict[str, Any]
) -> AsyncIterator[ShopifySandbox]:
    shop = ShopifySandbox(webhook_url=HOOKS, webhook_client=webhook_client, **sandbox_options)
    try:
        yield shop
    finally:
        await shop.aclose()


@pytest.fixture
async def http(sandbox: ShopifySandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=f"https://{SHOP}") as client:
        yield client


@pytest.fixture
def location(sandbox: ShopifySandbox) -> str:
    return sandbox.add_location("Warehouse")


@pytest.fixture
def connect(
    http: httpx.AsyncClient, location: str
) -> Callable[..., tuple[ShopifyChannel, ShopifyClient]]:
    def build(token: str = TOKEN, limiter: Any = None) -> tuple[ShopifyChannel, ShopifyClient]:
        client = ShopifyClient(SHOP, token, http=http, limiter=limiter or MemoryRateLimiter())
        return ShopifyChannel(client, location_id=location, webhook_secret=SECRET), client

    return build


@pytest.fixture
def channel(connect: Callable[..., tuple[ShopifyChannel, ShopifyClient]]) -> ShopifyChannel:
    return connect()[0]


@pytest.fixture
def draft(location: str) -> ListingDraft:
    return trail_shirt_draft("shopify", locationId=location)


async def upsert(channel: ShopifyChannel, draft: ListingDraft) -> ListingRefs:
    return await channel.upsert_listing(
        draft, ShopifyListingFormat().requests(draft), ListingRefs()
    )


@pytest.fixture
async def listed(channel: ShopifyChannel, draft: ListingDraft) -> ListingRefs:
    return await upsert(channel, draft)


def quantity(refs: ListingRefs, sku: str, to: int, previous: int | None) -> QuantityUpdate:
    return QuantityUpdate(sku, to, refs.sku_ids[sku], previous)


def price(refs: ListingRefs, sku: str, amount: str, compare_at: str | None = None) -> PriceUpdate:
    assert refs.listing_id is not None
    return PriceUpdate(
        sku,
        Money.parse(amount, "USD"),
        Money.parse(compare_at, "USD") if compare_at else None,
        refs.sku_ids[sku],
        {"product_id": refs.listing_id},
    )


async def shop_state(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/_sandbox/state")
    response.raise_for_status()
    state: dict[str, Any] = response.json()
    return state


# Listings


async def test_a_listing_appears_in_the_shop_with_every_variant(
    sandbox: ShopifySandbox, listed: ListingRefs, draft: ListingDraft
) -> None:
    product = sandbox.product_by_handle("trail-shirt")
    assert product is not None
    assert listed.listing_id == product["id"]
    assert product["title"] == "Acme Trail Shirt"
    assert {v["sku"] for v in product["variants"]} == {v.sku for v in draft.variants}
    by_sku = {v["sku"]: v for v in product["variants"]}
    assert listed.sku_ids == {
        sku: {"variant_id": v["id"], "inventory_item_id": v["inventoryItem"]["id"]}
        for sku, v in by_sku.items()
    }
    assert by_sku["TRAIL-L-RED"]["price"] == "27.00"


async def test_listing_again_keeps_the_channels_ids(
    channel: ShopifyChannel, listed: ListingRefs, draft: ListingDraft
) -> None:
    assert await upsert(channel, draft) == listed


async def test_the_listings_quantities_are_set_at_the_configured_location(
    sandbox: ShopifySandbox, listed: ListingRefs, draft: ListingDraft, location: str
) -> None:
    for variant in draft.variants:
        assert sandbox.inventory_quantity(variant.sku, location) == variant.quantity


async def test_a_listing_the_shop_refuses_is_rejected_with_shopifys_message(
    channel: ShopifyChannel,
) -> None:
    nowhere = trail_shirt_draft("shopify", locationId="gid://shopify/Location/999999")
    with pytest.raises(ChannelRejected) as raised:
        await upsert(channel, nowhere)
    assert "locationId: The location could not be found" in raised.value.message


async def test_an_ended_listing_is_archived(
    sandbox: ShopifySandbox, channel: ShopifyChannel, listed: ListingRefs
) -> None:
    if "productUpdate" not in MUTATION:
        pytest.skip("the Shopify sandbox does not implement productUpdate")
    await channel.end_listing(listed)
    product = sandbox.product_by_handle("trail-shirt")
    assert product is not None
    assert product["status"] == "ARCHIVED"


# Stock


async def test_pushed_quantities_are_what_the_shop_shows(
    sandbox: ShopifySandbox, channel: ShopifyChannel, listed: ListingRefs, location: str
) -> None:
    results = await channel.push_quantities(
        [quantity(listed, "TRAIL-S-RED", 40, previous=1), quantity(listed, "TRAIL-M-RED", 0, None)]
    )
    assert [(r.sku, r.outcome, r.confirmed_quantity) for r in results] == [
        ("TRAIL-S-RED", Outcome.CONFIRMED, 40),
        ("TRAIL-M-RED", Outcome.CONFIRMED, 0),
    ]
    assert sandbox.inventory_quantity("TRAIL-S-RED", location) == 40
    assert sandbox.inventory_quantity("TRAIL-M-RED", location) == 0


async def test_a_stale_previous_quantity_is_stale_and_the_others_still_go_through(
    sandbox: ShopifySandbox, channel: ShopifyChannel, listed: ListingRefs, location: str
) -> None:
    await sandbox.edit_inventory("TRAIL-S-BLUE", location, 12)  # the merchant, meanwhile
    results = await channel.push_quantities(
        [
            quantity(listed, "TRAIL-S-RED", 40, previous=1),
            quantity(listed, "TRAIL-S-BLUE", 41, previous=4),
            quantity(listed, "TRAIL-S-GREEN", 42, previous=7),
        ]
    )
    assert [r.outcome for r in results] == [Outcome.CONFIRMED, Outcome.STALE, Outcome.CONFIRMED]
    assert "changeFromQuantity" in (results[1].message or "")
    assert sandbox.inventory_quantity("TRAIL-S-RED", location) == 40
    assert sandbox.inventory_quantity("TRAIL-S-BLUE", location) == 12
    assert sandbox.inventory_quantity("TRAIL-S-GREEN", location) == 42


async def test_a_sku_without_an_inventory_item_is_rejected_alone(
    channel: ShopifyChannel, listed: ListingRefs
) -> None:
    results = await channel.push_quantities(
        [QuantityUpdate("NOT-LISTED", 3), quantity(listed, "TRAIL-S-RED", 5, previous=1)]
    )
    assert [r.outcome for r in results] == [Outcome.REJECTED, Outcome.CONFIRMED]


async def test_a_location_the_shop_does_not_have_is_a_misconfiguration(
    http: httpx.AsyncClient, listed: ListingRefs
) -> None:
    client = ShopifyClient(SHOP, TOKEN, http=http, limiter=MemoryRateLimiter())
    channel = ShopifyChannel(
        client, location_id="gid://shopify/Location/999999", webhook_secret=SECRET
    )
    with pytest.raises(ChannelMisconfigured):
        await channel.push_quantities([quantity(listed, "TRAIL-S-RED", 5, previous=None)])


# Prices and reconciliation


async def test_pushed_prices_read_back_with_the_quantities(
    channel: ShopifyChannel, listed: ListingRefs
) -> None:
    results = await channel.push_prices(
        [price(listed, "TRAIL-S-RED", "29.50", "39.00"), price(listed, "TRAIL-L-RED", "31.00")]
    )
    assert [(r.outcome, r.confirmed_price) for r in results] == [
        (Outcome.CONFIRMED, Money(2950, "USD")),
        (Outcome.CONFIRMED, Money(3100, "USD")),
    ]
    await channel.push_quantities([quantity(listed, "TRAIL-S-RED", 17, previous=1)])
    levels = await channel.read_levels(
        {sku: listed.sku_ids[sku] for sku in ("TRAIL-S-RED", "TRAIL-L-RED", "TRAIL-M-RED")}
    )
    assert [(level.sku, level.quantity, level.price) for level in levels] == [
        ("TRAIL-S-RED", 17, Money(2950, "USD")),
        ("TRAIL-L-RED", 5, Money(3100, "USD")),
        ("TRAIL-M-RED", 3, Money(2500, "USD")),
    ]


async def test_a_price_for_a_variant_the_shop_lacks_is_rejected_alone(
    channel: ShopifyChannel, listed: ListingRefs
) -> None:
    ghost = PriceUpdate(
        "GHOST",
        Money(100, "USD"),
        None,
        {"variant_id": "gid://shopify/ProductVariant/999999"},
        {"product_id": listed.listing_id or ""},
    )
    results = await channel.push_prices([ghost, price(listed, "TRAIL-S-RED", "26.00")])
    assert [r.outcome for r in results] == [Outcome.REJECTED, Outcome.CONFIRMED]


async def test_a_sku_the_shop_does_not_know_reads_as_unknown(
    channel: ShopifyChannel, listed: ListingRefs
) -> None:
    levels = await channel.read_levels(
        {"GHOST": {"variant_id": "gid://shopify/ProductVariant/999999"}, "NONE": {}}
    )
    assert [(level.quantity, level.price) for level in levels] == [(None, None), (None, None)]


# Orders


async def test_a_placed_order_is_fetched_once(
    sandbox: ShopifySandbox, channel: ShopifyChannel, listed: ListingRefs, location: str
) -> None:
    order_id = await sandbox.place_order(
        [("TRAIL-S-RED", 2), ("TRAIL-L-BLUE", 1)],
        customer={"email": "ana@example.com", "first_name": "Ana"},
        location_gid=location,
    )
    page = await channel.fetch_orders(None)
    assert [order.external_id for order in page.orders] == [order_id]
    order = page.orders[0]
    assert order.number == "#1001"
    assert order.status == "paid"
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("TRAIL-S-RED", 2, Money(2500, "USD")),
        ("TRAIL-L-BLUE", 1, Money(2700, "USD")),
    ]
    assert order.customer["email"] == "ana@example.com"
    again = await channel.fetch_orders(page.cursor)
    assert again.orders == ()
    later = await sandbox.place_order([("TRAIL-M-RED", 1)], location_gid=location)
    assert [o.external_id for o in (await channel.fetch_orders(again.cursor)).orders] == [later]


@pytest.mark.parametrize("sandbox_options", [{"clock": Clock()}])
async def test_an_order_in_the_same_second_as_the_last_one_fetched_is_not_missed(
    sandbox: ShopifySandbox, channel: ShopifyChannel, listed: ListingRefs, location: str
) -> None:
    first = await sandbox.place_order([("TRAIL-S-RED", 1)], location_gid=location)
    page = await channel.fetch_orders(None)
    second = await sandbox.place_order([("TRAIL-S-RED", 1)], location_gid=location)
    assert [o.external_id for o in page.orders] == [first]
    assert [o.external_id for o in (await channel.fetch_orders(page.cursor)).orders] == [second]


@pytest.mark.parametrize("sandbox_options", [{"clock": Clock()}])
async def test_many_orders_come_in_pages_each_once_oldest_first(
    sandbox: ShopifySandbox,
    sandbox_options: dict[str, Clock],
    channel: ShopifyChannel,
    listed: ListingRefs,
    location: str,
) -> None:
    placed = []
    for _ in range(23):
        placed.append(await sandbox.place_order([("TRAIL-M-BLUE", 1)], location_gid=location))
        sandbox_options["clock"].now += 0.4  # several orders share each second
    fetched: list[str] = []
    cursor = None
    for _ in range(10):
        page = await channel.fetch_orders(cursor)
        fetched += [order.external_id for order in page.orders]
        cursor = page.cursor
        if not page.orders:
            break
    assert fetched == placed


async def test_a_shipment_is_a_fulfilment_with_its_tracking(
    sandbox: ShopifySandbox,
    http: httpx.AsyncClient,
    channel: ShopifyChannel,
    listed: ListingRefs,
    location: str,
) -> None:
    order_id = await sandbox.place_order(
        [("TRAIL-S-RED", 2), ("TRAIL-L-BLUE", 1)], location_gid=location
    )
    order = (await channel.fetch_orders(None)).orders[0]
    first_line = order.lines[0].line_id
    shipment_id = await channel.confirm_shipment(
        ShipmentNotice(
            {"order_id": order_id},
            ((first_line, 1),),
            "UPS",
            "1Z999AA10123456784",
            "https://www.ups.com/track?tracknum=1Z999AA10123456784",
        )
    )
    state = await shop_state(http)
    fulfillment = next(f for f in state["fulfillments"] if f["id"] == shipment_id)
    assert fulfillment["orderId"] == order_id
    assert fulfillment["totalQuantity"] == 1
    assert fulfillment["trackingInfo"] == [
        {
            "company": "UPS",
            "number": "1Z999AA10123456784",
            "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
        }
    ]
    shipped = next(o for o in state["orders"] if o["id"] == order_id)
    assert shipped["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"


@pytest.mark.parametrize("units", [1, 2], ids=["some left to ship", "nothing left to ship"])
async def test_a_shipment_confirmed_again_after_its_answer_was_lost_is_the_same_fulfilment(
    sandbox: ShopifySandbox,
    http: httpx.AsyncClient,
    channel: ShopifyChannel,
    listed: ListingRefs,
    location: str,
    units: int,
) -> None:
    order_id = await sandbox.place_order([("TRAIL-S-RED", 2)], location_gid=location)
    line = (await channel.fetch_orders(None)).orders[0].lines[0].line_id
    parcel = ShipmentNotice({"order_id": order_id}, ((line, units),), "UPS", "1Z-LOST")
    first = await channel.confirm_shipment(parcel)  # carried out; say its answer was lost

    again = await channel.confirm_shipment(parcel)  # the retry of a try whose answer was lost

    assert again == first
    state = await shop_state(http)
    made = [f for f in state["fulfillments"] if f["orderId"] == order_id]
    assert [(f["id"], f["totalQuantity"]) for f in made] == [(first, units)]


async def test_shipping_more_than_is_left_is_rejected(
    sandbox: ShopifySandbox, channel: ShopifyChannel, listed: ListingRefs, location: str
) -> None:
    order_id = await sandbox.place_order([("TRAIL-S-RED", 2)], location_gid=location)
    line = (await channel.fetch_orders(None)).orders[0].lines[0].line_id
    with pytest.raises(ChannelRejected, match="left to fulfil"):
        await channel.confirm_shipment(
            ShipmentNotice({"order_id": order_id}, ((line, 3),), "UPS", "1Z")
        )


async def test_a_whole_order_ships_when_no_lines_are_named(
    sandbox: ShopifySandbox,
    http: httpx.AsyncClient,
    channel: ShopifyChannel,
    listed: ListingRefs,
    location: str,
) -> None:
    order_id = await sandbox.place_order([("TRAIL-S-RED", 2)], location_gid=location)
    await channel.confirm_shipment(ShipmentNotice({"order_id": order_id}, (), "DHL", "JD0001"))
    shipped = next(o for o in (await shop_state(http))["orders"] if o["id"] == order_id)
    assert shipped["displayFulfillmentStatus"] == "FULFILLED"


# Webhooks


async def test_an_order_webhook_verifies_and_names_the_order_as_fetch_orders_does(
    sandbox: ShopifySandbox,
    channel: ShopifyChannel,
    listed: ListingRefs,
    location: str,
    deliveries: list[Delivery],
) -> None:
    deliveries.clear()
    await sandbox.place_order([("TRAIL-S-RED", 2)], location_gid=location)
    fetched = (await channel.fetch_orders(None)).orders[0]
    headers, body = next(d for d in deliveries if d[0]["x-shopify-topic"] == "orders/create")
    assert channel.verify_webhook(headers, body)
    event = channel.parse_webhook(headers, body)
    assert event.kind is InboundKind.ORDER
    assert event.order is not None
    assert event.order.external_id == fetched.external_id
    assert [line.line_id for line in event.order.lines] == [line.line_id for line in fetched.lines]
    assert event.order.lines[0].unit_price == fetched.lines[0].unit_price


async def test_a_tampered_webhook_does_not_verify(
    sandbox: ShopifySandbox,
    channel: ShopifyChannel,
    listed: ListingRefs,
    location: str,
    deliveries: list[Delivery],
) -> None:
    await sandbox.place_order([("TRAIL-S-RED", 2)], location_gid=location)
    headers, body = next(d for d in deliveries if d[0]["x-shopify-topic"] == "orders/create")
    assert not channel.verify_webhook(headers, body.replace(b'"quantity":2', b'"quantity":9'))


async def test_a_stock_webhook_names_the_listed_item_and_location(
    sandbox: ShopifySandbox,
    channel: ShopifyChannel,
    listed: ListingRefs,
    location: str,
    deliveries: list[Delivery],
) -> None:
    await sandbox.deliver_pending_webhooks()  # the listing's own
    deliveries.clear()
    await sandbox.edit_inventory("TRAIL-S-RED", location, 33)
    [(headers, body)] = deliveries
    assert channel.verify_webhook(headers, body)
    event = channel.parse_webhook(headers, body)
    assert event.kind is InboundKind.STOCK_EDIT
    assert event.stock_edit is not None
    assert event.stock_edit.sku_refs == {
        "inventory_item_id": listed.sku_ids["TRAIL-S-RED"]["inventory_item_id"],
        "location_id": location,
    }
    assert event.stock_edit.quantity == 33


# Bad days


async def test_an_outage_is_unavailable_and_the_next_call_succeeds(
    sandbox: ShopifySandbox, channel: ShopifyChannel, listed: ListingRefs
) -> None:
    sandbox.faults.fail_next(1, 503)
    update = quantity(listed, "TRAIL-S-RED", 5, previous=None)
    with pytest.raises(ChannelUnavailable, match="503"):
        await channel.push_quantities([update])
    assert [r.outcome for r in await channel.push_quantities([update])] == [Outcome.CONFIRMED]


@pytest.mark.parametrize("status", [200, 429])
async def test_a_throttled_answer_is_throttled_with_a_retry_time(
    status: int, sandbox: ShopifySandbox, channel: ShopifyChannel, listed: ListingRefs
) -> None:
    sandbox.faults.throttle_next(1, status)
    with pytest.raises(ChannelThrottled) as raised:
        await channel.push_quantities([quantity(listed, "TRAIL-S-RED", 5, previous=None)])
    assert raised.value.retry_after is not None
    assert raised.value.retry_after > 0
    assert raised.value.retryable


async def test_a_wrong_access_token_is_a_misconfiguration(
    connect: Callable[..., tuple[ShopifyChannel, ShopifyClient]], listed: ListingRefs
) -> None:
    channel, _ = connect(token="shpat_revoked")
    with pytest.raises(ChannelMisconfigured, match="401"):
        await channel.read_levels(listed.sku_ids)


class Unlimited:
    """No rate limiting at all: what the client would do without the limiter."""

    async def acquire(self, key: str, spec: BucketSpec, tokens: float = 1.0) -> None:
        pass

    async def try_acquire(
        self, key: str, spec: BucketSpec, tokens: float = 1.0, *, keep: float = 0.0
    ) -> float:
        return 0.0

    async def observe(self, key: str, spec: BucketSpec, available: float) -> None:
        pass

    async def pause(self, key: str, spec: BucketSpec, seconds: float) -> None:
        pass


@pytest.mark.parametrize("sandbox_options", [{"bucket_size": 600.0, "restore_rate": 1000.0}])
async def test_with_a_small_bucket_the_limiter_waits_instead_of_being_throttled(
    sandbox: ShopifySandbox,
    connect: Callable[..., tuple[ShopifyChannel, ShopifyClient]],
    draft: ListingDraft,
) -> None:
    channel, client = connect()
    listed = await upsert(channel, draft)  # the first answer teaches the bucket's real size
    assert (client.bucket.capacity, client.bucket.rate) == (600.0, 1000.0)
    # 135 calls of 10 points: more than twice what the bucket holds.
    burst = [quantity(listed, sku, n, previous=None) for n, sku in enumerate(listed.sku_ids)]
    results = await asyncio.gather(*(channel.push_quantities([u]) for u in burst * 15))
    assert all(r.outcome is Outcome.CONFIRMED for [r] in results)
    assert [call for call in sandbox.calls if call["throttled"]] == []

    # The same burst without the limiter: the shop throttles it.
    unlimited, _ = connect(limiter=Unlimited())
    outcomes = await asyncio.gather(
        *(unlimited.push_quantities([u]) for u in burst * 15), return_exceptions=True
    )
    assert any(isinstance(outcome, ChannelThrottled) for outcome in outcomes)
