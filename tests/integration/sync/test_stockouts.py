"""Stockout spells as the hub records what channels confirm, and the `stockouts` report over
them, on both backends: the relay's confirmations open and close spells, and figures from
times set by the test are checked by hand."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.db.tables import stockout_spells
from domain.analytics.stockouts import Stockout, stockout_report
from domain.inventory import stock
from tests.integration.sync.shop import Shop

pytestmark = pytest.mark.usefixtures("backend")


async def spells(shop: Shop) -> list[tuple[str, object, object]]:
    s = stockout_spells.c
    async with shop.container.engine.connect() as conn:
        rows = await conn.execute(
            select(s.sku, s.started_at, s.ended_at).order_by(s.sku, s.started_at)
        )
        return [tuple(r) for r in rows]


async def confirmed_at(shop: Shop, sku: str):  # type: ignore[no-untyped-def]
    async with shop.container.uow(readonly=True) as uow:
        items = await uow.listings.items_on(shop.channel_id, [sku])
    return items[sku][1].confirmed_at


async def test_the_relays_confirmations_open_and_close_spells(shop: Shop) -> None:
    await stock.receive(shop.container.uow, sku="TEE-M", location_id=shop.location_id,
                        quantity=2, key="r1", actor="test")  # fmt: skip
    await shop.drain()  # published: TEE-M 2, TEE-S and TEE-L 0
    opened = await confirmed_at(shop, "TEE-S")
    assert await spells(shop) == [("TEE-L", opened, None), ("TEE-S", opened, None)]

    shop.clock.advance(3600)
    await stock.receive(shop.container.uow, sku="TEE-S", location_id=shop.location_id,
                        quantity=1, key="r2", actor="test")  # fmt: skip
    await shop.drain()
    closed = await confirmed_at(shop, "TEE-S")
    assert closed >= opened + timedelta(hours=1)
    assert await spells(shop) == [("TEE-L", opened, None), ("TEE-S", opened, closed)]

    # A second confirmation of 0 does not open another spell.
    async with shop.container.uow() as uow:
        await uow.listings.confirm(shop.channel_id, [("TEE-L", 0, None)], closed)
        await uow.commit()
    assert len(await spells(shop)) == 2


async def test_stockout_time_per_sku_from_confirmations_at_set_times(shop: Shop) -> None:
    t0 = shop.clock()
    hours = lambda h: t0 + timedelta(hours=h)  # noqa: E731
    confirmations = [  # (hour, SKU, quantity the channel confirmed)
        (0, "TEE-S", 0), (0, "TEE-M", 4), (2, "TEE-S", 3), (3, "TEE-M", 0),
        (5, "TEE-S", 0), (6, "TEE-M", 0), (7, "TEE-M", 1),
    ]  # fmt: skip
    for hour, sku, quantity in confirmations:
        async with shop.container.uow() as uow:
            await uow.listings.confirm(shop.channel_id, [(sku, quantity, None)], hours(hour))
            await uow.commit()

    # Over [1 h, 8 h) with now at 9 h: TEE-S at 0 for [1, 2) and [5, 8): 1 + 3 hours, still
    # out; TEE-M for [3, 7): 4 hours (the 0 at 6 h is the same spell), back since 7 h.
    found = await stockout_report(shop.container.uow, hours(1), hours(8), now=hours(9))
    # Equal times: by SKU.
    assert found == [
        Stockout(shop.channel_id, "TEE-M", spells=1, seconds=4 * 3600, out_now=False),
        Stockout(shop.channel_id, "TEE-S", spells=2, seconds=4 * 3600, out_now=True),
    ]
    # Over [6 h, 7 h): TEE-S the whole hour, TEE-M the whole hour too.
    later = await stockout_report(shop.container.uow, hours(6), hours(7), now=hours(9))
    assert {(o.sku, o.seconds) for o in later} == {("TEE-S", 3600), ("TEE-M", 3600)}


async def test_a_shops_own_edit_to_0_opens_a_spell_and_one_back_up_closes_it(shop: Shop) -> None:
    t0 = shop.clock()
    async with shop.container.uow() as uow:
        await uow.listings.confirm(shop.channel_id, [("TEE-S", 3, None)], t0)
        await uow.commit()
    moves = [(3, 0, 1), (5, 2, 2), (0, 2, 3)]  # (expected, figure, hour): the 5 is stale
    for expected, figure, hour in moves:
        async with shop.container.uow() as uow:
            await uow.inbox.move_confirmed(
                shop.channel_id, "TEE-S", expected, figure, t0 + timedelta(hours=hour)
            )
            await uow.commit()
    opened, closed = t0 + timedelta(hours=1), t0 + timedelta(hours=3)
    assert await spells(shop) == [("TEE-S", opened, closed)]


# PostgreSQL only: SQLite has one writer at a time.
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_concurrent_confirmations_of_0_open_one_spell(shop: Shop) -> None:
    t0 = shop.clock()

    async def confirm(n: int) -> None:
        async with shop.container.uow() as uow:
            await uow.listings.confirm(
                shop.channel_id, [("TEE-S", 0, None), ("TEE-L", n % 2, None)],
                t0 + timedelta(seconds=n),
            )  # fmt: skip
            await uow.commit()

    await asyncio.gather(*(confirm(n) for n in range(12)))

    found = await spells(shop)
    assert [sku for sku, _, _ in found if sku == "TEE-S"] == ["TEE-S"]
    # TEE-L went 0, 1, 0, 1… in some order: never two open spells at once.
    assert sum(1 for sku, _, end in found if sku == "TEE-L" and end is None) <= 1
