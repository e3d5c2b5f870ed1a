"""Open WebSockets answer to their key: a revoked key's sockets are closed with 4403.

A socket authenticates once, in `connection_init`, and may live for hours. Three checks keep
it honest, from fastest to surest:
- the revocation event (`api_keys` topic on the bus: Redis pub/sub across processes,
  in-process otherwise) closes the key's sockets in this process at once;
- every operation started on a socket (subscription, query or mutation) re-checks its key,
  through the authenticator (which forgets its cache on that event too);
- a sweep re-reads every open socket's key from the database each `recheck_seconds`, so a
  revocation whose event was lost (a Redis outage, a CLI run on another bus) still closes
  the socket within that window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

from adapters.bus.fanout import SubscriberOverflow
from adapters.logging import get_logger
from api.auth import Authenticator
from domain.access import Principal
from domain.api_keys import API_KEY_EVENTS
from domain.ports import EventBus

log = get_logger(__name__)

REVOKED_CLOSE_CODE = 4403
# WebSocket's "going away": clients (graphql-ws among them) reconnect, to another process.
GOING_AWAY_CLOSE_CODE = 1001
GOING_AWAY_REASON = "server shutting down: reconnect"


class KeyedSocket(Protocol):
    """An open, authenticated socket: its key, its caller, and how to end it."""

    @property
    def secret(self) -> str: ...

    @property
    def principal(self) -> Principal: ...

    async def revoke(self) -> None:
        """Stop every operation on the socket and close it with 4403."""

    async def end(self, code: int, reason: str) -> None:
        """Stop every operation on the socket and close it with `code` and `reason`."""


class SocketGuard:
    def __init__(self, authenticator: Authenticator, bus: EventBus, *, recheck_seconds: float):
        self._authenticate = authenticator
        self._bus = bus
        self._recheck_seconds = recheck_seconds
        self._sockets: set[KeyedSocket] = set()

    def admit(self, socket: KeyedSocket) -> None:
        self._sockets.add(socket)

    def leave(self, socket: KeyedSocket) -> None:
        self._sockets.discard(socket)

    @property
    def open_sockets(self) -> int:
        return len(self._sockets)

    async def still_valid(self, socket: KeyedSocket) -> bool:
        """Whether the socket's key still authenticates (through the authenticator's cache)."""
        return await self._authenticate(socket.secret) is not None

    async def revoked(self, name: str) -> None:
        """Key `name` was revoked: forget cached answers and close its sockets here."""
        self._authenticate.forget()
        for socket in [s for s in self._sockets if s.principal.name == name]:
            await self._close(socket)

    async def close_all(self) -> None:
        """The server is stopping: close every open socket here with a reason, at once."""
        sockets, self._sockets = list(self._sockets), set()
        log.info("socket_guard.closing_all", sockets=len(sockets))
        await asyncio.gather(
            *(s.end(GOING_AWAY_CLOSE_CODE, GOING_AWAY_REASON) for s in sockets),
            return_exceptions=True,
        )

    async def sweep(self) -> int:
        """Re-read every open socket's key from the database; close those no longer valid.
        The number closed."""
        by_secret: dict[str, list[KeyedSocket]] = {}
        for socket in self._sockets:
            by_secret.setdefault(socket.secret, []).append(socket)
        closed = 0
        for secret, sockets in by_secret.items():
            if await self._authenticate.fresh(secret) is not None:
                continue
            for socket in sockets:
                await self._close(socket)
                closed += 1
        return closed

    async def run(self) -> None:
        """Listen for revocations and sweep periodically, until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._listen())
            tasks.create_task(self._sweep_periodically())

    async def _listen(self) -> None:
        while True:
            try:
                async with self._bus.subscribe(API_KEY_EVENTS) as events:
                    async for event in events:
                        await self._on_event(event)
            except SubscriberOverflow:
                # Missed events: anything revoked meanwhile is caught by a sweep now.
                await self._sweep_safely()

    async def _on_event(self, event: Mapping[str, Any]) -> None:
        if event.get("kind") == "revoked" and isinstance(event.get("name"), str):
            await self.revoked(event["name"])
        elif event.get("kind") == "rotated":
            # The former secret works until its deadline: sweeps close its sockets then.
            self._authenticate.forget()

    async def _sweep_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._recheck_seconds)
            await self._sweep_safely()

    async def _sweep_safely(self) -> None:
        try:
            await self.sweep()
        except Exception:
            # The database is unreachable: the next sweep tries again; operations still
            # re-check their key each time.
            log.warning("socket_guard.sweep_failed", exc_info=True)

    async def _close(self, socket: KeyedSocket) -> None:
        self._sockets.discard(socket)
        log.info("socket_guard.closed", key=socket.principal.name, reason="key revoked")
        try:
            await socket.revoke()
        except Exception:
            log.warning("socket_guard.close_failed", key=socket.principal.name, exc_info=True)
