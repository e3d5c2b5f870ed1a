"""A unit taken back from a later order: the loser's line loses it in the same transaction.

`reservations.take_over` releases the later order's hold and makes the winner's in one
transaction. Were the loser's line recorded in a second one, a run that died in between (or
any reader in between: the every-second sweep, the API) would find the loser's line
`allocated` on a hold nobody holds, for good if the run died. The tests stop the winner's run
right after the take-over, as a crash would, and look.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.container import Container, build_container
from adapters.settings import Settings
from domain.inventory import reservations
from domain.inventory.model import ReservationStatus
from domain.orders import allocation_due
from domain.orders.allocation import allocate
from domain.orders.ingest import ingest
from domain.orders.model import LineStatus, Order, OrderStatus, PickStage
from domain.orders.picking import mark_picked
from tests.integration.orders.conftest import T0, Hub, channel_order
from workers.registry import JOBS

pytestmark = pytest.mark.usefixtures("backend")

LEASE = timedelta(seconds=5)


class Crash(Exception):
    """The winner's process dies here."""


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    """The jobs, but none of the periodic ones: the test runs the sweep on its own clock."""
    built = build_container(
        settings, [s for s in JOBS if s.every_seconds is None], retry_base_seconds=0.01
    )
    await built.start()
    try:
        yield built
    finally:
        await built.close()


async def held_nowhere(hub: Hub, order: Order) -> list[uuid.UUID]:
    """The order's lines recorded `allocated` on a hold that is not active and its own."""
    wrong = []
    async with hub.container.uow(readonly=True) as uow:
        for line in order.lines:
            if line.status is not LineStatus.ALLOCATED:
                continue
            assert line.reservation_id is not None
            hold = await uow.inventory.get_reservation(line.reservation_id)
            if (
                hold is None
                or hold.status is not ReservationStatus.ACTIVE
                or hold.reference != f"order:{order.id}"
            ):
                wrong.append(line.id)
    return wrong


async def contest(hub: Hub) -> tuple[Order, uuid.UUID]:
    """A later order holding the last unit, and an earlier one arriving after it, not yet
    reserved (its lease taken at T0)."""
    await hub.receive(1)
    later = await hub.take(hub.market, channel_order("M-1", placed=T0 + timedelta(minutes=5)))
    assert [ln.status for ln in later.lines] == [LineStatus.ALLOCATED]
    earlier = await ingest(
        hub.container.uow, hub.shop, channel_order("S-1", placed=T0), actor="t", clock=lambda: T0
    )
    assert earlier.lease is not None
    return later, earlier.order.id


async def test_a_reader_right_after_the_take_over_finds_the_loser_already_lost(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    later, earlier = await contest(hub)
    real = reservations.take_over
    seen: list[Order] = []

    async def then_look(uows: Any, **kwargs: Any) -> Any:
        taken = await real(uows, **kwargs)
        seen.append(await hub.order(later.id))  # what a sweep or a query reads now
        return taken

    monkeypatch.setattr(reservations, "take_over", then_look)

    won = await allocate(hub.container.uow, earlier, actor="t", clock=lambda: T0)

    assert won is not None
    assert [ln.status for ln in won.lines] == [LineStatus.ALLOCATED]
    [between] = seen
    assert [ln.status for ln in between.lines] == [LineStatus.SHORT]
    assert await held_nowhere(hub, between) == []
    lost = await hub.order(later.id)
    assert [ln.status for ln in lost.lines] == [LineStatus.SHORT]
    async with hub.container.uow(readonly=True) as uow:
        [conflict] = await uow.orders.conflicts(later.id)  # recorded once
    assert conflict.winner_order_id == earlier
    assert conflict.line_id == lost.lines[0].id
    await hub.assert_ledger_clean()


async def test_a_run_dying_right_after_the_take_over_leaves_the_loser_lost_and_no_unit_astray(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    later, earlier = await contest(hub)
    real = reservations.take_over

    async def then_die(uows: Any, **kwargs: Any) -> Any:
        await real(uows, **kwargs)
        raise Crash

    monkeypatch.setattr(reservations, "take_over", then_die)
    with pytest.raises(Crash):
        await allocate(hub.container.uow, earlier, actor="t", clock=lambda: T0)
    monkeypatch.undo()

    lost = await hub.order(later.id)
    assert await held_nowhere(hub, lost) == []
    assert [ln.status for ln in lost.lines] == [LineStatus.SHORT]
    assert lost.status is OrderStatus.OPEN
    async with hub.container.uow(readonly=True) as uow:
        [conflict] = await uow.orders.conflicts(later.id)
    assert conflict.winner_order_id == earlier

    # The winner's allocation is still due: the sweep hands it to a new run, which records
    # the unit the dead run took back.
    at = T0 + LEASE + timedelta(seconds=1)
    assert await allocation_due.sweep(hub.container.uow, lease=LEASE, clock=lambda: at) == [earlier]
    await hub.container.queue.drain()

    won = await hub.order(earlier)
    assert [ln.status for ln in won.lines] == [LineStatus.ALLOCATED]
    assert await held_nowhere(hub, won) == []
    assert await held_nowhere(hub, await hub.order(later.id)) == []
    active = [r for r in await hub.reservations(earlier) if r.status is ReservationStatus.ACTIVE]
    assert [r.id for r in active] == [won.lines[0].reservation_id]
    assert await hub.level() == (1, 1)
    await hub.assert_ledger_clean()


async def test_a_later_order_picked_after_it_was_read_keeps_its_unit(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    later, earlier = await contest(hub)
    real = reservations.take_over

    async def picked_first(uows: Any, **kwargs: Any) -> Any:
        # The picker takes the unit from its bin after the run chose it to take back.
        await mark_picked(
            uows, location_id=hub.warehouse, line_ids=[later.lines[0].id], actor="picker"
        )
        return await real(uows, **kwargs)

    monkeypatch.setattr(reservations, "take_over", picked_first)

    won = await allocate(hub.container.uow, earlier, actor="t", clock=lambda: T0)

    assert won is not None
    assert [ln.status for ln in won.lines] == [LineStatus.SHORT]
    kept = await hub.order(later.id)
    assert [(ln.status, ln.stage) for ln in kept.lines] == [
        (LineStatus.ALLOCATED, PickStage.PICKED)
    ]
    assert await held_nowhere(hub, kept) == []
    async with hub.container.uow(readonly=True) as uow:
        assert await uow.orders.conflicts(later.id) == []
    assert await hub.level() == (1, 1)
    await hub.assert_ledger_clean()
