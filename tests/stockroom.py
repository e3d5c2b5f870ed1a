"""A small stockroom set up through the use cases, on any unit of work factory: the unit
tests run it on the fakes, `tests/integration/test_fakes_agree.py` on the fakes and SQLite."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.channels import setup as channel_setup
from domain.channels.availability import AvailabilityRule
from domain.inventory import queries, setup, stock
from domain.inventory.model import Location, Reservation, ReservationStatus
from domain.ports import UnitOfWorkFactory

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SKU = "TSHIRT-M"


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = T0):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Stockroom:
    """Locations by code (ST1 store and WH1 warehouse feed the shop; FBA is the channel's
    own stock, DS1 a supplier's) and one SKU with a low-stock threshold of 3."""

    uows: UnitOfWorkFactory
    locations: dict[str, Location]
    shop: uuid.UUID
    clock: Clock

    def at(self, code: str) -> uuid.UUID:
        return self.locations[code].id

    async def receive(self, code: str, units: int, sku: str = SKU) -> None:
        await stock.receive(
            self.uows, sku=sku, location_id=self.at(code), quantity=units,
            key=f"receive-{sku}-{code}-{uuid.uuid4()}", actor="test", clock=self.clock,
        )  # fmt: skip

    async def level(self, code: str, sku: str = SKU) -> tuple[int, int]:
        """(on hand, reserved) at the location; (0, 0) where there is no level."""
        async with self.uows(readonly=True) as uow:
            snapshot = await uow.inventory.snapshot(sku)
        assert snapshot is not None
        level = snapshot.level_at(self.at(code))
        return (level.on_hand, level.reserved) if level else (0, 0)

    async def levels(self, sku: str = SKU) -> dict[str, tuple[int, int]]:
        return {code: await self.level(code, sku) for code in sorted(self.locations)}

    async def sellable(self, sku: str = SKU) -> int:
        """The SKU's kept sellable total (what alerts and channels are computed from)."""
        async with self.uows(readonly=True) as uow:
            item = await uow.inventory.get_item(sku)
        assert item is not None
        return item.available

    async def reservations(
        self, status: ReservationStatus | None = None, sku: str | None = None
    ) -> list[Reservation]:
        async with self.uows(readonly=True) as uow:
            return await uow.inventory.list_reservations(
                sku=sku, status=status, reference=None, first=500, after=None
            )

    async def assert_ledger_matches(self) -> None:
        """Every level equals the sum of its ledger rows, every kept total its levels."""
        async with self.uows(readonly=True) as uow:
            report = await queries.audit(uow)
        assert report.clean, report


async def stockroom(uows: UnitOfWorkFactory, clock: Clock | None = None) -> Stockroom:
    async with uows() as uow:
        kinds = {"ST1": "store", "WH1": "warehouse", "FBA": "channel_managed", "DS1": "dropship"}
        locations = {
            code: await setup.create_location(uow, code=code, name=f"Place {code}", kind=kind)
            for code, kind in kinds.items()
        }
        await setup.create_inventory_item(uow, sku=SKU, low_stock_threshold=3)
        shop = await channel_setup.create_channel(
            uow, name="Shop", kind="shopify", currency="USD", priority=1,
            location_ids=[locations["WH1"].id, locations["ST1"].id], rule=AvailabilityRule(),
        )  # fmt: skip
        await uow.commit()
    return Stockroom(uows, locations, shop.id, clock or Clock())
