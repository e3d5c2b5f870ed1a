"""The composition root: builds the adapters the settings call for and wires them to the core.

The job registry is passed in by the driving side (api, workers), so adapters never
import them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

import httpx
import redis.asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus.inprocess import InProcessEventBus
from adapters.bus.redis import RedisEventBus
from adapters.channel_kit.connector import ChannelConnector, WebhookVerifiers
from adapters.channel_kit.descriptor import ChannelServices
from adapters.channel_kit.registry import ChannelRegistry
from adapters.channel_kit.tokens import TokenStore
from adapters.channels import amazon, ebay, mercadolibre, shopify, webstore
from adapters.db.audit_log import SqlAdminAudit
from adapters.db.engine import create_engine
from adapters.db.feeds_in_flight import SqlFeedsInFlight
from adapters.db.token_store import SqlTokenStore
from adapters.db.uow import SqlUnitOfWorkFactory
from adapters.desks.checkout import CheckoutCounter
from adapters.desks.inbox import InboxIntake
from adapters.desks.reception import Reception
from adapters.desks.reservations import ReservationDesk
from adapters.logging import get_logger
from adapters.partners.webhooks import SignedWebhooks
from adapters.queue.arq import ArqJobQueue
from adapters.queue.inprocess import InProcessJobQueue
from adapters.ratelimit import MemoryRateLimiter, RedisRateLimiter
from adapters.secrets import FernetSecretBox, secret_box
from adapters.settings import Settings
from domain.catalog.listings import ListingFormats
from domain.channels.health import channel_problems
from domain.channels.replay import ReplayWindow
from domain.clock import Clock, utcnow
from domain.jobs import JobSpec
from domain.sync.rate_limits import RateLimiter
from domain.sync.relay import Relay

log = get_logger(__name__)

# Every channel kind Nexo speaks: one entry each (what an entry provides, and what else a new
# channel touches: adapters/channels/descriptor.py).
CHANNELS: Final = ChannelRegistry(
    [
        shopify.CHANNEL,
        webstore.CHANNEL,
        amazon.CHANNEL,
        ebay.CHANNEL,
        mercadolibre.CHANNEL,
    ]
)


def _batch_failed(error: Exception) -> None:
    # Its events are run one by one next; this says why.
    log.error("inbox.batch_failed", error=repr(error)[:500], exc_info=error)


def _reservations_failed(error: Exception) -> None:
    # Its calls are run one by one next; this says why.
    log.error("reservations.batch_failed", error=repr(error)[:500], exc_info=error)


def _checkouts_failed(error: Exception) -> None:
    # Its calls are placed one by one next; this says why.
    log.error("checkout.batch_failed", error=repr(error)[:500], exc_info=error)


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    bus: InProcessEventBus | RedisEventBus
    queue: InProcessJobQueue | ArqJobQueue
    uow: SqlUnitOfWorkFactory
    channels: ChannelRegistry = CHANNELS
    # The time webhooks are judged by (their replay window); tests running a clock of their
    # own set it.
    clock: Clock = utcnow
    connector: ChannelConnector = field(init=False)
    verifiers: WebhookVerifiers = field(init=False)
    reception: Reception = field(init=False)
    replay_window: ReplayWindow = field(init=False)
    channel_http: httpx.AsyncClient = field(init=False)
    rate_limiter: RateLimiter = field(init=False)
    tokens: TokenStore = field(init=False)
    # The same buckets, for admission control (take now or say how long to wait).
    admission: MemoryRateLimiter | RedisRateLimiter = field(init=False)
    _redis: redis.asyncio.Redis | None = field(init=False, default=None)
    _secrets: FernetSecretBox | None = None
    _relay: Relay | None = None
    _inbox_intake: InboxIntake | None = None
    _reservation_desk: ReservationDesk | None = None
    _checkout_counter: CheckoutCounter | None = None

    def __post_init__(self) -> None:
        # One HTTP client (connection pool) for every channel call of this process.
        self.channel_http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        if self.settings.redis_url:
            self._redis = redis.asyncio.Redis.from_url(self.settings.redis_url)
            self.admission = RedisRateLimiter(self._redis)
        else:
            self.admission = MemoryRateLimiter()
        self.rate_limiter = self.admission
        self.tokens = SqlTokenStore(self.engine, lambda: self.secrets)
        self.connector = ChannelConnector(
            lambda: self.secrets,
            self.channels,
            ChannelServices(
                http=self.channel_http,
                rate_limiter=self.rate_limiter,
                tokens=self.tokens,
                feeds=SqlFeedsInFlight(self.engine),
            ),
        )
        self.verifiers = WebhookVerifiers(self.connector, self.uow)
        self.reception = Reception(self.uow)
        self.replay_window = ReplayWindow(
            past=timedelta(seconds=self.settings.webhook_replay_window_seconds),
            skew=timedelta(seconds=self.settings.webhook_clock_skew_seconds),
        )

    @property
    def admin_audit(self) -> SqlAdminAudit:
        return SqlAdminAudit(self.engine)

    @property
    def secrets(self) -> FernetSecretBox:
        """The credentials box, made on first use (in dev that may create the key file)."""
        if self._secrets is None:
            self._secrets = secret_box(self.settings)
        return self._secrets

    @property
    def listing_formats(self) -> ListingFormats:
        """Each registered kind's listing format, by kind."""
        return self.channels.listing_formats

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
            "reception": self.reception,
            "partner_webhooks": self.partner_webhooks,
        }

    @property
    def partner_webhooks(self) -> SignedWebhooks:
        """Fulfilment requests to partners, signed with their sealed secrets."""
        return SignedWebhooks(self.channel_http, lambda: self.secrets)

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
    def checkout_counter(self) -> CheckoutCounter:
        """Concurrent web store orders of this process, placed together."""
        if self._checkout_counter is None:
            self._checkout_counter = CheckoutCounter(self.uow, on_batch_failure=_checkouts_failed)
        return self._checkout_counter

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
    )
    if isinstance(queue, InProcessJobQueue):
        queue.bind_context(container.job_context)
    return container
