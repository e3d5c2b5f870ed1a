"""Inventory unit tests: the stockroom on the in-memory unit of work, a clock that waits."""

from __future__ import annotations

import pytest

from tests.fakes import FakeUnitOfWorkFactory
from tests.stockroom import Clock, Stockroom, stockroom


@pytest.fixture
def uows() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def room(uows: FakeUnitOfWorkFactory, clock: Clock) -> Stockroom:
    return await stockroom(uows, clock)
