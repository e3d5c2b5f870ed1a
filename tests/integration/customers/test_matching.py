"""Buyers of every channel matched into customers by explainable rules, on both backends."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from domain.customers.linking import match_buyers
from domain.customers.matching import Rule
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


async def test_one_mailbox_spelled_two_ways_on_two_channels_is_one_customer(hub: Hub) -> None:
    first = await take(
        hub,
        hub.shop,
        buyer_order(
            "S-1", email="A.Da+shop@GoogleMail.com", buyer_id="gid://Customer/7", name="Ada"
        ),
    )
    second = await take(
        hub,
        hub.market,
        buyer_order("E-1", email="ada@gmail.com", name="ada_99", placed=T0 + timedelta(1)),
    )
    assert await match_all(hub) == 2

    (one, shop_id), (other, market_id) = (
        await customer_of(hub, first.id),
        await customer_of(hub, second.id),
    )
    assert one.id == other.id
    assert (shop_id.rule, market_id.rule) == (Rule.NEW, Rule.EMAIL)
    assert shop_id.buyer_ref == "id:gid://Customer/7"
    assert market_id.buyer_ref == "email:ada@gmail.com"  # a guest: known by the mailbox
    assert market_id.evidence == f"same e-mail (ada@gmail.com) as identity {shop_id.id}"
    assert one.email == "A.Da+shop@GoogleMail.com"  # as first given


async def test_phone_and_address_with_name_match_but_a_name_alone_never_does(hub: Hub) -> None:
    base = await take(
        hub,
        hub.shop,
        buyer_order("S-1", phone="(415) 555-2671", name="Ada Lovelace", address=ADDRESS),
    )
    by_phone = await take(
        hub,
        hub.market,
        buyer_order("E-1", phone="+1 415-555-2671", name="A. L.", placed=T0 + timedelta(1)),
    )
    moved = {**ADDRESS, "line1": "1 main st."}
    by_address = await take(
        hub,
        hub.market,
        buyer_order(
            "E-2", name="LOVELACE ada", address=moved, buyer_id="b-2", placed=T0 + timedelta(2)
        ),
    )
    same_name = await take(hub, hub.market, buyer_order("E-3", name="Ada Lovelace", buyer_id="b-3"))
    await match_all(hub)

    customer, _ = await customer_of(hub, base.id)
    assert (await customer_of(hub, by_phone.id))[1].rule is Rule.PHONE
    found, identity = await customer_of(hub, by_address.id)
    assert found.id == customer.id
    assert identity.rule is Rule.ADDRESS_AND_NAME
    stranger, alone = await customer_of(hub, same_name.id)
    assert stranger.id != customer.id
    assert alone.rule is Rule.NEW


async def test_matching_again_changes_nothing_and_a_known_buyer_keeps_their_identity(
    hub: Hub,
) -> None:
    first = await take(hub, hub.shop, buyer_order("S-1", buyer_id="c-1", email="ada@x.io"))
    assert await match_all(hub) == 1
    assert await match_all(hub) == 0  # nothing left to match: a replayed run is a no-op
    later = await take(
        hub,
        hub.shop,
        buyer_order(
            "S-2",
            buyer_id="c-1",
            email="ada@new.io",
            phone="+14155552671",
            placed=T0 + timedelta(2),
        ),
    )
    assert await match_all(hub) == 1

    (one, identity), (other, again) = (
        await customer_of(hub, first.id),
        await customer_of(hub, later.id),
    )
    assert one.id == other.id
    assert identity.id == again.id
    assert again.email == "ada@new.io"
    assert again.keys.phone == "+14155552671"
    assert again.last_seen_at == T0 + timedelta(2)
    assert again.first_seen_at == T0
    # Its new keys let a later buyer find it.
    third = await take(
        hub, hub.market, buyer_order("E-9", phone="415 555 2671", address={"country": "US"})
    )
    await match_all(hub)
    assert (await customer_of(hub, third.id))[0].id == one.id


async def test_a_buyer_who_left_no_trace_is_a_customer_of_their_own(hub: Hub) -> None:
    first = await take(hub, hub.shop, buyer_order("S-1"))
    second = await take(hub, hub.shop, buyer_order("S-2"))
    await match_all(hub)
    (one, identity), (other, _) = (
        await customer_of(hub, first.id),
        await customer_of(hub, second.id),
    )
    assert one.id != other.id
    assert identity.buyer_ref == "order:S-1"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_orders_of_one_new_buyer_matched_at_once_make_one_customer(hub: Hub) -> None:
    """Several matchers at once, each handed other orders (SKIP LOCKED): the buyers' keys are
    held until commit, so each buyer is one customer however their orders were shared out."""
    buyers = [f"buyer{n}@example.com" for n in range(4)]
    taken = []
    for n in range(16):
        channel = hub.shop if n % 2 else hub.market
        order = buyer_order(f"O-{n}", email=buyers[n % 4], placed=T0 + timedelta(seconds=n))
        taken.append(await take(hub, channel, order))

    runs = await asyncio.gather(*(match_buyers(hub.container.uow, limit=2) for _ in range(8)))
    assert sum(runs) == 16

    customers: dict[str, set[object]] = {}
    for n, order in enumerate(taken):
        customer, _ = await customer_of(hub, order.id)
        customers.setdefault(buyers[n % 4], set()).add(customer.id)
    assert all(len(ids) == 1 for ids in customers.values()), customers
    assert len({next(iter(ids)) for ids in customers.values()}) == 4
