"""Per-key rate limits: a bucket per key and operation class, shared through Redis when
configured; a typed error with the time to wait; webhooks bounded per channel instead.

Buckets here refill so slowly (one token in 1,000 s) that no test depends on the clock.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from adapters.container import build_container
from adapters.settings import Settings
from api.app import create_app
from domain.access import Role
from tests.conftest import issue_key
from tests.graphql import data, gql
from workers.registry import JOBS

SLOW = 0.001
LIMITS = {
    "mutation_burst": 3,
    "mutation_rate": SLOW,
    "query_burst": 5,
    "query_rate": SLOW,
    "webhook_burst": 2,
    "webhook_rate": SLOW,
}
CREATE_LOCATION = """
mutation($code: String!) { createLocation(input: {code: $code, name: $code, kind: WAREHOUSE}) {
  location { id } userErrors { code } } }"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=LIMITS)


async def _create(http: httpx.AsyncClient, key: str, code: str) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": CREATE_LOCATION, "variables": {"code": code}},
        headers={"Authorization": f"Bearer {key}"},
    )


async def test_a_key_past_its_mutation_burst_is_refused_with_the_time_to_wait(
    http: httpx.AsyncClient, staff_key: str, readonly_key: str
) -> None:
    for n in range(3):
        answer = await _create(http, staff_key, f"L{n}")
        assert answer.status_code == 200
        assert answer.json()["data"]["createLocation"]["userErrors"] == []
    refused = await _create(http, staff_key, "L3")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    body = refused.json()
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] > 0
    # Nothing ran; its queries have a bucket of their own; other keys have theirs.
    codes = data(await gql(http, "{ locations { code } }", key=staff_key))["locations"]
    assert sorted(c["code"] for c in codes) == ["L0", "L1", "L2"]
    assert data(await gql(http, "{ viewer { name } }", key=readonly_key))["viewer"]


async def test_queries_have_their_own_burst(http: httpx.AsyncClient, staff_key: str) -> None:
    for _ in range(5):
        assert data(await gql(http, "{ viewer { name } }", key=staff_key))
    refused = await http.post(
        "/graphql",
        json={"query": "{ viewer { name } }"},
        headers={"Authorization": f"Bearer {staff_key}"},
    )
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_webhooks_are_bounded_per_channel_and_store_nothing_when_refused(
    http: httpx.AsyncClient, container: object
) -> None:
    busy, other = uuid.uuid4(), uuid.uuid4()
    statuses = [(await http.post(f"/webhooks/{busy}", content=b"{}")).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]  # unknown channel: refused unverified, then bounded
    limited = await http.post(f"/webhooks/{busy}", content=b"{}")
    assert int(limited.headers["retry-after"]) >= 1
    assert (await http.post(f"/webhooks/{other}", content=b"{}")).status_code == 401


@pytest.fixture
async def two_processes(
    settings: Settings, redis_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Starlette]]:
    """Two apps (as two `nexo serve` processes) on one database and one Redis."""
    shared = settings.model_copy(update={"redis_url": redis_url, "queue_name": "nexo:rl-test"})
    apps = [create_app(shared, container=build_container(shared, JOBS)) for _ in range(2)]
    async with LifespanManager(apps[0]), LifespanManager(apps[1]):
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://nexo.test")
            for a in apps
        ]
        async with clients[0], clients[1]:
            yield clients[0], clients[1], apps[0]


async def test_a_keys_bucket_is_shared_by_every_process_through_redis(
    two_processes: tuple[httpx.AsyncClient, httpx.AsyncClient, Starlette],
) -> None:
    first, second, app = two_processes
    # A key of its own: the Redis database outlives the test.
    key = await issue_key(app.state.container, f"rl-{uuid.uuid4().hex[:12]}", Role.STAFF)
    for n, http in enumerate([first, second, first]):
        assert (await _create(http, key, f"R{n}")).status_code == 200
    assert (await _create(second, key, "R3")).status_code == 429
