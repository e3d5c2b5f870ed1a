"""The `Node` interface: an entity a client can refetch by its global id alone."""

from __future__ import annotations

import strawberry


@strawberry.interface(
    description="An entity that `node(id:)` and `nodes(ids:)` refetch by its global id."
)
class Node:
    id: strawberry.ID
