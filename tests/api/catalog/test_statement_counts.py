"""A page of products with their variants, images and listings costs the same few statements
whatever its size: related objects load per batch, never per product."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpx
from sqlalchemy import event

from adapters.container import Container
from tests.api.catalog.support import create_channel, set_listing_rule, shirt
from tests.graphql import data, gql

PRODUCTS = 60

PAGE = """
query($first: Int!) {
  products(first: $first) {
    edges { node {
      id title
      category { id }
      variants { sku price { amount } }
      images { url }
      listings { status items { sku intendedQuantity } }
    } }
  }
}"""

UPSERT_PRODUCTS = """
mutation($input: UpsertProductsInput!) {
  upsertProducts(input: $input) { created userErrors { field code } }
}"""

# Only statements that read or write rows are counted. Transaction control (BEGIN, COMMIT,
# SAVEPOINT) and connection setup (PRAGMA, SET, version checks) depend on the dialect and the
# pool, not on how the query is answered.
COUNTED = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Set around the counted request: tasks it starts inherit it, the in-process queue's periodic
# jobs (started before, running meanwhile on the same engine) do not.
_COUNTING: ContextVar[bool] = ContextVar("counting", default=False)


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    """Every counted statement the engine runs inside the block, in order."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not _COUNTING.get():
            return
        words = statement.split(None, 1)
        # The API key lookup is cached, but its expiry depends on the clock: leave it out.
        if words and words[0].upper() in COUNTED and "api_keys" not in statement:
            seen.append(statement)

    engine = container.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    counting = _COUNTING.set(True)
    try:
        yield seen
    finally:
        _COUNTING.reset(counting)
        event.remove(engine, "before_cursor_execute", record)


async def page(http: httpx.AsyncClient, key: str, first: int) -> list[dict[str, Any]]:
    body = await gql(http, PAGE, {"first": first}, key=key)
    return [edge["node"] for edge in data(body)["products"]["edges"]]


async def stock_catalog(http: httpx.AsyncClient, key: str) -> None:
    """60 shirts, all listed on one web store."""
    web = await create_channel(http, key, "Web", "webstore", "USD")
    assert (await set_listing_rule(http, key, web, selector={"kind": "ALL"}))["userErrors"] == []
    items = [shirt(handle=f"shirt-{n}", sku_prefix=f"S{n}") for n in range(PRODUCTS)]
    body = await gql(http, UPSERT_PRODUCTS, {"input": {"products": items}}, key=key)
    assert data(body)["upsertProducts"] == {"created": PRODUCTS, "userErrors": []}


async def test_a_page_of_products_costs_the_same_few_statements_at_any_size(
    http: httpx.AsyncClient, staff_key: str, container: Container
) -> None:
    await stock_catalog(http, staff_key)
    # The web store's listings are published in the background: let that finish first, so
    # only the page's own statements are counted.
    await container.queue.drain()
    await page(http, staff_key, 1)  # warm up: the key is looked up, connections are opened

    counts: dict[int, int] = {}
    for first in (5, 20, 60):
        with statements(container) as seen:
            nodes = await page(http, staff_key, first)
        counts[first] = len(seen)

        assert len(nodes) == first
        for node in nodes:
            assert len(node["variants"]) == 6
            assert len(node["images"]) == 2
            assert len(node["listings"]) == 1
            assert len(node["listings"][0]["items"]) == 6
            assert node["category"] is None

    # Products, variants, images, listings and their items: each read, none per product.
    assert counts[5] >= 4, counts
    assert counts[5] == counts[20] == counts[60], counts
    assert counts[60] <= 8, counts


async def test_a_page_with_categories_loads_them_once(
    http: httpx.AsyncClient, staff_key: str, container: Container
) -> None:
    created = data(
        await gql(http, 'mutation { createCategory(input: {name: "Shirts"}) { category { id } } }',
                  key=staff_key)
    )["createCategory"]["category"]  # fmt: skip
    items = [
        shirt(handle=f"shirt-{n}", sku_prefix=f"S{n}", categoryId=created["id"]) for n in range(20)
    ]
    await gql(http, UPSERT_PRODUCTS, {"input": {"products": items}}, key=staff_key)
    await container.queue.drain()
    await page(http, staff_key, 1)

    with statements(container) as few:
        await page(http, staff_key, 2)
    with statements(container) as many:
        nodes = await page(http, staff_key, 20)

    assert {node["category"]["id"] for node in nodes} == {created["id"]}
    assert len(few) >= 5, few  # categories too, read once
    assert len(many) == len(few), (few, many)
