"""MercadoLibre beyond the contract suite: its traps. A PUT of an item's variations that
leaves one out deletes it (the adapter never does); the refresh token works once (two
processes refreshing at once make one refresh and never lose the account); 429 comes without
Retry-After (every worker of the account pauses, for a back-off that doubles with jitter) —
and a cart of two orders, the title locked after a sale, relisting, ME2 shipments and
pointers for another seller. The hub as the suite drives it (GraphQL, the real jobs, the
suite's clock) against the MercadoLibre sandbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.channels.mercadolibre import categories
from adapters.channels.mercadolibre.auth import token_refresh
from adapters.channels.mercadolibre.client import MeliClient
from adapters.channels.mercadolibre.connect import mercadolibre_factory
from adapters.channels.mercadolibre.errors import Backoff
from adapters.container import Container
from adapters.db.engine import create_engine
from adapters.db.token_store import SqlTokenStore
from adapters.ratelimit import MemoryRateLimiter
from adapters.settings import Settings
from domain.channels.config import ChannelConfig
from domain.channels.policies import StockEditPolicy
from domain.channels.port import (
    ChannelMisconfigured,
    ChannelThrottled,
    Outcome,
    QuantityUpdate,
)
from domain.jobs import READ_QUEUES_JOB
from sandbox.mercadolibre import MercadoLibreSandbox
from tests.api.catalog.support import set_listing_rule
from tests.api.catalog.test_listings import PREVIEW
from tests.api.test_orders_api import CREATE_SHIPMENT
from tests.api.test_webhooks import INBOX
from tests.contract.channel import Delivery
from tests.contract.hub import MUG, SHIRTS, Hub, hub_on, one_variant
from tests.contract.mercadolibre import API, CATEGORY, CREDENTIALS, MeliUnderTest, _started
from tests.contract.network import Network

TEE = "TS-M-RED"
SHIPPING_ADDRESSES = """
query($c: [ID!]) { orders(first: 10, filter: {channelIds: $c}) { nodes { shippingAddress } } }
"""
UPDATE_TITLE = """
mutation($i: UpdateProductInput!) { updateProduct(input: $i) { userErrors { field message code } } }
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"stock_edit_hold_seconds": 0.0})


@pytest.fixture(autouse=True)
def title_limits() -> Iterator[None]:
    """The adapter keeps categories' title limits per process: none leaks between tests."""
    categories.forget()
    yield
    categories.forget()


