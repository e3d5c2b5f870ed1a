"""Order unit tests: a warehouse with the last unit of a SKU, sold on several channels, on
the in-memory unit of work. Orders are taken in and reserved as the order jobs do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest

from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.config import ChannelConfig
from domain.channels.policies import Fulfilment
from domain.channels.port import ChannelOrder, ChannelOrderLine
from domain.inventory.model import Reservation, ReservationStatus
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.ingest import ingest
from domain.orders.model import Conflict, LineStatus, Order, OrderStatus
from tests.fakes import FakeUnitOfWorkFactory
from tests.stockroom import SKU, T0, Clock, Stockroom, stockroom


@dataclass
class Book:
    room: Stockroom
    channels: dict[str, uuid.UUID]  # by name

    @property
    def uows(self) -> FakeUnitOfWorkFactory:
        assert isinstance(self.room.uows, FakeUnitOfWorkFactory)
        return self.room.uows

    async def configure(self, name: str, **changes: Any) -> None:
        channel = self.channels[name]
        async with self.uows() as uow:
            config = await uow.channel_configs.get(channel) or ChannelConfig(channel)
            await uow.channel_configs.save(replace(config, updated_at=T0, **changes))
            await uow.commit()

    async def take(
        self, name: str, external_id: str, *, placed: datetime = T0, quantity: int = 1
    ) -> Order:
        """The channel's order arrives (a second after the last one) and is reserved."""
        self.room.clock.advance(seconds=1)
        incoming = ChannelOrder(
            external_id=external_id, number=external_id, updated_at=placed, placed_at=placed,
            status="paid",
            lines=(ChannelOrderLine(f"{external_id}-1", SKU, quantity, Money(1000, "USD")),),
        )  # fmt: skip
        clock = self.room.clock
        taken = await ingest(self.uows, self.channels[name], incoming, actor="test", clock=clock)
        allocated = await allocate(self.uows, taken.order.id, actor="test", clock=clock)
        assert allocated is not None
        return allocated

    async def order(self, order: Order) -> Order:
        async with self.uows(readonly=True) as uow:
            found = await uow.orders.get(order.id)
        assert found is not None
        return found

    async def state(self, order: Order) -> tuple[OrderStatus, list[LineStatus]]:
        found = await self.order(order)
        return found.status, [line.status for line in found.lines]

    async def conflicts(self, order: Order) -> list[Conflict]:
        async with self.uows(readonly=True) as uow:
            return await uow.orders.conflicts(order.id)

    async def holders(self) -> list[str | None]:
        """Who holds the SKU's units now (the references of its active reservations)."""
        held: list[Reservation] = await self.room.reservations(ReservationStatus.ACTIVE, SKU)
        return [r.reference for r in held]


@pytest.fixture
async def book() -> Book:
    """WH1 holds the last unit; FBA (the channel's own stock) holds another. Shop (Shopify,
    priority 1) and Market (eBay, priority 5) and Web (the web store, priority 3) sell from
    WH1; Amazon (priority 2) ships its own orders from FBA."""
    room = await stockroom(FakeUnitOfWorkFactory(), Clock())
    channels = {"Shop": room.shop}
    async with room.uows() as uow:
        for name, kind, priority, code in [
            ("Market", "ebay", 5, "WH1"),
            ("Web", "webstore", 3, "WH1"),
            ("Amazon", "amazon", 2, "FBA"),
        ]:
            created = await channel_setup.create_channel(
                uow, name=name, kind=kind, currency="USD", priority=priority,
                location_ids=[room.at(code)], rule=AvailabilityRule(),
            )  # fmt: skip
            channels[name] = created.id
        await uow.commit()
    found = Book(room, channels)
    await found.configure("Amazon", fulfilment=Fulfilment.CHANNEL_MANAGED)
    await room.receive("WH1", 1)
    await room.receive("FBA", 1)
    return found
