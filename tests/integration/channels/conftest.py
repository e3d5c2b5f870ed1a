"""What the channel tests share: a channel to hang tokens on."""

from __future__ import annotations

import uuid

import pytest

from adapters.container import Container
from domain.channels.availability import AvailabilityRule
from domain.channels.setup import create_channel
from domain.inventory import setup


@pytest.fixture
async def channel_id(container: Container) -> uuid.UUID:
    async with container.uow() as uow:
        location = await setup.create_location(uow, code="wh", name="Warehouse", kind="warehouse")
        channel = await create_channel(
            uow, name="Marketplace", kind="mercadolibre", currency="USD", priority=1,
            location_ids=[location.id], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    return channel.id
