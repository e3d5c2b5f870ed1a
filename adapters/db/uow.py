"""The SQL unit of work: one connection, one transaction; events and jobs leave after commit.

Repositories issue Core statements on the connection directly: no ORM session, identity
map or flush is involved, which keeps the hot paths (reservations) short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.db.engine import READONLY_FLAG
from adapters.db.repositories.alerts import SqlAlertRepository
from adapters.db.repositories.api_keys import SqlApiKeyRepository
from adapters.db.repositories.catalog import SqlCatalogRepository
from adapters.db.repositories.channel_configs import SqlChannelConfigRepository
from adapters.db.repositories.channels import ChannelBook, SqlChannelRepository
from adapters.db.repositories.customers import SqlCustomerRepository
from adapters.db.repositories.due_allocations import SqlDueAllocationRepository
from adapters.db.repositories.inbox import SqlInboxRepository
from adapters.db.repositories.inventory import SqlInventoryRepository
from adapters.db.repositories.listings import SqlListingRepository
from adapters.db.repositories.operations import SqlOperationLog
from adapters.db.repositories.orders import SqlOrderRepository
from adapters.db.repositories.outbox import SqlOutboxRepository
from adapters.db.repositories.partners import SqlPartnerRepository
from adapters.db.repositories.pricing import SqlPricingRepository
from adapters.db.repositories.pushes import SqlPushedQuantities
from adapters.db.repositories.sales import SqlSalesRepository
from adapters.db.repositories.sync_log import SqlSyncLogRepository
from adapters.logging import get_logger
from adapters.metrics import EVENT_PUBLISH_FAILURES, observe_events
from domain.events import Event
from domain.jobs import IfTaken
from domain.ports import EventBus, JobQueue

log = get_logger(__name__)


R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository of the unit of work, made on first use with its connection: a unit of
    work touches two or three of its eighteen repositories (a reservation: inventory,
    channels). The repository made is kept on the unit of work, so this runs once."""

    def __init__(self, make: Callable[[SqlUnitOfWork], R]):
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, uow: SqlUnitOfWork, owner: type | None = None) -> R:
        repository = uow.__dict__[self._name] = self._make(uow)
        return repository


