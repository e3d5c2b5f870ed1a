"""The few statements whose spelling differs between PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection


def is_postgresql(connection: AsyncConnection) -> bool:
    return connection.dialect.name == "postgresql"


def upsert_for(connection: AsyncConnection) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (both backends spell it alike)."""
    return postgresql_insert if is_postgresql(connection) else sqlite_insert
