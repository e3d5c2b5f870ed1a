"""The channel token store: one refresh for every caller, across processes, and a rotated
refresh token never used twice.

Each `SqlTokenStore` below stands for a process: its own engine (its own connections) on the
same database, its own in-process lock and cache. Only the database keeps them in step.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.channel_kit.tokens import EXPIRY_MARGIN, Grant
from adapters.container import Container
from adapters.db.engine import create_engine
from adapters.db.token_store import RECHECK, SqlTokenStore
from domain.catalog import channel_settings
from domain.channels.port import ChannelMisconfigured

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class TokenEndpoint:
    """A channel's token endpoint with single-use refresh tokens (MercadoLibre's rule): each
    refresh spends the refresh token it was given and issues the next; a spent one fails."""

    clock: Clock
    issued: int = 0
    spent: set[str] = field(default_factory=set)
    asked_with: list[str | None] = field(default_factory=list)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    gate: asyncio.Event | None = None  # when set, a refresh waits for it (a slow endpoint)

    async def refresh(self, refresh_token: str | None) -> Grant:
        self.asked_with.append(refresh_token)
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        given = refresh_token or "from-credentials"
        if given in self.spent:
            raise ChannelMisconfigured("invalid_grant: the refresh token was used already")
        self.spent.add(given)
        self.issued += 1
        return Grant(
            access_token=f"access-{self.issued}",
            expires_at=self.clock() + timedelta(hours=1),
            refresh_token=f"refresh-{self.issued}",
        )


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[list[AsyncEngine]]:
    made = [create_engine(database_url, pool_size=2) for _ in range(3)]
    yield made
    for engine in made:
        await engine.dispose()


def stores(container: Container, engines: list[AsyncEngine], clock: Clock) -> list[SqlTokenStore]:
    return [SqlTokenStore(engine, lambda: container.secrets, clock=clock) for engine in engines]


async def test_callers_in_three_processes_at_once_refresh_once_and_share_the_token(
    container: Container, channel_id: uuid.UUID, engines: list[AsyncEngine]
) -> None:
    clock = Clock()
    endpoint = TokenEndpoint(clock, gate=asyncio.Event())
    processes = stores(container, engines, clock)

    callers = [
        asyncio.create_task(store.access_token(channel_id, endpoint.refresh))
        for store in processes
        for _ in range(5)
    ]
    await endpoint.entered.wait()  # one caller is inside the refresh; the others are queued
    endpoint.gate.set()  # type: ignore[union-attr]
    tokens = await asyncio.gather(*callers)

    assert set(tokens) == {"access-1"}
    assert endpoint.asked_with == [None]


async def test_an_expired_token_is_refreshed_with_the_rotated_refresh_token_once(
    container: Container, channel_id: uuid.UUID, engines: list[AsyncEngine]
) -> None:
    clock = Clock()
    endpoint = TokenEndpoint(clock)
    first, second, third = stores(container, engines, clock)
    assert await first.access_token(channel_id, endpoint.refresh) == "access-1"
    assert await second.access_token(channel_id, endpoint.refresh) == "access-1"  # stored

    clock.now += timedelta(hours=1) - EXPIRY_MARGIN  # no longer safe to send
    tokens = await asyncio.gather(
        *(store.access_token(channel_id, endpoint.refresh) for store in (first, second, third))
    )

    assert set(tokens) == {"access-2"}
    assert endpoint.asked_with == [None, "refresh-1"]  # the spent one never again


async def test_a_refused_token_is_refreshed_by_the_next_caller_but_a_newer_one_is_kept(
    container: Container, channel_id: uuid.UUID, engines: list[AsyncEngine]
) -> None:
    clock = Clock()
    endpoint = TokenEndpoint(clock)
    first, second, _ = stores(container, engines, clock)
    await first.access_token(channel_id, endpoint.refresh)

    await first.expire(channel_id, "access-1")  # the channel answered 401
    assert await second.access_token(channel_id, endpoint.refresh) == "access-2"
    await first.expire(channel_id, "access-1")  # a late 401 for the old token: nothing to do
    clock.now += RECHECK + timedelta(seconds=1)

    assert await first.access_token(channel_id, endpoint.refresh) == "access-2"
    assert endpoint.asked_with == [None, "refresh-1"]


async def test_a_failed_refresh_stores_nothing_and_the_next_caller_tries_again(
    container: Container, channel_id: uuid.UUID, engines: list[AsyncEngine]
) -> None:
    clock = Clock()
    endpoint = TokenEndpoint(clock)
    store = stores(container, engines, clock)[0]
    endpoint.spent.add("from-credentials")  # the credentials' refresh token is no good

    with pytest.raises(ChannelMisconfigured):
        await store.access_token(channel_id, endpoint.refresh)
    endpoint.spent.clear()  # the merchant fixed the app

    assert await store.access_token(channel_id, endpoint.refresh) == "access-1"
    assert endpoint.asked_with == [None, None]


async def test_new_credentials_drop_the_tokens_issued_under_the_old_ones(
    container: Container, channel_id: uuid.UUID, engines: list[AsyncEngine]
) -> None:
    clock = Clock()
    endpoint = TokenEndpoint(clock)
    store = stores(container, engines, clock)[0]
    await store.access_token(channel_id, endpoint.refresh)

    async with container.uow() as uow:
        await channel_settings.set_channel_credentials(
            uow, channel_id, {"refresh_token": "another-account"}, container.secrets, now=clock()
        )
        await uow.commit()
    clock.now += RECHECK + timedelta(seconds=1)  # the process reads the row again

    endpoint.spent.discard("from-credentials")
    assert await store.access_token(channel_id, endpoint.refresh) == "access-2"
    assert endpoint.asked_with == [None, None]  # the new credentials' own refresh token
