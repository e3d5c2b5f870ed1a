"""Cursor pagination (Relay-style connections) with capped page sizes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from domain.errors import InvalidInput

MAX_PAGE = 100
T = TypeVar("T")
N = TypeVar("N")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE}", field="first")
    return first


def connection(
    rows: Sequence[N], first: int, cursor_of: Callable[[N], str], node_of: Callable[[N], T]
) -> Connection[T]:
    """Build a page from `first + 1` fetched rows: the extra row only says there is more."""
    page = list(rows[:first])
    edges = [Edge(cursor=cursor_of(row), node=node_of(row)) for row in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
        ),
    )
