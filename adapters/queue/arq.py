"""The job queue across processes: arq on Redis, running the same job functions."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import Any

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.jobs import Job
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

    async def start(self) -> None:
        if self._pool is not None:
            return
        # Concurrent first enqueues must share one pool, not each open (and leak) their own.
        async with self._starting:
            if self._pool is None:
                self._pool = await create_pool(redis_settings(self._url))

    async def close(self) -> None:
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
        queued: Job | None = await self._pool.enqueue_job(
            job,
            *args,
            _job_id=job_id,
            _queue_name=self.queue_name,
            _defer_by=defer_seconds or None,
        )
        return queued is not None


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
