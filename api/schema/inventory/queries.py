"""Inventory queries."""

from __future__ import annotations

import strawberry

from adapters.db.cursors import encode_cursor
from api.schema.context import Info
from api.schema.errors import query_errors
from api.schema.ids import parse_id
from api.schema.inventory.types import (
    Alert,
    ChannelAvailability,
    InventoryAudit,
    InventoryItem,
    Location,
    Reservation,
    ReservationStatus,
    StockMovement,
)
from api.schema.pagination import Connection, connection, page_size
from domain.inventory import queries
from domain.inventory.model import ReservationStatus as DomainReservationStatus


@strawberry.input
class InventoryItemFilter:
    search: str | None = strawberry.field(default=None, description="Part of the SKU.")


@strawberry.type
class InventoryQuery:
    @strawberry.field
    async def locations(self, info: Info) -> list[Location]:
        async with info.context.container.uow(readonly=True) as uow:
            return [Location.from_domain(x) for x in await uow.inventory.list_locations()]

    @strawberry.field
    async def inventory_item(self, info: Info, sku: str) -> InventoryItem | None:
        async with info.context.container.uow(readonly=True) as uow:
            snapshot = await uow.inventory.snapshot(sku)
        return InventoryItem.from_snapshot(snapshot) if snapshot else None

    @strawberry.field
    async def inventory_items(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        filter: InventoryItemFilter | None = None,
    ) -> Connection[InventoryItem]:
        with query_errors():
            size = page_size(first)
            async with info.context.container.uow(readonly=True) as uow:
                items = await uow.inventory.list_items(
                    first=size + 1, after=after, search=filter.search if filter else None
                )
                snapshots = await uow.inventory.snapshots([i.sku for i in items[:size]])
        return connection(
            items, size, lambda i: i.sku, lambda i: InventoryItem.from_snapshot(snapshots[i.sku])
        )

    @strawberry.field
    async def stock_movements(
        self, info: Info, sku: str, first: int = 50, after: str | None = None
    ) -> Connection[StockMovement]:
        with query_errors():
            size = page_size(first)
            async with info.context.container.uow(readonly=True) as uow:
                rows = await uow.inventory.list_movements(sku, first=size + 1, after=after)
        return connection(
            rows,
            size,
            lambda m: encode_cursor(m.created_at.isoformat(), m.id),
            StockMovement.from_domain,
        )

    @strawberry.field
    async def reservations(
        self,
        info: Info,
        sku: str | None = None,
        status: ReservationStatus | None = None,
        reference: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[Reservation]:
        with query_errors():
            size = page_size(first)
            async with info.context.container.uow(readonly=True) as uow:
                rows = await uow.inventory.list_reservations(
                    sku=sku,
                    status=DomainReservationStatus(status) if status else None,
                    reference=reference,
                    first=size + 1,
                    after=after,
                )
        return connection(
            rows,
            size,
            lambda r: encode_cursor(r.created_at.isoformat(), r.id),
            Reservation.from_domain,
        )

    @strawberry.field
    async def channel_availability(
        self, info: Info, sku: str, channel_id: strawberry.ID
    ) -> ChannelAvailability:
        with query_errors():
            async with info.context.container.uow(readonly=True) as uow:
                result = await queries.availability_for(uow, sku, parse_id(channel_id, "channelId"))
        return ChannelAvailability.from_domain(result)

    @strawberry.field
    async def alerts(
        self,
        info: Info,
        acknowledged: bool | None = None,
        sku: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Connection[Alert]:
        with query_errors():
            size = page_size(first)
            async with info.context.container.uow(readonly=True) as uow:
                rows = await uow.alerts.list(
                    acknowledged=acknowledged, sku=sku, first=size + 1, after=after
                )
        return connection(
            rows, size, lambda a: encode_cursor(a.created_at.isoformat(), a.id), Alert.from_domain
        )

    @strawberry.field(description="Recompute every stock level from the ledger.")
    async def inventory_audit(self, info: Info) -> InventoryAudit:
        async with info.context.container.uow(readonly=True) as uow:
            return InventoryAudit.from_domain(await queries.audit(uow))
