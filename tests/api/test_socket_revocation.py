"""A WebSocket opened before its key was revoked stops working: closed with 4403.

At once where the revocation event reaches the process (the in-process bus, or Redis from
another process such as `nexo apikey revoke`); otherwise the next operation on the socket,
or the guard's periodic sweep (`auth_cache_seconds`), finds the key revoked.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from httpx_ws import WebSocketDisconnect
from starlette.applications import Starlette

from adapters.container import Container, build_container
from adapters.settings import Settings
from api.app import create_app
from domain.access import Role
from domain.api_keys import API_KEY_EVENTS, revoke_api_key
from tests.conftest import issue_key
from tests.graphql import GraphQLSocket, data, gql, websocket
from workers.registry import JOBS

STOCK_CHANGED = "subscription { stockChanged { sku onHand } }"
CREATE_LOCATION = """
mutation { createLocation(input: {code: "WS1", name: "Socket", kind: WAREHOUSE}) {
  location { id } userErrors { code } } }"""
LOCATIONS = "{ locations { code } }"


async def _expect_closed(socket: GraphQLSocket) -> int:
    """The close code, after anything already in flight."""
    while True:
        try:
            await socket.receive()
        except WebSocketDisconnect as closed:
            return closed.code


async def _guard_listening(app: Starlette) -> None:
    async with asyncio.timeout(5):
        await app.state.container.bus.fanout.wait_for_subscribers(API_KEY_EVENTS)


async def _revoke_silently(container: Container, name: str) -> None:
    """Revoke in the database with no event, as an event lost on the way would leave it."""
    async with container.uow() as uow:
        assert await uow.api_keys.revoke(name)
        await uow.commit()


async def test_revoking_a_key_closes_its_open_socket_at_once(
    app: Starlette, http: httpx.AsyncClient, admin_key: str, staff_key: str
) -> None:
    await _guard_listening(app)
    async with websocket(app) as socket:
        assert (await socket.init(staff_key))["type"] == "connection_ack"
        await socket.subscribe(STOCK_CHANGED)
        async with asyncio.timeout(5):
            await app.state.container.bus.fanout.wait_for_subscribers("stock")
        revoke = 'mutation { revokeApiKey(input: {name: "test-staff"}) { revoked } }'
        assert data(await gql(http, revoke, key=admin_key))["revokeApiKey"]["revoked"]
        assert await _expect_closed(socket) == 4403
    assert app.state.socket_guard.open_sockets == 0
    # The stream is gone with it.
    assert app.state.container.bus.fanout.subscriber_count("stock") == 0


async def test_other_keys_sockets_stay_open(
    app: Starlette, http: httpx.AsyncClient, admin_key: str, staff_key: str
) -> None:
    await _guard_listening(app)
    other = await issue_key(app.state.container, "other-staff", Role.STAFF)
    async with websocket(app) as socket:
        assert (await socket.init(other))["type"] == "connection_ack"
        revoke = 'mutation { revokeApiKey(input: {name: "test-staff"}) { revoked } }'
        assert data(await gql(http, revoke, key=admin_key))["revokeApiKey"]["revoked"]
        op = await socket.subscribe("{ viewer { name } }")
        payload = await socket.next_payload(op)
        assert payload["data"]["viewer"]["name"] == "other-staff"


async def test_a_mutation_on_a_socket_whose_key_was_revoked_is_refused(
    app: Starlette, http: httpx.AsyncClient, staff_key: str
) -> None:
    async with websocket(app) as socket:
        assert (await socket.init(staff_key))["type"] == "connection_ack"
        await _revoke_silently(app.state.container, "test-staff")
        app.state.authenticator.forget()  # the cache's window has passed
        await socket.subscribe(CREATE_LOCATION)
        assert await _expect_closed(socket) == 4403
    admin = await issue_key(app.state.container, "late-admin", Role.ADMIN)
    assert data(await gql(http, LOCATIONS, key=admin))["locations"] == []


async def test_the_sweep_closes_a_socket_whose_revocation_event_was_lost(
    app: Starlette, staff_key: str
) -> None:
    async with websocket(app) as socket:
        assert (await socket.init(staff_key))["type"] == "connection_ack"
        await socket.subscribe(STOCK_CHANGED)
        async with asyncio.timeout(5):
            await app.state.container.bus.fanout.wait_for_subscribers("stock")
        assert await app.state.socket_guard.sweep() == 0
        await _revoke_silently(app.state.container, "test-staff")
        assert await app.state.socket_guard.sweep() == 1
        assert await _expect_closed(socket) == 4403


@pytest.fixture
async def redis_app(
    database_url: str, redis_url: str, settings: Settings
) -> AsyncIterator[Starlette]:
    shared = settings.model_copy(update={"redis_url": redis_url, "queue_name": "nexo:ws-test"})
    container = build_container(shared, JOBS)
    application = create_app(shared, container=container)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        yield application


async def test_a_revocation_from_another_process_closes_the_socket_through_redis(
    redis_app: Starlette, settings: Settings, redis_url: str
) -> None:
    name = f"ws-{uuid.uuid4().hex[:12]}"  # the Redis channel is shared with other test runs
    container = redis_app.state.container
    secret = await issue_key(container, name, Role.STAFF)
    async with asyncio.timeout(5):
        await container.bus.wait_subscribed(API_KEY_EVENTS)
    async with websocket(redis_app) as socket:
        assert (await socket.init(secret))["type"] == "connection_ack"
        # `nexo apikey revoke`: its own container, the same database and Redis.
        cli = build_container(settings.model_copy(update={"redis_url": redis_url}), JOBS)
        try:
            async with cli.uow() as uow:
                await revoke_api_key(uow, name=name)
                await uow.commit()
        finally:
            await cli.close()
        assert await _expect_closed(socket) == 4403
