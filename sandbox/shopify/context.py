"""What resolvers see of one GraphQL request: the shop, and what to add to `extensions`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.shopify.store import Store


@dataclass
class RequestContext:
    store: Store
    search: list[dict[str, Any]] = field(default_factory=list)
