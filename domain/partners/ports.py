"""What the partner hand-off needs opened: its storage and the partners' webhooks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from domain.inventory.model import StockLevel
from domain.orders.handoff import Cancellation, FulfilmentRequest, RequestStatus
from domain.partners.endpoints import PartnerEndpoint

# What a partner's webhook tells it of: a request, or lines of one withdrawn.
Notice = FulfilmentRequest | Cancellation


class PartnerRepository(Protocol):
    """Fulfilment requests, partner endpoints, and the stock a partner location holds."""

    async def add(self, request: FulfilmentRequest) -> None: ...
    async def add_cancellation(self, cancellation: Cancellation) -> None: ...
    async def cancellations(self, request_ids: Sequence[uuid.UUID]) -> list[Cancellation]:
        """The cancellations of these requests, oldest first."""
        ...

    async def get(self, request_id: uuid.UUID) -> FulfilmentRequest | None: ...
    async def for_order(self, order_id: uuid.UUID) -> list[FulfilmentRequest]: ...

    async def page(
        self,
        *,
        location_id: uuid.UUID | None,
        status: RequestStatus | None,
        first: int,
        after: str | None,
    ) -> list[FulfilmentRequest]:
        """Requests newest first (of one location, when given); `after` is a `cursor`."""
        ...

    def cursor(self, request: FulfilmentRequest) -> str: ...

    async def move(
        self,
        request_id: uuid.UUID,
        *,
        from_statuses: Sequence[RequestStatus],
        to: RequestStatus,
        at: datetime,
        shipment_id: uuid.UUID | None = None,
    ) -> bool:
        """Move a request in one of `from_statuses` to `to`; False when it was in none."""
        ...

    async def claim_due(
        self, now: datetime, stuck_before: datetime, limit: int
    ) -> list[tuple[Notice, PartnerEndpoint]]:
        """Requests and cancellations whose delivery is due and whose location has an
        endpoint, claimed (no other run takes them); claims older than `stuck_before` count
        as lost. A cancellation is due only once its request's delivery is over (delivered or
        dead), so a partner never hears of one before its request."""
        ...

    async def delivered(self, notice: Notice, at: datetime) -> None: ...
    async def retry(self, notice: Notice, error: str, at: datetime) -> None: ...
    async def bury(self, notice: Notice, error: str) -> None: ...

    async def location_stock(
        self, location_id: uuid.UUID, *, first: int, after_sku: str | None
    ) -> list[StockLevel]:
        """The location's stock levels by SKU, those after `after_sku`."""
        ...

    async def endpoint(self, location_id: uuid.UUID) -> PartnerEndpoint | None: ...
    async def set_endpoint(self, endpoint: PartnerEndpoint) -> None: ...


class DeliveryFailed(Exception):
    """The partner did not take the webhook (an error answer, a timeout, no answer)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class PartnerWebhooks(Protocol):
    async def deliver(
        self, endpoint: PartnerEndpoint, delivery_id: str, event: str, body: bytes
    ) -> None:
        """POST `body` (an `event`) to the endpoint, signed with its secret; raises
        `DeliveryFailed`."""
        ...
