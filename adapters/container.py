"""The composition root: builds the adapters the settings call for and wires them to the core.

The job registry is passed in by the driving side (api, workers), so adapters never
import them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import redis.asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus.inprocess import InProcessEventBus
from adapters.bus.redis import RedisEventBus
from adapters.channels.connector import ChannelConnector, WebhookVerifiers
from adapters.channels.formats import LISTING_FORMATS
from adapters.channels.shopify.connect import shopify_factory
from adapters.db.engine import create_engine
from adapters.db.uow import SqlUnitOfWorkFactory
from adapters.logging import get_logger
from adapters.queue.arq import ArqJobQueue
from adapters.queue.inprocess import InProcessJobQueue
from adapters.ratelimit import MemoryRateLimiter, RedisRateLimiter
from adapters.secrets import FernetSecretBox, secret_box
from adapters.settings import Settings
from domain.catalog.listings import ListingFormats
from domain.inventory.reservation_desk import ReservationDesk
from domain.jobs import JobSpec
from domain.sync.health import channel_problems
from domain.sync.inbox_batch import InboxIntake
from domain.sync.rate_limits import RateLimiter
from domain.sync.reception import Reception
from domain.sync.relay import Relay

log = get_logger(__name__)


def _batch_failed(error: Exception) -> None:
    # Its events are run one by one next; this says why.
    log.error("inbox.batch_failed", error=repr(error)[:500], exc_info=error)


def _reservations_failed(error: Exception) -> None:
    # Its calls are run one by one next; this says why.
    log.error("reservations.batch_failed", error=repr(error)[:500], exc_info=error)


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    bus: InProcessEventBus | RedisEventBus
    queue: InProcessJobQueue | ArqJobQueue
    uow: SqlUnitOfWorkFactory
    listing_formats: ListingFormats = field(default_factory=dict)
    connector: ChannelConnector = field(init=False)
    verifiers: WebhookVerifiers = field(init=False)
    reception: Reception = field(init=False)
    channel_http: httpx.AsyncClient = field(init=False)
    rate_limiter: RateLimiter = field(init=False)
    _redis: redis.asyncio.Redis | None = field(init=False, default=None)
    _secrets: FernetSecretBox | None = None
    _relay: Relay | None = None
    _inbox_intake: InboxIntake | None = None
    _reservation_desk: ReservationDesk | None = None

    def __post_init__(self) -> None:
        # One HTTP client (connection pool) for every channel call of this process.
        self.channel_http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        if self.settings.redis_url:
            self._redis = redis.asyncio.from_url(self.settings.redis_url)
            self.rate_limiter = RedisRateLimiter(self._redis)
        else:
            self.rate_limiter = MemoryRateLimiter()
        self.connector = ChannelConnector(
            lambda: self.secrets,
            {"shopify": shopify_factory(self.channel_http, self.rate_limiter)},
        )
        self.verifiers = WebhookVerifiers(self.connector, self.uow)
        self.reception = Reception(self.uow)

    @property
    def secrets(self) -> FernetSecretBox:
        """The credentials box, made on first use (in dev that may create the key file)."""
        if self._secrets is None:
            self._secrets = secret_box(self.settings)
        return self._secrets

    @property
    def job_context(self) -> dict[str, Any]:
        return {
            "uow": self.uow,
            "bus": self.bus,
            "queue": self.queue,
            "settings": self.settings,
            "relay": self.relay,
            "connector": self.connector,
            "inbox_intake": self.inbox_intake,
        }

    @property
    def inbox_intake(self) -> InboxIntake:
        if self._inbox_intake is None:
            self._inbox_intake = InboxIntake(
                self.uow, self.connector, on_batch_failure=_batch_failed
            )
        return self._inbox_intake

    @property
    def reservation_desk(self) -> ReservationDesk:
        """Concurrent single reservations of this process, held together."""
        if self._reservation_desk is None:
            self._reservation_desk = ReservationDesk(
                self.uow, on_batch_failure=_reservations_failed
            )
        return self._reservation_desk

    @property
    def relay(self) -> Relay:
        if self._relay is None:
            self._relay = Relay(
                uow=self.uow, connector=self.connector, formats=self.listing_formats
            )
        return self._relay

    async def start(self) -> None:
        await self.bus.start()
        await self.queue.start()

    async def close(self) -> None:
        await self.queue.close()
        await self.bus.close()
        await self.channel_http.aclose()
        if self._redis is not None:
            await self._redis.aclose()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state, "ok" or the reason it is not."""
        checks: dict[str, str] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if self.settings.redis_url:
            try:
                await self.bus.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"unavailable: {type(exc).__name__}"
        return checks

    async def channel_readiness(self) -> dict[str, str]:
        """Each channel's sync state: "ok" or what stops updates reaching it."""
        async with self.uow(readonly=True) as uow:
            channels = await uow.channels.all()
            problems = await channel_problems(uow, self.connector)
        return {c.name: problems.get(c.id, "ok") for c in channels}


def build_container(
    settings: Settings,
    jobs: Sequence[JobSpec] = (),
    *,
    queue_name: str | None = None,
    retry_base_seconds: float = 1.0,
    pool_size: int = 10,
) -> Container:
    engine = create_engine(settings.database_url, pool_size=pool_size)
    bus: InProcessEventBus | RedisEventBus
    queue: InProcessJobQueue | ArqJobQueue
    if settings.redis_url:
        bus = RedisEventBus(settings.redis_url)
        queue = ArqJobQueue(settings.redis_url, queue_name=queue_name or settings.queue_name)
    else:
        bus = InProcessEventBus()
        queue = InProcessJobQueue(jobs, retry_base_seconds=retry_base_seconds)
    container = Container(
        settings=settings,
        engine=engine,
        bus=bus,
        queue=queue,
        uow=SqlUnitOfWorkFactory(engine, bus, queue),
        listing_formats=LISTING_FORMATS,
    )
    if isinstance(queue, InProcessJobQueue):
        queue.bind_context(container.job_context)
    return container
