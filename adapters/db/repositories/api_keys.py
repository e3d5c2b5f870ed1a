"""API keys in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.tables import api_keys
from domain.access import ApiKey, Role
from domain.clock import utcnow


def _to_key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        key_hash=row.key_hash,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        previous_key_hash=row.previous_key_hash,
        previous_valid_until=row.previous_valid_until,
        location_id=row.location_id,
    )


class SqlApiKeyRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def add(self, key: ApiKey) -> None:
        await self._conn.execute(
            insert(api_keys).values(
                id=key.id,
                name=key.name,
                role=key.role.value,
                key_hash=key.key_hash,
                created_at=key.created_at,
                revoked_at=key.revoked_at,
                previous_key_hash=key.previous_key_hash,
                previous_valid_until=key.previous_valid_until,
                location_id=key.location_id,
            )
        )

    async def get_by_name(self, name: str) -> ApiKey | None:
        row = (await self._conn.execute(select(api_keys).where(api_keys.c.name == name))).first()
        return _to_key(row) if row else None

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        c = api_keys.c
        stmt = select(api_keys).where(or_(c.key_hash == key_hash, c.previous_key_hash == key_hash))
        row = (await self._conn.execute(stmt)).first()
        return _to_key(row) if row else None

    async def list(self) -> list[ApiKey]:
        rows = await self._conn.execute(select(api_keys).order_by(api_keys.c.created_at))
        return [_to_key(r) for r in rows]

    async def count(self) -> int:
        stmt = select(func.count()).select_from(api_keys)
        return int((await self._conn.execute(stmt)).scalar_one())

    async def revoke(self, name: str) -> bool:
        result = await self._conn.execute(
            update(api_keys)
            .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(result.rowcount)

    async def rotate(self, name: str, key_hash: str, previous_valid_until: datetime) -> bool:
        c = api_keys.c
        result = await self._conn.execute(
            update(api_keys)
            .where(c.name == name, c.revoked_at.is_(None))
            .values(
                previous_key_hash=c.key_hash,
                key_hash=key_hash,
                previous_valid_until=previous_valid_until,
            )
        )
        return bool(result.rowcount)