@pytest.fixture(params=["classic"])
def model(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def hub(
    http: httpx.AsyncClient,
    staff_key: str,
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
    model: str,
) -> AsyncIterator[Hub]:
    async with hub_on(
        lambda side: _started(side, model), http, staff_key, container, monkeypatch
    ) as hub:
        yield hub


def sandbox_of(hub: Hub) -> MercadoLibreSandbox:
    assert isinstance(hub.channel, MeliUnderTest)
    return hub.channel.sandbox


def shirt_item(sandbox: MercadoLibreSandbox) -> dict[str, object]:
    [(item, _)] = sandbox.store.listed(SHIRTS[0])
    return item


# The variation trap ------------------------------------------------------------------------


async def test_a_put_leaving_out_a_variation_deletes_it(hub: Hub) -> None:
    """The trap is real: MercadoLibre deletes a variation a PUT does not name."""
    sandbox = sandbox_of(hub)
    item = shirt_item(sandbox)
    variations = item["variations"]
    assert isinstance(variations, list)
    kept = variations[0]
    sandbox.store.update(str(item["id"]), {"variations": [{"id": kept["id"],
                                                           "available_quantity": 9}]})  # fmt: skip

    assert [v["id"] for v in shirt_item(sandbox)["variations"]] == [kept["id"]]  # type: ignore[index]
    assert len(sandbox.store.deleted) == 5
    sandbox.store.deleted.clear()  # seen: the fixture's own check is for the hub's PUTs


async def test_pushing_one_variations_stock_leaves_every_other_variation_intact(hub: Hub) -> None:
    sandbox = sandbox_of(hub)
    item = shirt_item(sandbox)
    # The merchant adds a variation of their own in MercadoLibre's admin (no SELLER_SKU).
    sandbox.store.update(str(item["id"]), {"variations": [
        *({"id": v["id"]} for v in item["variations"]),  # type: ignore[attr-defined]
        {"attribute_combinations": [{"name": "Size", "value_name": "XL"}], "price": 20.0,
         "available_quantity": 4, "attributes": [{"id": "SELLER_SKU", "value_name": "OWN"}]},
    ]})  # fmt: skip
    own = [
        v for v in shirt_item(sandbox)["variations"] if v["attributes"][0]["value_name"] == "OWN"
    ]  # type: ignore[attr-defined,index]
    for variation in own:
        variation["attributes"] = []  # a variation the hub did not make
    before = {v["id"]: v["available_quantity"] for v in shirt_item(sandbox)["variations"]}  # type: ignore[attr-defined]

    await hub.receive(TEE, 4)  # one variation's stock, pushed alone
    await hub.settle()
    product = next(n for n in await hub.listings() if n["items"][0]["sku"] in SHIRTS)
    await hub.change(UPDATE_TITLE, "updateProduct", i={"id": product["productId"],
                                                       "title": "Trail Shirt Pro"})  # fmt: skip
    await hub.settle()

    after = {v["id"]: v["available_quantity"] for v in shirt_item(sandbox)["variations"]}  # type: ignore[attr-defined]
    assert set(after) == set(before)  # seven variations: none deleted, the merchant's kept
    changed = {vid for vid in after if after[vid] != before[vid]}
    assert len(changed) == 1
    assert after[changed.pop()] == 9
    assert sandbox.store.deleted == []
    assert "Trail Shirt Pro" in str(shirt_item(sandbox)["title"])
    puts = [c for c in sandbox.calls if c["method"] == "PUT" and c["path"].startswith("/items/")]
    assert puts
    assert {c["status"] for c in puts} == {200}


# Single-use refresh tokens -------------------------------------------------------------------


class Gate(httpx.AsyncBaseTransport):
    """The sandbox behind a token endpoint that holds each refresh until let through."""

    def __init__(self, sandbox: MercadoLibreSandbox) -> None:
        self._inner = httpx.ASGITransport(app=sandbox.app)
        self.entered = asyncio.Event()
        self.open = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            self.entered.set()
            await self.open.wait()
        return await self._inner.handle_async_request(request)


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[list[AsyncEngine]]:
    made = [create_engine(database_url, pool_size=2) for _ in range(2)]
    yield made
    for engine in made:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_two_processes_refreshing_at_once_make_one_refresh_and_keep_the_account(
    container: Container, channel_id: uuid.UUID, engines: list[AsyncEngine]
) -> None:
    now = [datetime(2026, 12, 7, 9, 0, tzinfo=UTC)]
    sandbox = MercadoLibreSandbox(wall_clock=lambda: now[0])
    gate = Gate(sandbox)
    async with httpx.AsyncClient(transport=gate, base_url=API) as http:
        refresh = token_refresh(
            http, origin=API, client_id=CREDENTIALS["client_id"],
            client_secret=CREDENTIALS["client_secret"],
            seller_token=CREDENTIALS["refresh_token"], clock=lambda: now[0],
        )  # fmt: skip
        # Two worker processes: each its own engine, lock and cache; only the database shared.
        workers = [SqlTokenStore(e, lambda: container.secrets, clock=lambda: now[0])
                   for e in engines]  # fmt: skip

        async def everyone() -> set[str]:
            callers = [asyncio.create_task(w.access_token(channel_id, refresh))
                       for w in workers for _ in range(3)]  # fmt: skip
            await gate.entered.wait()
            await asyncio.sleep(0.05)  # the others queue behind the one refreshing
            gate.open.set()
            return set(await asyncio.gather(*callers))

        first = await everyone()
        assert len(first) == 1
        assert sandbox.refreshes == 1
        now[0] += timedelta(hours=6)  # the access token has expired
        gate.entered.clear()
        second = await everyone()
        assert len(second) == 1
        assert second != first
        assert sandbox.refreshes == 2  # once each time, each with the newest refresh token
        assert CREDENTIALS["refresh_token"] in sandbox.spent
        assert len(sandbox.spent) == 2

        # The trap: the spent refresh token used again fails for good.
        with pytest.raises(ChannelMisconfigured, match="invalid_grant"):
            await refresh(None)


# 429 without Retry-After ---------------------------------------------------------------------


def test_the_back_off_doubles_with_each_429_in_a_row_with_jitter_and_resets() -> None:
    high, low = Backoff(jitter=lambda: 1.0), Backoff(jitter=lambda: 0.0)
    assert [high.next_pause("a") for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert [low.next_pause("a") for _ in range(3)] == [0.5, 1, 2]
    assert high.next_pause("b") == 1  # per account
    high.succeeded("a")
    assert high.next_pause("a") == 1


async def test_a_429_pauses_every_worker_of_the_account_for_a_doubling_back_off(
    container: Container, channel_id: uuid.UUID
) -> None:
    now = [0.0]

    async def skip(seconds: float) -> None:  # the limiter waits on the test's clock
        now[0] += seconds

    moment = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    sandbox = MercadoLibreSandbox(wall_clock=lambda: moment + timedelta(seconds=now[0]))
    limiter = MemoryRateLimiter(clock=lambda: now[0], sleep=skip)
    tokens = SqlTokenStore(container.engine, lambda: container.secrets,
                           clock=lambda: moment + timedelta(seconds=now[0]))  # fmt: skip
    async with httpx.AsyncClient(transport=Network(sandbox.app), base_url=API) as http:
        refresh = token_refresh(
            http, origin=API, client_id=CREDENTIALS["client_id"],
            client_secret=CREDENTIALS["client_secret"],
            seller_token=CREDENTIALS["refresh_token"], clock=lambda: moment,
        )  # fmt: skip
        backoff = Backoff(jitter=lambda: 1.0)
        workers = [
            MeliClient(http=http, limiter=limiter, tokens=tokens, channel_id=channel_id,
                       refresh=refresh, origin=API, account="4242424242:123456789",
                       backoff=backoff)
            for _ in range(2)
        ]  # fmt: skip
        sandbox.faults.throttle_next(2, 429)
        pauses = []
        for worker in workers:
            started = now[0]
            with pytest.raises(ChannelThrottled) as throttled:
                await worker.call("GET", "/users/me", operation="getUser")
            pauses.append((now[0] - started, throttled.value.retry_after))

        answer = await workers[0].call("GET", "/users/me", operation="getUser")

    assert answer.status == 200
    # The first 429: 1 s; the second worker waited that out before its call, met the second
    # 429 and paused both for 2 s, which the next call waited out.
    assert pauses == [(0.0, 1.0), (pytest.approx(1.0), 2.0)]
    assert now[0] >= 3.0
    assert [c["status"] for c in sandbox.calls] == [429, 429, 200]


# Carts, titles, relisting, ME2, other sellers --------------------------------------------------


async def test_a_two_order_pack_is_one_order_shipped_as_one_group(hub: Hub) -> None:
    sandbox = sandbox_of(hub)
    pack = await hub.channel.sell([(TEE, 1), (MUG, 1)], Delivery.LOST)
    orders = sandbox.orders.of_sale(pack)
    assert len(orders) == 2  # two MercadoLibre orders, one pack
    sandbox.orders.shipments[orders[0].shipping_id].receiver_address = {
        "address_line": "Av. Corrientes 1234", "zip_code": "C1043",
        "city": {"name": "Capital Federal"}, "state": {"id": "AR-C"}, "country": {"id": "AR"},
    }  # fmt: skip

    assert await hub.pull() == 1
    await hub.settle()
    [order] = await hub.orders()
    assert (order["externalId"], order["status"]) == (pack, "ALLOCATED")
    [shown] = (await hub.call(SHIPPING_ADDRESSES, c=[hub.channel_id]))["orders"]["nodes"]
    assert shown["shippingAddress"] == {"line1": "Av. Corrientes 1234", "zip": "C1043",
                                        "city": "Capital Federal", "province_code": "AR-C",
                                        "country": "AR"}  # fmt: skip
    assert sorted(ln["sku"] for ln in order["lines"]) == [MUG, TEE]
    given = {"orderId": order["id"], "locationId": hub.location, "carrier": "OCA",
             "trackingNumber": "OCA-1", "idempotencyKey": str(uuid.uuid4()),
             "lineIds": [ln["id"] for ln in order["lines"]]}  # fmt: skip
    await hub.change(CREATE_SHIPMENT, "createShipment", input=given)
    await hub.settle()

    shown = await hub.channel.order(pack)
    assert shown.tracking_numbers == ("OCA-1",)  # one notice to the pack's one shipment
    assert {sku: ln.shipped for sku, ln in shown.lines.items()} == {TEE: 1, MUG: 1}


async def test_after_a_sale_a_content_edit_keeps_the_title_and_goes_out(hub: Hub) -> None:
    sandbox = sandbox_of(hub)
    await hub.channel.sell([(TEE, 1)], Delivery.ONCE)
    await hub.settle()
    product = next(n for n in await hub.listings() if n["items"][0]["sku"] in SHIRTS)

    await hub.change(UPDATE_TITLE, "updateProduct", i={"id": product["productId"],
                                                       "title": "Renamed Shirt"})  # fmt: skip
    await hub.settle()

    item = shirt_item(sandbox)
    assert "Renamed" not in str(item["title"])  # locked after the first sale
    [again] = [n for n in await hub.listings() if n["productId"] == product["productId"]]
    assert again["status"] == "ACTIVE"
    assert again["confirmedContentHash"] == again["contentHash"]  # the rest went out


async def test_a_closed_item_is_relisted_and_the_listing_follows_its_new_id(hub: Hub) -> None:
    sandbox = sandbox_of(hub)
    [(item, _)] = sandbox.store.listed(MUG)
    item["status"] = "closed"  # MercadoLibre closed it (expired, or the merchant)
    [mug] = [n for n in await hub.listings() if n["items"][0]["sku"] == MUG]

    await hub.change(UPDATE_TITLE, "updateProduct", i={"id": mug["productId"],
                                                       "title": "Camp Mug II"})  # fmt: skip
    await hub.settle()

    [(relisted, _)] = sandbox.store.listed(MUG)
    assert relisted["id"] != item["id"]
    assert relisted["parent_item_id"] == item["id"]
    [again] = [n for n in await hub.listings() if n["productId"] == mug["productId"]]
    assert again["externalId"] == relisted["id"]
    await hub.receive(MUG, 2)
    await hub.settle()
    assert (await hub.channel.item(MUG)).quantity == 5  # type: ignore[union-attr]


async def test_an_me2_shipment_is_mercadolibres_only_read_and_followed_to_delivery(
    hub: Hub,
) -> None:
    sandbox = sandbox_of(hub)
    [(item, _)] = sandbox.store.listed(MUG)
    item["shipping"] = {"mode": "me2"}
    placed = await hub.channel.sell([(MUG, 1)], Delivery.ONCE)
    await hub.settle()
    [order] = await hub.orders()
    given = {"orderId": order["id"], "locationId": hub.location, "carrier": "MEL",
             "trackingNumber": "ME2-LABEL", "idempotencyKey": str(uuid.uuid4()),
             "lineIds": [ln["id"] for ln in order["lines"]]}  # fmt: skip
    await hub.change(CREATE_SHIPMENT, "createShipment", input=given)
    await hub.settle()

    shipment = sandbox.orders.shipment(sandbox.orders.get(placed).shipping_id)
    assert shipment.parcels == []  # nothing told: MercadoLibre labels and tracks it
    notices = [c for c in sandbox.calls if c["path"].endswith("seller_notifications")]
    assert notices == []
    shipped = await hub.call("query($id: ID!) { order(id: $id) { shipments { channelShipmentId "
                             "} } }", id=order["id"])  # fmt: skip
    assert [s["channelShipmentId"] for s in shipped["order"]["shipments"]] == [str(shipment.id)]
    for _ in range(2):  # MercadoLibre ships it and tracks it to the buyer
        sandbox.orders.advance(shipment.id)
    assert sandbox.orders.shipment(shipment.id).shown()["status"] == "delivered"
    await hub.pull()
    await hub.settle()
    [delivered] = await hub.orders()
    assert delivered["status"] == "DELIVERED"  # followed from MercadoLibre's tracking


SHIPMENTS = """
query($id: ID!) { order(id: $id) { status shipments { carrier trackingNumber channelShipmentId
                                                    lines { quantity } } } }
"""


def me2_sale(sandbox: MercadoLibreSandbox) -> None:
    [(item, _)] = sandbox.store.listed(MUG)
    item["shipping"] = {"mode": "me2"}


async def test_an_me2_parcel_mercadolibre_ships_is_recorded_shipped_then_delivered_once(
    hub: Hub,
) -> None:
    """The merchant creates no shipment: MercadoLibre's own (its label, its tracking) is
    recorded in the hub when it leaves, stock committed, and delivered when it arrives."""
    sandbox = sandbox_of(hub)
    me2_sale(sandbox)
    on_hand, reserved, _ = await hub.stock(MUG)
    placed = await hub.channel.sell([(MUG, 2)], Delivery.ONCE)
    await hub.settle()
    [order] = await hub.orders()
    assert order["status"] == "ALLOCATED"
    shipment_id = sandbox.orders.get(placed).shipping_id

    sandbox.orders.advance(shipment_id)  # MercadoLibre picked it up: shipped
    sandbox.notifier.publish("shipments", f"/shipments/{shipment_id}")  # its pointer
    await hub.settle()

    shown = (await hub.call(SHIPMENTS, id=order["id"]))["order"]
    assert shown["status"] == "SHIPPED"
    [shipment] = shown["shipments"]
    label = (shipment["carrier"], shipment["trackingNumber"])
    assert label == ("MEL Distribution", f"ME2{shipment_id}")
    assert [ln["quantity"] for ln in shipment["lines"]] == [2]
    assert shipment["channelShipmentId"] == str(shipment_id)  # told nothing: only its id
    assert await hub.stock(MUG) == (on_hand - 2, reserved, on_hand - 2 - reserved)
    assert [c for c in sandbox.calls if c["path"].endswith("seller_notifications")] == []

    sandbox.orders.advance(shipment_id)  # MercadoLibre tracked it to the buyer
    await hub.pull()
    await hub.settle()
    assert (await hub.call(SHIPMENTS, id=order["id"]))["order"]["status"] == "DELIVERED"

    sandbox.notifier.publish("shipments", f"/shipments/{shipment_id}")  # told again
    sandbox.notifier.publish("orders_v2", f"/orders/{placed}")
    await hub.settle()
    await hub.pull()
    again = (await hub.call(SHIPMENTS, id=order["id"]))["order"]
    assert again["status"] == "DELIVERED"
    assert len(again["shipments"]) == 1  # one shipment however often it is told
    assert await hub.stock(MUG) == (on_hand - 2, reserved, on_hand - 2 - reserved)


async def test_an_order_first_seen_shipped_by_mercadolibre_is_reserved_and_shipped(
    hub: Hub,
) -> None:
    """Its pointers lost, the order is pulled only once MercadoLibre has shipped it: the hub
    reserves it and records the shipment in the same pull (no allocation left waiting)."""
    sandbox = sandbox_of(hub)
    me2_sale(sandbox)
    on_hand, reserved, _ = await hub.stock(MUG)
    placed = await hub.channel.sell([(MUG, 1)], Delivery.LOST)
    sandbox.orders.advance(sandbox.orders.get(placed).shipping_id)

    assert await hub.pull() == 1
    await hub.settle()
    [order] = await hub.orders()
    assert order["status"] == "SHIPPED"
    assert [ln["shippedQuantity"] for ln in order["lines"]] == [1]
    assert await hub.stock(MUG) == (on_hand - 1, reserved, on_hand - 1 - reserved)


async def test_a_lost_pointer_is_read_from_the_missed_feeds_and_brings_its_order(
    hub: Hub,
) -> None:
    """The pointer never reached the hub: the feed read (every few seconds) stores it as the
    pointer would have been, and its order comes in, reserved — no periodic pull run."""
    sandbox = sandbox_of(hub)
    placed = await hub.channel.sell([(MUG, 1)], Delivery.LOST)
    missed = sandbox.notifier.missed_feeds(None, 0, 50)["messages"]
    assert [m["resource"] for m in missed] == [f"/orders/{placed}"]
    stranger = {**missed[0], "_id": "someone-else", "user_id": 999}  # another seller's
    sandbox.notifier.missed["someone-else"] = (stranger, hub.clock())

    assert await hub.run(READ_QUEUES_JOB) == 1  # this seller's pointer, stored once
    await hub.settle()
    [order] = await hub.orders()
    assert (order["externalId"], order["status"]) == (placed, "ALLOCATED")

    assert await hub.run(READ_QUEUES_JOB) == 0  # listed again (two days): the same event
    events = (await hub.call(INBOX, c=hub.channel_id, s=None, first=100))["inboxEvents"]
    assert [e["node"]["eventId"] for e in events["edges"]] == [missed[0]["_id"]]


async def test_a_pointer_for_another_seller_or_application_stores_nothing(hub: Hub) -> None:
    url = f"/webhooks/{hub.channel_id}"
    pointer = {"_id": "n-1", "resource": "/orders/1", "topic": "orders_v2", "attempts": 1,
               "user_id": 999, "application_id": int(CREDENTIALS["client_id"])}  # fmt: skip
    for wrong in (pointer, {**pointer, "user_id": 123456789, "application_id": 1}):
        answer = await hub.http.post(url, content=json.dumps(wrong).encode())
        assert answer.status_code == 401
    events = (await hub.call(INBOX, c=hub.channel_id, s=None, first=100))["inboxEvents"]
    assert events["edges"] == []

    right = {**pointer, "user_id": 123456789}
    assert (await hub.http.post(url, content=json.dumps(right).encode())).status_code == 200
    again = {**right, "attempts": 2}  # resent: the same _id, one event
    assert (await hub.http.post(url, content=json.dumps(again).encode())).status_code == 200
    events = (await hub.call(INBOX, c=hub.channel_id, s=None, first=100))["inboxEvents"]
    assert len(events["edges"]) == 1


async def test_orders_either_side_of_an_hour_boundary_are_each_pulled_once(hub: Hub) -> None:
    sandbox = sandbox_of(hub)
    now = hub.clock()
    hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    hub.clock.advance((hour - now).total_seconds() - 0.3)  # 0.3 s before the hour
    before = await hub.channel.sell([(MUG, 1)], Delivery.LOST)
    assert await hub.pull() == 1
    hub.clock.advance(0.6)  # past the hour
    after = await hub.channel.sell([(TEE, 1)], Delivery.LOST)

    assert await hub.pull() == 1  # the search from the earlier hour: only the new one is new
    assert await hub.pull() == 0
    await hub.settle()
    assert sorted(o["externalId"] for o in await hub.orders()) == sorted([before, after])

    # The trap the pull steps around: the search ignores a filter's minutes and seconds.
    def search(**given: str) -> list[int]:
        query = {"seller": CREDENTIALS["user_id"], **given}
        return [o["id"] for o in sandbox.orders.search(query, sandbox.seller_id)["results"]]

    late = (hour + timedelta(seconds=0.9)).isoformat()
    assert search(**{"order.date_last_updated.to": late}) == [int(before)]  # `after` missed
    early = (hour - timedelta(seconds=0.1)).isoformat()
    assert search(**{"order.date_last_updated.from": early}) == [int(before), int(after)]


async def test_a_title_over_the_categorys_own_limit_is_cut_at_a_word(hub: Hub) -> None:
    sandbox = sandbox_of(hub)
    sandbox.store.categories["MLA109282"]["max_title_length"] = 20  # this category's setting
    categories.forget()  # read again (the adapter keeps a category's limit for an hour)
    lamp = one_variant("desk-lamp", "Desk Lamp Deluxe", "LAMP", "30.00", "ARS", 901)

    assert (await hub.create_product(lamp))["userErrors"] == []
    await hub.settle()

    [(item, _)] = sandbox.store.listed("LAMP")
    assert len(str(item["title"])) <= 20
    assert str(item["title"]) == "Nexo Outdoors Desk"  # at a word, never inside one


LANTERN = "Trail Lantern with a Rechargeable Battery and Three Modes"  # 58, with brand: 72


async def long_titles(hub: Hub, category_allows: int) -> dict[str, object]:
    """The category allows `category_allows` characters; the listing rule titles up to 100
    (the merchant's, over MercadoLibre's common 60); a lantern of a 72-character title is
    created and sent. Its product's payload."""
    sandbox_of(hub).store.categories[CATEGORY]["max_title_length"] = category_allows
    categories.forget()
    ruled = await set_listing_rule(
        hub.http, hub.key, hub.channel_id, selector={"kind": "ALL"}, titleLimit=100,
        settings=[{"name": k, "value": v} for k, v in hub.channel.settings.items()],
        categoryMap=[{"categoryId": hub.category, "channelCategoryId": CATEGORY}],
    )  # fmt: skip
    assert ruled["userErrors"] == [], ruled
    created = await hub.create_product(
        one_variant("lantern", LANTERN, "LANTERN", "30.00", "ARS", 903)
    )
    assert created["userErrors"] == []
    await hub.settle()
    return created


async def test_a_category_allowing_more_than_60_takes_the_whole_title(hub: Hub) -> None:
    created = await long_titles(hub, 120)

    [(item, _)] = sandbox_of(hub).store.listed("LANTERN")
    assert str(item["title"]) == f"Nexo Outdoors {LANTERN}"  # 72: whole
    preview = await hub.call(PREVIEW, p=created["product"]["id"], c=hub.channel_id)
    assert preview["listingPreview"]["problems"] == []  # checked by the category's 120
    [lantern] = [n for n in await hub.listings() if n["items"][0]["sku"] == "LANTERN"]
    assert (lantern["status"], lantern["problems"]) == ("ACTIVE", [])


async def test_a_category_allowing_less_is_its_own_limit_in_the_listing_problems(
    hub: Hub,
) -> None:
    created = await long_titles(hub, 40)  # read when sent: the title went cut to fit

    [(item, _)] = sandbox_of(hub).store.listed("LANTERN")
    assert str(item["title"]) == "Nexo Outdoors Trail Lantern with a"
    preview = await hub.call(PREVIEW, p=created["product"]["id"], c=hub.channel_id)
    assert preview["listingPreview"]["problems"] == [
        {"field": "title", "code": "TITLE_TOO_LONG",
         "message": f"MercadoLibre titles have at most 40 characters in category {CATEGORY}"}
    ]  # fmt: skip


class SaleBetween(httpx.AsyncBaseTransport):
    """The sandbox, where a sale lands between a read of a user product's stock and the write
    that follows it (the stock is shared with Mercado Shops: it moves under the hub)."""

    def __init__(self, sandbox: MercadoLibreSandbox, up_id: str) -> None:
        self._inner = Network(sandbox.app)
        self._sandbox, self._up_id = sandbox, up_id
        self.sales = 1

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self._inner.handle_async_request(request)
        if request.method == "GET" and request.url.path.endswith("/stock") and self.sales:
            self.sales -= 1
            up = self._sandbox.store.up(self._up_id)
            up.locations["selling_address"] -= 1
            up.version += 1
        return answer


@pytest.mark.parametrize("accepting", [False, True], ids=["hub-wins", "accepts-edits"])
async def test_a_user_products_stock_moved_between_read_and_write_is_never_overwritten_unseen(
    container: Container, channel_id: uuid.UUID, accepting: bool
) -> None:
    moment = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    sandbox = MercadoLibreSandbox(wall_clock=lambda: moment, user_products=True)
    made = sandbox.store.create({
        "family_name": "Camp Mug", "category_id": "MLA109282", "price": 9500, "currency_id": "ARS",
        "available_quantity": 5, "buying_mode": "buy_it_now", "listing_type_id": "gold_special",
        "condition": "new", "attributes": [{"id": "SELLER_SKU", "value_name": MUG}],
    })  # fmt: skip
    up_id = str(made["user_product_id"])
    transport = SaleBetween(sandbox, up_id)
    policy = StockEditPolicy.ACCEPT_CHANNEL_EDITS if accepting else StockEditPolicy.HUB_WINS
    config = ChannelConfig(channel_id, stock_edit_policy=policy)
    async with container.uow() as uow:
        channel = await uow.channels.get(channel_id)
    assert channel is not None
    async with httpx.AsyncClient(transport=transport, base_url=API) as http:
        tokens = SqlTokenStore(container.engine, lambda: container.secrets, clock=lambda: moment)
        connect = mercadolibre_factory(http, MemoryRateLimiter(), tokens, clock=lambda: moment)
        port = connect(channel, config, CREDENTIALS)
        refs = {"item_id": str(made["id"]), "user_product_id": up_id}
        [result] = await port.push_quantities([QuantityUpdate(MUG, 8, refs, previous=5)])

    up = sandbox.store.up(up_id)
    puts = [c for c in sandbox.calls if c["method"] == "PUT"]
    if accepting:  # the sale seen on the second read: refused as stale, nothing written
        assert (result.outcome, up.locations["selling_address"]) == (Outcome.STALE, 4)
        assert [c["status"] for c in puts] == [409]
    else:  # the hub's figure, written over the version read again
        assert (result.outcome, up.locations["selling_address"]) == (Outcome.CONFIRMED, 8)
        assert [c["status"] for c in puts] == [409, 200]
