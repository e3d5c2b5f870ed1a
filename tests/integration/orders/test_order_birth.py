"""An order's first transition is stored with it, by the statement that inserts it (one
round trip on PostgreSQL): every order taken in has exactly one, and an order that was
already there is given none."""

from __future__ import annotations

from domain.orders.ingest import Arrival, ingest_many, new_order
from domain.orders.model import OrderStatus, Transition
from tests.integration.orders.conftest import SKU, T0, Hub, channel_order


async def test_orders_taken_in_together_are_each_born_with_one_transition(hub: Hub) -> None:
    arrivals = [Arrival(hub.shop, channel_order(x), "pull") for x in ("B1", "B2", "B3")]
    async with hub.container.uow() as uow:
        taken = await ingest_many(uow, arrivals, T0)
        await uow.commit()

    async with hub.container.uow(readonly=True) as uow:
        for outcome in taken:
            assert outcome is not None
            [born] = await uow.orders.transitions(outcome.order.id)
            assert (born.from_status, born.to_status) == (None, outcome.order.status)
            assert born.reason == "taken from the channel by pull"


async def test_an_order_already_there_is_given_no_second_first_transition(hub: Hub) -> None:
    first = new_order(hub.shop, channel_order("DUP"), {SKU}, T0)
    async with hub.container.uow() as uow:
        born = Transition(first.id, None, first.status, "first", "taken", T0)
        assert await uow.orders.insert_many([first], [born]) == {first.id}
        await uow.commit()

    again = new_order(hub.shop, channel_order("DUP"), {SKU}, T0)  # same channel order
    other = new_order(hub.shop, channel_order("NEW"), {SKU}, T0)
    async with hub.container.uow() as uow:
        inserted = await uow.orders.insert_many(
            [again, other],
            [Transition(o.id, None, o.status, "second", "taken", T0) for o in (again, other)],
        )
        await uow.commit()

    assert inserted == {other.id}
    async with hub.container.uow(readonly=True) as uow:
        assert [t.actor for t in await uow.orders.transitions(first.id)] == ["first"]
        assert await uow.orders.transitions(again.id) == []
        [made] = await uow.orders.transitions(other.id)
        assert (made.actor, made.to_status) == ("second", OrderStatus.OPEN)
