"""A pull asked for is a pull that starts after the asking, on both job queues.

A pointer notification (MercadoLibre's `orders_v2` and `shipments`, eBay's
ORDER_CONFIRMATION) names an order without carrying it: the hub asks for a pull of the
channel's orders, and the requests of one turn share a job id. A queue refuses a known id
while the job waits, runs, and as long as it keeps its result (arq: an hour), so a request
coming after the turn's pull had read the channel was once refused, and its order waited
for the periodic pull, a minute later.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq import create_pool
from arq.jobs import DeserializationError, deserialize_result
from arq.worker import Worker

from adapters.container import Container, build_container
from adapters.queue.arq import arq_functions, redis_settings
from adapters.queue.inprocess import InProcessJobQueue
from adapters.settings import Settings
from domain.inventory import stock
from domain.jobs import DRAIN_JOB, PULL_JOB, JobContext, JobSpec
from domain.orders.ports import OrderFilter
from domain.orders.pull import REQUEST_TURN, request_pull
from sandbox.shopify import ShopifySandbox
from tests.integration.sync.shop import SHOP_LOCATION, Shop, open_shop, sandbox_client
from workers.jobs.orders import pull_orders

pytestmark = [
    pytest.mark.usefixtures("backend"),
    # arq's Worker.close() calls redis-py's deprecated close(); not ours to fix.
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]

# The start of a turn (an even second): requests at these offsets fall in one turn.
TURN = datetime(2026, 1, 1, tzinfo=UTC)
assert TURN.timestamp() % REQUEST_TURN.total_seconds() == 0


async def listed_only(ctx: JobContext, channel_id: str) -> None:
    """Stands in for the relay's job: the test runs the relay itself."""


SPECS = [JobSpec(PULL_JOB, pull_orders), JobSpec(DRAIN_JOB, listed_only)]

Run = Callable[[], Coroutine[Any, Any, None]]


@pytest.fixture(params=["inprocess", "arq"])
async def hub(
    request: pytest.FixtureRequest, settings: Settings, sandbox: ShopifySandbox
) -> AsyncIterator[tuple[Shop, Run]]:
    """A hub on the Shopify sandbox whose pull jobs run on the queue under test, and a
    function running what is queued to the end."""
    token = uuid.uuid4().hex[:12]
    queue_name = f"nexo-test:pulls:{token}"
    if request.param == "arq":
        settings = settings.model_copy(update={"redis_url": request.getfixturevalue("redis_url")})
    container: Container = build_container(settings, SPECS, queue_name=queue_name)
    await container.start()

    async def run() -> None:
        if isinstance(container.queue, InProcessJobQueue):
            await container.queue.drain()
            return
        assert settings.redis_url is not None
        worker = Worker(
            functions=arq_functions(SPECS),
            redis_settings=redis_settings(settings.redis_url),
            queue_name=queue_name,
            burst=True,
            poll_delay=0,
            handle_signals=False,
            ctx=dict(container.job_context),
        )
        try:
            await worker.main()
        finally:
            await worker.close()

    try:
        async with sandbox_client(sandbox) as http:
            shop = await open_shop(container, sandbox, http)
            yield shop, run
    finally:
        await container.close()
        if settings.redis_url:
            await forget(settings.redis_url, queue_name, str(shop.channel_id))


async def forget(url: str, queue_name: str, channel_id: str) -> None:
    """Leave nothing in Redis: the pulls' keys (named after the channel), and the results
    of the relay's unnamed jobs run from this queue."""
    pool = await create_pool(redis_settings(url))
    try:
        keys = [queue_name, *[k async for k in pool.scan_iter(match=f"*{channel_id}*")]]
        async for key in pool.scan_iter(match="arq:result:*"):
            data = await pool.get(key)
            try:
                if data is not None and deserialize_result(data).queue_name == queue_name:
                    keys.append(key)
            except DeserializationError:
                continue
        await pool.delete(*keys)
    finally:
        await pool.aclose()


async def ask_for_pull(shop: Shop, at: datetime) -> None:
    async with shop.container.uow() as uow:
        request_pull(uow, shop.channel_id, at)
        await uow.commit()


async def taken(shop: Shop) -> list[str]:
    async with shop.container.uow(readonly=True) as uow:
        orders = await uow.orders.page(first=10, after=None, filter=OrderFilter())
    return [o.external_id for o in orders]


async def test_an_order_named_after_its_turns_pull_ran_is_pulled_in_the_same_turn(
    hub: tuple[Shop, Run],
) -> None:
    shop, run = hub
    await stock.receive(
        shop.container.uow, sku="TEE-M", location_id=shop.location_id, quantity=4, key="r",
        actor="t",
    )  # fmt: skip
    await shop.drain()  # listed on the sandbox, with its stock
    await ask_for_pull(shop, TURN + timedelta(seconds=1.7))  # e.g. a figure waiting
    await run()  # the turn's pull: nothing there yet
    assert await taken(shop) == []

    placed = await shop.sandbox.place_order([("TEE-M", 1)], location_gid=SHOP_LOCATION)
    await ask_for_pull(shop, TURN + timedelta(seconds=1.8))  # its pointer, the same turn
    await ask_for_pull(shop, TURN + timedelta(seconds=1.9))  # and a duplicate
    await run()

    assert await taken(shop) == [placed]
