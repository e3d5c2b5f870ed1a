"""Web store orders that arrive together are placed in one transaction
(`checkout.place_all`, gathered by the process's `CheckoutCounter`): each is placed or
refused exactly as alone, and one refused leaves the others placed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from adapters.container import Container
from api.schema.catalog.inputs import MoneyInput
from api.schema.orders.checkout import channel_order
from domain.channels.model import Channel
from domain.channels.port import ChannelOrder
from domain.errors import InsufficientStock, InvalidInput, NotFound
from domain.orders.checkout import Checkout, place_all
from domain.orders.model import OrderStatus
from tests.api.test_checkout_handover import audit_is_clean, checkout, held_by, web_orders
from tests.api.test_orders_api import M_RED, RECEIVE, S_RED, Shop, make_shop


@pytest.fixture
async def shop(http: httpx.AsyncClient, staff_key: str, container: Container) -> Shop:
    return await make_shop(http, staff_key, container)


def cart(
    channel_id: str, cart_id: str, lines: list[tuple[str, int]], key: str | None = None
) -> Checkout:
    def order_for(channel: Channel) -> ChannelOrder:
        return channel_order(
            channel,
            cart_id=cart_id,
            order_number=None,
            customer={"name": "Ada", "email": "ada@example.com", "phone": None},
            shipping_address={},
            lines=[
                (sku, quantity, MoneyInput(amount="20.00", currency_code="USD"))
                for sku, quantity in lines
            ],
            key=key or f"place-{cart_id}",
            now=datetime.now(UTC),
        )

    return Checkout(uuid.UUID(channel_id), order_for, key or f"place-{cart_id}", "test")


async def test_checkouts_placed_together_are_each_placed_or_refused_as_alone(shop: Shop) -> None:
    # WH1: S_RED 5, M_RED 3. "early" was placed before the batch and its M_RED is gone.
    early = await shop.placed("early", [(M_RED, 1)])
    assert await checkout(shop, "kept", [(S_RED, 1)])
    assert await checkout(shop, "grown", [(M_RED, 1)])
    batch: list[Checkout] = [
        cart(shop.web, "kept", [(S_RED, 1)]),
        cart(shop.web, "grown", [(M_RED, 2)]),  # holds 1 of 2: held anew, its 1 let go
        cart(shop.web, "late", [(M_RED, 1)]),  # no hold, and "grown" took the last M_RED
        cart(shop.web, "odd", [("NO-SUCH-SKU", 1)]),
        cart(shop.web, "kept", [(S_RED, 1)], key="place-kept-again"),  # the same cart twice
        cart(shop.market, "elsewhere", [(S_RED, 1)]),  # not a web store
        cart(shop.web, "early", [(M_RED, 1)]),  # placed already, no stock to hold again
    ]

    kept, grown, late, odd, twin, elsewhere, again = await place_all(shop.container.uow, batch)

    assert isinstance(kept, tuple)
    assert isinstance(grown, tuple)
    assert [kept[1], grown[1]] == [False, False]
    assert {kept[0].status, grown[0].status} == {OrderStatus.ALLOCATED}
    assert isinstance(late, InsufficientStock)
    assert late.field == "lines[0].quantity"
    assert isinstance(odd, NotFound)
    assert odd.field == "lines[0].sku"
    assert twin == (kept[0], True)
    assert isinstance(elsewhere, InvalidInput)
    assert elsewhere.field == "channelId"
    assert isinstance(again, tuple)
    assert (str(again[0].id), again[1]) == (early["id"], True)
    stored = {o["id"]: o for o in await web_orders(shop)}
    assert set(stored) == {early["id"], str(kept[0].id), str(grown[0].id)}
    assert [(r["sku"], r["quantity"]) for r in await held_by(shop, f"order:{grown[0].id}")] == [
        (M_RED, 2)
    ]
    assert await held_by(shop, "cart:grown") == []
    assert await shop.levels(M_RED) == {"onHand": 3, "reserved": 3, "available": 0}
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 1, "available": 8}
    assert await audit_is_clean(shop)


async def test_a_placed_cart_placed_again_after_its_stock_ran_out_is_the_same_order(
    shop: Shop,
) -> None:
    order = await shop.placed("gone", [(M_RED, 3)])  # every M_RED, held afresh

    again = await shop.place("gone", [(M_RED, 3)], key="place-gone-again")

    assert again["userErrors"] == []
    assert (again["order"]["id"], again["replayed"]) == (order["id"], True)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_orders_arriving_together_share_transactions_and_each_holds_its_units(
    shop: Shop,
) -> None:
    await shop.run(RECEIVE, input={"sku": S_RED, "locationId": shop.wh, "quantity": 40,
                                   "idempotencyKey": "more"})  # fmt: skip
    carts = [f"busy-{n}" for n in range(24)]
    for name in carts:
        assert await checkout(shop, name, [(S_RED, 1)])
    counter = shop.container.checkout_counter
    before = counter.batches

    answers = await asyncio.gather(*(shop.place(name, [(S_RED, 1)]) for name in carts))

    assert [a["userErrors"] for a in answers] == [[]] * len(carts)
    assert {a["order"]["status"] for a in answers} == {"ALLOCATED"}
    assert 1 <= counter.batches - before < len(carts)
    for answer in answers:
        order = answer["order"]
        [held] = await held_by(shop, f"order:{order['id']}")
        assert held["id"] == order["lines"][0]["reservationId"]
    assert await shop.levels(S_RED) == {"onHand": 49, "reserved": 24, "available": 25}  # ST1: 4
    assert await audit_is_clean(shop)
