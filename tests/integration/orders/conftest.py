"""Order fixtures: a warehouse, a shop (priority 1) and a marketplace (priority 5), each fed by
the warehouse, and the helpers the order tests share, on each backend."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.container import Container
from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.channels.config import ChannelConfig
from domain.channels.port import ChannelFee, ChannelOrder, ChannelOrderLine
from domain.inventory import queries, setup, stock
from domain.inventory.model import Reservation
from domain.money import Money
from domain.orders.allocation import allocate
from domain.orders.ingest import ingest
from domain.orders.model import Order

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SKU = "PART-1"


@dataclass
class Hub:
    container: Container
    warehouse: uuid.UUID
    shop: uuid.UUID  # shopify, priority 1
    market: uuid.UUID  # ebay, priority 5

    async def receive(
        self, quantity: int, location: uuid.UUID | None = None, sku: str = SKU
    ) -> None:
        where = location or self.warehouse
        await stock.receive(
            self.container.uow, sku=sku, location_id=where, quantity=quantity,
            key=f"receive-{sku}-{where}-{uuid.uuid4()}", actor="test",
        )  # fmt: skip

    async def configure(self, channel: uuid.UUID, **changes: Any) -> None:
        async with self.container.uow() as uow:
            config = await uow.channel_configs.get(channel) or ChannelConfig(channel)
            await uow.channel_configs.save(replace(config, updated_at=T0, **changes))
            await uow.commit()

    async def take(self, channel: uuid.UUID, order: ChannelOrder) -> Order:
        """Ingest and reserve, as the order jobs do."""
        taken = await ingest(self.container.uow, channel, order, actor="test")
        allocated = await allocate(self.container.uow, taken.order.id, actor="test")
        assert allocated is not None
        return allocated

    async def order(self, order_id: uuid.UUID) -> Order:
        async with self.container.uow(readonly=True) as uow:
            found = await uow.orders.get(order_id)
        assert found is not None
        return found

    async def level(self, location: uuid.UUID | None = None, sku: str = SKU) -> tuple[int, int]:
        """(on hand, reserved) of the SKU at the location (the warehouse by default)."""
        async with self.container.uow(readonly=True) as uow:
            snapshot = await uow.inventory.snapshot(sku)
        assert snapshot is not None
        level = snapshot.level_at(location or self.warehouse)
        return (level.on_hand, level.reserved) if level else (0, 0)

    async def reservations(self, order_id: uuid.UUID) -> list[Reservation]:
        async with self.container.uow(readonly=True) as uow:
            return await uow.inventory.list_reservations(
                sku=None, status=None, reference=f"order:{order_id}", first=100, after=None
            )

    async def assert_ledger_clean(self) -> None:
        async with self.container.uow(readonly=True) as uow:
            report = await queries.audit(uow)
        assert report.clean, report


def channel_order(
    external_id: str,
    lines: list[tuple[str, int]] | None = None,
    *,
    placed: datetime = T0,
    fees: tuple[ChannelFee, ...] = (),
) -> ChannelOrder:
    return ChannelOrder(
        external_id=external_id,
        number=f"#{external_id}",
        updated_at=placed,
        placed_at=placed,
        status="paid",
        lines=tuple(
            ChannelOrderLine(f"{external_id}-{n}", sku, quantity, Money(1000, "USD"))
            for n, (sku, quantity) in enumerate(lines or [(SKU, 1)])
        ),
        customer={"name": "Ada", "email": "ada@example.com", "phone": None},
        fees=fees,
    )


@pytest.fixture
async def hub(container: Container) -> Hub:
    async with container.uow() as uow:
        wh = await setup.create_location(uow, code="WH", name="Warehouse", kind="warehouse")
        await setup.create_inventory_item(uow, sku=SKU)
        shop = await channel_setup.create_channel(
            uow, name="Shop", kind="shopify", currency="USD", priority=1,
            location_ids=[wh.id], rule=AvailabilityRule(),
        )  # fmt: skip
        market = await channel_setup.create_channel(
            uow, name="Market", kind="ebay", currency="USD", priority=5,
            location_ids=[wh.id], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    return Hub(container, wh.id, shop.id, market.id)
