"""The SQL unit of work: one session, one transaction; events and jobs leave after commit."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.db.repositories.alerts import SqlAlertRepository
from adapters.db.repositories.api_keys import SqlApiKeyRepository
from adapters.db.repositories.channels import SqlChannelRepository
from adapters.db.repositories.inventory import SqlInventoryRepository
from adapters.db.repositories.operations import SqlOperationLog
from adapters.logging import get_logger
from domain.events import Event
from domain.ports import EventBus, JobQueue

log = get_logger(__name__)


class SqlUnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        queue: JobQueue,
    ):
        self._sessions = sessions
        self._bus = bus
        self._queue = queue
        self._events: list[Event] = []
        self._jobs: list[tuple[str, tuple[Any, ...], str | None]] = []
        self.session: AsyncSession

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        await self.session.begin()
        self.api_keys = SqlApiKeyRepository(self.session)
        self.inventory = SqlInventoryRepository(self.session)
        self.operations = SqlOperationLog(self.session)
        self.channels = SqlChannelRepository(self.session)
        self.alerts = SqlAlertRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def enqueue_after_commit(self, job: str, *args: Any, job_id: str | None = None) -> None:
        self._jobs.append((job, args, job_id))

    async def commit(self) -> None:
        await self.session.commit()
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
    def __init__(self, sessions: async_sessionmaker[AsyncSession], bus: EventBus, queue: JobQueue):
        self._sessions = sessions
        self._bus = bus
        self._queue = queue

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._sessions, self._bus, self._queue)
