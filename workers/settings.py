"""arq's WorkerSettings for `nexo worker`: the registered jobs, their cron schedule and context."""

from __future__ import annotations

import time
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.container import build_container
from adapters.logging import configure_logging, get_logger
from adapters.metrics import process_stopped
from adapters.queue.arq import arq_cron_jobs, arq_functions, redis_settings
from adapters.settings import Settings, load_settings
from workers.registry import JOBS

# Back-off between starts of a worker whose Redis went away: from 0.5 s, doubling to 10 s.
REDIS_RETRY_FIRST = 0.5
REDIS_RETRY_MAX = 10.0
# On SIGTERM: take no new job, give running ones this long, then cancel them (arq retries
# them: at-least-once). deploy/compose.yaml's stop_grace_period for workers covers it.
JOB_COMPLETION_WAIT_SECONDS = 20


def worker_settings(settings: Settings, *, queue_name: str | None = None) -> dict[str, Any]:
    """Keyword arguments for `arq.Worker`, built from Nexo's settings."""
    if not settings.redis_url:
        raise RuntimeError("NEXO_REDIS_URL is not set: `nexo worker` needs Redis")

    queue_name = queue_name or settings.queue_name

    async def on_startup(ctx: dict[str, Any]) -> None:
        container = build_container(settings, JOBS, queue_name=queue_name)
        await container.start()
        ctx["container"] = container
        ctx.update(container.job_context)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        container = ctx.get("container")
        if container is not None:
            await container.close()
        process_stopped(settings.prometheus_multiproc_dir)

    return {
        "functions": arq_functions(JOBS),
        "cron_jobs": arq_cron_jobs(JOBS),
        "redis_settings": redis_settings(settings.redis_url),
        "queue_name": queue_name,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "handle_signals": True,
        "job_completion_wait": JOB_COMPLETION_WAIT_SECONDS,
        # arq's defaults (10 jobs at a time, a 0.5 s nap when its slots are full) left the
        # worker idle most of the time under a stream of short jobs.
        "max_jobs": 50,
        "poll_delay": 0.05,
    }


def main() -> None:
    """Run an arq worker until stopped (used by `nexo worker`).

    arq's worker exits when its Redis goes away (a restart, a failover); this one starts
    again, backing off, so a Redis restart does not take every worker down with it.
    Jobs are at-least-once and the outbox and allocation sweeps are the source of truth:
    what the lost queue held is found again.
    """
    from arq.worker import Worker

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_style)
    log = get_logger("workers.settings")
    delay = REDIS_RETRY_FIRST
    while True:
        started = time.monotonic()
        try:
            Worker(**worker_settings(settings)).run()
            return  # stopped by a signal
        except (RedisConnectionError, OSError) as error:
            if time.monotonic() - started > REDIS_RETRY_MAX:
                delay = REDIS_RETRY_FIRST  # it ran a while: a new outage
            log.warning("worker.redis_lost", error=str(error), retry_in=delay)
            time.sleep(delay)
            delay = min(delay * 2, REDIS_RETRY_MAX)
