"""The web store never accepts an order its stock does not cover: `placeOrder` hands the
cart's hold to the order in the transaction that stores it, or refuses the order whole."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.container import Container
from domain.errors import IllegalState
from domain.inventory.model import ReservationStatus
from domain.inventory.reservations import expire_reservations, release
from tests.api.test_orders_api import (
    CHECKOUT,
    M_RED,
    ORDERS,
    PLACE_ORDER,
    RESERVATIONS,
    S_RED,
    Shop,
    fields,
    make_shop,
)


@pytest.fixture
async def shop(http: httpx.AsyncClient, staff_key: str, container: Container) -> Shop:
    return await make_shop(http, staff_key, container)


RELEASE_CART = """
mutation($input: ReleaseCartInput!) { releaseCart(input: $input) { userErrors { code } } }"""


async def checkout(
    shop: Shop, cart: str, lines: list[tuple[str, int]], key: str | None = None
) -> bool:
    body = await shop.run(
        CHECKOUT,
        input={"channelId": shop.web, "cartId": cart, "idempotencyKey": key or f"checkout-{cart}",
               "lines": [{"sku": s, "quantity": q} for s, q in lines]},
    )  # fmt: skip
    return not body["checkoutReserve"]["userErrors"]


async def web_orders(shop: Shop) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await shop.run(ORDERS, first=100, after=after, filter={"channelIds": [shop.web]}))[
            "orders"
        ]
        found.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def held_by(shop: Shop, reference: str) -> list[dict[str, Any]]:
    body = await shop.run(RESERVATIONS, reference=reference, status="ACTIVE")
    nodes: list[dict[str, Any]] = body["reservations"]["nodes"]
    return nodes


async def audit_is_clean(shop: Shop) -> bool:
    async with shop.container.uow(readonly=True) as uow:
        return (await uow.inventory.audit()).clean


async def test_shoppers_racing_for_the_last_units_are_each_told_the_truth(shop: Shop) -> None:
    # 10 units of S_RED at WH1; 200 shoppers, 32 in flight: checkoutReserve one unit, then
    # placeOrder when it held. Every fourth shopper also places when its hold was refused,
    # as a store that does not check would. Before the hand-over, the release of a cart
    # let concurrent checkouts take its unit, and "order placed" answers were left SHORT.
    await shop.run(
        "mutation($i: ReceiveStockInput!) { receiveStock(input: $i) { userErrors { code } } }",
        i={"sku": S_RED, "locationId": shop.wh, "quantity": 5, "idempotencyKey": "more"},
    )
    gate = asyncio.Semaphore(32)

    async def shopper(n: int) -> tuple[bool, dict[str, Any]] | None:
        async with gate:
            held = await checkout(shop, f"race-{n}", [(S_RED, 1)])
            if not held and n % 4:
                return None
            placed = await shop.place(f"race-{n}", [(S_RED, 1)])
            return held, placed

    answers = [a for a in await asyncio.gather(*(shopper(n) for n in range(200))) if a]

    accepted = [placed["order"] for _, placed in answers if placed["order"] is not None]
    refused = [placed for _, placed in answers if placed["order"] is None]
    assert all(placed["order"] is not None for held, placed in answers if held)
    assert {f for r in refused for f in fields(r)} <= {("lines[0].quantity", "INSUFFICIENT_STOCK")}
    assert len(accepted) == 10
    assert {o["status"] for o in accepted} == {"ALLOCATED"}
    assert {ln["status"] for o in accepted for ln in o["lines"]} == {"ALLOCATED"}
    stored = await web_orders(shop)
    assert sorted(o["id"] for o in stored) == sorted(o["id"] for o in accepted)
    assert {tuple(t["toStatus"] for t in o["transitions"]) for o in accepted} == {("ALLOCATED",)}
    assert await shop.levels(S_RED) == {"onHand": 14, "reserved": 10, "available": 4}  # ST1: 4
    assert await audit_is_clean(shop)


async def test_a_lapsed_hold_with_no_stock_left_refuses_the_order_and_changes_nothing(
    shop: Shop,
) -> None:
    assert await checkout(shop, "slow", [(S_RED, 1), (M_RED, 2)])
    # The cart's hold lapses; the store holds S_RED again, and another shopper takes all
    # three M_RED.
    body = await shop.run(
        RELEASE_CART, input={"channelId": shop.web, "cartId": "slow", "idempotencyKey": "r-1"}
    )
    assert body["releaseCart"]["userErrors"] == []
    assert await checkout(shop, "slow", [(S_RED, 1)], key="checkout-slow-again")
    assert await checkout(shop, "fast", [(M_RED, 3)])
    before = (await shop.levels(S_RED), await shop.levels(M_RED))

    refused = await shop.place("slow", [(S_RED, 1), (M_RED, 2)])

    assert (fields(refused), refused["order"]) == (
        [("lines[1].quantity", "INSUFFICIENT_STOCK")],
        None,
    )
    assert await web_orders(shop) == []
    assert (await shop.levels(S_RED), await shop.levels(M_RED)) == before
    assert [r["sku"] for r in await held_by(shop, "cart:slow")] == [S_RED]  # kept for a retry
    assert await audit_is_clean(shop)


async def test_a_lapsed_hold_is_held_anew_when_the_stock_is_still_there(shop: Shop) -> None:
    body = await shop.run(
        CHECKOUT,
        input={"channelId": shop.web, "cartId": "late", "idempotencyKey": "late-1",
               "expiresInSeconds": 60, "lines": [{"sku": M_RED, "quantity": 2}]},
    )  # fmt: skip
    assert body["checkoutReserve"]["userErrors"] == []
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert await expire_reservations(shop.container.uow, clock=lambda: later) == 1

    order = await shop.placed("late", [(M_RED, 2)])

    assert order["status"] == "ALLOCATED"
    [line] = order["lines"]
    assert (line["status"], line["routedBy"]) == ("ALLOCATED", "held when the order was placed")
    assert [r["id"] for r in await held_by(shop, f"order:{order['id']}")] == [line["reservationId"]]
    assert await shop.levels(M_RED) == {"onHand": 3, "reserved": 2, "available": 1}
    assert await audit_is_clean(shop)


async def test_a_cart_holding_more_or_less_than_the_order_is_settled_in_one_step(
    shop: Shop,
) -> None:
    assert await checkout(shop, "mixed", [(S_RED, 2), (M_RED, 1)])

    # The shopper took one more S_RED and dropped M_RED before paying.
    order = await shop.placed("mixed", [(S_RED, 3)])

    [line] = order["lines"]
    assert (line["quantity"], line["status"], line["location"]["code"]) == (3, "ALLOCATED", "WH1")
    assert await held_by(shop, "cart:mixed") == []
    held = await held_by(shop, f"order:{order['id']}")
    assert [(r["sku"], r["quantity"]) for r in held] == [(S_RED, 3)]
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 3, "available": 6}
    assert await shop.levels(M_RED) == {"onHand": 3, "reserved": 0, "available": 3}
    assert await audit_is_clean(shop)


async def test_a_cart_placed_many_times_at_once_is_one_order(shop: Shop) -> None:
    assert await checkout(shop, "twice", [(S_RED, 2)])

    answers = await asyncio.gather(
        *(shop.place("twice", [(S_RED, 2)], key=f"place-twice-{n}") for n in range(10))
    )

    assert all(a["userErrors"] == [] for a in answers)
    assert len({a["order"]["id"] for a in answers}) == 1
    assert sorted(a["replayed"] for a in answers) == [False] + [True] * 9
    assert len(await web_orders(shop)) == 1
    assert await shop.levels(S_RED) == {"onHand": 9, "reserved": 2, "available": 7}
    assert await audit_is_clean(shop)


async def test_an_order_for_a_sku_the_hub_does_not_know_is_refused(shop: Shop) -> None:
    assert await checkout(shop, "odd", [(S_RED, 1)])

    refused = await shop.place("odd", [(S_RED, 1), ("NO-SUCH-SKU", 1)])

    assert (fields(refused), refused["order"]) == ([("lines[1].sku", "NOT_FOUND")], None)
    assert await web_orders(shop) == []
    assert [r["sku"] for r in await held_by(shop, "cart:odd")] == [S_RED]
    body = await shop.run(PLACE_ORDER, input=shop.place_input("odd", [(S_RED, 1)]))
    assert body["placeOrder"]["order"]["status"] == "ALLOCATED"


async def test_a_release_or_expiry_read_before_the_hand_over_cannot_take_the_orders_hold(
    shop: Shop,
) -> None:
    # releaseCart and the expiry job read a cart's holds, then close each by id: a hold
    # handed to an order in between stays the order's.
    body = await shop.run(
        CHECKOUT,
        input={"channelId": shop.web, "cartId": "busy", "idempotencyKey": "busy-1",
               "expiresInSeconds": 60, "lines": [{"sku": M_RED, "quantity": 1}]},
    )  # fmt: skip
    assert body["checkoutReserve"]["userErrors"] == []
    uows = shop.container.uow
    async with uows(readonly=True) as uow:
        [stale] = await uow.inventory.lock_reservations(["cart:busy"])

    order = await shop.placed("busy", [(M_RED, 1)])

    with pytest.raises(IllegalState):
        await release(
            uows, reservation_id=stale.id, key="release-busy", actor="t", held_by="cart:busy"
        )
    later = datetime.now(UTC) + timedelta(hours=1)
    async with uows() as uow:
        expired = await uow.inventory.close_reservation(
            stale.id, ReservationStatus.EXPIRED, later, read=stale
        )
        released = await uow.inventory.close_reservation(
            stale.id, ReservationStatus.RELEASED, later, read=stale
        )
    assert (expired, released) == (False, False)
    assert [r["id"] for r in await held_by(shop, f"order:{order['id']}")] == [str(stale.id)]
    assert await shop.levels(M_RED) == {"onHand": 3, "reserved": 1, "available": 2}
    assert await audit_is_clean(shop)
