"""What a channel is told for a SKU (`queries.availability_for`), read from the stock and the
channel's rules as they stand: its locations only, never stock the channel holds itself."""

from __future__ import annotations

import uuid

import pytest

from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule, Step
from domain.errors import NotFound
from domain.inventory import queries, reservations
from domain.inventory.events import STOCK_TOPIC
from tests.fakes import FakeUnitOfWorkFactory
from tests.stockroom import SKU, Stockroom


async def published(room: Stockroom, channel: uuid.UUID) -> tuple[int, list[Step]]:
    async with room.uows(readonly=True) as uow:
        found = await queries.availability_for(uow, SKU, channel)
    return found.quantity, found.explanation


async def add_channel(
    room: Stockroom, name: str, codes: list[str], rule: AvailabilityRule
) -> uuid.UUID:
    async with room.uows() as uow:
        channel = await channel_setup.create_channel(
            uow, name=name, kind="amazon", currency="USD", priority=2,
            location_ids=[room.at(code) for code in codes], rule=rule,
        )  # fmt: skip
        await uow.commit()
    return channel.id


async def test_a_channel_is_told_what_its_own_locations_have_available(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    await room.receive("ST1", 2)
    await room.receive("DS1", 50)  # a supplier's stock: it feeds no channel
    await reservations.reserve(
        room.uows, sku=SKU, quantity=3, key="r-1", actor="t", location_id=room.at("WH1")
    )
    await reservations.reserve(room.uows, sku=SKU, quantity=10, key="r-2", actor="t")  # from DS1

    quantity, steps = await published(room, room.shop)

    assert quantity == 4
    assert steps == [
        Step("available at ST1", 2),
        Step("available at WH1", 2),
        Step("sum over the channel's locations", 4),
        Step("allocation 100% (rounded down)", 4),
        Step("minus safety buffer of 0 (not below 0)", 4),
        Step("published quantity", 4),
    ]


async def test_stock_the_channel_holds_itself_is_never_published(room: Stockroom) -> None:
    amazon = await add_channel(room, "Amazon", ["FBA", "WH1"], AvailabilityRule())
    await room.receive("FBA", 40)
    await room.receive("WH1", 3)

    quantity, steps = await published(room, amazon)

    assert quantity == 3
    assert "available at FBA" not in [s.step for s in steps]


async def test_the_channels_rule_and_a_per_sku_override_shape_the_number(room: Stockroom) -> None:
    market = await add_channel(
        room, "Market", ["WH1"], AvailabilityRule(allocation_percent=50, max_quantity=20)
    )
    await room.receive("WH1", 61)
    assert (await published(room, market))[0] == 20  # half of 61 is 30, capped at 20

    async with room.uows() as uow:
        await channel_setup.set_channel_sku_rule(
            uow,
            channel_id=market,
            sku=SKU,
            rule=AvailabilityRule(buffer_quantity=25, max_quantity=None),
        )
        await uow.commit()

    quantity, steps = await published(room, market)
    assert quantity == 5  # 30 minus a buffer of 25; the cap of 20 still the channel's, not hit
    assert steps[-1] == Step("published quantity", 5)


async def test_a_sku_blocked_on_a_channel_is_published_as_zero(room: Stockroom) -> None:
    await room.receive("WH1", 9)
    async with room.uows() as uow:
        await channel_setup.set_channel_sku_rule(
            uow, channel_id=room.shop, sku=SKU, rule=AvailabilityRule(blocked=True)
        )
        await uow.commit()

    assert (await published(room, room.shop))[0] == 0


async def test_an_unknown_channel_or_sku_is_not_found(room: Stockroom) -> None:
    with pytest.raises(NotFound) as channel:
        await published(room, uuid.uuid4())
    async with room.uows(readonly=True) as uow:
        with pytest.raises(NotFound) as sku:
            await queries.availability_for(uow, "NOPE", room.shop)

    assert (channel.value.field, sku.value.field) == ("channelId", "sku")


async def test_each_stock_event_carries_what_every_channel_fed_by_the_level_is_now_told(
    room: Stockroom, uows: FakeUnitOfWorkFactory
) -> None:
    market = await add_channel(room, "Market", ["WH1"], AvailabilityRule(buffer_quantity=1))
    await add_channel(room, "Elsewhere", ["ST1"], AvailabilityRule())
    uows.published.clear()

    await room.receive("WH1", 4)

    [event] = [e for e in uows.published if e.topic == STOCK_TOPIC]
    told = {c["name"]: c["quantity"] for c in event.payload["channels"]}
    assert told == {"Shop": 4, "Market": 3}
    assert told["Market"] == (await published(room, market))[0]
