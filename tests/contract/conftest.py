"""The contract suite's fixtures: each test runs on every kind in KINDS, on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.container import Container
from adapters.settings import Settings
from tests.contract.hub import Hub, hub_on
from tests.contract.kinds import KINDS


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
    async with hub_on(KINDS[kind], http, staff_key, container, monkeypatch) as hub:
        yield hub
