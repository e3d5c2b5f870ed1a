"""Shipping some of a line's units now and the rest later: only what leaves is committed."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from domain.errors import DomainError, IdempotencyKeyReused, InvalidInput, InvalidQuantity
from domain.inventory.model import ReservationStatus
from domain.orders.cancelling import cancel_order
from domain.orders.fulfilment import create_shipment, return_lines
from domain.orders.model import LineStatus, Order, OrderStatus
from tests.integration.orders.conftest import SKU, Hub, channel_order

pytestmark = pytest.mark.usefixtures("backend")


async def ship(hub: Hub, order: Order, quantity: int, tracking: str, key: str) -> Order:
    shipped, _ = await create_shipment(
        hub.container.uow, order_id=order.id, lines=[(order.lines[0].id, quantity)],
        location_id=hub.warehouse, carrier="UPS", tracking_number=tracking, key=key, actor="t",
    )  # fmt: skip
    return shipped


async def five_ordered(hub: Hub) -> Order:
    await hub.receive(5)
    order = await hub.take(hub.shop, channel_order("P-1", [(SKU, 5)]))
    assert order.status is OrderStatus.ALLOCATED
    return order


async def test_a_line_ships_two_of_five_then_the_rest(hub: Hub) -> None:
    order = await five_ordered(hub)

    part = await ship(hub, order, 2, "1Z-A", "ship-a")

    [line] = part.lines
    assert (part.status, line.status, line.shipped_quantity) == (
        OrderStatus.PARTIALLY_SHIPPED, LineStatus.PARTIALLY_SHIPPED, 2,
    )  # fmt: skip
    assert await hub.level() == (3, 3)  # two left the building, three still held
    held = {r.status: r.quantity for r in await hub.reservations(order.id)}
    assert held == {ReservationStatus.ACTIVE: 3, ReservationStatus.COMMITTED: 2}
    assert line.reservation_id == order.lines[0].reservation_id  # the rest, same hold

    rest = await ship(hub, part, 3, "1Z-B", "ship-b")

    [line] = rest.lines
    assert (rest.status, line.status, line.shipped_quantity) == (
        OrderStatus.SHIPPED, LineStatus.SHIPPED, 5,
    )  # fmt: skip
    assert await hub.level() == (0, 0)
    reservations = await hub.reservations(order.id)
    assert {r.status for r in reservations} == {ReservationStatus.COMMITTED}
    assert sorted(r.quantity for r in reservations) == [2, 3]
    async with hub.container.uow(readonly=True) as uow:
        shipments = await uow.orders.shipments(order.id)
        steps = [(t.from_status, t.to_status) for t in await uow.orders.transitions(order.id)]
    assert [s.lines for s in shipments] == [((line.id, 2),), ((line.id, 3),)]
    assert steps[-2:] == [
        (OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_SHIPPED),
        (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED),
    ]
    await hub.assert_ledger_clean()


async def test_shipping_more_than_is_left_is_refused_and_changes_nothing(hub: Hub) -> None:
    order = await ship(hub, await five_ordered(hub), 2, "1Z-A", "ship-a")
    line_id = order.lines[0].id
    before = (await hub.order(order.id), await hub.level(), await hub.reservations(order.id))

    refused: list[tuple[list[tuple[uuid.UUID, int]], type[DomainError], str]] = [
        ([(line_id, 4)], InvalidQuantity, "lines[0].quantity"),  # 3 are left
        ([(line_id, 0)], InvalidQuantity, "lines[0].quantity"),
        ([(line_id, -1)], InvalidQuantity, "lines[0].quantity"),
        ([(line_id, 1), (line_id, 1)], InvalidInput, "lines[1].lineId"),
    ]
    for n, (lines, error, field) in enumerate(refused):
        with pytest.raises(error) as raised:
            await create_shipment(
                hub.container.uow, order_id=order.id, lines=lines, location_id=hub.warehouse,
                carrier="UPS", tracking_number=f"1Z-X{n}", key=f"bad-{n}", actor="t",
            )  # fmt: skip
        assert raised.value.field == field

    after = (await hub.order(order.id), await hub.level(), await hub.reservations(order.id))
    assert after == before
    async with hub.container.uow(readonly=True) as uow:
        assert len(await uow.orders.shipments(order.id)) == 1
    await hub.assert_ledger_clean()


async def test_a_key_used_for_one_parcel_is_refused_for_another(hub: Hub) -> None:
    order = await ship(hub, await five_ordered(hub), 2, "1Z-A", "ship-a")
    before = (await hub.order(order.id), await hub.level())

    with pytest.raises(IdempotencyKeyReused):
        await ship(hub, order, 2, "1Z-OTHER", "ship-a")

    assert (await hub.order(order.id), await hub.level()) == before
    # The same parcel asked again answers with the shipment made, without shipping twice.
    again = await ship(hub, order, 2, "1Z-A", "ship-a-retry")
    assert again.lines[0].shipped_quantity == 2
    assert await hub.level() == (3, 3)


async def test_two_parcels_of_one_line_at_once_never_ship_more_than_ordered(hub: Hub) -> None:
    order = await five_ordered(hub)

    outcomes = await asyncio.gather(
        ship(hub, order, 3, "1Z-ONE", "ship-one"),
        ship(hub, order, 3, "1Z-TWO", "ship-two"),
        return_exceptions=True,
    )

    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == 1
    assert isinstance(failed[0], DomainError)
    final = await hub.order(order.id)
    assert final.lines[0].shipped_quantity == 3
    assert await hub.level() == (2, 2)
    await hub.assert_ledger_clean()


async def test_a_partly_shipped_order_cancels_its_rest_and_the_shipped_units_come_back(
    hub: Hub,
) -> None:
    order = await ship(hub, await five_ordered(hub), 1, "1Z-A", "ship-a")
    uows = hub.container.uow

    for n in range(3):  # asked again: nothing is left to cancel
        cancelled = await cancel_order(uows, order_id=order.id, reason="no", key=f"c-{n}",
                                       actor="t")  # fmt: skip

    [line] = cancelled.lines
    assert (cancelled.status, line.status, line.shipped_quantity, line.reservation_id) == (
        OrderStatus.SHIPPED, LineStatus.CANCELLED, 1, None,
    )  # fmt: skip
    assert await hub.level() == (4, 0)  # the four unshipped let go, the shipped one gone
    held = sorted((r.status, r.quantity) for r in await hub.reservations(order.id))
    assert held == [(ReservationStatus.COMMITTED, 1), (ReservationStatus.RELEASED, 4)]

    back = await return_lines(uows, order_id=order.id, line_ids=[line.id], restock=True,
                              reason="unwanted", key="r-1", actor="t")  # fmt: skip

    assert back.lines[0].status is LineStatus.RETURNED
    assert await hub.level() == (5, 0)  # the one unit that shipped, not the five ordered
    await hub.assert_ledger_clean()
