"""What every resolver can reach: the caller and the application's ports."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from adapters.container import Container
from api.rate_limits import RateLimits
from api.schema.catalog.loaders import CatalogLoaders
from domain.access import Principal
from domain.customers.history import histories
from domain.customers.model import History
from domain.inventory.model import Location


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    container: Container
    principal: Principal | None = None
    connection_params: dict[str, Any] = field(default_factory=dict)
    rate_limits: RateLimits | None = None
    _histories: dict[str, DataLoader[uuid.UUID, History]] = field(default_factory=dict)

    @cached_property
    def catalog_loaders(self) -> CatalogLoaders:
        return CatalogLoaders(self.container)

    @cached_property
    def locations(self) -> DataLoader[uuid.UUID, Location | None]:
        """Locations by id, read once per batch of asks (not cached: a WebSocket connection's
        context lives long, and a location may be renamed meanwhile)."""
        return DataLoader(self._locations, cache=False)

    async def _locations(self, ids: Sequence[uuid.UUID]) -> list[Location | None]:
        async with self.container.uow(readonly=True) as uow:
            found = {location.id: location for location in await uow.inventory.list_locations()}
        return [found.get(i) for i in ids]

    @cached_property
    def bins(self) -> DataLoader[tuple[str, uuid.UUID], str | None]:
        """Levels' bins by (SKU, location), read once per batch of asks (not cached, as
        `locations`)."""
        return DataLoader(self._bins, cache=False)

    async def _bins(self, slots: Sequence[tuple[str, uuid.UUID]]) -> list[str | None]:
        async with self.container.uow(readonly=True) as uow:
            found = await uow.inventory.bins(slots)
        return [found.get(slot) for slot in slots]

    def customer_histories(self, currency: str) -> DataLoader[uuid.UUID, History]:
        """Customers' histories in `currency`, read together for a page of customers."""
        loader = self._histories.get(currency)
        if loader is None:

            async def load(ids: Sequence[uuid.UUID]) -> list[History]:
                found = await histories(self.container.uow, ids, currency)
                return [found[i] for i in ids]

            loader = self._histories[currency] = DataLoader(load, cache=False)
        return loader

    @property
    def actor(self) -> str:
        return self.principal.name if self.principal else "anonymous"


Info = strawberry.Info[Context, None]
