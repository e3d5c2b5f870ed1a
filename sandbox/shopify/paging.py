"""Relay connections as Shopify pages them: `first`/`after` or `last`/`before`, at most 250
nodes a page, opaque cursors that remember the sort position (so a record whose sort key changes
between pages moves, as it does on Shopify)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphql import GraphQLError

from sandbox.shopify.ids import decode_cursor, encode_cursor

MAX_PAGE = 250

SortKey = Callable[[Any], Any]


def connection(
    items: Sequence[Any],
    args: dict[str, Any],
    *,
    sort: SortKey,
    identity: Callable[[Any], int] = lambda node: int(node.id),
) -> dict[str, Any]:
    """One page of `items` for the connection arguments in `args`."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    for name, size in (("first", first), ("last", last)):
        if size is not None and not 0 <= size <= MAX_PAGE:
            raise GraphQLError(f"The '{name}' argument must be between 0 and {MAX_PAGE}.")
    ordered = sorted(items, key=lambda node: (sort(node), identity(node)))
    if args.get("reverse"):
        ordered.reverse()
    positions = [[sort(node), identity(node)] for node in ordered]
    start, end = 0, len(ordered)
    if args.get("after"):
        start = _index_after(positions, args["after"], bool(args.get("reverse")))
    if args.get("before"):
        end = _index_before(positions, args["before"], bool(args.get("reverse")))
    window = list(range(start, max(start, end)))
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[-last:] if last else []
    edges = [{"cursor": encode_cursor(positions[i]), "node": ordered[i]} for i in window]
    # Relay: a page read forwards knows what follows it; one read backwards, what precedes it.
    has_next = (bool(window) and window[-1] < end - 1) if first is not None else end < len(ordered)
    has_previous = (bool(window) and window[0] > start) if last is not None else start > 0
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def _position(cursor: str) -> tuple[Any, int]:
    decoded = decode_cursor(cursor)
    if decoded is None or len(decoded) != 2:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}")
    return decoded[0], decoded[1]


def _index_after(positions: list[list[Any]], cursor: str, reverse: bool) -> int:
    mark = _position(cursor)
    for index, (value, ident) in enumerate(positions):
        beyond = (value, ident) < mark if reverse else (value, ident) > mark
        if beyond:
            return index
    return len(positions)


def _index_before(positions: list[list[Any]], cursor: str, reverse: bool) -> int:
    mark = _position(cursor)
    for index, (value, ident) in enumerate(positions):
        reached = (value, ident) <= mark if reverse else (value, ident) >= mark
        if reached:
            return index
    return len(positions)
