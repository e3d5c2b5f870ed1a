"""What resolvers see of one GraphQL request: the shop, and what to add to `extensions`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from sandbox.shopify.store import Store

if TYPE_CHECKING:
    from graphql import GraphQLResolveInfo


@dataclass
class RequestContext:
    store: Store
    search: list[dict[str, Any]] = field(default_factory=list)


# A resolver's `info`, typed by this context (a string: only graphql-core >= 3.3 is generic).
Info: TypeAlias = "GraphQLResolveInfo[RequestContext]"
