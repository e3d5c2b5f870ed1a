"""The one migration tree works forwards and backwards on both backends and matches tables.py.

Alembic's env.py runs its own event loop, so these tests are synchronous.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import case, func, insert, inspect, select, text
from sqlalchemy.engine import Connection

from adapters.db.engine import create_engine
from adapters.db.tables import (
    channels,
    customers,
    listing_items,
    listings,
    metadata,
    on_its_backend,
    order_fees,
    order_lines,
    orders,
    products,
    sales_rollup,
    sales_rollup_sku,
    stockout_spells,
)
from alembic import command
from api.cli import alembic_config
from tests import services


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all on the test's backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'stairway.db'}"
        return
    if not services.TEST_DATABASE_URL:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    assert services.TEST_DATABASE_URL is not None
    url = services.create_database(services.TEST_DATABASE_URL)
    try:
        yield url
    finally:
        services.drop_database(services.TEST_DATABASE_URL, url)


def _config(url: str) -> Config:
    config = alembic_config(url)
    assert isinstance(config, Config)
    return config


def _revisions_oldest_first(config: Config) -> list[Any]:
    script = ScriptDirectory.from_config(config)
    heads = script.get_heads()
    assert len(heads) == 1, f"the migration tree must have one head, not {heads}"
    return list(reversed(list(script.walk_revisions("base", "heads"))))


def _schema_of(url: str, inspect_sync: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(inspect_sync)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _diffs_against_tables(connection: Connection) -> list[Any]:
    dialect = connection.dialect.name
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_object": lambda item, *_: on_its_backend(item, dialect),
        },
    )
    return list(compare_metadata(context, metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def test_every_revision_upgrades_downgrades_and_upgrades_again(empty_database_url: str) -> None:
    config = _config(empty_database_url)
    revisions = _revisions_oldest_first(config)
    assert revisions, "no migrations found"
    for revision in revisions:
        command.upgrade(config, revision.revision)
        command.downgrade(config, revision.down_revision or "base")
        command.upgrade(config, revision.revision)

    diffs = _schema_of(empty_database_url, _diffs_against_tables)
    assert diffs == [], f"migrations and adapters/db/tables.py disagree: {diffs}"


def test_downgrade_to_base_removes_every_table(empty_database_url: str) -> None:
    config = _config(empty_database_url)
    command.upgrade(config, "head")
    assert set(metadata.tables) <= _schema_of(empty_database_url, _table_names)

    command.downgrade(config, "base")

    assert _schema_of(empty_database_url, _table_names) <= {"alembic_version"}


def test_0022_adds_each_customers_phone_digits_to_the_search_text(
    empty_database_url: str,
) -> None:
    config = _config(empty_database_url)
    command.upgrade(config, "0021")
    rows = [
        ("Ada", "ada@x.io", "+1 (415) 555-0100", "ada | ada@x.io | +1 (415) 555-0100"),
        ("Bob", None, None, "bob"),
    ]

    def add_customers(connection: Connection) -> None:
        at = datetime(2026, 3, 1, tzinfo=UTC)
        for n, (name, email, phone, search) in enumerate(rows):
            connection.execute(
                insert(customers).values(
                    id=uuid.UUID(int=n + 1), name=name, email=email, phone=phone,
                    search_text=search, created_at=at, updated_at=at,
                )
            )  # fmt: skip
        connection.commit()

    _schema_of(empty_database_url, add_customers)
    command.upgrade(config, "head")

    def search_texts(connection: Connection) -> list[Any]:
        found = connection.execute(text("SELECT name, search_text FROM customers ORDER BY name"))
        return [tuple(r) for r in found]

    assert _schema_of(empty_database_url, search_texts) == [
        ("Ada", "ada | ada@x.io | +1 (415) 555-0100 | 14155550100"),
        ("Bob", "bob"),
    ]


def test_0022_opens_a_spell_for_each_sku_a_channel_shows_at_0(empty_database_url: str) -> None:
    config = _config(empty_database_url)
    command.upgrade(config, "0021")
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    channel, product, listing = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)

    def add_listing(connection: Connection) -> None:
        connection.execute(
            insert(channels).values(
                id=channel,
                name="Shop",
                kind="shopify",
                currency="USD",
                priority=1,
                buffer_quantity=0,
                allocation_percent=100,
                end_when_below=0,
                created_at=at,
            )
        )
        connection.execute(
            insert(products).values(
                id=product,
                handle="tee",
                title="Tee",
                description_html="",
                tags=[],
                attributes=[],
                options=[],
                status="active",
                content_hash="h",
                version=1,
                created_at=at,
                updated_at=at,
            )
        )
        connection.execute(
            insert(listings).values(
                id=listing,
                channel_id=channel,
                product_id=product,
                status="active",
                problems=[],
                created_at=at,
                updated_at=at,
            )
        )
        connection.execute(
            insert(listing_items),
            [
                {
                    "listing_id": listing,
                    "sku": "TEE-S",
                    "intended_quantity": 0,
                    "confirmed_quantity": 0,
                    "confirmed_at": at,
                },
                {
                    "listing_id": listing,
                    "sku": "TEE-M",
                    "intended_quantity": 4,
                    "confirmed_quantity": 4,
                    "confirmed_at": at,
                },
                {
                    "listing_id": listing,
                    "sku": "TEE-L",
                    "intended_quantity": 0,
                    "confirmed_quantity": None,
                    "confirmed_at": None,
                },  # never confirmed
            ],
        )
        connection.commit()  # fmt: skip

    _schema_of(empty_database_url, add_listing)
    command.upgrade(config, "head")

    def open_spells(connection: Connection) -> list[Any]:
        s = stockout_spells.c
        found = connection.execute(select(s.channel_id, s.sku, s.started_at, s.ended_at))
        return [tuple(r) for r in found]

    assert _schema_of(empty_database_url, open_spells) == [(channel, "TEE-S", at, None)]


def test_0027_fills_the_sales_rollups_from_the_orders_stored(empty_database_url: str) -> None:
    config = _config(empty_database_url)
    command.upgrade(config, "0026_location_order")
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    day = (at.date() - datetime(1970, 1, 1).date()).days
    channel = uuid.UUID(int=1)

    def add_orders(connection: Connection) -> None:
        connection.execute(
            insert(channels).values(
                id=channel, name="Shop", kind="shopify", currency="USD", priority=1,
                buffer_quantity=0, allocation_percent=100, end_when_below=0, created_at=at,
            )
        )  # fmt: skip
        sold = {"channel_id": channel, "placed_at": at, "placed_day": day}
        for n, status in ((1, "shipped"), (2, "cancelled")):
            connection.execute(
                insert(orders).values(
                    id=uuid.UUID(int=10 + n), external_id=f"O{n}", status=status,
                    channel_updated_at=at, shipping_address={}, currency="USD",
                    needs_attention=False, created_at=at, updated_at=at, **sold,
                )
            )  # fmt: skip
        # O1: 2 A shipped at 10.00 (cost 4.00 USD), 1 B returned at 5.00; a 1.50 fee on A.
        # O2: 3 A cancelled, one shipped first, at 10.00.
        for n, (order, sku, qty, status, shipped) in enumerate(
            ((11, "A", 2, "shipped", 2), (11, "B", 1, "returned", 1), (12, "A", 3, "cancelled", 1))
        ):
            connection.execute(
                insert(order_lines).values(
                    id=uuid.UUID(int=20 + n), order_id=uuid.UUID(int=order), position=n,
                    channel_line_id=f"L{n}", sku=sku, quantity=qty,
                    unit_price_minor=1000 if sku == "A" else 500, currency="USD", status=status,
                    shipped_quantity=shipped, unit_cost_minor=400 if sku == "A" else None,
                    cost_currency="USD" if sku == "A" else None, **sold,
                )
            )  # fmt: skip
        connection.execute(
            insert(order_fees).values(
                id=uuid.UUID(int=30), order_id=uuid.UUID(int=11), position=0, kind="sale",
                amount_minor=150, currency="USD", channel_line_id="L0", **sold,
            )
        )  # fmt: skip
        connection.commit()

    _schema_of(empty_database_url, add_orders)
    command.upgrade(config, "head")

    def rolled_up(connection: Connection) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for rollup in (sales_rollup, sales_rollup_sku):
            key = rollup.c[1]
            stmt = select(
                key, func.sum(rollup.c.orders), func.sum(rollup.c.cancelled_orders),
                func.sum(rollup.c.units_ordered), func.sum(rollup.c.units_cancelled),
                func.sum(rollup.c.units_returned), func.sum(rollup.c.gross),
                func.sum(rollup.c.cogs), func.sum(rollup.c.units_without_cost),
                func.sum(rollup.c.fees), func.min(rollup.c.day),
                func.sum(case((rollup.c.compacted, 0), else_=1)),  # rows not compacted
            ).group_by(key)  # fmt: skip
            found |= {str(r[0]): tuple(int(v) for v in r[1:]) for r in connection.execute(stmt)}
        return found

    # Orders, cancelled, units ordered/cancelled/returned, gross, cogs (3 A kept at 4.00), units
    # without a cost (B's one was returned), fees (O1's goes with A), day; compacted rows only.
    assert _schema_of(empty_database_url, rolled_up) == {
        str(channel): (2, 1, 6, 2, 1, 5500, 1200, 0, 150, day, 0),
        "A": (2, 1, 5, 2, 0, 5000, 1200, 0, 150, day, 0),
        "B": (1, 0, 1, 0, 1, 500, 0, 0, 0, day, 0),
    }
