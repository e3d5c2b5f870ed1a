"""The periodic order pull against the Shopify sandbox: what webhooks missed, taken once."""

from __future__ import annotations

import pytest

from domain.inventory import stock
from domain.orders.allocation import allocate
from domain.orders.model import LineStatus, OrderStatus
from domain.orders.ports import OrderFilter
from domain.orders.pull import pull_orders
from domain.sync.model import CallOutcome
from tests.integration.sync.shop import SHOP_LOCATION, Shop
from workers.jobs.orders import pull_orders as pull_orders_job

pytestmark = pytest.mark.usefixtures("backend")


async def test_an_order_whose_webhook_never_came_is_pulled_once_and_reserved(shop: Shop) -> None:
    await stock.receive(
        shop.container.uow, sku="TEE-M", location_id=shop.location_id, quantity=4, key="r",
        actor="t",
    )  # fmt: skip
    await shop.drain()  # listed on the sandbox, with its stock
    placed = await shop.sandbox.place_order([("TEE-M", 2)], location_gid=SHOP_LOCATION)

    changed = await pull_orders(shop.container.uow, shop.container.connector, shop.channel_id)
    again = await pull_orders(shop.container.uow, shop.container.connector, shop.channel_id)

    assert (changed, again) == (1, 0)
    async with shop.container.uow(readonly=True) as uow:
        [order] = await uow.orders.page(first=10, after=None, filter=OrderFilter())
    assert order.external_id == placed
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("TEE-M", 2)]
    reserved = await allocate(shop.container.uow, order.id, actor="t")
    assert reserved is not None
    assert reserved.status is OrderStatus.ALLOCATED
    assert [ln.status for ln in reserved.lines] == [LineStatus.ALLOCATED]


async def test_a_pull_the_shop_throttles_is_logged_and_the_next_one_takes_the_order(
    shop: Shop,
) -> None:
    # The worker's job logs a failed read beside every other channel call (the relay's, the
    # reconciliation's): the sync log and the channel's status count it.
    await shop.drain()  # listed on the sandbox
    placed = await shop.sandbox.place_order([("TEE-M", 1)], location_gid=SHOP_LOCATION)
    shop.sandbox.faults.throttle_next(1)
    context = shop.container.job_context

    first = await pull_orders_job(context, str(shop.channel_id))
    second = await pull_orders_job(context, str(shop.channel_id))

    assert (first, second) == (0, 1)
    async with shop.container.uow(readonly=True) as uow:
        logged = await uow.sync_log.page(
            channel_id=shop.channel_id, outcome=None, first=10, after=None
        )
        [order] = await uow.orders.page(first=10, after=None, filter=OrderFilter())
    pulls = [c.outcome for c in logged if c.operation == "pull_orders"]
    assert pulls == [CallOutcome.THROTTLED]
    assert order.external_id == placed
