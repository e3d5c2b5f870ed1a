"""Setting inventory up: locations and inventory items."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

from domain.clock import utcnow
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.inventory.model import InventoryItem, Location, LocationKind
from domain.inventory.zones import check_zones
from domain.ports import UnitOfWork
from domain.sku import check_sku

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


async def create_location(uow: UnitOfWork, *, code: str, name: str, kind: str) -> Location:
    if not _CODE.match(code):
        raise InvalidInput("code must be 1-64 letters, digits or . _ -", field="code")
    if not name.strip():
        raise InvalidInput("name must not be empty", field="name")
    try:
        location_kind = LocationKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in LocationKind)
        raise InvalidInput(
            f"unknown location kind {kind!r}; one of {allowed}", field="kind"
        ) from None
    if await uow.inventory.get_location_by_code(code) is not None:
        raise AlreadyExists(f"a location with code {code!r} exists", field="code")
    location = Location(
        id=uuid.uuid4(),
        code=code,
        name=name.strip(),
        kind=location_kind,
        created_at=utcnow(),
    )
    await uow.inventory.add_location(location)
    return location


async def set_location_zones(
    uow: UnitOfWork, location_id: uuid.UUID, zones: list[tuple[str, str | None]]
) -> Location:
    """Replace where the location ships to (an empty list: everywhere)."""
    checked = check_zones(zones)
    location = await uow.inventory.get_location(location_id)
    if location is None:
        raise NotFound("no such location", field="locationId")
    await uow.inventory.set_zones(location_id, checked)
    return replace(location, zones=tuple(checked))


async def create_inventory_item(
    uow: UnitOfWork, *, sku: str, low_stock_threshold: int | None = None
) -> InventoryItem:
    sku = check_sku(sku)
    if low_stock_threshold is not None and low_stock_threshold < 0:
        raise InvalidInput("the low-stock threshold cannot be negative", field="lowStockThreshold")
    if await uow.inventory.get_item(sku) is not None:
        raise AlreadyExists(f"SKU {sku!r} already exists", field="sku")
    item = InventoryItem(
        sku=sku,
        low_stock_threshold=low_stock_threshold,
        available=0,
        created_at=utcnow(),
    )
    await uow.inventory.add_item(item)
    return item
