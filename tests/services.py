"""Where the test suite finds PostgreSQL and Redis, and what to do when one is absent.

On a laptop an absent service skips its tests; with NEXO_REQUIRE_SERVICES=1 (CI) it fails them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis.connection import parse_url
from sqlalchemy.engine import make_url

REQUIRE_SERVICES = os.environ.get("NEXO_REQUIRE_SERVICES") == "1"
TEST_DATABASE_URL = os.environ.get("NEXO_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("NEXO_TEST_REDIS_URL")
# Under pytest-xdist each worker has a Redis database of its own (the given one, then the ones
# below it): queues, limits and caches are keys, and the bus's channels carry the database.
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _worker_redis(url: str) -> str:
    given = int(parse_url(url).get("db", 0))
    server = urlsplit(url)._replace(path=f"/{(given - WORKER) % 16}", query="")
    return urlunsplit(server)


if TEST_REDIS_URL and WORKER:
    TEST_REDIS_URL = _worker_redis(TEST_REDIS_URL)


def absent(service: str, variable: str) -> None:
    message = f"{service} is not configured: set {variable}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (NEXO_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_database(server_url: str) -> str:
    """A fresh, empty database on the server of `server_url`; returns its SQLAlchemy URL."""
    name = f"nexo_test_{uuid.uuid4().hex[:12]}"
    base = make_url(server_url).set(drivername="postgresql+asyncpg")
    server = base.render_as_string(hide_password=False)
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    # A test database needs no crash durability: commits stop waiting for the WAL flush, which
    # is most of a small transaction's time. Visibility and locking are unchanged.
    asyncio.run(_admin(server, f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    return base.set(database=name).render_as_string(hide_password=False)


async def empty_database(url: str) -> None:
    """Delete every row of every table but alembic's, children before parents.

    DELETE rather than TRUNCATE: a test leaves a few rows, and TRUNCATE gives each table and
    index a new file (about a second for the whole schema under load, against a few
    milliseconds here). The schema has no sequences, so there is no identity to restart.
    """
    import asyncpg

    from adapters.db.tables import metadata

    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with connection.transaction():
            for table in reversed(metadata.sorted_tables):
                await connection.execute(f'DELETE FROM "{table.name}"')
    finally:
        await connection.close()


def drop_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    base = make_url(server_url).set(drivername="postgresql+asyncpg")
    asyncio.run(
        _admin(
            base.render_as_string(hide_password=False),
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        )
    )