class SqlUnitOfWork:
    connection: AsyncConnection
    _book: ChannelBook

    api_keys = _Repository(lambda uow: SqlApiKeyRepository(uow.connection))
    inventory = _Repository(lambda uow: SqlInventoryRepository(uow.connection))
    operations = _Repository(lambda uow: SqlOperationLog(uow.connection))
    channels = _Repository(lambda uow: SqlChannelRepository(uow.connection, uow._book))
    alerts = _Repository(lambda uow: SqlAlertRepository(uow.connection))
    catalog = _Repository(lambda uow: SqlCatalogRepository(uow.connection))
    pricing = _Repository(lambda uow: SqlPricingRepository(uow.connection))
    channel_configs = _Repository(lambda uow: SqlChannelConfigRepository(uow.connection))
    listings = _Repository(lambda uow: SqlListingRepository(uow.connection))
    orders = _Repository(lambda uow: SqlOrderRepository(uow.connection))
    due_allocations = _Repository(lambda uow: SqlDueAllocationRepository(uow.connection))
    outbox = _Repository(lambda uow: SqlOutboxRepository(uow.connection))
    sync_log = _Repository(lambda uow: SqlSyncLogRepository(uow.connection))
    pushes = _Repository(lambda uow: SqlPushedQuantities(uow.connection))
    inbox = _Repository(lambda uow: SqlInboxRepository(uow.connection))
    customers = _Repository(lambda uow: SqlCustomerRepository(uow.connection))
    sales = _Repository(lambda uow: SqlSalesRepository(uow.connection))
    partners = _Repository(lambda uow: SqlPartnerRepository(uow.connection))

    def __init__(
        self,
        engine: AsyncEngine,
        bus: EventBus,
        queue: JobQueue,
        book: ChannelBook,
        *,
        readonly: bool = False,
        autocommit: bool = False,
        slots: asyncio.Semaphore | None = None,
    ):
        self._engine = engine
        self._readonly = readonly
        self._autocommit = autocommit
        self._slots = slots  # taken while this unit of work holds a connection
        self._bus = bus
        self._queue = queue
        self._book = book
        self._events: list[Event] = []
        self._jobs: list[tuple[str, tuple[Any, ...], str | None, IfTaken | None]] = []

    async def __aenter__(self) -> Self:
        if self._slots is not None:
            await self._slots.acquire()
        try:
            self.connection = await self._engine.connect()
        except BaseException:
            self._release_slot()
            raise
        try:
            self.connection.info[READONLY_FLAG] = self._readonly
            await self.connection.begin()
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.connection.closed:
            return
        try:
            if self.connection.in_transaction():
                await self.connection.rollback()
        finally:
            await self._close()

    async def _close(self) -> None:
        try:
            await self.connection.close()
        finally:
            self._release_slot()

    def _release_slot(self) -> None:
        if self._slots is not None:
            self._slots.release()
            self._slots = None

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def enqueue_after_commit(
        self, job: str, *args: Any, job_id: str | None = None, if_taken: IfTaken | None = None
    ) -> None:
        self._jobs.append((job, args, job_id, if_taken))

    async def commit(self) -> None:
        await self.connection.commit()
        if self._autocommit:
            # Its statements are committed and nothing follows: the connection goes back to
            # the pool before the events and jobs go out, for others to use meanwhile.
            await self._close()
        events, self._events = self._events, []
        jobs, self._jobs = self._jobs, []
        # After commit the change is durable; a lost hint here is repaired by periodic sweeps.
        if events:
            observe_events(events)
            try:
                await self._bus.publish_many([(e.topic, e.payload) for e in events])
            except Exception:
                EVENT_PUBLISH_FAILURES.inc()
                topics = sorted({e.topic for e in events})
                log.warning("event.publish_failed", topics=topics, exc_info=True)
        if not jobs:
            return
        # Together: a queue may send jobs enqueued at once in one round trip.
        sent = await asyncio.gather(*(self._enqueue(*job) for job in jobs), return_exceptions=True)
        for (job, *_), outcome in zip(jobs, sent, strict=True):
            if isinstance(outcome, Exception):
                log.warning("job.enqueue_failed", job=job, exc_info=outcome)
            elif isinstance(outcome, BaseException):
                raise outcome

    async def _enqueue(
        self, job: str, args: tuple[Any, ...], job_id: str | None, if_taken: IfTaken | None
    ) -> None:
        if await self._queue.enqueue(job, *args, job_id=job_id) or if_taken is None:
            return
        await self._queue.enqueue(
            job, *args, job_id=if_taken.job_id, defer_seconds=if_taken.defer_seconds
        )


class SqlUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine, bus: EventBus, queue: JobQueue):
        self._engine = engine
        # PostgreSQL runs each statement of an autocommit unit of work as its own transaction,
        # sparing the BEGIN and COMMIT round trips (same pool; the level is reset on return).
        # SQLite keeps its explicit transaction: one statement in it comes to the same.
        self._autocommit_engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        # Autocommit work (a webhook stored in one statement) comes in bursts: it waits its
        # turn for the pool's own connections rather than have overflow ones opened, each a
        # new PostgreSQL backend, and closed again as the burst passes.
        size = getattr(engine.pool, "size", None)
        self._autocommit_slots = asyncio.Semaphore(size()) if callable(size) else None
        self._bus = bus
        self._queue = queue
        self.channel_book = ChannelBook()

    def __call__(self, *, readonly: bool = False, autocommit: bool = False) -> SqlUnitOfWork:
        if autocommit:
            return SqlUnitOfWork(
                self._autocommit_engine, self._bus, self._queue, self.channel_book,
                readonly=readonly, autocommit=True, slots=self._autocommit_slots,
            )  # fmt: skip
        return SqlUnitOfWork(
            self._engine, self._bus, self._queue, self.channel_book, readonly=readonly
        )
