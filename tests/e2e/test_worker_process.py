"""`nexo worker` as a real process: with Redis, arq's cron runs the expiry sweep."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.container import build_container
from adapters.settings import Settings
from api.cli import migrate
from domain.inventory import reservations, stock
from domain.inventory.model import ReservationStatus
from domain.inventory.setup import create_inventory_item, create_location
from tests import services
from tests.e2e.servers import NEXO, RUN_QUEUE, nexo_env
from workers.registry import EXPIRY_SWEEP_SECONDS


@pytest.fixture
def database_with_worker(tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not services.TEST_DATABASE_URL:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    if not services.TEST_REDIS_URL:
        services.absent("Redis", "NEXO_TEST_REDIS_URL")
    assert services.TEST_DATABASE_URL is not None
    assert services.TEST_REDIS_URL is not None
    url = services.create_database(services.TEST_DATABASE_URL)
    log = tmp_path / "worker.log"
    try:
        migrate(Settings(database_url=url))
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [*NEXO, "worker"],
                cwd=tmp_path,
                env=nexo_env(NEXO_DATABASE_URL=url, NEXO_REDIS_URL=services.TEST_REDIS_URL),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            yield url, services.TEST_REDIS_URL
            assert worker.poll() is None, log.read_text()
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)
    finally:
        services.drop_database(services.TEST_DATABASE_URL, url)


async def test_the_worker_releases_an_expired_cart(database_with_worker: tuple[str, str]) -> None:
    url, redis = database_with_worker
    container = build_container(Settings(database_url=url, redis_url=redis, queue_name=RUN_QUEUE))
    await container.start()
    try:
        async with container.uow() as uow:
            location = await create_location(uow, code="WH", name="W", kind="warehouse")
            await create_inventory_item(uow, sku="CART-1")
            await uow.commit()
        await stock.receive(
            container.uow, sku="CART-1", location_id=location.id, quantity=3, key="r", actor="t"
        )
        cart = await reservations.reserve(
            container.uow, sku="CART-1", quantity=3, key="c", actor="web", expires_in_seconds=1
        )
        # The cron fires every EXPIRY_SWEEP_SECONDS; allow a slow worker start-up on top.
        async with asyncio.timeout(1 + 2 * EXPIRY_SWEEP_SECONDS + 40):  # a loaded CI machine
            while True:
                async with container.uow() as uow:
                    found = await uow.inventory.get_reservation(cart.reservation.id)
                assert found is not None
                if found.status is ReservationStatus.EXPIRED:
                    break
                await asyncio.sleep(0.25)
        async with container.uow() as uow:
            moves = await uow.inventory.list_movements("CART-1", first=10, after=None)
        assert [(m.reason.value, m.actor) for m in moves][-1] == (
            "expire",
            "job:expire_reservations",
        )
    finally:
        await container.close()
