"""Relay tests drive the relay themselves: run requests are recorded, not run in the background."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.container import Container, build_container
from adapters.settings import Settings
from domain.jobs import DRAIN_JOB, JobContext, JobSpec
from sandbox.shopify import ShopifySandbox
from tests.integration.sync.shop import Shop, open_shop, sandbox_client

REQUESTED: list[str] = []


async def drain_channel(ctx: JobContext, channel_id: str) -> None:
    """Stands in for the real job so the test decides when the relay runs."""
    REQUESTED.append(channel_id)


@pytest.fixture
async def manual_container(settings: Settings) -> AsyncIterator[Container]:
    built = build_container(settings, [JobSpec(DRAIN_JOB, drain_channel)])
    await built.start()
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def sandbox() -> AsyncIterator[ShopifySandbox]:
    shop = ShopifySandbox()
    try:
        yield shop
    finally:
        await shop.aclose()


@pytest.fixture
async def shop(manual_container: Container, sandbox: ShopifySandbox) -> AsyncIterator[Shop]:
    async with sandbox_client(sandbox) as http:
        yield await open_shop(manual_container, sandbox, http)
