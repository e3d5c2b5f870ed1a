"""A stock figure edited on a channel's side: the channel's policy, and what accepting an
edit does to the hub's stock (`stock.channel_edit`), on the in-memory unit of work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.policies import StockEditPolicy
from domain.errors import InsufficientStock, NotFound
from domain.inventory import reservations, stock
from domain.inventory.model import MovementReason
from domain.sync.model import OutboxKind
from domain.sync.stock_edits import EditAction, decide, set_stock_edit_policy, sold_since
from tests.fakes import FakeUnitOfWorkFactory
from tests.stockroom import SKU, T0, Stockroom, stockroom

EDITED = datetime(2026, 11, 27, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
async def room() -> Stockroom:
    found = await stockroom(FakeUnitOfWorkFactory())
    await found.receive("WH1", 10)
    return found


async def edit(room: Stockroom, delta: int, key: str = "edit-1") -> stock.StockResult:
    return await stock.channel_edit(
        room.uows, sku=SKU, location_id=room.at("WH1"), delta=delta, key=key,
        actor="channel:Shop", detail="channel showed 13, hub publishes 10", now=EDITED,
    )  # fmt: skip


async def test_the_policy_chosen_is_kept_with_when_it_was_chosen(room: Stockroom) -> None:
    async with room.uows() as uow:
        config = await set_stock_edit_policy(
            uow, room.shop, StockEditPolicy.ACCEPT_CHANNEL_EDITS, now=T0
        )
        await uow.commit()

    async with room.uows(readonly=True) as uow:
        stored = await uow.channel_configs.get(room.shop)
    assert stored == config
    assert (config.stock_edit_policy, config.updated_at) == (
        StockEditPolicy.ACCEPT_CHANNEL_EDITS, T0,
    )  # fmt: skip


async def test_the_policy_of_an_unknown_channel_is_not_found(room: Stockroom) -> None:
    async with room.uows() as uow:
        with pytest.raises(NotFound):
            await set_stock_edit_policy(uow, uuid.uuid4(), StockEditPolicy.HUB_WINS, now=T0)


async def test_an_accepted_edit_changes_the_hubs_stock_and_is_written_in_the_ledger(
    room: Stockroom,
) -> None:
    decision = decide(StockEditPolicy.ACCEPT_CHANNEL_EDITS, reported=13, publishes=10, confirmed=10)
    assert (decision.action, decision.delta) == (EditAction.APPLY, 3)

    result = await edit(room, decision.delta)

    assert [(lv.on_hand, lv.reserved) for lv in result.levels] == [(13, 0)]
    async with room.uows(readonly=True) as uow:
        ledger = await uow.inventory.list_movements(SKU, first=10, after=None)
    accepted = ledger[-1]
    assert (accepted.reason, accepted.on_hand_delta, accepted.actor, accepted.detail) == (
        MovementReason.CHANNEL_EDIT, 3, "channel:Shop", "channel showed 13, hub publishes 10",
    )  # fmt: skip
    await room.assert_ledger_matches()


async def test_an_edit_delivered_twice_is_applied_once(room: Stockroom) -> None:
    await edit(room, -4)

    again = await edit(room, -4)

    assert again.replayed
    assert await room.level("WH1") == (6, 0)


async def test_an_edit_that_would_take_stock_below_what_is_held_is_refused_whole(
    room: Stockroom,
) -> None:
    await reservations.reserve(room.uows, sku=SKU, quantity=8, key="r-1", actor="t")

    with pytest.raises(InsufficientStock, match="on hand 10, reserved 8"):
        await edit(room, -3)

    assert await room.level("WH1") == (10, 8)
    await room.assert_ledger_matches()


async def test_an_accepted_edit_is_published_to_every_channel_fed_by_the_location(
    room: Stockroom,
) -> None:
    uows = room.uows
    assert isinstance(uows, FakeUnitOfWorkFactory)
    async with uows() as uow:
        market = await channel_setup.create_channel(
            uow, name="Market", kind="ebay", currency="USD", priority=5,
            location_ids=[room.at("WH1")], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()

    await edit(room, 2)

    marked = {
        (r.entry.channel_id, r.entry.kind, r.entry.key) for r in uows.committed.outbox.values()
    }
    assert marked == {(room.shop, OutboxKind.QUANTITY, SKU), (market.id, OutboxKind.QUANTITY, SKU)}


def test_an_edit_older_than_a_sale_the_hub_took_is_ignored_as_that_sale_counts_it() -> None:
    decision = decide(StockEditPolicy.ACCEPT_CHANNEL_EDITS, reported=9, publishes=10, confirmed=10)

    same_second = sold_since(decision, "Shop", SKU, EDITED, EDITED)
    after = sold_since(decision, "Shop", SKU, EDITED, EDITED + timedelta(seconds=5))
    before = sold_since(decision, "Shop", SKU, EDITED, EDITED - timedelta(seconds=1))

    assert (
        same_second
        == after
        == (
            "channel showed 9, hub publishes 10, but Shop sold TSHIRT-M since: "
            "the sale's own stock update carries the newer figure"
        )
    )
    assert before is None
    assert sold_since(decision, "Shop", SKU, EDITED, None) is None


def test_a_channel_in_step_is_never_said_to_be_superseded_by_a_sale() -> None:
    decision = decide(StockEditPolicy.ACCEPT_CHANNEL_EDITS, reported=10, publishes=10, confirmed=9)

    assert decision.action is EditAction.IN_STEP
    assert sold_since(decision, "Shop", SKU, EDITED, EDITED + timedelta(hours=1)) is None
