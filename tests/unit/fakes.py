"""In-memory stand-ins for the domain's ports: use cases tested with no I/O.

`FakeUnitOfWork` behaves like the SQL one where a use case can tell: leaving without
`commit()` undoes every change made inside, and events and jobs leave only on commit.
It can be entered again after it exits and, called, returns itself, so it also serves
as a `UnitOfWorkFactory`. Later areas add their repositories next to `api_keys`.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from domain.access import ApiKey
from domain.events import Event


class UniqueViolation(Exception):
    """What the database's unique constraint would raise: a use case forgot to check first."""


class FakeApiKeyRepository:
    def __init__(self, keys: list[ApiKey] | None = None):
        self._keys: dict[str, ApiKey] = {}
        for key in keys or []:
            self._keys[key.name] = key

    async def add(self, key: ApiKey) -> None:
        if key.name in self._keys:
            raise UniqueViolation(f"api_keys.name {key.name!r}")
        if any(k.key_hash == key.key_hash for k in self._keys.values()):
            raise UniqueViolation("api_keys.key_hash")
        self._keys[key.name] = key

    async def get_by_name(self, name: str) -> ApiKey | None:
        return self._keys.get(name)

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        return next((k for k in self._keys.values() if k.key_hash == key_hash), None)

    async def list(self) -> list[ApiKey]:
        return sorted(self._keys.values(), key=lambda k: k.created_at)

    async def count(self) -> int:
        return len(self._keys)

    async def revoke(self, name: str) -> bool:
        key = self._keys.get(name)
        if key is None or not key.active:
            return False
        self._keys[name] = dataclasses.replace(key, revoked_at=datetime.now(UTC))
        return True

    # Not part of the port: how the fake unit of work rolls back.
    def snapshot(self) -> dict[str, ApiKey]:
        return dict(self._keys)

    def restore(self, snapshot: dict[str, ApiKey]) -> None:
        self._keys = dict(snapshot)


class FakeUnitOfWork:
    def __init__(self, api_keys: FakeApiKeyRepository | None = None):
        self.api_keys = api_keys or FakeApiKeyRepository()
        self.commits = 0
        self.published: list[Event] = []
        self.enqueued: list[tuple[str, tuple[Any, ...], str | None]] = []
        self._events: list[Event] = []
        self._jobs: list[tuple[str, tuple[Any, ...], str | None]] = []
        self._snapshot: dict[str, ApiKey] | None = None

    def __call__(self, *, readonly: bool = False) -> Self:
        return self

    async def __aenter__(self) -> Self:
        if self._snapshot is not None:
            raise RuntimeError("FakeUnitOfWork entered twice at once")
        self._snapshot = self.api_keys.snapshot()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._snapshot is not None
        self.api_keys.restore(self._snapshot)
        self._snapshot = None
        self._events.clear()
        self._jobs.clear()

    async def commit(self) -> None:
        self.commits += 1
        self._snapshot = self.api_keys.snapshot()
        self.published.extend(self._events)
        self.enqueued.extend(self._jobs)
        self._events.clear()
        self._jobs.clear()

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def enqueue_after_commit(self, job: str, *args: Any, job_id: str | None = None) -> None:
        self._jobs.append((job, args, job_id))

    @property
    def pending_events(self) -> list[Event]:
        """Events emitted in the open unit of work, not yet committed."""
        return list(self._events)
