"""The in-memory fakes (tests/fakes) against the SQLite unit of work: the same scenarios,
the same outcomes. What the unit tests prove on the fakes holds for SQL only while these
pass: each repository refuses what the SQL one refuses, and a unit of work hides and drops
what it did not commit, as a transaction does."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.container import build_container
from adapters.settings import Settings
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.outbox import Dirty
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.errors import IdempotencyKeyReused, InsufficientStock
from domain.inventory import hold_requests, reservations
from domain.inventory.hold_requests import LineMode, LineRequest
from domain.inventory.idempotency import Operation
from domain.inventory.model import (
    LevelChange,
    LevelDelta,
    LocationKind,
    Movement,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from domain.inventory.zones import Zone
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.ingest import ingest
from domain.orders.model import LineStatus, OrderStatus
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.sync.model import OutboxKind, OutboxStatus
from tests.fakes import FakeUnitOfWorkFactory
from tests.stockroom import SKU, T0, Stockroom, stockroom


@pytest.fixture(params=["fake", "sqlite"])
async def uows(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[UnitOfWorkFactory]:
    if request.param == "fake":
        yield FakeUnitOfWorkFactory()
        return
    path = tmp_path / "nexo.db"
    shutil.copyfile(sqlite_template, path)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{path}",
        redis_url=None,
        environment="dev",
        secret_key_file=tmp_path / "secret.key",
        gc_freeze=False,
    )
    # No job runs: the queue knows none (a requested relay run is logged and dropped), so
    # nothing but the scenario touches the database.
    container = build_container(settings)
    try:
        yield container.uow
    finally:
        await container.close()


@pytest.fixture
async def room(uows: UnitOfWorkFactory) -> Stockroom:
    return await stockroom(uows)


def held(room: Stockroom, quantity: int, *, owner: str = "cart:1") -> Reservation:
    return Reservation(
        uuid.uuid4(), SKU, room.at("WH1"), quantity, ReservationStatus.ACTIVE, owner, T0,
        expires_at=T0 + timedelta(minutes=10),
    )  # fmt: skip


def ledger_row(reservation: Reservation, key: str) -> Movement:
    return hold_requests.reserve_movement(reservation, "test", key, T0)


def claim(key: str) -> Operation:
    return Operation(key, "reserve", "f" * 64, "test", T0, {"reservationId": "x"})


async def hold(uow: UnitOfWork, reservation: Reservation, key: str) -> None:
    """The reservation recorded and its level changed, as the hold writer does."""
    await uow.inventory.record_holds(
        [claim(key)], [(key, reservation)], [ledger_row(reservation, key)]
    )
    delta = LevelDelta(reservation.sku, reservation.location_id, 0, reservation.quantity, True)
    assert await uow.inventory.change_levels([delta]) != [None]


# Level changes: conditional, never clamped


async def test_a_level_change_is_refused_exactly_when_the_invariant_would_break(
    room: Stockroom,
) -> None:
    wh = room.at("WH1")
    async with room.uows() as uow:
        missing = await uow.inventory.change_level(SKU, wh, 5, 0, sellable=True)
        await uow.inventory.ensure_level(SKU, wh)
        received = await uow.inventory.change_level(SKU, wh, 5, 0, sellable=True)
        refused = [
            await uow.inventory.change_level(SKU, wh, 0, 6, sellable=True),  # reserved > on hand
            await uow.inventory.change_level(SKU, wh, 0, -1, sellable=True),  # reserved < 0
            await uow.inventory.change_level(SKU, wh, -6, 0, sellable=True),  # on hand < 0
            await uow.inventory.count_level(SKU, wh, 9, 4, sellable=True),  # not as expected
        ]
        held_all = await uow.inventory.change_level(SKU, wh, 0, 5, sellable=True)
        below_held = await uow.inventory.count_level(SKU, wh, 4, 5, sellable=True)
        at_store = await uow.inventory.change_level(SKU, room.at("FBA"), 1, 0, sellable=False)
        await uow.commit()

    assert missing is None
    assert received == LevelChange(StockLevel(SKU, wh, 5, 0, 1), 0, 5)
    assert refused == [None, None, None, None]
    assert held_all == LevelChange(StockLevel(SKU, wh, 5, 5, 2), 5, 0)
    assert below_held is None
    assert at_store is None  # no level there yet
    assert await room.level("WH1") == (5, 5)
    assert await room.sellable() == 0


async def test_levels_changed_together_each_report_the_total_stepping_through_them(
    room: Stockroom,
) -> None:
    await room.receive("WH1", 3)
    await room.receive("ST1", 2)
    async with room.uows() as uow:
        changes = await uow.inventory.change_levels(
            [
                LevelDelta(SKU, room.at("WH1"), 0, 2, True),
                LevelDelta(SKU, room.at("ST1"), 0, 3, True),  # refused: only 2 there
                LevelDelta(SKU, room.at("FBA"), 0, 1, False),  # no level: refused
            ]
        )

    assert [(c.sku_available_before, c.sku_available_after) if c else None for c in changes] == [
        (5, 3), None, None,
    ]  # fmt: skip


async def test_holds_recorded_together_claim_each_key_once(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    first, second, again = held(room, 1), held(room, 1), held(room, 1)
    async with room.uows() as uow:
        await uow.operations.claim(claim("taken"))
        claimed = await uow.inventory.record_holds(
            [claim("a"), claim("taken"), claim("b")],
            [("a", first), ("taken", again), ("b", second)],
            [ledger_row(first, "a"), ledger_row(again, "taken"), ledger_row(second, "b")],
        )
        stored = [await uow.inventory.get_reservation(r.id) for r in (first, again, second)]
        await uow.commit()

    assert claimed == {"a", "b"}
    assert [r is not None for r in stored] == [True, False, True]


async def test_a_hold_changes_the_levels_its_claimed_keys_hold_and_says_which_refused(
    room: Stockroom,
) -> None:
    await room.receive("WH1", 2)
    wh = room.at("WH1")
    one, two, again = held(room, 1), held(room, 2), held(room, 1)
    sellable = {(SKU, wh): True}
    async with room.uows() as uow:
        await uow.operations.claim(claim("taken"))
        claimed, levels = await uow.inventory.hold(
            [claim("a"), claim("taken")],
            [("a", one), ("taken", again)],
            [ledger_row(one, "a"), ledger_row(again, "taken")],
            sellable,
        )
        too_many, refused = await uow.inventory.hold(
            [claim("b")], [("b", two)], [ledger_row(two, "b")], sellable
        )

    assert claimed == {"a"}
    [(delta, change)] = levels
    assert (delta.reserved_delta, change) == (1, LevelChange(StockLevel(SKU, wh, 2, 1, 2), 2, 1))
    assert too_many == {"b"}  # claimed, but its level cannot take it: the caller rolls back
    assert [(d.reserved_delta, c) for d, c in refused] == [(2, None)]


# Reservations: closing, splitting, handing over, listing


async def test_a_reservation_closes_once_and_only_as_it_was_read(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    cart = held(room, 1)
    async with room.uows() as uow:
        await hold(uow, cart, "h")
        handed = await uow.inventory.hand_over({cart.id: "order:1", uuid.uuid4(): "order:1"})
        stale_owner = await uow.inventory.close_reservation(
            cart.id, ReservationStatus.RELEASED, T0, read=cart
        )
        current = await uow.inventory.get_reservation(cart.id)
        assert current is not None
        not_due = await uow.inventory.close_reservation(
            cart.id, ReservationStatus.EXPIRED, T0, read=current
        )
        released = await uow.inventory.close_reservation(cart.id, ReservationStatus.RELEASED, T0)
        twice = await uow.inventory.close_reservation(cart.id, ReservationStatus.RELEASED, T0)
        await uow.commit()

    assert (handed, stale_owner, not_due, released, twice) == (1, False, False, True, False)
    assert current.expires_at is None  # an order's hold does not expire


async def test_a_reservation_splits_only_when_it_holds_more_than_the_part(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    whole = held(room, 3)
    part, too_big = held(room, 2), held(room, 3)
    async with room.uows() as uow:
        await hold(uow, whole, "h")
        split = await uow.inventory.split_reservation(whole.id, 2, part)
        not_split = await uow.inventory.split_reservation(whole.id, 1, too_big)
        left = await uow.inventory.get_reservation(whole.id)
        await uow.commit()

    assert (split, not_split) == (True, False)
    assert left is not None
    assert left.quantity == 1
    assert sorted(r.quantity for r in await room.reservations()) == [1, 2]


async def test_holds_list_in_creation_order_and_expire_soonest_first(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    made = [held(room, 1) for _ in range(3)]
    made = [
        Reservation(r.id, r.sku, r.location_id, 1, r.status, r.reference,
                    T0 + timedelta(seconds=n), T0 + timedelta(minutes=3 - n))
        for n, r in enumerate(made)
    ]  # fmt: skip
    async with room.uows() as uow:
        for n, r in enumerate(made):
            await hold(uow, r, f"h-{n}")
        await uow.commit()

    async with room.uows(readonly=True) as uow:
        listed = await uow.inventory.list_reservations(
            sku=SKU, status=ReservationStatus.ACTIVE, reference="cart:1", first=2, after=None
        )
        due = await uow.inventory.expired_reservations(T0 + timedelta(minutes=2), 10)
    assert [r.id for r in listed] == [made[0].id, made[1].id]
    assert [r.id for r in due] == [made[2].id, made[1].id]


# Transactions


async def test_what_a_unit_of_work_has_not_committed_no_one_else_sees(room: Stockroom) -> None:
    await room.receive("WH1", 5)
    async with room.uows() as writer:
        change = await writer.inventory.change_level(SKU, room.at("WH1"), 0, 2, sellable=True)
        assert change is not None
        async with room.uows(readonly=True) as reader:
            seen = await reader.inventory.snapshot(SKU)
        # leaves without commit

    assert seen is not None
    assert seen.level_at(room.at("WH1")) == StockLevel(SKU, room.at("WH1"), 5, 0, 1)
    assert await room.level("WH1") == (5, 0)


async def test_an_exception_inside_a_unit_of_work_drops_its_changes(room: Stockroom) -> None:
    async def fail_midway() -> None:
        async with room.uows() as uow:
            await uow.inventory.ensure_level(SKU, room.at("WH1"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_midway()

    async with room.uows(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot(SKU)
    assert snapshot is not None
    assert snapshot.levels == ()


async def test_a_committed_change_is_seen_by_units_of_work_that_begin_after(
    room: Stockroom,
) -> None:
    async with room.uows() as uow:
        await uow.inventory.ensure_level(SKU, room.at("ST1"))
        await uow.commit()
        await uow.inventory.ensure_level(SKU, room.at("WH1"))  # after the commit: not kept

    async with room.uows(readonly=True) as uow:
        snapshot = await uow.inventory.snapshot(SKU)
    assert snapshot is not None
    assert [e.location_code for e in snapshot.levels] == ["ST1"]


# Use cases, end to end


async def test_reserving_beyond_what_is_available_is_refused(room: Stockroom) -> None:
    await room.receive("WH1", 2)

    with pytest.raises(InsufficientStock):
        await reservations.reserve(room.uows, sku=SKU, quantity=3, key="r-1", actor="t")

    assert await room.level("WH1") == (2, 0)
    assert await room.reservations() == []


async def test_releasing_restores_what_was_available(room: Stockroom) -> None:
    await room.receive("WH1", 2)
    made = await reservations.reserve(room.uows, sku=SKU, quantity=2, key="r-1", actor="t")

    await reservations.release(room.uows, reservation_id=made.reservation.id, key="x", actor="t")

    assert await room.level("WH1") == (2, 0)
    assert await room.sellable() == 2
    await room.assert_ledger_matches()


async def test_a_replayed_key_returns_the_same_reservation(room: Stockroom) -> None:
    await room.receive("WH1", 2)
    first = await reservations.reserve(room.uows, sku=SKU, quantity=1, key="r-1", actor="t")

    again = await reservations.reserve(room.uows, sku=SKU, quantity=1, key="r-1", actor="t")
    with pytest.raises(IdempotencyKeyReused):
        await reservations.reserve(room.uows, sku=SKU, quantity=2, key="r-1", actor="t")

    assert (again.replayed, again.reservation) == (True, first.reservation)
    assert await room.level("WH1") == (2, 1)


async def test_partial_lines_hold_what_fits_and_replay_alike(room: Stockroom) -> None:
    await room.receive("WH1", 3)
    lines = [LineRequest(SKU, 2), LineRequest(SKU, 2)]

    first = await reservations.reserve_lines(
        room.uows, lines=lines, mode=LineMode.PARTIAL, key="l-1", actor="t"
    )
    again = await reservations.reserve_lines(
        room.uows, lines=lines, mode=LineMode.PARTIAL, key="l-1", actor="t"
    )

    assert [o.reservation is not None for o in first.lines] == [True, False]
    assert [o.reservation for o in again.lines] == [o.reservation for o in first.lines]
    assert await room.level("WH1") == (3, 2)


async def test_expiry_releases_what_is_due(room: Stockroom) -> None:
    await room.receive("WH1", 3)
    await reservations.reserve(
        room.uows, sku=SKU, quantity=2, key="r-1", actor="t", expires_in_seconds=60,
        clock=lambda: T0,
    )  # fmt: skip

    early = await reservations.expire_reservations(room.uows, clock=lambda: T0)
    due = await reservations.expire_reservations(room.uows, clock=lambda: T0 + timedelta(minutes=1))

    assert (early, due) == (0, 1)
    assert [r.status for r in await room.reservations()] == [ReservationStatus.EXPIRED]
    assert await room.level("WH1") == (3, 0)
    await room.assert_ledger_matches()


# Locations


async def test_locations_read_back_with_their_zones_and_their_kinds(room: Stockroom) -> None:
    async with room.uows() as uow:
        await uow.inventory.set_zones(
            room.at("WH1"), [Zone("US", "NY"), Zone("DE"), Zone("US", "CA")]
        )
        await uow.commit()
    async with room.uows(readonly=True) as uow:
        every = await uow.inventory.list_locations()
        by_id = await uow.inventory.get_location(room.at("WH1"))
        by_code = await uow.inventory.get_location_by_code("WH1")
        kinds = await uow.inventory.location_kinds([room.at("DS1"), room.at("WH1"), uuid.uuid4()])
        assert await uow.inventory.get_location(uuid.uuid4()) is None
    zoned = (Zone("DE"), Zone("US", "CA"), Zone("US", "NY"))
    assert [loc.code for loc in every] == sorted(room.locations)
    assert {loc.code: loc.zones for loc in every} == {
        code: zoned if code == "WH1" else () for code in room.locations
    }
    assert by_id == by_code == next(loc for loc in every if loc.code == "WH1")
    assert kinds == {room.at("WH1"): LocationKind.WAREHOUSE, room.at("DS1"): LocationKind.DROPSHIP}


# Channels and the outbox


async def test_a_channel_reads_back_with_its_locations_in_the_order_given(room: Stockroom) -> None:
    # Routing ships from "the channel's locations in their configured order": kept as given
    # (the stockroom names WH1 then ST1), not in id order.
    async with room.uows(readonly=True) as uow:
        shop = await uow.channels.get(room.shop)
        every = {c.id: c for c in await uow.channels.all()}
    assert shop is not None
    assert shop.location_ids == (room.at("WH1"), room.at("ST1"))
    assert every[room.shop].location_ids == shop.location_ids


async def test_a_key_waiting_in_the_outbox_is_one_row_however_often_it_is_marked(
    room: Stockroom,
) -> None:
    dirty = [Dirty(room.shop, OutboxKind.QUANTITY, SKU), Dirty(room.shop, OutboxKind.PRICE, SKU)]
    async with room.uows() as uow:
        new = await uow.outbox.mark(dirty, T0)
        again = await uow.outbox.mark(dirty[:1], T0)
        taken = await uow.outbox.claim(room.shop, T0, 10)
        while_sending = await uow.outbox.mark(dirty[:1], T0)
        busy = await uow.outbox.claim(room.shop, T0, 10)
        await uow.commit()

    assert (new, again, while_sending) == ({room.shop}, set(), {room.shop})
    assert sorted(e.kind for e in taken) == [OutboxKind.PRICE, OutboxKind.QUANTITY]
    assert {e.status for e in taken} == {OutboxStatus.PROCESSING}
    assert busy == []  # the new mark waits for the send of its key to finish


# Orders


async def test_first_come_takes_the_last_unit_back_from_an_order_placed_later(
    room: Stockroom,
) -> None:
    async with room.uows() as uow:
        market = await channel_setup.create_channel(
            uow, name="Market", kind="ebay", currency="USD", priority=5,
            location_ids=[room.at("WH1")], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    await room.receive("WH1", 1)

    async def take(channel: uuid.UUID, external_id: str, placed: datetime) -> uuid.UUID:
        line = ChannelOrderLine(f"{external_id}-1", SKU, 1, Money(1000, "USD"))
        incoming = ChannelOrder(external_id, external_id, placed, placed, "paid", (line,))
        room.clock.advance(seconds=1)
        taken = await ingest(room.uows, channel, incoming, actor="t", clock=room.clock)
        await allocate(room.uows, taken.order.id, actor="t", clock=room.clock)
        again = await ingest(room.uows, channel, incoming, actor="t")  # delivered twice: one order
        assert (again.created, again.order.id) == (False, taken.order.id)
        return taken.order.id

    late = await take(market.id, "M-1", T0 + timedelta(minutes=5))
    early = await take(room.shop, "S-1", T0)

    async with room.uows(readonly=True) as uow:
        orders = [await uow.orders.get(early), await uow.orders.get(late)]
        conflicts = await uow.orders.conflicts(early) + await uow.orders.conflicts(late)
        history = await uow.orders.transitions(late)
    assert [(o.status, [ln.status for ln in o.lines]) for o in orders if o] == [
        (OrderStatus.ALLOCATED, [LineStatus.ALLOCATED]),
        (OrderStatus.OPEN, [LineStatus.SHORT]),
    ]
    assert [c.resolution for c in conflicts] == [
        "won the last unit from order M-1 (first_come)",
        "lost the last unit to order S-1 (first_come); backordered",
    ]
    assert [(t.from_status, t.to_status) for t in history] == [
        (None, OrderStatus.OPEN),
        (OrderStatus.OPEN, OrderStatus.ALLOCATED),
        (OrderStatus.ALLOCATED, OrderStatus.OPEN),
    ]
    assert [r.reference for r in await room.reservations(ReservationStatus.ACTIVE)] == [
        f"order:{early}"
    ]
    await room.assert_ledger_matches()
