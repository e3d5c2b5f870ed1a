"""Delivered: only a shipped order gets there, by a person or by the channel, and only once."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.errors import IllegalState, NotFound
from domain.orders.cancelling import cancel_order
from domain.orders.delivery import mark_delivered
from domain.orders.fulfilment import create_shipment
from domain.orders.ingest import ingest
from domain.orders.model import Order, OrderStatus, Transition
from tests.integration.orders.conftest import SKU, T0, Hub, channel_order

pytestmark = pytest.mark.usefixtures("backend")


async def shipped(hub: Hub, external_id: str, quantity: int = 1, ship: int | None = None) -> Order:
    order = await hub.take(hub.shop, channel_order(external_id, [(SKU, quantity)]))
    done, _ = await create_shipment(
        hub.container.uow, order_id=order.id, lines=[(order.lines[0].id, ship or quantity)],
        location_id=hub.warehouse, carrier="UPS", tracking_number=f"1Z-{external_id}",
        key=f"ship-{external_id}", actor="t",
    )  # fmt: skip
    return done


async def history(hub: Hub, order_id: uuid.UUID) -> list[Transition]:
    async with hub.container.uow(readonly=True) as uow:
        return await uow.orders.transitions(order_id)


async def test_a_shipped_order_is_delivered_once(hub: Hub) -> None:
    await hub.receive(1)
    order = await shipped(hub, "D-1")

    delivered = await mark_delivered(
        hub.container.uow, order_id=order.id, actor="carrier", reason="signed by A. Lovelace"
    )
    again = await mark_delivered(hub.container.uow, order_id=order.id, actor="carrier")

    assert delivered.status is again.status is OrderStatus.DELIVERED
    steps = await history(hub, order.id)
    assert [(t.from_status, t.to_status, t.actor, t.reason) for t in steps[-1:]] == [
        (OrderStatus.SHIPPED, OrderStatus.DELIVERED, "carrier", "signed by A. Lovelace"),
    ]
    assert sum(t.to_status is OrderStatus.DELIVERED for t in steps) == 1


async def test_only_a_shipped_order_can_be_delivered(hub: Hub) -> None:
    await hub.receive(4)
    allocated = await hub.take(hub.shop, channel_order("D-2"))
    partly = await shipped(hub, "D-3", quantity=2, ship=1)
    cancelled = await cancel_order(
        hub.container.uow,
        order_id=(await hub.take(hub.shop, channel_order("D-4"))).id,
        reason="asked",
        key="c",
        actor="t",
    )
    assert partly.status is OrderStatus.PARTIALLY_SHIPPED

    for order in (allocated, partly, cancelled):
        before = (await hub.order(order.id), len(await history(hub, order.id)))
        with pytest.raises(IllegalState) as refused:
            await mark_delivered(hub.container.uow, order_id=order.id, actor="t")
        assert refused.value.field == "orderId"
        assert (await hub.order(order.id), len(await history(hub, order.id))) == before
    with pytest.raises(NotFound):
        await mark_delivered(hub.container.uow, order_id=uuid.uuid4(), actor="t")


async def test_the_channel_saying_delivered_moves_only_a_shipped_order(hub: Hub) -> None:
    await hub.receive(2)
    sent = await shipped(hub, "D-5")
    waiting = await hub.take(hub.shop, channel_order("D-6"))
    later = T0 + timedelta(days=3)

    for order in (sent, waiting):
        news = replace(channel_order(order.external_id), status="delivered", updated_at=later)
        await ingest(hub.container.uow, hub.shop, news, actor="channel")

    assert (await hub.order(sent.id)).status is OrderStatus.DELIVERED
    assert (await hub.order(waiting.id)).status is OrderStatus.ALLOCATED
