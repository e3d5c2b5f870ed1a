"""The SQL unit of work: one connection, one transaction; events and jobs leave after commit.

Repositories issue Core statements on the connection directly: no ORM session, identity
map or flush is involved, which keeps the hot paths (reservations) short.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.db.engine import READONLY_FLAG
from adapters.db.repositories.alerts import SqlAlertRepository
from adapters.db.repositories.api_keys import SqlApiKeyRepository
from adapters.db.repositories.catalog import SqlCatalogRepository
from adapters.db.repositories.channel_configs import SqlChannelConfigRepository
from adapters.db.repositories.channels import ChannelBook, SqlChannelRepository
from adapters.db.repositories.inbox import SqlInboxRepository
from adapters.db.repositories.inventory import SqlInventoryRepository
from adapters.db.repositories.listings import SqlListingRepository
from adapters.db.repositories.operations import SqlOperationLog
from adapters.db.repositories.orders import SqlOrderRepository
from adapters.db.repositories.outbox import SqlOutboxRepository
from adapters.db.repositories.pricing import SqlPricingRepository
from adapters.db.repositories.sync_log import SqlSyncLogRepository
from adapters.logging import get_logger
from domain.events import Event
from domain.ports import EventBus, JobQueue

log = get_logger(__name__)


class SqlUnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        bus: EventBus,
        queue: JobQueue,
        book: ChannelBook,
        *,
        readonly: bool = False,
    ):
        self._engine = engine
        self._readonly = readonly
        self._bus = bus
        self._queue = queue
        self._book = book
        self._events: list[Event] = []
        self._jobs: list[tuple[str, tuple[Any, ...], str | None]] = []
        self.connection: AsyncConnection

    async def __aenter__(self) -> Self:
        self.connection = await self._engine.connect()
        try:
            self.connection.sync_connection.info[READONLY_FLAG] = self._readonly  # type: ignore[union-attr]
            await self.connection.begin()
        except BaseException:
            await self.connection.close()
            raise
        self.api_keys = SqlApiKeyRepository(self.connection)
        self.inventory = SqlInventoryRepository(self.connection)
        self.operations = SqlOperationLog(self.connection)
        self.channels = SqlChannelRepository(self.connection, self._book)
        self.alerts = SqlAlertRepository(self.connection)
        self.catalog = SqlCatalogRepository(self.connection)
        self.pricing = SqlPricingRepository(self.connection)
        self.channel_configs = SqlChannelConfigRepository(self.connection)
        self.listings = SqlListingRepository(self.connection)
        self.orders = SqlOrderRepository(self.connection)
        self.outbox = SqlOutboxRepository(self.connection)
        self.sync_log = SqlSyncLogRepository(self.connection)
        self.inbox = SqlInboxRepository(self.connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.connection.in_transaction():
                await self.connection.rollback()
        finally:
            await self.connection.close()

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def enqueue_after_commit(self, job: str, *args: Any, job_id: str | None = None) -> None:
        self._jobs.append((job, args, job_id))

    async def commit(self) -> None:
        await self.connection.commit()
        events, self._events = self._events, []
        jobs, self._jobs = self._jobs, []
        # After commit the change is durable; a lost hint here is repaired by periodic sweeps.
        for event in events:
            try:
                await self._bus.publish(event.topic, event.payload)
            except Exception:
                log.warning("event.publish_failed", topic=event.topic, exc_info=True)
        for job, args, job_id in jobs:
            try:
                await self._queue.enqueue(job, *args, job_id=job_id)
            except Exception:
                log.warning("job.enqueue_failed", job=job, exc_info=True)


class SqlUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine, bus: EventBus, queue: JobQueue):
        self._engine = engine
        self._bus = bus
        self._queue = queue
        self.channel_book = ChannelBook()

    def __call__(self, *, readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            self._engine, self._bus, self._queue, self.channel_book, readonly=readonly
        )
