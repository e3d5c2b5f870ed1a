"""Inventory fixtures: a warehouse, a store and a SKU, on each backend."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from adapters.container import Container
from domain.inventory import stock
from domain.inventory.model import InventoryItem, Location
from domain.inventory.setup import create_inventory_item, create_location


@dataclass
class Stockroom:
    warehouse: Location
    store: Location
    item: InventoryItem


@pytest.fixture
async def stockroom(container: Container) -> Stockroom:
    async with container.uow() as uow:
        warehouse = await create_location(uow, code="WH1", name="Main warehouse", kind="warehouse")
        store = await create_location(uow, code="ST1", name="High street", kind="store")
        item = await create_inventory_item(uow, sku="TSHIRT-M", low_stock_threshold=3)
        await uow.commit()
    return Stockroom(warehouse, store, item)


async def receive(container: Container, sku: str, location_id: uuid.UUID, units: int) -> None:
    """Receive `units` of `sku` at a location, under a key of its own."""
    await stock.receive(
        container.uow,
        sku=sku,
        location_id=location_id,
        quantity=units,
        key=f"rcv-{sku}-{location_id}-{units}",
        actor="t",
    )
