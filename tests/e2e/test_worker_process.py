"""`nexo worker` as a real process: with Redis, arq's cron runs the expiry sweep."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.container import Container, build_container
from adapters.settings import Settings
from api.cli import migrate
from domain.inventory import reservations, stock
from domain.inventory.model import ReservationStatus
from domain.inventory.setup import create_inventory_item, create_location
from tests import services
from tests.e2e.servers import NEXO, RUN_QUEUE, free_port, nexo_env
from workers.registry import EXPIRY_SWEEP_SECONDS


@contextmanager
def worker_on(tmp_path: Path, redis: str) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """A fresh, migrated database and a `nexo worker` on it and `redis`; both gone after."""
    if not services.TEST_DATABASE_URL:
        services.absent("PostgreSQL", "NEXO_TEST_DATABASE_URL")
    assert services.TEST_DATABASE_URL is not None
    url = services.create_database(services.TEST_DATABASE_URL)
    log = tmp_path / "worker.log"
    try:
        migrate(Settings(database_url=url))
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [*NEXO, "worker"], cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT,
                env=nexo_env(NEXO_DATABASE_URL=url, NEXO_REDIS_URL=redis),
            )  # fmt: skip
        try:
            yield url, worker, log
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)
    finally:
        services.drop_database(services.TEST_DATABASE_URL, url)


@pytest.fixture
def database_with_worker(tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not services.TEST_REDIS_URL:
        services.absent("Redis", "NEXO_TEST_REDIS_URL")
    assert services.TEST_REDIS_URL is not None
    with worker_on(tmp_path, services.TEST_REDIS_URL) as (url, worker, log):
        yield url, services.TEST_REDIS_URL
        assert worker.poll() is None, log.read_text()


async def expire_a_cart(container: Container, alive: Callable[[], None] = lambda: None) -> None:
    """A cart of three units held for a second; returns once a worker has expired it (with
    `alive` checked on every look). The cron fires every EXPIRY_SWEEP_SECONDS; a slow worker
    start-up on a loaded CI machine comes on top."""
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
    async with asyncio.timeout(1 + 2 * EXPIRY_SWEEP_SECONDS + 40):
        while True:
            alive()
            async with container.uow() as uow:
                found = await uow.inventory.get_reservation(cart.reservation.id)
            assert found is not None
            if found.status is ReservationStatus.EXPIRED:
                return
            await asyncio.sleep(0.25)


async def test_the_worker_releases_an_expired_cart(database_with_worker: tuple[str, str]) -> None:
    url, redis = database_with_worker
    container = build_container(Settings(database_url=url, redis_url=redis, queue_name=RUN_QUEUE))
    await container.start()
    try:
        await expire_a_cart(container)
        async with container.uow() as uow:
            moves = await uow.inventory.list_movements("CART-1", first=10, after=None)
        assert [(m.reason.value, m.actor) for m in moves][-1] == (
            "expire",
            "job:expire_reservations",
        )
    finally:
        await container.close()


DOWNTIME = 3.0  # long enough for every worker's poll to find Redis gone


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A Redis of this test's own (so it can be restarted), and a function restarting it."""
    if shutil.which("redis-server") is None:
        services.absent("redis-server", "PATH")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no"]  # fmt: skip
    running: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        running.append(subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL))
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                             check=False).stdout.strip() != b"PONG":  # fmt: skip
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def restart() -> None:
        running[-1].kill()  # a crash: nothing kept
        running[-1].wait(timeout=10)
        time.sleep(DOWNTIME)  # a Redis that stays down a while
        start()

    start()
    try:
        yield f"redis://127.0.0.1:{port}/0", restart
    finally:
        for process in running:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def worker_on_own_redis(
    tmp_path: Path, own_redis: tuple[str, Callable[[], None]]
) -> Iterator[tuple[str, str, Callable[[], None], subprocess.Popen[bytes], Path]]:
    redis, restart = own_redis
    with worker_on(tmp_path, redis) as (url, worker, log):
        yield url, redis, restart, worker, log


async def test_a_worker_outlives_a_redis_restart(
    worker_on_own_redis: tuple[str, str, Callable[[], None], subprocess.Popen[bytes], Path],
) -> None:
    url, redis, restart, worker, log = worker_on_own_redis
    client = aioredis.Redis.from_url(redis)
    try:
        async with asyncio.timeout(60):  # the worker is up: its health check is in Redis
            while True:
                if await client.keys(f"{RUN_QUEUE}*health-check"):
                    break
                await asyncio.sleep(0.1)
    finally:
        await client.aclose()
    await asyncio.to_thread(restart)
    container = build_container(Settings(database_url=url, redis_url=redis, queue_name=RUN_QUEUE))
    await container.start()

    def alive() -> None:
        assert worker.poll() is None, log.read_text()

    try:
        await expire_a_cart(container, alive)  # by the same worker process, Redis back
    finally:
        await container.close()
    assert "worker.redis_lost" in log.read_text()
