"""The job queue for one process: the same job functions, run as asyncio tasks.

Deduplication, retries with backoff and periodic jobs behave as under arq. Nothing
survives a restart, which is why every job's real input lives in the database (outbox,
reservations), and periodic sweeps find what a lost job would have done.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Sequence
from typing import Any

from adapters.logging import get_logger
from adapters.queue.retrying import attempt
from domain.jobs import JobContext, JobSpec, periodic_job_id

log = get_logger(__name__)
# Known job ids are swept of expired entries once there are this many (then twice as many as
# remain), so ids of long-finished jobs (periodic slots, say) do not pile up forever.
_SWEEP_AT = 1024


class UnknownJob(LookupError):
    pass


class InProcessJobQueue:
    def __init__(
        self,
        jobs: Sequence[JobSpec],
        *,
        retry_base_seconds: float = 1.0,
        keep_result_seconds: float = 3600.0,
    ):
        self._specs = {spec.name: spec for spec in jobs}
        self._retry_base = retry_base_seconds
        self._keep_result = keep_result_seconds
        self._context: JobContext = {}
        self._known: dict[str, float] = {}  # job id -> when it may be reused (inf while running)
        self._sweep_at = _SWEEP_AT
        self._tasks: set[asyncio.Task[None]] = set()
        self._periodic: list[asyncio.Task[None]] = []

    def bind_context(self, context: JobContext) -> None:
        self._context = context

    async def start(self) -> None:
        for spec in self._specs.values():
            if spec.every_seconds:
                self._periodic.append(asyncio.create_task(self._every(spec)))

    async def close(self, grace_seconds: float = 2.0) -> None:
        for task in self._periodic:
            task.cancel()
        # Running jobs get a moment to finish: one cancelled mid-statement can leave its
        # database connection to be torn down the hard way. Jobs are idempotent, so those
        # still running after the grace period are cancelled and run again another time.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_seconds)
        tasks = [*self._periodic, *self._tasks]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._periodic.clear()

    async def ping(self) -> bool:
        return True

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float = 0
    ) -> bool:
        spec = self._specs.get(job)
        if spec is None:
            raise UnknownJob(job)
        now = time.monotonic()
        if job_id is not None:
            if self._known.get(job_id, 0.0) > now:
                return False
            self._sweep(now)
            self._known[job_id] = float("inf")
        task = asyncio.create_task(self._run(spec, args, job_id, defer_seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def drain(self) -> None:
        """Wait until no job is queued or running (tests and orderly shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _sweep(self, now: float) -> None:
        if len(self._known) < self._sweep_at:
            return
        self._known = {key: until for key, until in self._known.items() if until > now}
        self._sweep_at = max(_SWEEP_AT, 2 * len(self._known))

    async def _run(
        self, spec: JobSpec, args: tuple[Any, ...], job_id: str | None, defer: float
    ) -> None:
        run_id = job_id or uuid.uuid4().hex
        try:
            if defer > 0:
                await asyncio.sleep(defer)
            for job_try in range(1, spec.max_tries + 1):
                # What arq adds to a job's context, so a job reads it the same on both queues.
                ctx = {**self._context, "job_id": run_id, "job_try": job_try}
                failed = await attempt(spec, ctx, args, job_try, self._retry_base)
                if failed is None or failed.retry_in is None:
                    return  # done, or out of tries (attempt logged the last failure)
                await asyncio.sleep(failed.retry_in)
        finally:
            if job_id is not None:
                self._known[job_id] = time.monotonic() + self._keep_result

    async def _every(self, spec: JobSpec) -> None:
        assert spec.every_seconds
        while True:
            await asyncio.sleep(spec.every_seconds - time.time() % spec.every_seconds)
            slot = int(time.time() // spec.every_seconds)
            await self.enqueue(spec.name, job_id=periodic_job_id(spec, slot))
