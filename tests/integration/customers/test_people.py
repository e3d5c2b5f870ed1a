"""A person's decisions (merge, unmerge, forget) and a customer's history, on both backends."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from domain.customers.forgetting import ERASED, forget_customer
from domain.customers.history import histories
from domain.customers.matching import Rule
from domain.customers.merging import merge_customers, unmerge_customer
from domain.errors import IllegalState, InvalidInput, NotFound
from domain.money import Money
from domain.orders.cancelling import cancel_order
from tests.integration.customers.conftest import (
    ADDRESS,
    Hub,
    buyer_order,
    customer_of,
    match_all,
    take,
)
from tests.integration.orders.conftest import T0

pytestmark = pytest.mark.usefixtures("backend")


async def test_merge_then_unmerge_moves_orders_and_leaves_a_trail(hub: Hub) -> None:
    shop = await take(hub, hub.shop, buyer_order("S-1", email="ada@x.io", name="Ada"))
    await match_all(hub)  # its customer is the older
    market = await take(
        hub, hub.market, buyer_order("E-1", buyer_id="ada_99", placed=T0 + timedelta(1))
    )
    await match_all(hub)
    (a, _), (b, market_identity) = (
        await customer_of(hub, shop.id),
        await customer_of(hub, market.id),
    )
    assert a.id != b.id

    merged = await merge_customers(hub.container.uow, [b.id, a.id], into=None, actor="pat")
    assert merged.id == a.id  # the oldest is kept
    assert (await customer_of(hub, market.id))[0].id == a.id
    async with hub.container.uow(readonly=True) as uow:
        gone = await uow.customers.get(b.id)
        trail = [(e.action, e.actor) for e in await uow.customers.audit(a.id)]
        moved = await uow.customers.identity(market_identity.id)
    assert gone is not None
    assert gone.merged_into == a.id
    assert trail == [("merged", "pat")]
    assert moved is not None
    assert moved.rule is Rule.MERGED
    assert "by pat" in moved.evidence
    with pytest.raises(IllegalState):  # a merged-away customer is not merged again
        await merge_customers(hub.container.uow, [b.id, a.id], into=None, actor="pat")

    left, alone = await unmerge_customer(hub.container.uow, market_identity.id, actor="sam")
    assert left.id == a.id
    assert (await customer_of(hub, market.id))[0].id == alone.id
    # Matching never puts it back: the identity's next order stays with the new customer.
    again = await take(
        hub,
        hub.market,
        buyer_order("E-2", buyer_id="ada_99", email="ada@x.io", placed=T0 + timedelta(3)),
    )
    await match_all(hub)
    assert (await customer_of(hub, again.id))[0].id == alone.id
    async with hub.container.uow(readonly=True) as uow:
        assert [e.action for e in await uow.customers.audit(a.id)] == ["merged", "unmerged"]
        assert [e.action for e in await uow.customers.audit(alone.id)] == ["unmerged"]
    with pytest.raises(IllegalState):  # its only identity: nothing to take out
        await unmerge_customer(hub.container.uow, market_identity.id, actor="sam")


async def test_merge_refuses_bad_requests_and_changes_nothing(hub: Hub) -> None:
    order = await take(hub, hub.shop, buyer_order("S-1", email="ada@x.io"))
    await match_all(hub)
    customer, _ = await customer_of(hub, order.id)
    with pytest.raises(InvalidInput):
        await merge_customers(hub.container.uow, [customer.id], into=None, actor="pat")
    with pytest.raises(NotFound) as unknown:
        await merge_customers(hub.container.uow, [customer.id, order.id], into=None, actor="p")
    assert unknown.value.field == "customerIds[1]"
    async with hub.container.uow(readonly=True) as uow:
        assert await uow.customers.audit(customer.id) == []


async def test_forget_erases_personal_data_everywhere_and_keeps_the_numbers(hub: Hub) -> None:
    first = await take(
        hub,
        hub.shop,
        buyer_order("S-1", email="ada@x.io", name="Ada", phone="+14155552671", address=ADDRESS),
    )
    second = await take(
        hub,
        hub.market,
        buyer_order("E-1", email="ADA@x.io", buyer_id="b1", placed=T0 + timedelta(1)),
    )
    await match_all(hub)
    customer, _ = await customer_of(hub, first.id)
    before = (await histories(hub.container.uow, [customer.id], "USD"))[customer.id]

    done = await forget_customer(hub.container.uow, customer.id, actor="dpo")

    assert (done.identities, done.orders) == (2, 2)
    assert (done.customer.name, done.customer.email, done.customer.phone) == (None, None, None)
    for order in (first, second):
        stored = await hub.order(order.id)
        assert stored.customer.name is None
        assert stored.customer.email is None
        assert stored.customer.phone is None
        assert stored.shipping_address == {}
        assert stored.total_minor == 1000  # the numbers stay
    async with hub.container.uow(readonly=True) as uow:
        identities = await uow.customers.identities([customer.id])
        found = await uow.customers.page(search="ada", first=10, after=None)
    assert all(i.forgotten and i.email is None and i.evidence == ERASED for i in identities)
    assert all(i.keys.present() == [] for i in identities)
    assert found == []
    after = (await histories(hub.container.uow, [customer.id], "USD"))[customer.id]
    assert after == before
    assert after.order_count == 2
    # The buyer coming back is a new customer: nothing of theirs is left to match.
    back = await take(hub, hub.shop, buyer_order("S-9", email="ada@x.io", placed=T0 + timedelta(5)))
    await match_all(hub)
    assert (await customer_of(hub, back.id))[0].id != customer.id


async def test_history_counts_orders_and_values_them_at_each_days_rate(hub: Hub) -> None:
    day1, day2 = T0, T0 + timedelta(days=1)
    async with hub.container.uow() as uow:
        await uow.pricing.set_rate("EUR", "USD", Decimal("1.10"), day1)
        await uow.pricing.set_rate("EUR", "USD", Decimal("1.20"), day2)
        await uow.commit()
    euro = Money(1000, "EUR")
    await take(hub, hub.shop, buyer_order("S-1", email="a@x.io", price=euro, quantity=2))
    await take(hub, hub.shop, buyer_order("S-2", email="a@x.io", price=euro, placed=day2))
    await take(hub, hub.market, buyer_order("E-1", email="a@x.io", placed=day2))
    cancelled = await take(hub, hub.market, buyer_order("E-2", email="a@x.io", placed=day2))
    await cancel_order(hub.container.uow, order_id=cancelled.id, reason="x", key="k", actor="t")
    await match_all(hub)
    customer, _ = await customer_of(hub, cancelled.id)

    found = (await histories(hub.container.uow, [customer.id], "USD"))[customer.id]

    assert (found.order_count, found.open_orders) == (4, 3)
    assert (found.first_order_at, found.last_order_at) == (day1, day2)
    by_channel = {v.channel_id: (v.orders, v.value) for v in found.lifetime_value}
    # Shop: 2 x 10 EUR at 1.10 + 10 EUR at 1.20 = 22.00 + 12.00; market: 10 USD (the
    # cancelled order sold nothing).
    assert by_channel == {hub.shop: (2, Money(3400, "USD")), hub.market: (2, Money(1000, "USD"))}
    assert found.total == 4400
    in_euro = (await histories(hub.container.uow, [customer.id], "EUR"))[customer.id]
    assert in_euro.total == 3000 + 833  # 10 USD at 1/1.20 EUR, half up
