"""Channel-managed (FBA-style) orders take only the channel's stock; no one else ever does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.policies import ConflictPolicy, Fulfilment
from domain.inventory import setup
from domain.orders.model import LineStatus, OrderStatus
from tests.integration.orders.conftest import SKU, T0, Hub, channel_order

pytestmark = pytest.mark.usefixtures("backend")


@dataclass
class Fba:
    hub: Hub
    fba: uuid.UUID  # a channel_managed location: the marketplace holds that stock
    amazon: uuid.UUID  # channel-managed fulfilment, fed by FBA and the warehouse
    web: uuid.UUID  # merchant fulfilment, also listing FBA among its locations


@pytest.fixture
async def fba(hub: Hub) -> Fba:
    async with hub.container.uow() as uow:
        fba = await setup.create_location(uow, code="FBA", name="FBA", kind="channel_managed")
        amazon = await channel_setup.create_channel(
            uow, name="Amazon", kind="amazon", currency="USD", priority=3,
            location_ids=[fba.id, hub.warehouse], rule=AvailabilityRule(),
        )  # fmt: skip
        web = await channel_setup.create_channel(
            uow, name="Web", kind="webstore", currency="USD", priority=2,
            location_ids=[fba.id, hub.warehouse], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    await hub.configure(amazon.id, fulfilment=Fulfilment.CHANNEL_MANAGED)
    return Fba(hub, fba.id, amazon.id, web.id)


async def sellable(hub: Hub) -> int:
    async with hub.container.uow(readonly=True) as uow:
        item = await uow.inventory.get_item(SKU)
    assert item is not None
    return item.available


async def test_a_channel_managed_order_takes_only_channel_managed_stock(fba: Fba) -> None:
    hub = fba.hub
    await hub.receive(5)
    await hub.receive(2, fba.fba)

    first = await hub.take(fba.amazon, channel_order("A-1"))

    [line] = first.lines
    assert (line.status, line.location_id) == (LineStatus.ALLOCATED, fba.fba)
    assert line.routed_by == "whole order from FBA (channel-managed)"
    assert await hub.level(fba.fba) == (2, 1)
    assert await hub.level() == (5, 0)
    assert await sellable(hub) == 5  # the hub's own sellable stock is untouched

    # One unit left at FBA: two do not fit, and the warehouse is never used instead.
    second = await hub.take(fba.amazon, channel_order("A-2", [(SKU, 2)]))

    assert [ln.status for ln in second.lines] == [LineStatus.SHORT]
    assert await hub.level() == (5, 0)
    assert await hub.level(fba.fba) == (2, 1)
    await hub.assert_ledger_clean()


async def test_merchant_orders_never_take_channel_managed_stock(fba: Fba) -> None:
    hub = fba.hub
    await hub.receive(3, fba.fba)

    waiting = await hub.take(fba.web, channel_order("W-1"))

    assert [ln.status for ln in waiting.lines] == [LineStatus.SHORT]
    assert await hub.level(fba.fba) == (3, 0)

    await hub.receive(1)
    await hub.container.queue.drain()  # the receipt's job fills the backordered line

    served = await hub.order(waiting.id)
    [line] = served.lines
    assert (served.status, line.location_id) == (OrderStatus.ALLOCATED, hub.warehouse)
    assert await hub.level(fba.fba) == (3, 0)
    await hub.assert_ledger_clean()


async def test_a_conflict_never_takes_a_unit_across_fulfilment(fba: Fba) -> None:
    hub = fba.hub
    await hub.receive(1, fba.fba)
    for channel in (fba.web, fba.amazon):
        await hub.configure(channel, conflict_policy=ConflictPolicy.FIRST_COME)
    late = await hub.take(fba.amazon, channel_order("A-3", placed=T0 + timedelta(hours=1)))
    assert [ln.location_id for ln in late.lines] == [fba.fba]

    # Placed earlier, but merchant-fulfilled: the FBA unit is not its to take back.
    early = await hub.take(fba.web, channel_order("W-3", placed=T0))

    assert [ln.status for ln in early.lines] == [LineStatus.SHORT]
    assert [ln.status for ln in (await hub.order(late.id)).lines] == [LineStatus.ALLOCATED]
    assert await hub.level(fba.fba) == (1, 1)
    await hub.assert_ledger_clean()


async def test_a_channel_managed_order_takes_back_only_channel_managed_holds(fba: Fba) -> None:
    hub = fba.hub
    await hub.receive(1)
    await hub.configure(fba.amazon, conflict_policy=ConflictPolicy.CHANNEL_PRIORITY)
    low = await hub.take(hub.shop, channel_order("S-1"))  # priority 1, holds the warehouse unit
    assert [ln.location_id for ln in low.lines] == [hub.warehouse]

    amazon_order = await hub.take(fba.amazon, channel_order("A-4"))  # priority 3, nothing at FBA

    assert [ln.status for ln in amazon_order.lines] == [LineStatus.SHORT]
    assert [ln.status for ln in (await hub.order(low.id)).lines] == [LineStatus.ALLOCATED]
    assert await hub.level() == (1, 1)
