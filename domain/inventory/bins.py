"""Bins: where a SKU's units sit at a location (e.g. `A-03-2`), so a pick list walks them in
order. A bin is an attribute of the (SKU, location) level, not a stock figure: setting it
moves no unit and no version. Bins sort naturally (`A-2` before `A-10`)."""

from __future__ import annotations

import re
import uuid

from domain.errors import InvalidInput, NotFound
from domain.inventory.model import LocationKind
from domain.ports import UnitOfWorkFactory
from domain.sku import check_sku

MAX_BIN = 32
_BIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]*$")
_NUMBERS = re.compile(r"(\d+)")


def check_bin(bin: str | None) -> str | None:
    """The bin as stored: None (or blank) clears it."""
    if bin is None or not bin.strip():
        return None
    bin = bin.strip()
    if len(bin) > MAX_BIN or not _BIN.match(bin):
        raise InvalidInput(
            f"a bin is 1 to {MAX_BIN} letters, digits, spaces or . _ / - (starting with a "
            "letter or digit)",
            field="bin",
        )
    return bin


def walk_order(bin: str | None) -> tuple[int, tuple[tuple[int, str], ...]]:
    """A sort key: bins in natural order (numbers by value), lines with no bin last."""
    if bin is None:
        return 1, ()
    parts = _NUMBERS.split(bin.upper())
    return 0, tuple((1, p.zfill(12)) if p.isdigit() else (0, p) for p in parts if p)


async def set_bin(
    uows: UnitOfWorkFactory, *, sku: str, location_id: uuid.UUID, bin: str | None
) -> str | None:
    """Put the SKU's units at the location in a bin (None: no bin); the level is made, at
    zero, if the location has none of it yet. Returns the bin as stored."""
    sku = check_sku(sku)
    stored = check_bin(bin)
    async with uows() as uow:
        location = await uow.inventory.get_location(location_id)
        if location is None:
            raise NotFound(f"unknown location {location_id}", field="locationId")
        if location.kind is LocationKind.CHANNEL_MANAGED:
            raise InvalidInput(
                "a channel-managed location is the channel's to pick: it has no bins",
                field="locationId",
            )
        if await uow.inventory.get_item(sku) is None:
            raise NotFound(f"unknown SKU {sku!r}", field="sku")
        await uow.inventory.ensure_level(sku, location_id)
        await uow.inventory.set_bin(sku, location_id, stored)
        await uow.commit()
    return stored
