"""The few statements whose spelling differs between PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import any_, bindparam, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection


def is_postgresql(connection: AsyncConnection) -> bool:
    return connection.dialect.name == "postgresql"


def upsert_for(connection: AsyncConnection) -> Any:
    """The dialect's INSERT that supports ON CONFLICT (both backends spell it alike)."""
    return postgresql_insert if is_postgresql(connection) else sqlite_insert


def utc_day(connection: AsyncConnection, column: Any) -> Any:
    """The UTC calendar day of a timestamp column (PostgreSQL: a date; SQLite: 'YYYY-MM-DD')."""
    if is_postgresql(connection):
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def as_date(value: date | str) -> date:
    """A day as `utc_day` reads back on either backend."""
    return value if isinstance(value, date) else date.fromisoformat(value)


EPOCH = date(1970, 1, 1)


def day_number(at: datetime) -> int:
    """The UTC day of a time as days since 1970-01-01: what reports group sales by."""
    return (at.astimezone(UTC).date() - EPOCH).days


def one_of(connection: AsyncConnection, column: Any, values: Collection[Any]) -> Any:
    """`column IN values` for lists of any length: PostgreSQL takes them as one array
    parameter (`= ANY`), one statement text whatever their number, rather than a parameter
    each (a statement of 20,000 parameters is parsed and planned anew each time); SQLite as
    parameters (up to its 32,766)."""
    if is_postgresql(connection):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))
