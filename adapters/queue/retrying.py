"""One attempt of a job, and whether a failure earns another: shared by both queues."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from adapters.logging import get_logger
from adapters.metrics import JOB_SECONDS
from domain.jobs import JobContext, JobSpec
from domain.retry import backoff_seconds

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Failed:
    error: BaseException
    retry_in: float | None  # None: the retry budget is spent


async def attempt(
    spec: JobSpec, ctx: JobContext, args: tuple[Any, ...], job_try: int, retry_base: float
) -> Failed | None:
    """Run one try; None on success, otherwise the failure and when to try again."""
    started = time.perf_counter()
    try:
        await asyncio.wait_for(spec.function(ctx, *args), spec.timeout_seconds)
    except Exception as exc:
        JOB_SECONDS.labels(spec.name, "failed").observe(time.perf_counter() - started)
        retry_in = backoff_seconds(job_try, base=retry_base) if job_try < spec.max_tries else None
        log.warning(
            "job.failed",
            job=spec.name,
            job_try=job_try,
            max_tries=spec.max_tries,
            retry_in=retry_in,
            error=repr(exc),
        )
        return Failed(exc, retry_in)
    JOB_SECONDS.labels(spec.name, "ok").observe(time.perf_counter() - started)
    return None
