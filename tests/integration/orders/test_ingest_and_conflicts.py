"""Taking orders in exactly once, reserving them, and the last unit two channels both sold."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.container import Container
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.config import ChannelConfig
from domain.channels.policies import ConflictPolicy
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.errors import IllegalState, InvalidInput, InvalidQuantity
from domain.inventory import queries, setup, stock
from domain.inventory.model import ReservationStatus
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.cancelling import cancel_order
from domain.orders.fulfilment import create_shipment, return_lines
from domain.orders.ingest import ingest, map_line_sku
from domain.orders.model import LineStatus, OrderStatus

pytestmark = pytest.mark.usefixtures("backend")
SKU = "LAST-1"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass
class Book:
    container: Container
    warehouse: uuid.UUID
    shop: uuid.UUID  # priority 1
    market: uuid.UUID  # priority 5: wins under channel_priority


def channel_order(
    external_id: str, sku: str = SKU, quantity: int = 1, *, placed: datetime = T0,
    updated: datetime | None = None, status: str = "paid",
) -> ChannelOrder:  # fmt: skip
    return ChannelOrder(
        external_id=external_id,
        number=f"#{external_id}",
        updated_at=updated or placed,
        placed_at=placed,
        status=status,
        lines=(ChannelOrderLine(f"{external_id}-1", sku, quantity, Money(1000, "USD")),),
        customer={"name": "Ada", "email": "ada@example.com", "phone": None},
    )


@pytest.fixture
async def book(container: Container) -> Book:
    async with container.uow() as uow:
        wh = await setup.create_location(uow, code="WH", name="Warehouse", kind="warehouse")
        await setup.create_inventory_item(uow, sku=SKU)
        await setup.create_inventory_item(uow, sku="OTHER-1")
        shop = await channel_setup.create_channel(
            uow, name="Shop", kind="shopify", currency="USD", priority=1,
            location_ids=[wh.id], rule=AvailabilityRule(),
        )  # fmt: skip
        market = await channel_setup.create_channel(
            uow, name="Market", kind="ebay", currency="USD", priority=5,
            location_ids=[wh.id], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    await stock.receive(container.uow, sku=SKU, location_id=wh.id, quantity=1, key="r", actor="t")
    return Book(container, wh.id, shop.id, market.id)


async def policy(book: Book, channel: uuid.UUID, chosen: ConflictPolicy) -> None:
    async with book.container.uow() as uow:
        config = await uow.channel_configs.get(channel) or ChannelConfig(channel)
        await uow.channel_configs.save(replace(config, conflict_policy=chosen, updated_at=T0))
        await uow.commit()


async def take(book: Book, channel: uuid.UUID, order: ChannelOrder) -> uuid.UUID:
    taken = await ingest(book.container.uow, channel, order, actor="test")
    await allocate(book.container.uow, taken.order.id, actor="test")
    return taken.order.id


async def state(book: Book, order_id: uuid.UUID) -> tuple[OrderStatus, list[LineStatus]]:
    async with book.container.uow(readonly=True) as uow:
        order = await uow.orders.get(order_id)
    assert order is not None
    return order.status, [line.status for line in order.lines]


async def active_reservations(book: Book, sku: str = SKU) -> list[str | None]:
    async with book.container.uow(readonly=True) as uow:
        found = await uow.inventory.list_reservations(
            sku=sku, status=ReservationStatus.ACTIVE, reference=None, first=100, after=None
        )
    return [r.reference for r in found]


async def assert_stock_sane(book: Book) -> None:
    async with book.container.uow(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot(SKU)
        report = await queries.audit(uow)
    assert snapshot is not None
    assert all(0 <= e.level.reserved <= e.level.on_hand for e in snapshot.levels)
    assert report.mismatches == []


async def test_the_same_order_delivered_ten_times_at_once_is_one_order_with_one_hold(
    book: Book,
) -> None:
    order = channel_order("1001")

    taken = await asyncio.gather(
        *(ingest(book.container.uow, book.shop, order, actor="test") for _ in range(10))
    )
    ids = {t.order.id for t in taken}
    assert len(ids) == 1
    assert sum(t.created for t in taken) == 1
    [order_id] = ids
    await asyncio.gather(*(allocate(book.container.uow, order_id, actor="t") for _ in range(10)))

    assert await state(book, order_id) == (OrderStatus.ALLOCATED, [LineStatus.ALLOCATED])
    assert await active_reservations(book) == [f"order:{order_id}"]
    await assert_stock_sane(book)


async def test_only_a_newer_version_from_the_channel_is_applied(book: Book) -> None:
    first = await ingest(book.container.uow, book.shop, channel_order("1002"), actor="t")
    older = channel_order("1002", status="cancelled", updated=T0 - timedelta(minutes=1))
    newer = channel_order("1002", status="cancelled", updated=T0 + timedelta(minutes=1))

    stale = await ingest(book.container.uow, book.shop, older, actor="t")
    fresh = await ingest(book.container.uow, book.shop, newer, actor="t")

    assert (stale.applied, stale.order.status) == (False, OrderStatus.OPEN)
    assert (fresh.applied, fresh.order.status) == (True, OrderStatus.CANCELLED)
    assert fresh.order.id == first.order.id


async def test_an_unknown_sku_keeps_the_order_flagged_until_it_is_mapped(book: Book) -> None:
    taken = await ingest(book.container.uow, book.shop, channel_order("1003", "NOPE"), actor="t")
    assert taken.order.needs_attention
    assert "NOPE" in (taken.order.attention_reason or "")
    assert await allocate(book.container.uow, taken.order.id, actor="t") is not None
    assert await state(book, taken.order.id) == (OrderStatus.OPEN, [LineStatus.OPEN])

    line = taken.order.lines[0]
    mapped = await map_line_sku(book.container.uow, taken.order.id, line.id, SKU, actor="t")
    assert not mapped.needs_attention
    await allocate(book.container.uow, taken.order.id, actor="t")
    assert await state(book, taken.order.id) == (OrderStatus.ALLOCATED, [LineStatus.ALLOCATED])


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("chosen", list(ConflictPolicy))
async def test_two_channels_sell_the_last_unit_at_once(book: Book, chosen: ConflictPolicy) -> None:
    for channel in (book.shop, book.market):
        await policy(book, channel, chosen)
    early = channel_order("S-1", placed=T0)  # on the shop, placed first
    late = channel_order("M-1", placed=T0 + timedelta(seconds=30))  # on the market, later

    shop_order, market_order = await asyncio.gather(
        take(book, book.shop, early), take(book, book.market, late)
    )

    shop_state, market_state = await state(book, shop_order), await state(book, market_order)
    holders = await active_reservations(book)
    assert len(holders) == 1  # exactly one line holds the unit
    if chosen is ConflictPolicy.FIRST_COME:
        assert holders == [f"order:{shop_order}"]  # placed first wins
        assert market_state[1] == [LineStatus.SHORT]
    elif chosen is ConflictPolicy.CHANNEL_PRIORITY:
        assert holders == [f"order:{market_order}"]  # the higher-priority channel wins
        assert shop_state[1] == [LineStatus.SHORT]
    else:  # manual: whoever reserved first keeps it; the other is held for a person
        assert sorted([shop_state[1], market_state[1]]) == [
            [LineStatus.ALLOCATED], [LineStatus.SHORT],
        ]  # fmt: skip
    async with book.container.uow(readonly=True) as uow:
        recorded = await uow.orders.conflicts(shop_order) + await uow.orders.conflicts(market_order)
        alerts = await uow.alerts.list(acknowledged=None, sku=SKU, first=50, after=None)
    assert recorded, "the conflict is recorded with its resolution"
    assert all(c.policy is chosen and c.resolution for c in recorded)
    assert any(a.kind.value == "ORDER_CONFLICT" for a in alerts)
    await assert_stock_sane(book)


async def test_first_come_takes_the_unit_back_from_a_later_order(book: Book) -> None:
    late = await take(book, book.market, channel_order("M-2", placed=T0 + timedelta(minutes=5)))
    assert (await state(book, late))[1] == [LineStatus.ALLOCATED]

    early = await take(book, book.shop, channel_order("S-2", placed=T0))

    assert (await state(book, early))[1] == [LineStatus.ALLOCATED]
    assert (await state(book, late))[1] == [LineStatus.SHORT]
    assert await active_reservations(book) == [f"order:{early}"]
    await assert_stock_sane(book)


async def test_shipping_commits_the_reservation_and_bad_shipments_change_nothing(
    book: Book,
) -> None:
    order_id = await take(book, book.shop, channel_order("1004"))
    async with book.container.uow(readonly=True) as uow:
        order = await uow.orders.get(order_id)
    assert order is not None
    line = order.lines[0]
    uows = book.container.uow
    elsewhere = uuid.uuid4()
    for bad, error in [
        (dict(lines=[(line.id, 2)], location_id=book.warehouse), InvalidQuantity),
        (dict(lines=[(line.id, 1)], location_id=elsewhere), InvalidInput),
    ]:
        with pytest.raises(error):
            await create_shipment(uows, order_id=order_id, carrier="UPS", tracking_number="1Z",
                                  key="s-bad", actor="t", **bad)  # type: ignore[arg-type]  # fmt: skip
    assert await state(book, order_id) == (OrderStatus.ALLOCATED, [LineStatus.ALLOCATED])

    shipped, shipment = await create_shipment(
        uows, order_id=order_id, lines=[(line.id, 1)], location_id=book.warehouse,
        carrier="UPS", tracking_number="1Z999", key="s-1", actor="t",
    )  # fmt: skip

    assert shipped.status is OrderStatus.SHIPPED
    async with uows(readonly=True) as uow:
        item = await uow.inventory.snapshot(SKU)
        outbox_has = await uow.outbox.status(book.shop, T0 - timedelta(days=1))
    assert item is not None
    assert [(e.level.on_hand, e.level.reserved) for e in item.levels] == [(0, 0)]
    assert outbox_has.pending >= 1  # the channel will be told, with the tracking number
    with pytest.raises(IllegalState):
        await cancel_order(uows, order_id=order_id, reason="too late", key="c-1", actor="t")
    assert shipment.tracking_number == "1Z999"
    await assert_stock_sane(book)


async def test_cancelling_releases_what_the_order_holds(book: Book) -> None:
    order_id = await take(book, book.shop, channel_order("1005"))

    cancelled = await cancel_order(
        book.container.uow, order_id=order_id, reason="customer asked", key="c", actor="t"
    )

    assert cancelled.status is OrderStatus.CANCELLED
    assert await active_reservations(book) == []
    await assert_stock_sane(book)


async def test_the_same_shipment_asked_five_times_at_once_is_one_shipment(book: Book) -> None:
    order_id = await take(book, book.shop, channel_order("1006"))
    async with book.container.uow(readonly=True) as uow:
        order = await uow.orders.get(order_id)
    assert order is not None
    line = order.lines[0]

    answers = await asyncio.gather(
        *(
            create_shipment(
                book.container.uow,
                order_id=order_id,
                lines=[(line.id, 1)],
                location_id=book.warehouse,
                carrier="UPS",
                tracking_number="1Z-SAME",
                key="ship-same",
                actor="t",
            )
            for _ in range(5)
        )
    )

    assert len({shipment.id for _, shipment in answers}) == 1
    async with book.container.uow(readonly=True) as uow:
        assert len(await uow.orders.shipments(order_id)) == 1
        snapshot = await uow.inventory.snapshot(SKU)
    assert snapshot is not None
    assert [(e.level.on_hand, e.level.reserved) for e in snapshot.levels] == [(0, 0)]
    await assert_stock_sane(book)


@pytest.mark.parametrize("restock", [True, False])
async def test_a_returned_line_is_restocked_unless_damaged(book: Book, restock: bool) -> None:
    order_id = await take(book, book.shop, channel_order("1007"))
    async with book.container.uow(readonly=True) as uow:
        order = await uow.orders.get(order_id)
    assert order is not None
    line = order.lines[0]
    with pytest.raises(IllegalState):  # not shipped yet
        await return_lines(book.container.uow, order_id=order_id, line_ids=[line.id],
                           restock=restock, reason="early", key="ret-0", actor="t")  # fmt: skip
    await create_shipment(
        book.container.uow, order_id=order_id, lines=[(line.id, 1)], location_id=book.warehouse,
        carrier="UPS", tracking_number="1Z-RET", key="s", actor="t",
    )  # fmt: skip

    returned = await return_lines(
        book.container.uow, order_id=order_id, line_ids=[line.id], restock=restock,
        reason="wrong size", key="ret-1", actor="t",
    )  # fmt: skip

    assert [ln.status for ln in returned.lines] == [LineStatus.RETURNED]
    async with book.container.uow(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot(SKU)
        movements = await uow.inventory.list_movements(SKU, first=50, after=None)
    assert snapshot is not None
    assert [e.level.on_hand for e in snapshot.levels] == [1 if restock else 0]
    assert ("return" in [m.reason.value for m in movements]) is restock
    await assert_stock_sane(book)
