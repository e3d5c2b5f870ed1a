"""`GET /metrics`: every instrument in Prometheus text format, plus each channel's outbox
backlog, read from the database at most once per `BACKLOG_TTL_SECONDS` (scrapes of several
Prometheus servers, or of every API process, cost one query round between them).

It takes no API key, as scrapers expect: serve it on the internal network only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from starlette.requests import Request
from starlette.responses import Response

from adapters.container import Container
from adapters.metrics import CONTENT_TYPE, scrape
from domain.clock import utcnow
from domain.ports import UnitOfWorkFactory

BACKLOG_TTL_SECONDS: Final = 5.0


class OutboxBacklog:
    """Each channel's outbox depth (waiting, dead) and its oldest waiting row's age."""

    def __init__(self, uows: UnitOfWorkFactory, ttl: float = BACKLOG_TTL_SECONDS):
        self._uows = uows
        self._ttl = ttl
        self._read_at = -float("inf")
        self._families: list[Metric] = []
        self._lock = asyncio.Lock()

    async def families(self) -> list[Metric]:
        async with self._lock:
            if time.monotonic() - self._read_at >= self._ttl:
                self._families = await self._read()
                self._read_at = time.monotonic()
            return self._families

    async def _read(self) -> list[Metric]:
        depth = GaugeMetricFamily(
            "nexo_outbox_depth", "Outbox rows per channel: waiting to be sent, or dead.",
            labels=["channel", "kind", "state"],
        )  # fmt: skip
        oldest = GaugeMetricFamily(
            "nexo_outbox_oldest_age_seconds",
            "Age of each channel's oldest outbox row still waiting (0 when none waits).",
            labels=["channel", "kind"],
        )
        now = utcnow()
        async with self._uows(readonly=True) as uow:
            for channel in await uow.channels.all():
                status = await uow.outbox.status(channel.id, since=now)
                labels = [channel.name, channel.kind.value]
                depth.add_metric([*labels, "waiting"], status.pending)
                depth.add_metric([*labels, "dead"], status.dead)
                since = status.oldest_pending_at
                oldest.add_metric(labels, (now - since).total_seconds() if since else 0.0)
        return [depth, oldest]


def metrics_page(container: Container) -> Callable[[Request], Awaitable[Response]]:
    backlog = OutboxBacklog(container.uow)

    async def page(request: Request) -> Response:
        extra = await backlog.families()
        body = scrape(container.settings.prometheus_multiproc_dir, extra)
        return Response(body, media_type=CONTENT_TYPE)

    return page
