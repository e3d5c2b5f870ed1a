"""The in-memory unit of work keeps the rules a transaction keeps (tests/fakes/uow.py); what
the SQL unit of work does alike is checked in tests/integration/test_fakes_agree.py."""

from __future__ import annotations

import asyncio

import pytest

from domain.errors import InsufficientStock
from domain.inventory import reservations
from tests.fakes import FakeUnitOfWorkFactory
from tests.stockroom import SKU, stockroom


async def test_writers_take_turns_so_two_holds_of_the_last_unit_cannot_both_succeed() -> None:
    room = await stockroom(FakeUnitOfWorkFactory())
    await room.receive("WH1", 1)

    outcomes = await asyncio.gather(
        *(
            reservations.reserve(room.uows, sku=SKU, quantity=1, key=f"r-{n}", actor="t")
            for n in range(5)
        ),
        return_exceptions=True,
    )

    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, InsufficientStock) for o in outcomes if isinstance(o, BaseException))
    assert await room.level("WH1") == (1, 1)


async def test_a_writer_opened_inside_another_is_refused_rather_than_waiting_for_ever() -> None:
    uows = FakeUnitOfWorkFactory()

    async with uows():
        with pytest.raises(RuntimeError, match="inside another"):
            async with uows():
                pass
        async with uows(readonly=True):  # a reader beside the writer is fine
            pass


async def test_a_read_only_unit_of_work_cannot_commit_a_write() -> None:
    room = await stockroom(FakeUnitOfWorkFactory())

    async with room.uows(readonly=True) as uow:
        await uow.inventory.ensure_level(SKU, room.at("WH1"))
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()

    assert await room.level("WH1") == (0, 0)


async def test_repositories_exist_only_inside_the_unit_of_work() -> None:
    uows = FakeUnitOfWorkFactory()
    uow = uows()
    async with uow:
        assert await uow.inventory.get_item(SKU) is None

    with pytest.raises(AttributeError):
        await uow.inventory.get_item(SKU)


async def test_a_port_the_fakes_do_not_implement_fails_by_name() -> None:
    async with FakeUnitOfWorkFactory()(readonly=True) as uow:
        with pytest.raises(NotImplementedError, match="no inbox repository"):
            await uow.inbox.get_many([])
