"""Who keeps the last unit when channels' clocks differ: a web store order confirmed at
checkout keeps its unit, and stamps a channel cannot tell apart go by arrival at Nexo."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.policies import ConflictPolicy, LosingLine
from domain.orders.allocation import allocate
from domain.orders.ingest import ingest
from domain.orders.model import LineStatus, OrderStatus
from tests.api.test_webhooks import HeldJobs
from tests.integration.orders.conftest import SKU, T0, Hub, channel_order

pytestmark = pytest.mark.usefixtures("backend")
US = timedelta(microseconds=1)


@dataclass
class Hubs:
    hub: Hub
    web: uuid.UUID  # webstore, priority 0
    shop2: uuid.UUID  # a second Shopify store, priority 1


@pytest.fixture
async def hubs(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Hubs:
    # The tests allocate in the order they mean to race; the app's own runs stay held. Their
    # orders arrive at T0, long past, so the allocation sweep (every second) would find each
    # one's lease lapsed at once and allocate it beside the test, in whatever order.
    monkeypatch.setattr(hub.container.queue, "enqueue", HeldJobs().enqueue)
    async with hub.container.uow() as uow:
        web = await channel_setup.create_channel(
            uow, name="Web", kind="webstore", currency="USD", priority=0,
            location_ids=[hub.warehouse], rule=AvailabilityRule(),
        )  # fmt: skip
        shop2 = await channel_setup.create_channel(
            uow, name="Shop 2", kind="shopify", currency="USD", priority=1,
            location_ids=[hub.warehouse], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    await hub.receive(1)
    return Hubs(hub, web.id, shop2.id)


async def arrive(
    hub: Hub, channel: uuid.UUID, external_id: str, placed: datetime, *, at: datetime
) -> uuid.UUID:
    """The order reaches Nexo at `at` (its allocation still to run)."""
    taken = await ingest(
        hub.container.uow, channel, channel_order(external_id, placed=placed),
        actor="test", clock=lambda: at,
    )  # fmt: skip
    return taken.order.id


async def lines(hub: Hub, order_id: uuid.UUID) -> list[LineStatus]:
    return [line.status for line in (await hub.order(order_id)).lines]


async def holder(hub: Hub) -> list[str | None]:
    async with hub.container.uow(readonly=True) as uow:
        held = await uow.inventory.list_reservations(
            sku=SKU, status=None, reference=None, first=50, after=None
        )
    return [r.reference for r in held if r.status.value == "active"]


@pytest.mark.parametrize(
    ("policy", "earlier", "kept_at_checkout"),
    [
        # A shop order placed two seconds before, arriving after: it came first, yet the web
        # store's customer was told "order placed": the checkout rule keeps the unit.
        (ConflictPolicy.FIRST_COME, timedelta(seconds=2), True),
        # The shop's higher priority would win; the checkout rule keeps the unit.
        (ConflictPolicy.CHANNEL_PRIORITY, US, True),
        # Stamped earlier within the shop's whole second: a tie, the web store's arrived first.
        (ConflictPolicy.FIRST_COME, US, False),
    ],
)
@pytest.mark.parametrize("losing", list(LosingLine))
async def test_a_web_store_order_confirmed_at_checkout_keeps_its_unit(
    hubs: Hubs,
    policy: ConflictPolicy,
    earlier: timedelta,
    kept_at_checkout: bool,
    losing: LosingLine,
) -> None:
    hub = hubs.hub
    await hub.configure(hub.shop, conflict_policy=policy, losing_lines=losing)
    now = datetime.now(UTC)
    web = await hub.take(hubs.web, channel_order("cart-1", placed=now))  # checkout: Nexo's clock
    assert web.status is OrderStatus.ALLOCATED
    stamped = (now - earlier).replace(microsecond=0)  # the shop's whole-second clock

    shop = await hub.take(hub.shop, channel_order("S-1", placed=stamped))

    assert (await hub.order(web.id)).status is OrderStatus.ALLOCATED
    assert await holder(hub) == [f"order:{web.id}"]
    lost = LineStatus.SHORT if losing is LosingLine.BACKORDER else LineStatus.CANCELLED
    assert [ln.status for ln in shop.lines] == [lost]
    async with hub.container.uow(readonly=True) as uow:
        [conflict] = await uow.orders.conflicts(shop.id)
        assert await uow.orders.conflicts(web.id) == []
        alerts = await uow.alerts.list(acknowledged=None, sku=SKU, first=10, after=None)
    assert conflict.policy is policy
    assert conflict.winner_order_id == (web.id if kept_at_checkout else None)
    assert ("confirmed at checkout" in conflict.resolution) is kept_at_checkout
    assert [a.message for a in alerts if a.kind.value == "ORDER_CONFLICT"] == [
        f"order #S-1: {conflict.resolution}"
    ]
    await hub.assert_ledger_clean()


@pytest.mark.parametrize("first_arrival_allocates_first", [True, False])
async def test_two_shop_orders_of_the_same_second_go_to_the_first_to_arrive(
    hubs: Hubs, first_arrival_allocates_first: bool
) -> None:
    hub = hubs.hub
    first = await arrive(hub, hub.shop, "A", T0, at=T0 + timedelta(milliseconds=300))
    second = await arrive(hub, hubs.shop2, "B", T0, at=T0 + timedelta(milliseconds=310))
    # The first's allocation may run late (a lost enqueue, a busy worker): it still wins.
    order = [first, second] if first_arrival_allocates_first else [second, first]
    for order_id in order:
        await allocate(hub.container.uow, order_id, actor="test")

    assert await lines(hub, first) == [LineStatus.ALLOCATED]
    assert await lines(hub, second) == [LineStatus.SHORT]
    assert await holder(hub) == [f"order:{first}"]
    await hub.assert_ledger_clean()


async def test_an_order_stamped_within_the_shops_second_goes_by_arrival(hubs: Hubs) -> None:
    # eBay's clock says 12:00:00.300, the shop's 12:00:00 (the shop's order may have been
    # placed any time in that second): the eBay order reached Nexo first, and wins.
    hub = hubs.hub
    market = await arrive(hub, hub.market, "M", T0 + timedelta(milliseconds=300), at=T0)
    shop = await arrive(hub, hub.shop, "S", T0, at=T0 + timedelta(seconds=2))
    await allocate(hub.container.uow, shop, actor="test")
    await allocate(hub.container.uow, market, actor="test")

    assert await lines(hub, market) == [LineStatus.ALLOCATED]
    assert await lines(hub, shop) == [LineStatus.SHORT]


async def test_stamps_a_second_apart_go_by_the_stamps_whatever_the_arrival(hubs: Hubs) -> None:
    hub = hubs.hub
    market = await arrive(hub, hub.market, "M", T0 + timedelta(milliseconds=1000), at=T0)
    shop = await arrive(hub, hub.shop, "S", T0, at=T0 + timedelta(minutes=5))  # pulled late
    await allocate(hub.container.uow, market, actor="test")
    await allocate(hub.container.uow, shop, actor="test")

    assert await lines(hub, shop) == [LineStatus.ALLOCATED]
    assert await lines(hub, market) == [LineStatus.SHORT]
