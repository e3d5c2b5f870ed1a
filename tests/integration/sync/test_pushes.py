"""The figures the relay sent and has not heard back, as stored (see domain/sync/echoes.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.inventory import stock
from domain.sync.echoes import ECHO_WINDOW
from tests.integration.sync.shop import Shop

pytestmark = pytest.mark.usefixtures("backend")


async def unheard(shop: Shop, sku: str) -> list[int]:
    async with shop.container.uow(readonly=True) as uow:
        found = await uow.pushes.unheard(shop.channel_id, [sku])
    return [s.quantity for s in found.get(sku, [])]


async def test_each_pushed_figure_is_recorded_before_the_shop_answers(shop: Shop) -> None:
    await stock.receive(
        shop.container.uow, sku="TEE-M", location_id=shop.location_id, quantity=7,
        key="r1", actor="test",
    )  # fmt: skip
    await shop.drain()
    assert await unheard(shop, "TEE-M") == [7]
    assert await unheard(shop, "TEE-S") == [0]


async def test_a_figure_is_forgotten_once_heard_or_once_a_later_confirmation_is_old_enough(
    shop: Shop,
) -> None:
    await shop.drain()  # TEE-L: 0 pushed, then confirmed
    later = shop.clock() + ECHO_WINDOW + timedelta(seconds=1)
    async with shop.container.uow() as uow:
        # A push whose answer a crash lost: nothing was confirmed after it went out.
        await uow.pushes.record(shop.channel_id, [("TEE-L", 4)], shop.clock(), shop.clock())
        await uow.commit()
    async with shop.container.uow() as uow:
        await uow.pushes.record(shop.channel_id, [("TEE-L", 5)], later, later - ECHO_WINDOW)
        await uow.commit()
    # The 0 was confirmed long ago: forgotten; the 4 never was: kept, as the new 5.
    assert await unheard(shop, "TEE-L") == [4, 5]
    async with shop.container.uow() as uow:
        found = (await uow.pushes.unheard(shop.channel_id, ["TEE-L"]))["TEE-L"]
        await uow.pushes.heard([s.id for s in found if s.quantity == 4])
        await uow.commit()
    assert await unheard(shop, "TEE-L") == [5]
