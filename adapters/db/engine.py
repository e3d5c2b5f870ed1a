"""Async engines for PostgreSQL (asyncpg) and SQLite (aiosqlite), one code path for both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_MS = 30_000
READONLY_FLAG = "nexo.readonly"  # in Connection.info: this unit of work only reads


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and explicit BEGIN so SAVEPOINT works.

    pysqlite's legacy transaction control issues its own BEGINs; turning it off and
    emitting BEGIN ourselves is SQLAlchemy's documented recipe.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: two writers queue on the busy timeout
        # instead of deadlocking when both try to upgrade a read lock. Read-only work
        # begins deferred and, under WAL, reads beside a writer.
        readonly = connection.info.get(READONLY_FLAG, False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, poolclass=NullPool)
        _prepare_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip per transaction. A connection the server dropped
    # fails its first statement instead; SQLAlchemy then discards it (and the whole pool on
    # a server restart), and connections are recycled before idle timeouts can bite.
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
    )
