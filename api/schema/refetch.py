"""`node(id:)` and `nodes(ids:)`: refetching any `Node` by its global id.

Each node type is refetched through its own query (the same resolver, the same
permissions), so a key that may not read `apiKeys` may not read an `ApiKey` by id either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import strawberry
from graphql import GraphQLError
from strawberry.types.field import StrawberryField

from api.schema.access import AccessQuery
from api.schema.catalog.queries import CatalogQuery
from api.schema.channels import ChannelsQuery
from api.schema.context import Info
from api.schema.customers.queries import CustomersQuery
from api.schema.edge import argument_errors
from api.schema.errors import query_errors
from api.schema.ids import decode, split_key
from api.schema.inventory.queries import InventoryQuery
from api.schema.node import Node
from api.schema.orders.queries import OrdersQuery
from domain.errors import NotFound

MAX_NODES = 100


def _field(root: type, name: str) -> StrawberryField:
    definition = root.__strawberry_definition__  # type: ignore[attr-defined]
    found: StrawberryField = definition.get_field(name)
    return found


@dataclass(frozen=True)
class Refetch:
    """How one node type is refetched: its query, that query's arguments for a key, and
    the node within the query's answer."""

    query: StrawberryField
    arguments: Callable[[str], dict[str, Any]] = lambda key: {}
    pick: Callable[[Any, str], Any] = lambda found, key: found

    async def __call__(self, info: Info, key: str) -> Any:
        arguments = self.arguments(key)
        # A key's parts are percent-decoded: check them as the query's own arguments are.
        errors = argument_errors(arguments, {})
        if errors:
            raise errors[0]
        for permission_class in self.query.permission_classes:
            permission = permission_class()
            if not permission.has_permission(None, info, **arguments):
                raise GraphQLError(
                    permission.message or "Not allowed.",
                    extensions=permission.error_extensions,
                )
        resolver = self.query.base_resolver
        assert resolver is not None
        resolve = cast(Callable[..., Awaitable[Any]], resolver.wrapped_func)
        found = await resolve(None, info, **arguments)
        return None if found is None else self.pick(found, key)


def _by_id(found: list[Any], key: str) -> Any:
    return next((node for node in found if node.id == key), None)


def _level(item: Any, key: str) -> Any:
    location_id = split_key(key)[0]
    return next((level for level in item.levels if level.location.id == location_id), None)


REFETCH: Mapping[str, Refetch] = {
    "Product": Refetch(_field(CatalogQuery, "product"), lambda key: {"id": key}),
    "Category": Refetch(_field(CatalogQuery, "categories"), pick=_by_id),
    "Order": Refetch(_field(OrdersQuery, "order"), lambda key: {"id": key}),
    "Customer": Refetch(_field(CustomersQuery, "customer"), lambda key: {"id": key}),
    "Channel": Refetch(_field(ChannelsQuery, "channels"), pick=_by_id),
    "Location": Refetch(_field(InventoryQuery, "locations"), pick=_by_id),
    "InventoryItem": Refetch(
        _field(InventoryQuery, "inventory_item"), lambda key: {"sku": split_key(key)[0]}
    ),
    "StockLevel": Refetch(
        _field(InventoryQuery, "inventory_item"),
        lambda key: {"sku": split_key(key)[-1]},
        pick=_level,
    ),
    "ApiKey": Refetch(_field(AccessQuery, "api_keys"), pick=_by_id),
}


async def refetch(info: Info, id: str, field: str) -> Node | None:
    with query_errors():
        type_name, key = decode(id, field)
        if type_name is None:
            raise NotFound(f"{id!r} is not a global id (gid://nexo/<Type>/<key>)", field=field)
        if type_name not in REFETCH:
            raise NotFound(f"{type_name} is not a type node(id:) refetches", field=field)
        found: Node | None = await REFETCH[type_name](info, key)
        return found


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any entity by its global id; null when it is not there.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await refetch(info, id, "id")

    @strawberry.field(
        description=f"Entities by their global ids, in the same order (at most {MAX_NODES}); "
        "null where one is not there."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        return [await refetch(info, id, f"ids[{n}]") for n, id in enumerate(ids)]
