"""The last unit two channels both sold: each conflict policy, and what becomes of the line
that loses (`allocation`, `losing`, `precedence`), on the in-memory unit of work."""

from __future__ import annotations

from datetime import timedelta

from domain.channels.policies import LosingLine
from domain.inventory.alerts import AlertKind
from domain.orders.allocation import allocate
from domain.orders.events import ORDER_TOPIC
from domain.orders.model import ConflictPolicy, LineStatus, OrderStatus
from domain.sync.model import OutboxKind
from tests.stockroom import SKU, T0

from .conftest import Book

LATER = T0 + timedelta(minutes=5)
ALLOCATED = (OrderStatus.ALLOCATED, [LineStatus.ALLOCATED])
SHORT = (OrderStatus.OPEN, [LineStatus.SHORT])


async def test_first_come_takes_the_unit_back_from_an_order_placed_later(book: Book) -> None:
    market = await book.take("Market", "M-1", placed=LATER)
    assert await book.state(market) == ALLOCATED

    shop = await book.take("Shop", "S-1", placed=T0)

    assert await book.state(shop) == ALLOCATED
    assert await book.state(market) == SHORT
    assert await book.holders() == [f"order:{shop.id}"]
    [won] = await book.conflicts(shop)
    [lost] = await book.conflicts(market)
    assert (won.policy, won.winner_order_id, won.resolution) == (
        ConflictPolicy.FIRST_COME, shop.id, "won the last unit from order M-1 (first_come)",
    )  # fmt: skip
    assert (lost.line_id, lost.winner_order_id, lost.resolution) == (
        market.lines[0].id, shop.id, "lost the last unit to order S-1 (first_come); backordered",
    )  # fmt: skip
    async with book.uows(readonly=True) as uow:
        alerts = await uow.alerts.list(acknowledged=None, sku=SKU, first=50, after=None)
    assert [a.kind for a in alerts].count(AlertKind.ORDER_CONFLICT) == 2
    assert await book.room.level("WH1") == (1, 1)
    await book.room.assert_ledger_matches()


async def test_first_come_leaves_the_unit_with_the_order_placed_first(book: Book) -> None:
    shop = await book.take("Shop", "S-1", placed=T0)

    market = await book.take("Market", "M-1", placed=LATER)

    assert (await book.state(shop), await book.state(market)) == (ALLOCATED, SHORT)
    [conflict] = await book.conflicts(market)
    assert conflict.winner_order_id is None
    assert conflict.resolution == "no unit anywhere, none to take back (first_come); backordered"
    assert await book.conflicts(shop) == []


async def test_stamps_of_the_same_shop_second_go_by_arrival_not_by_the_finer_reading(
    book: Book,
) -> None:
    # Shopify stamps whole seconds: .9 and .1 of one second cannot be told apart.
    first_to_arrive = await book.take("Shop", "S-1", placed=T0 + timedelta(milliseconds=900))

    stamped_earlier = await book.take("Shop", "S-2", placed=T0 + timedelta(milliseconds=100))

    assert await book.state(first_to_arrive) == ALLOCATED
    assert await book.state(stamped_earlier) == SHORT


async def test_channel_priority_lets_the_higher_priority_channel_take_the_unit(book: Book) -> None:
    await book.configure("Market", conflict_policy=ConflictPolicy.CHANNEL_PRIORITY)
    shop = await book.take("Shop", "S-1", placed=T0)  # placed first, but priority 1

    market = await book.take("Market", "M-1", placed=LATER)  # priority 5

    assert (await book.state(market), await book.state(shop)) == (ALLOCATED, SHORT)
    [lost] = await book.conflicts(shop)
    assert lost.resolution == "lost the last unit to order M-1 (channel_priority); backordered"


async def test_channel_priority_never_lets_a_lower_priority_channel_take_it(book: Book) -> None:
    await book.configure("Shop", conflict_policy=ConflictPolicy.CHANNEL_PRIORITY)
    market = await book.take("Market", "M-1", placed=LATER)

    shop = await book.take("Shop", "S-1", placed=T0)

    assert (await book.state(market), await book.state(shop)) == (ALLOCATED, SHORT)


