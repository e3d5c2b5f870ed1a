"""A merchant's cancellation and the channel's, asked at once and over and over: one
cancellation (one transition to cancelled, one release in the ledger), and a shipped line
named is refused with nothing changed."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.errors import IllegalState
from domain.inventory.model import MovementReason
from domain.orders.cancelling import cancel_order
from domain.orders.fulfilment import create_shipment
from domain.orders.ingest import ingest
from domain.orders.model import LineStatus, OrderStatus
from tests.integration.orders.conftest import SKU, T0, Hub, channel_order

pytestmark = pytest.mark.usefixtures("backend")


async def one_cancellation(hub: Hub, order_id: uuid.UUID) -> tuple[int, list[int]]:
    async with hub.container.uow(readonly=True) as uow:
        transitions = await uow.orders.transitions(order_id)
        movements = await uow.inventory.list_movements(SKU, first=100, after=None)
    cancelled = [t for t in transitions if t.to_status is OrderStatus.CANCELLED]
    return len(cancelled), [
        m.reserved_delta for m in movements if m.reason is MovementReason.RELEASE
    ]


async def test_the_merchant_and_the_channel_cancelling_at_once_make_one_cancellation(
    hub: Hub,
) -> None:
    await hub.receive(5)
    order = await hub.take(hub.shop, channel_order("K-1", [(SKU, 3)]))
    on_channel = replace(
        channel_order("K-1", [(SKU, 3)]), status="cancelled", updated_at=T0 + timedelta(minutes=1)
    )
    uows = hub.container.uow

    await asyncio.gather(
        *(cancel_order(uows, order_id=order.id, reason="asked", key=f"k-{n}", actor="merchant")
          for n in range(5)),
        *(ingest(uows, hub.shop, on_channel, actor="webhook") for _ in range(5)),
    )  # fmt: skip

    final = await hub.order(order.id)
    assert final.status is OrderStatus.CANCELLED
    assert [ln.status for ln in final.lines] == [LineStatus.CANCELLED]
    assert await one_cancellation(hub, order.id) == (1, [-3])
    assert await hub.level() == (5, 0)
    await hub.assert_ledger_clean()


async def test_naming_a_shipped_line_changes_nothing(hub: Hub) -> None:
    await hub.receive(5)
    order = await hub.take(hub.shop, channel_order("K-3", [(SKU, 1), (SKU, 2)]))
    shipped, waiting = order.lines
    await create_shipment(
        hub.container.uow, order_id=order.id, lines=[(shipped.id, 1)], location_id=hub.warehouse,
        carrier="UPS", tracking_number="1Z-K-3", key="ship-k-3", actor="t",
    )  # fmt: skip
    before = await hub.order(order.id), await hub.level()

    with pytest.raises(IllegalState):
        await cancel_order(hub.container.uow, order_id=order.id, reason="x", key="k",
                           actor="m", line_ids=[waiting.id, shipped.id])  # fmt: skip

    assert (await hub.order(order.id), await hub.level()) == before
    assert await one_cancellation(hub, order.id) == (0, [])
