"""An in-memory unit of work that behaves, where a use case can tell, like the SQLite one.

One writer at a time (SQLite's `BEGIN IMMEDIATE`): a unit of work that writes takes the
store's lock on entry and keeps it until it exits. It works on a copy of the committed
tables; `commit()` makes that copy the committed state, and leaving without committing
(or by an exception) drops it. A read-only unit of work reads the state committed when it
began (WAL readers beside a writer) and may not write. Events and jobs leave only on commit.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, NoReturn, Self, cast

from domain.analytics.ports import SalesRepository
from domain.catalog.ports import CatalogRepository, ListingRepository, PricingRepository
from domain.customers.ports import CustomerRepository
from domain.events import Event
from domain.jobs import IfTaken
from domain.partners.ports import PartnerRepository
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.sync.inbox_model import InboxRepository
from domain.sync.ports import PushedQuantities
from tests.fakes.alerts import FakeAlertRepository
from tests.fakes.api_keys import FakeApiKeyRepository
from tests.fakes.channels import FakeChannelConfigRepository, FakeChannelRepository
from tests.fakes.inventory import FakeInventoryRepository, FakeOperationLog
from tests.fakes.orders import FakeDueAllocationRepository, FakeOrderRepository
from tests.fakes.sync import FakeOutboxRepository, FakeSyncLogRepository
from tests.fakes.tables import Tables

Job = tuple[str, tuple[Any, ...], str | None]
REPOSITORIES = (
    "api_keys", "inventory", "operations", "channels", "alerts", "channel_configs", "orders",
    "due_allocations", "outbox", "sync_log", "catalog", "pricing", "listings", "pushes", "inbox",
    "customers", "sales",
)  # fmt: skip


class Unfaked:
    """A port these fakes do not implement: any use of it fails, naming it."""

    def __init__(self, port: str):
        self._port = port

    def __getattr__(self, name: str) -> NoReturn:
        raise NotImplementedError(f"the fake unit of work has no {self._port} ({name})")


class FakeUnitOfWorkFactory:
    """The committed state, the writer's lock, and what commits sent out (in order)."""

    def __init__(self) -> None:
        self.committed = Tables()
        self.published: list[Event] = []
        self.enqueued: list[Job] = []
        # Where an enqueued job goes when its id is taken, by that id (no queue here says).
        self.if_taken: dict[str, IfTaken] = {}
        self.commits = 0
        self.writer = asyncio.Lock()
        self.writer_task: asyncio.Task[Any] | None = None

    def __call__(self, *, readonly: bool = False, autocommit: bool = False) -> FakeUnitOfWork:
        # `autocommit` changes nothing a use case can see on SQLite either: one transaction.
        return FakeUnitOfWork(self, readonly=readonly)


class FakeUnitOfWork:
    """Its repositories exist only between entry and exit, as a transaction's do."""

    api_keys: FakeApiKeyRepository
    inventory: FakeInventoryRepository
    operations: FakeOperationLog
    channels: FakeChannelRepository
    alerts: FakeAlertRepository
    channel_configs: FakeChannelConfigRepository
    orders: FakeOrderRepository
    due_allocations: FakeDueAllocationRepository
    outbox: FakeOutboxRepository
    sync_log: FakeSyncLogRepository
    catalog: CatalogRepository
    pricing: PricingRepository
    listings: ListingRepository
    pushes: PushedQuantities
    inbox: InboxRepository
    customers: CustomerRepository
    sales: SalesRepository

    def __init__(self, factory: FakeUnitOfWorkFactory, *, readonly: bool = False):
        self._factory = factory
        self._readonly = readonly
        self._events: list[Event] = []
        self._jobs: list[Job] = []
        self._if_taken: dict[str, IfTaken] = {}
        self._base: Tables | None = None
        self._tables = Tables()

    def _open(self, tables: Tables) -> None:
        self._tables = tables
        self.api_keys = FakeApiKeyRepository(tables)
        self.inventory = FakeInventoryRepository(tables)
        self.operations = FakeOperationLog(tables)
        self.channels = FakeChannelRepository(tables)
        self.alerts = FakeAlertRepository(tables)
        self.channel_configs = FakeChannelConfigRepository(tables)
        self.orders = FakeOrderRepository(tables)
        self.due_allocations = FakeDueAllocationRepository(tables)
        self.outbox = FakeOutboxRepository(tables)
        self.sync_log = FakeSyncLogRepository(tables)
        # Too wide to fake honestly for what the unit tests need: their use cases are tested
        # against the SQL repositories (tests/integration).
        self.catalog = cast(CatalogRepository, Unfaked("catalog repository"))
        self.pricing = cast(PricingRepository, Unfaked("pricing repository"))
        self.listings = cast(ListingRepository, Unfaked("listing repository"))
        self.pushes = cast(PushedQuantities, Unfaked("pushed quantities"))
        self.inbox = cast(InboxRepository, Unfaked("inbox repository"))
        self.customers = cast(CustomerRepository, Unfaked("customer repository"))
        self.sales = cast(SalesRepository, Unfaked("sales repository"))
        self.partners = cast(PartnerRepository, Unfaked("partner repository"))

    async def __aenter__(self) -> Self:
        if self._base is not None:
            raise RuntimeError("a unit of work entered twice at once")
        factory = self._factory
        if not self._readonly:
            if factory.writer_task is not None and factory.writer_task is asyncio.current_task():
                # SQLite would wait on itself here (until its busy timeout): never do this.
                raise RuntimeError("a writing unit of work opened inside another one")
            await factory.writer.acquire()
            factory.writer_task = asyncio.current_task()
        self._base = factory.committed
        self._open(factory.committed.copy())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._base = None
        for name in REPOSITORIES:  # what was not committed is gone
            delattr(self, name)
        self._tables = Tables()
        self._events.clear()
        self._jobs.clear()
        self._if_taken.clear()
        if not self._readonly:
            self._factory.writer_task = None
            self._factory.writer.release()

    async def commit(self) -> None:
        if self._base is None:
            raise RuntimeError("commit outside the unit of work")
        factory = self._factory
        if self._readonly:
            if self._tables != self._base:
                raise RuntimeError("a read-only unit of work wrote")
        else:
            factory.committed = self._tables.copy()
            self._base = factory.committed
        factory.commits += 1
        factory.published.extend(self._events)
        factory.enqueued.extend(self._jobs)
        factory.if_taken.update(self._if_taken)
        self._events.clear()
        self._jobs.clear()
        self._if_taken.clear()

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def enqueue_after_commit(
        self, job: str, *args: Any, job_id: str | None = None, if_taken: IfTaken | None = None
    ) -> None:
        self._jobs.append((job, args, job_id))
        if job_id is not None and if_taken is not None:
            self._if_taken[job_id] = if_taken

    @property
    def pending_events(self) -> list[Event]:
        """Events emitted in the open unit of work, not yet committed."""
        return list(self._events)


def _conforms(factory: FakeUnitOfWorkFactory) -> UnitOfWorkFactory:
    """Never called: mypy checks here that the fakes implement the ports, signature by
    signature (a fake repository that drifts from its port fails `mypy tests/fakes`)."""
    return factory


def _uow_conforms(uow: FakeUnitOfWork) -> UnitOfWork:
    return uow