async def test_manual_holds_the_line_for_a_person_and_takes_nothing(book: Book) -> None:
    await book.configure(
        "Shop", conflict_policy=ConflictPolicy.MANUAL, losing_lines=LosingLine.CANCEL
    )
    market = await book.take("Market", "M-1", placed=LATER)

    shop = await book.take("Shop", "S-1", placed=T0)  # placed first: first_come would take it

    assert (await book.state(market), await book.state(shop)) == (ALLOCATED, SHORT)
    [held] = await book.conflicts(shop)
    assert (held.policy, held.winner_order_id) == (ConflictPolicy.MANUAL, None)
    assert held.resolution == "held for a person to decide (manual)"  # never cancelled
    assert await book.holders() == [f"order:{market.id}"]


async def test_a_line_that_loses_its_unit_is_cancelled_on_its_channel_when_it_says_so(
    book: Book,
) -> None:
    await book.configure("Market", losing_lines=LosingLine.CANCEL)
    market = await book.take("Market", "M-1", placed=LATER)

    await book.take("Shop", "S-1", placed=T0)

    assert await book.state(market) == (OrderStatus.CANCELLED, [LineStatus.CANCELLED])
    line = market.lines[0]
    told = [r.entry for r in book.uows.committed.outbox.values()]
    assert (book.channels["Market"], OutboxKind.LINE_CANCEL, str(line.id)) in [
        (e.channel_id, e.kind, e.key) for e in told
    ]
    cancelled = [
        e.payload for e in book.uows.published
        if e.topic == ORDER_TOPIC and e.payload["kind"] == "line_cancelled"
    ]  # fmt: skip
    assert [(p["orderId"], p["detail"]) for p in cancelled] == [
        (str(market.id), "M-1-1: lost the last unit to order S-1 (first_come); "
                         "cancelled on its channel"),
    ]  # fmt: skip


async def test_a_contesting_line_with_nothing_to_take_is_cancelled_when_its_channel_says_so(
    book: Book,
) -> None:
    await book.configure("Market", losing_lines=LosingLine.CANCEL)
    await book.take("Shop", "S-1", placed=T0)

    market = await book.take("Market", "M-1", placed=LATER)

    assert await book.state(market) == (OrderStatus.CANCELLED, [LineStatus.CANCELLED])
    [conflict] = await book.conflicts(market)
    assert conflict.resolution.endswith("; cancelled on its channel")


async def test_a_web_store_order_confirmed_at_checkout_is_never_taken_back(book: Book) -> None:
    await book.configure("Market", conflict_policy=ConflictPolicy.CHANNEL_PRIORITY)
    web = await book.take("Web", "W-1", placed=LATER)  # priority 3, placed last

    shop = await book.take("Shop", "S-1", placed=T0)  # first_come: placed first
    market = await book.take("Market", "M-1", placed=T0)  # channel_priority: 5 over 3

    assert await book.state(web) == ALLOCATED
    assert (await book.state(shop), await book.state(market)) == (SHORT, SHORT)
    [kept] = await book.conflicts(shop)
    assert (kept.winner_order_id, kept.resolution) == (
        web.id, "the last unit is order W-1's, confirmed at checkout (first_come); backordered",
    )  # fmt: skip


async def test_a_merchant_order_never_takes_back_a_unit_the_channel_holds(book: Book) -> None:
    await book.take("Shop", "S-0", placed=T0)  # the warehouse's last unit
    amazon = await book.take("Amazon", "A-1", placed=LATER)  # FBA's unit, placed last

    market = await book.take("Market", "M-1", placed=T0 + timedelta(minutes=1))

    assert await book.state(amazon) == ALLOCATED  # placed after M-1, but not M-1's to take
    assert await book.state(market) == SHORT


async def test_a_channel_managed_order_takes_back_the_channels_own_stock(book: Book) -> None:
    later = await book.take("Amazon", "A-1", placed=LATER)

    earlier = await book.take("Amazon", "A-2", placed=T0)

    assert (await book.state(earlier), await book.state(later)) == (ALLOCATED, SHORT)
    [line] = (await book.order(earlier)).lines
    assert line.location_id == book.room.at("FBA")
    assert await book.room.level("WH1") == (1, 0)  # the warehouse's unit is not Amazon's


async def test_allocating_an_order_again_holds_nothing_more(book: Book) -> None:
    shop = await book.take("Shop", "S-1", placed=T0)

    again = await allocate(book.uows, shop.id, actor="test", clock=book.room.clock)

    assert again is not None
    assert [line.reservation_id for line in again.lines] == [
        line.reservation_id for line in (await book.order(shop)).lines
    ]
    assert await book.holders() == [f"order:{shop.id}"]
    assert await book.room.level("WH1") == (1, 1)
