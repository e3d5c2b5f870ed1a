"""The contract suite's fixtures: each test runs on every kind in KINDS, on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.container import Container
from adapters.db.token_store import SqlTokenStore
from adapters.settings import Settings
from domain.jobs import READ_QUEUES_JOB
from tests.api.test_webhooks import HeldJobs
from tests.contract.channel import HubSide
from tests.contract.hub import JOB_FUNCTIONS, Hub, open_hub
from tests.contract.kinds import KINDS
from tests.integration.sync.shop import Clock


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A lowered figure the channel reports is decided at once: the suite runs the pulls it
    would wait for itself."""
    return settings.model_copy(update={"stock_edit_hold_seconds": 0.0})


@pytest.fixture(params=sorted(KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def hub(
    kind: str,
    http: httpx.AsyncClient,
    staff_key: str,
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Hub]:
    held = HeldJobs()
    monkeypatch.setattr(container.queue, "enqueue", held.enqueue)
    clock = Clock()
    # The hub's token store, reading the suite's clock: a token expires as the suite skips time.
    tokens = SqlTokenStore(container.engine, lambda: container.secrets, clock=clock)
    side = HubSide(
        http, container.connector, clock=lambda: clock().timestamp(), tokens=tokens,
        read_queues=lambda: JOB_FUNCTIONS[READ_QUEUES_JOB](container.job_context),
    )  # fmt: skip
    async with KINDS[kind](side) as channel:
        yield await open_hub(Hub(http, staff_key, container, held, clock, channel))
