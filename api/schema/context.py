"""What every resolver can reach: the caller and the application's ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from adapters.container import Container
from api.schema.catalog.loaders import CatalogLoaders
from domain.access import Principal


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    container: Container
    principal: Principal | None = None
    connection_params: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def catalog_loaders(self) -> CatalogLoaders:
        return CatalogLoaders(self.container)

    @property
    def actor(self) -> str:
        return self.principal.name if self.principal else "anonymous"


Info = strawberry.Info[Context, None]
