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
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.engine import Connection

from adapters.db.engine import create_engine
from adapters.db.tables import (
    channels,
    customers,
    listing_items,
    listings,
    metadata,
    on_its_backend,
    products,
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
