"""API keys in a dict: names and key hashes are unique, as the SQL table's keys are."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from domain.access import ApiKey
from tests.fakes.tables import Tables, UniqueViolation


class FakeApiKeyRepository:
    def __init__(self, tables: Tables):
        self._t = tables

    async def add(self, key: ApiKey) -> None:
        if key.name in self._t.api_keys:
            raise UniqueViolation(f"api_keys.name {key.name!r}")
        if any(k.key_hash == key.key_hash for k in self._t.api_keys.values()):
            raise UniqueViolation("api_keys.key_hash")
        self._t.api_keys[key.name] = key

    async def get_by_name(self, name: str) -> ApiKey | None:
        return self._t.api_keys.get(name)

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        return next(
            (k for k in self._t.api_keys.values() if key_hash in (k.key_hash, k.previous_key_hash)),
            None,
        )

    async def list(self) -> list[ApiKey]:
        return sorted(self._t.api_keys.values(), key=lambda k: k.created_at)

    async def count(self) -> int:
        return len(self._t.api_keys)

    async def revoke(self, name: str) -> bool:
        key = self._t.api_keys.get(name)
        if key is None or not key.active:
            return False
        self._t.api_keys[name] = dataclasses.replace(key, revoked_at=datetime.now(UTC))
        return True

    async def rotate(self, name: str, key_hash: str, previous_valid_until: datetime) -> bool:
        key = self._t.api_keys.get(name)
        if key is None or not key.active:
            return False
        self._t.api_keys[name] = dataclasses.replace(
            key,
            key_hash=key_hash,
            previous_key_hash=key.key_hash,
            previous_valid_until=previous_valid_until,
        )
        return True
