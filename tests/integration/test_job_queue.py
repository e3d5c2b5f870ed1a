"""The JobQueue contract, proven against both adapters with the same job functions.

In-process: `InProcessJobQueue` runs the jobs as tasks and `drain()` waits for them. arq: jobs
are enqueued through `ArqJobQueue` on a queue unique to the test, then a burst `arq.Worker`
runs them to the end. Retries use a 10 ms backoff base so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from typing import Any, Protocol

import pytest
import redis.asyncio as aioredis
from arq import create_pool
from arq.jobs import DeserializationError, deserialize_result
from arq.worker import Worker

from adapters.queue import retrying
from adapters.queue.arq import ArqJobQueue, arq_cron_jobs, arq_functions, redis_settings
from adapters.queue.inprocess import InProcessJobQueue
from domain.jobs import JobSpec
from domain.retry import backoff_seconds

pytestmark = pytest.mark.filterwarnings(
    # arq's Worker.close() calls redis-py's deprecated close(); not ours to fix.
    "ignore:Call to deprecated close:DeprecationWarning"
)
RETRY_BASE = 0.01
TIMEOUT = 10.0
# arq schedules in whole milliseconds of wall-clock time; allow for that rounding.
CLOCK_SLACK = 0.003


# --- the jobs: plain async functions of (ctx, *args), shared by both runtimes -------------


async def record_args(ctx: dict[str, Any], *args: Any) -> None:
    ctx["calls"].append(args)


async def stamp(ctx: dict[str, Any], key: str) -> None:
    ctx["starts"][key].append(time.monotonic())


async def flaky(ctx: dict[str, Any], key: str, failures: int) -> None:
    """Fails its first `failures` tries, then succeeds."""
    ctx["tries"][key] += 1
    ctx["seen"][key].append((ctx.get("job_id"), ctx.get("job_try")))
    ctx["starts"][key].append(time.monotonic())
    if ctx["tries"][key] <= failures:
        raise RuntimeError(f"{key}: failure {ctx['tries'][key]} of {failures}")
    ctx["calls"].append((key, ctx["tries"][key]))


async def always_fails(ctx: dict[str, Any], key: str) -> None:
    ctx["tries"][key] += 1
    ctx["starts"][key].append(time.monotonic())
    raise RuntimeError(f"{key}: try {ctx['tries'][key]} failed")


async def hangs(ctx: dict[str, Any], key: str) -> None:
    """Never finishes on its own: its JobSpec timeout has to cut it off."""
    ctx["tries"][key] += 1
    await asyncio.Event().wait()


ALWAYS_FAILS_TRIES = 5
SPECS = [
    JobSpec("record_args", record_args),
    JobSpec("stamp", stamp),
    JobSpec("flaky", flaky, max_tries=5),
    JobSpec("always_fails", always_fails, max_tries=ALWAYS_FAILS_TRIES),
    JobSpec("hangs", hangs, max_tries=2, timeout_seconds=0.05),
]


def new_context() -> dict[str, Any]:
    return {"calls": [], "tries": Counter(), "starts": defaultdict(list), "seen": defaultdict(list)}


# --- one harness per runtime ----------------------------------------------------------------


class Harness(Protocol):
    ctx: dict[str, Any]
    token: str

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float = 0
    ) -> bool: ...

    async def run(self) -> None:
        """Run everything enqueued so far, retries included, to the end."""
        ...


class InProcessHarness:
    def __init__(self, token: str):
        self.token = token
        self.ctx = new_context()
        self.queue = InProcessJobQueue(SPECS, retry_base_seconds=RETRY_BASE)
        self.queue.bind_context(self.ctx)

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float = 0
    ) -> bool:
        return await self.queue.enqueue(job, *args, job_id=job_id, defer_seconds=defer_seconds)

    async def run(self) -> None:
        async with asyncio.timeout(TIMEOUT):
            await self.queue.drain()

    async def close(self) -> None:
        await self.queue.close()


class ArqHarness:
    def __init__(self, url: str, token: str):
        self.url = url
        self.token = token
        self.queue_name = f"nexo-test:jobs:{token}"
        self.ctx = new_context()
        self.queue = ArqJobQueue(url, queue_name=self.queue_name)

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float = 0
    ) -> bool:
        return await self.queue.enqueue(job, *args, job_id=job_id, defer_seconds=defer_seconds)

    async def run(self) -> None:
        worker = Worker(
            functions=arq_functions(SPECS, retry_base_seconds=RETRY_BASE),
            redis_settings=redis_settings(self.url),
            queue_name=self.queue_name,
            burst=True,
            poll_delay=0,
            handle_signals=False,
            ctx=self.ctx,
        )
        try:
            async with asyncio.timeout(TIMEOUT):
                await worker.main()
        finally:
            await worker.close()

    async def close(self) -> None:
        await self.queue.close()
        # Leave nothing behind: keys named after the test's ids, and results of unnamed jobs.
        pool = await create_pool(redis_settings(self.url))
        try:
            keys = [key async for key in pool.scan_iter(match=f"*{self.token}*")]
            async for key in pool.scan_iter(match="arq:result:*"):
                data = await pool.get(key)  # None when another run removed it meanwhile
                if data is None:
                    continue
                try:
                    result = deserialize_result(data)
                except DeserializationError:
                    continue
                if result.queue_name == self.queue_name:
                    keys.append(key)
            if keys:
                await pool.delete(*keys)
        finally:
            await pool.aclose()


@pytest.fixture(params=["inprocess", "arq"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    token = uuid.uuid4().hex[:12]
    built: InProcessHarness | ArqHarness
    if request.param == "arq":
        built = ArqHarness(request.getfixturevalue("redis_url"), token)
    else:
        built = InProcessHarness(token)
    try:
        yield built
    finally:
        await built.close()


def job_id(harness: Harness, name: str) -> str:
    return f"test:{harness.token}:{name}"


# --- the contract ---------------------------------------------------------------------------


async def test_job_runs_with_its_args_and_context(harness: Harness) -> None:
    assert await harness.enqueue("record_args", 7, "SKU-1", 2.5) is True
    assert await harness.enqueue("record_args") is True
    await harness.run()
    assert sorted(harness.ctx["calls"], key=len) == [(), (7, "SKU-1", 2.5)]


async def test_jobs_without_an_id_are_never_deduplicated(harness: Harness) -> None:
    for _ in range(3):
        assert await harness.enqueue("record_args", "same") is True
    await harness.run()
    assert harness.ctx["calls"] == [("same",)] * 3


async def test_jobs_enqueued_at_once_each_run_once(harness: Harness) -> None:
    enqueued = await asyncio.gather(*(harness.enqueue("record_args", n) for n in range(20)))
    assert enqueued == [True] * 20
    await harness.run()
    assert sorted(harness.ctx["calls"]) == [(n,) for n in range(20)]


async def test_a_job_id_deduplicates(harness: Harness) -> None:
    dedup = job_id(harness, "push-offer-1")
    assert await harness.enqueue("record_args", "first", job_id=dedup) is True
    assert await harness.enqueue("record_args", "second", job_id=dedup) is False
    assert await harness.enqueue("record_args", "other", job_id=job_id(harness, "x")) is True
    await harness.run()
    assert sorted(harness.ctx["calls"]) == [("first",), ("other",)]

    # The id stays known once the job has run (arq keeps its result), so it is not run again.
    assert await harness.enqueue("record_args", "third", job_id=dedup) is False
    await harness.run()
    assert sorted(harness.ctx["calls"]) == [("first",), ("other",)]


async def test_a_failing_job_is_retried_until_it_succeeds(harness: Harness) -> None:
    assert await harness.enqueue("flaky", "flaky-a", 3, job_id=job_id(harness, "a")) is True
    assert await harness.enqueue("flaky", "flaky-b", 0) is True
    await harness.run()
    assert harness.ctx["tries"] == {"flaky-a": 4, "flaky-b": 1}
    assert sorted(harness.ctx["calls"]) == [("flaky-a", 4), ("flaky-b", 1)]


async def test_a_job_sees_its_id_and_try_number(harness: Harness) -> None:
    named = job_id(harness, "named")
    assert await harness.enqueue("flaky", "named", 2, job_id=named) is True
    assert await harness.enqueue("flaky", "anonymous", 1) is True
    await harness.run()
    assert harness.ctx["seen"]["named"] == [(named, 1), (named, 2), (named, 3)]
    anonymous = harness.ctx["seen"]["anonymous"]
    assert [job_try for _, job_try in anonymous] == [1, 2]
    # Without an id, the queue still names the job, and keeps that name across its retries.
    assert len({run_id for run_id, _ in anonymous}) == 1
    assert anonymous[0][0]


async def test_a_job_that_always_fails_is_tried_exactly_max_tries(harness: Harness) -> None:
    dead = job_id(harness, "dead")
    assert await harness.enqueue("always_fails", "doomed", job_id=dead) is True
    await harness.run()
    assert harness.ctx["tries"]["doomed"] == ALWAYS_FAILS_TRIES
    # Given up for good: the same id is not taken again while its result is kept.
    assert await harness.enqueue("always_fails", "doomed", job_id=dead) is False
    await harness.run()
    assert harness.ctx["tries"]["doomed"] == ALWAYS_FAILS_TRIES


async def test_a_hung_job_is_cut_off_by_its_timeout_and_retried(harness: Harness) -> None:
    assert await harness.enqueue("hangs", "stuck") is True
    await harness.run()
    assert harness.ctx["tries"]["stuck"] == 2


async def test_retries_back_off_exponentially(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[tuple[int, float]] = []

    def recording_backoff(attempt: int, **kwargs: Any) -> float:
        wait = backoff_seconds(attempt, **kwargs)
        waits.append((attempt, wait))
        return wait

    monkeypatch.setattr(retrying, "backoff_seconds", recording_backoff)
    assert await harness.enqueue("always_fails", "backoff") is True
    await harness.run()

    # One backoff per failure that earns another try, never after the last.
    assert [attempt for attempt, _ in waits] == list(range(1, ALWAYS_FAILS_TRIES))
    for attempt, wait in waits:
        ceiling = RETRY_BASE * 2 ** (attempt - 1)
        assert ceiling / 2 <= wait <= ceiling
    chosen = [wait for _, wait in waits]
    assert chosen == sorted(chosen)  # full jitter within doubling ceilings never shrinks

    # And the queue really waits that long between tries.
    starts = harness.ctx["starts"]["backoff"]
    assert len(starts) == ALWAYS_FAILS_TRIES
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    for gap, wait in zip(gaps, chosen, strict=True):
        assert gap >= wait - CLOCK_SLACK
    assert gaps[-1] > gaps[0]


async def test_a_deferred_job_waits_before_it_runs(harness: Harness) -> None:
    enqueued = time.monotonic()
    assert await harness.enqueue("stamp", "later", defer_seconds=0.2) is True
    assert await harness.enqueue("stamp", "now") is True
    await harness.run()
    (now,) = harness.ctx["starts"]["now"]
    (later,) = harness.ctx["starts"]["later"]
    assert later - enqueued >= 0.2 - CLOCK_SLACK
    assert now < later


# --- one adapter each -----------------------------------------------------------------------


async def test_concurrent_first_enqueues_share_one_arq_pool(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pools: list[object] = []

    async def counting_create_pool(*args: Any, **kwargs: Any) -> Any:
        pool = await create_pool(*args, **kwargs)
        pools.append(pool)
        return pool

    monkeypatch.setattr("adapters.queue.arq.create_pool", counting_create_pool)
    token = uuid.uuid4().hex[:12]
    queue = ArqJobQueue(redis_url, queue_name=f"nexo-test:jobs:{token}")
    try:
        ids = [f"test:{token}:{n}" for n in range(5)]
        results = await asyncio.gather(*(queue.enqueue("record_args", job_id=i) for i in ids))
        assert results == [True] * 5
        assert len(pools) == 1
    finally:
        await queue.close()
        client = aioredis.Redis.from_url(redis_url)
        try:
            keys = [key async for key in client.scan_iter(match=f"*{token}*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


async def test_arq_writes_jobs_of_new_ids_enqueued_at_once_in_one_transaction(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = ArqHarness(redis_url, uuid.uuid4().hex[:12])
    try:
        await harness.queue.start()
        pool = harness.queue._pool
        assert pool is not None
        opened = pool.pipeline
        transactions = []

        def counted(*args: Any, **kwargs: Any) -> Any:
            transactions.append(kwargs.get("transaction"))
            return opened(*args, **kwargs)

        monkeypatch.setattr(pool, "pipeline", counted)
        await asyncio.gather(*(harness.enqueue("record_args", n) for n in range(10)))
        await harness.enqueue("record_args", "later")

        assert transactions == [True, True]  # one for the ten, one for the one after
        await harness.run()
        assert sorted(map(str, harness.ctx["calls"])) == sorted(
            [str((n,)) for n in range(10)] + [str(("later",))]
        )
    finally:
        await harness.close()


def test_arq_cron_jobs_keep_the_jobs_tries_and_timeout() -> None:
    periodic = JobSpec(
        "always_fails", always_fails, max_tries=3, timeout_seconds=30, every_seconds=15
    )
    (cron_job,) = arq_cron_jobs([periodic, JobSpec("record_args", record_args)])
    assert cron_job.name == "cron:always_fails"
    assert cron_job.max_tries == 3  # arq's cron default of one try would disable retries
    assert cron_job.timeout_s is not None
    assert cron_job.timeout_s >= 30


async def test_in_process_queue_forgets_job_ids_once_their_results_expire() -> None:
    ctx = new_context()
    queue = InProcessJobQueue(SPECS, retry_base_seconds=RETRY_BASE, keep_result_seconds=0)
    queue.bind_context(ctx)
    try:
        for batch in range(10):
            for n in range(500):
                assert await queue.enqueue("record_args", job_id=f"slot:{batch}:{n}") is True
            await queue.drain()
        assert len(ctx["calls"]) == 5000
        assert len(queue._known) <= 2048  # not the 5000 ids ever seen
    finally:
        await queue.close()
