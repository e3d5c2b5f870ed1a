"""The few statements whose spelling differs between PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def upsert_for(session: AsyncSession) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (both backends spell it alike)."""
    bind = session.get_bind()
    return postgresql_insert if bind.dialect.name == "postgresql" else sqlite_insert
