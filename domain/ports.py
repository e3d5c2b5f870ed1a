"""The doors the core needs opened: storage, events and jobs. Adapters implement them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

from domain.access import ApiKey
from domain.events import Event
from domain.jobs import IfTaken

if TYPE_CHECKING:
    # Named for typing only: every area's services take the unit of work, so importing the
    # areas' repositories here at run time would tie the lowest layer to the highest.
    from domain.analytics.ports import SalesRepository
    from domain.catalog.ports import CatalogRepository, ListingRepository, PricingRepository
    from domain.channels.ports import ChannelConfigRepository, ChannelRepository
    from domain.customers.ports import CustomerRepository
    from domain.inventory.ports import AlertRepository, InventoryRepository, OperationLog
    from domain.orders.ports import DueAllocationRepository, OrderRepository
    from domain.partners.ports import PartnerRepository
    from domain.sync.inbox_model import InboxRepository
    from domain.sync.ports import OutboxRepository, PushedQuantities, SyncLogRepository


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def get_by_name(self, name: str) -> ApiKey | None: ...
    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key whose current or former (rotated) secret has this hash."""
        ...

    async def list(self) -> list[ApiKey]: ...
    async def count(self) -> int:
        """Every key ever issued, revoked ones included."""
        ...

    async def revoke(self, name: str) -> bool: ...

    async def rotate(self, name: str, key_hash: str, previous_valid_until: datetime) -> bool:
        """Give active key `name` a new secret's hash; its current one stays valid until
        `previous_valid_until`. False when there is no such active key."""
        ...


class UnitOfWork(Protocol):
    """One transaction: leaving without `commit()` rolls back; events leave after commit."""

    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def inventory(self) -> InventoryRepository: ...
    @property
    def operations(self) -> OperationLog: ...
    @property
    def channels(self) -> ChannelRepository: ...
    @property
    def alerts(self) -> AlertRepository: ...
    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def pricing(self) -> PricingRepository: ...
    @property
    def channel_configs(self) -> ChannelConfigRepository: ...
    @property
    def listings(self) -> ListingRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def due_allocations(self) -> DueAllocationRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def sync_log(self) -> SyncLogRepository: ...
    @property
    def pushes(self) -> PushedQuantities: ...
    @property
    def inbox(self) -> InboxRepository: ...
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def sales(self) -> SalesRepository: ...
    @property
    def partners(self) -> PartnerRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    def emit(self, event: Event) -> None:
        """Queue an event to publish once (and only if) this unit of work commits."""
        ...

    def enqueue_after_commit(
        self, job: str, *args: Any, job_id: str | None = None, if_taken: IfTaken | None = None
    ) -> None:
        """Queue a job to enqueue once (and only if) this unit of work commits; when a job
        of `job_id` is already known, under `if_taken`'s id instead (if given)."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, readonly: bool = False, autocommit: bool = False) -> UnitOfWork:
        """A new unit of work; `readonly` ones only read, and may run beside a writer.

        In an `autocommit` one each statement may commit as it runs (where the backend
        allows): for work that is one statement, which then costs no BEGIN and COMMIT. It
        ends at `commit()`, which still sends its events and jobs.
        """
        ...


class Subscription(Protocol):
    """Messages of one topic, in publish order, for one subscriber."""

    def __aiter__(self) -> AsyncIterator[Mapping[str, Any]]: ...


class EventBus(Protocol):
    """Live hints between processes. At-most-once: a source of truth it is not."""

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> None: ...

    async def publish_many(self, events: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
        """Publish (topic, payload) pairs in their order, together (one round trip)."""
        ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]: ...


class JobQueue(Protocol):
    """Background work, run at least once; the same job functions under every adapter."""

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float = 0
    ) -> bool:
        """Enqueue a job; False when a job with the same `job_id` is already known."""
        ...
