"""The job queue across processes: arq on Redis, running the same job functions."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import job_key_prefix
from arq.cron import CronJob, cron
from arq.jobs import Job, serialize_job
from arq.utils import timestamp_ms
from arq.worker import Function, Retry, func

from adapters.queue.retrying import attempt
from domain.jobs import JobSpec

DEFAULT_QUEUE = "nexo:jobs"


def redis_settings(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


class ArqJobQueue:
    """Enqueues into arq; `nexo worker` processes (or `run_worker` in tests) run the jobs."""

    def __init__(self, url: str, *, queue_name: str = DEFAULT_QUEUE):
        self._url = url
        self.queue_name = queue_name
        self._pool: ArqRedis | None = None
        self._starting = asyncio.Lock()
        self._batch: _Batch | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._pool is not None:
            return
        # Concurrent first enqueues must share one pool, not each open (and leak) their own.
        async with self._starting:
            if self._pool is None:
                self._pool = await create_pool(redis_settings(self._url))

    async def close(self) -> None:
        if self._flushes:  # jobs already enqueued are written before the pool goes
            await asyncio.wait(list(self._flushes))
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    async def ping(self) -> bool:
        await self.start()
        assert self._pool is not None
        return bool(await self._pool.ping())

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float = 0
    ) -> bool:
        await self.start()
        assert self._pool is not None
        if job_id is None and not defer_seconds:
            await self._enqueue_new(job, args)
            return True
        queued: Job | None = await self._pool.enqueue_job(
            job,
            *args,
            _job_id=job_id,
            _queue_name=self.queue_name,
            _defer_by=defer_seconds or None,
        )
        return queued is not None

    async def _enqueue_new(self, job: str, args: tuple[Any, ...]) -> None:
        """Enqueue a job of a new random id, in a batch with those enqueued meanwhile.

        arq's `enqueue_job` first WATCHes the job's key and checks that it and its result
        are unknown, which only an id given by the caller can be: two round trips spent on a
        certainty. What it then writes (the job under its key, its id in the queue) is
        written here, for every job enqueued while the event loop gets round to it, in one
        transaction: concurrent requests (webhooks arriving together) share a round trip.
        """
        batch = self._batch
        if batch is None:
            batch = self._batch = _Batch(asyncio.get_running_loop().create_future())
            flush = asyncio.create_task(self._flush(batch))
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        batch.jobs.append((job, args))
        # Shielded: a caller that gives up waiting does not cancel the others' jobs.
        await asyncio.shield(batch.sent)

    async def _flush(self, batch: _Batch) -> None:
        self._batch = None  # jobs enqueued from now on go in the next batch
        try:
            await self.start()
            assert self._pool is not None
            now = timestamp_ms()
            serializer = self._pool.job_serializer
            queued: dict[str, int] = {}
            async with self._pool.pipeline(transaction=True) as pipe:
                for job, args in batch.jobs:
                    job_id = uuid.uuid4().hex
                    payload = serialize_job(job, args, {}, None, now, serializer=serializer)
                    pipe.psetex(job_key_prefix + job_id, self._pool.expires_extra_ms, payload)
                    queued[job_id] = now
                pipe.zadd(self.queue_name, queued)
                await pipe.execute()
        except asyncio.CancelledError:
            batch.sent.cancel()
            raise
        except Exception as error:
            batch.sent.set_exception(error)
            batch.sent.exception()  # seen here: every waiter may have gone
        else:
            batch.sent.set_result(None)


@dataclass
class _Batch:
    """Jobs of new ids waiting to be written together; `sent` once Redis has them."""

    sent: asyncio.Future[None]
    jobs: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)


def arq_function(spec: JobSpec, *, retry_base_seconds: float = 1.0) -> Function:
    """Wrap a job so failures are retried with backoff (arq itself retries only `Retry`)."""

    @functools.wraps(spec.function)
    async def run(ctx: dict[str, Any], *args: Any) -> None:
        failed = await attempt(spec, ctx, args, ctx["job_try"], retry_base_seconds)
        if failed is None:
            return
        if failed.retry_in is None:
            raise failed.error
        raise Retry(defer=failed.retry_in) from failed.error

    return func(
        run,
        name=spec.name,
        max_tries=spec.max_tries,
        # The attempt enforces the job's own timeout; arq's is a backstop just above it.
        timeout=spec.timeout_seconds + 5,
    )


def arq_functions(specs: Sequence[JobSpec], *, retry_base_seconds: float = 1.0) -> list[Function]:
    return [arq_function(s, retry_base_seconds=retry_base_seconds) for s in specs]


def arq_cron_jobs(specs: Sequence[JobSpec], *, retry_base_seconds: float = 1.0) -> list[CronJob]:
    jobs: list[CronJob] = []
    for spec in specs:
        if not spec.every_seconds:
            continue
        function = arq_function(spec, retry_base_seconds=retry_base_seconds)
        jobs.append(
            cron(
                function.coroutine,
                name=f"cron:{spec.name}",
                second=set(range(0, 60, spec.every_seconds)),
                run_at_startup=False,
                unique=True,
                # arq's cron defaults (one try, its own timeout) would override the job's own.
                max_tries=function.max_tries,
                timeout=function.timeout_s,
            )
        )
    return jobs
