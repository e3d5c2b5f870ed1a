"""Resolving an API key to a caller, with a short per-process memory to spare the database."""

from __future__ import annotations

import time

from domain.access import Principal, hash_secret
from domain.api_keys import authenticate
from domain.ports import UnitOfWorkFactory


class Authenticator:
    """Looks keys up by hash; remembers answers (hits and misses) for `ttl` seconds.

    Revoking a key therefore takes effect in every process within `ttl` (at once where the
    revocation event reaches it: see `api/socket_guard.py`).
    """

    def __init__(self, uow: UnitOfWorkFactory, *, ttl: float = 5.0, max_entries: int = 10_000):
        self._uow = uow
        self._ttl = ttl
        self._max_entries = max_entries
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def __call__(self, secret: str | None) -> Principal | None:
        if not secret:
            return None
        digest = hash_secret(secret)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        return await self.fresh(secret)

    async def fresh(self, secret: str) -> Principal | None:
        """Look the key up in the database now, whatever is remembered (and remember it)."""
        digest = hash_secret(secret)
        now = time.monotonic()
        async with self._uow(readonly=True) as uow:
            principal = await authenticate(uow, secret)
        if len(self._cache) >= self._max_entries:
            self._cache.clear()
        self._cache[digest] = (now + self._ttl, principal)
        return principal

    def forget(self) -> None:
        self._cache.clear()
