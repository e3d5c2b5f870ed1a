"""Fulfilment requests, partner endpoints and a partner location's stock, in SQL.

Deliveries (of requests and of cancellations, each in its own table) are claimed as the
outbox's rows are: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers never take the
same one; a claim left by a run that died is taken back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.cursors import before_position, encode_cursor
from adapters.db.dialect import upsert_for
from adapters.db.tables import (
    fulfilment_cancellations,
    fulfilment_requests,
    partner_endpoints,
    stock_levels,
)
from domain.inventory.model import StockLevel
from domain.orders.handoff import (
    Cancellation,
    DeliveryStatus,
    FulfilmentRequest,
    RequestLine,
    RequestStatus,
)
from domain.partners.endpoints import PartnerEndpoint
from domain.partners.ports import Notice

_DUE = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRY.value)
_OVER = (DeliveryStatus.DELIVERED.value, DeliveryStatus.DEAD.value)


def _lines(raw: Any) -> tuple[RequestLine, ...]:
    return tuple(RequestLine(uuid.UUID(ln[0]), ln[1], int(ln[2])) for ln in raw)


def _request(row: Any) -> FulfilmentRequest:
    return FulfilmentRequest(
        id=row.id,
        order_id=row.order_id,
        location_id=row.location_id,
        lines=_lines(row.lines),
        status=RequestStatus(row.status),
        created_at=row.created_at,
        delivery=DeliveryStatus(row.delivery),
        attempts=row.attempts,
        available_at=row.available_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        acknowledged_at=row.acknowledged_at,
        shipped_at=row.shipped_at,
        shipment_id=row.shipment_id,
    )


def _cancellation(row: Any) -> Cancellation:
    return Cancellation(
        id=row.id,
        request_id=row.request_id,
        order_id=row.order_id,
        location_id=row.location_id,
        lines=_lines(row.lines),
        reason=row.reason,
        created_at=row.created_at,
        delivery=DeliveryStatus(row.delivery),
        attempts=row.attempts,
        available_at=row.available_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
    )


def _table(notice: Notice) -> Table:
    return fulfilment_cancellations if isinstance(notice, Cancellation) else fulfilment_requests


def _endpoint(row: Any) -> PartnerEndpoint:
    return PartnerEndpoint(row.location_id, row.url, bytes(row.secret), row.updated_at)


class SqlPartnerRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def add(self, request: FulfilmentRequest) -> None:
        await self._conn.execute(
            insert(fulfilment_requests).values(
                id=request.id,
                order_id=request.order_id,
                location_id=request.location_id,
                lines=[[str(ln.line_id), ln.sku, ln.quantity] for ln in request.lines],
                status=request.status.value,
                created_at=request.created_at,
                delivery=request.delivery.value,
                attempts=request.attempts,
                available_at=request.available_at or request.created_at,
            )
        )

    async def add_cancellation(self, cancellation: Cancellation) -> None:
        await self._conn.execute(
            insert(fulfilment_cancellations).values(
                id=cancellation.id,
                request_id=cancellation.request_id,
                order_id=cancellation.order_id,
                location_id=cancellation.location_id,
                lines=[[str(ln.line_id), ln.sku, ln.quantity] for ln in cancellation.lines],
                reason=cancellation.reason,
                created_at=cancellation.created_at,
                delivery=cancellation.delivery.value,
                attempts=cancellation.attempts,
                available_at=cancellation.available_at or cancellation.created_at,
            )
        )

    async def cancellations(self, request_ids: Sequence[uuid.UUID]) -> list[Cancellation]:
        if not request_ids:
            return []
        c = fulfilment_cancellations.c
        stmt = (
            select(fulfilment_cancellations)
            .where(c.request_id.in_(request_ids))
            .order_by(c.created_at, c.id)
        )
        return [_cancellation(row) for row in await self._conn.execute(stmt)]

    async def get(self, request_id: uuid.UUID) -> FulfilmentRequest | None:
        stmt = select(fulfilment_requests).where(fulfilment_requests.c.id == request_id)
        row = (await self._conn.execute(stmt)).first()
        return _request(row) if row else None

    async def for_order(self, order_id: uuid.UUID) -> list[FulfilmentRequest]:
        c = fulfilment_requests.c
        stmt = select(fulfilment_requests).where(c.order_id == order_id).order_by(c.created_at)
        return [_request(row) for row in await self._conn.execute(stmt)]

    async def page(
        self,
        *,
        location_id: uuid.UUID | None,
        status: RequestStatus | None,
        first: int,
        after: str | None,
    ) -> list[FulfilmentRequest]:
        c = fulfilment_requests.c
        stmt = select(fulfilment_requests).order_by(c.created_at.desc(), c.id.desc()).limit(first)
        if location_id is not None:
            stmt = stmt.where(c.location_id == location_id)
        if status is not None:
            stmt = stmt.where(c.status == status.value)
        if after is not None:
            stmt = stmt.where(before_position(c.created_at, c.id, after))
        return [_request(row) for row in await self._conn.execute(stmt)]

    def cursor(self, request: FulfilmentRequest) -> str:
        return encode_cursor(request.created_at.isoformat(), request.id)

    async def move(
        self,
        request_id: uuid.UUID,
        *,
        from_statuses: Sequence[RequestStatus],
        to: RequestStatus,
        at: datetime,
        shipment_id: uuid.UUID | None = None,
    ) -> bool:
        c = fulfilment_requests.c
        values: dict[str, Any] = {"status": to.value}
        if to is RequestStatus.ACKNOWLEDGED:
            values["acknowledged_at"] = at
        if to is RequestStatus.SHIPPED:
            values["shipped_at"] = at
            values["shipment_id"] = shipment_id
        result = await self._conn.execute(
            update(fulfilment_requests)
            .where(c.id == request_id, c.status.in_([s.value for s in from_statuses]))
            .values(**values)
        )
        return bool(result.rowcount)

    async def claim_due(
        self, now: datetime, stuck_before: datetime, limit: int
    ) -> list[tuple[Notice, PartnerEndpoint]]:
        r = fulfilment_requests.c
        requests = [
            _request(row)
            for row in await self._claim(fulfilment_requests, now, stuck_before, limit)
        ]
        over = select(r.id).where(
            r.id == fulfilment_cancellations.c.request_id, r.delivery.in_(_OVER)
        )
        cancellations = [
            _cancellation(row)
            for row in await self._claim(
                fulfilment_cancellations, now, stuck_before, limit - len(requests), over.exists()
            )
        ]
        notices: list[Notice] = [*requests, *cancellations]
        if not notices:
            return []
        e = partner_endpoints.c
        rows = await self._conn.execute(
            select(partner_endpoints).where(
                e.location_id.in_(sorted({n.location_id for n in notices}))
            )
        )
        endpoints = {row.location_id: _endpoint(row) for row in rows}
        return [(n, endpoints[n.location_id]) for n in sorted(notices, key=_due_order)]

    async def _claim(
        self, table: Table, now: datetime, stuck_before: datetime, limit: int, *also: Any
    ) -> Sequence[Any]:
        """Claim up to `limit` of the table's due rows whose location has an endpoint."""
        if limit <= 0:
            return []
        c = table.c
        processing = DeliveryStatus.PROCESSING.value
        configured = select(partner_endpoints.c.location_id).where(
            partner_endpoints.c.location_id == c.location_id
        )
        due = (
            select(c.id)
            .where(
                or_(
                    c.delivery.in_(_DUE) & (c.available_at <= now),
                    (c.delivery == processing) & (c.claimed_at < stuck_before),
                ),
                configured.exists(),
                *also,
            )
            .order_by(c.available_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = await self._conn.execute(
            update(table).where(c.id.in_(due)).values(delivery=processing, claimed_at=now)
            .returning(table)
        )  # fmt: skip
        return list(claimed)

    async def delivered(self, notice: Notice, at: datetime) -> None:
        await self._set(
            notice, delivery=DeliveryStatus.DELIVERED.value, delivered_at=at, last_error=None
        )

    async def retry(self, notice: Notice, error: str, at: datetime) -> None:
        await self._set(
            notice,
            delivery=DeliveryStatus.RETRY.value,
            attempts=_table(notice).c.attempts + 1,
            available_at=at,
            last_error=error[:2000],
        )

    async def bury(self, notice: Notice, error: str) -> None:
        await self._set(
            notice,
            delivery=DeliveryStatus.DEAD.value,
            attempts=_table(notice).c.attempts + 1,
            last_error=error[:2000],
        )

    async def _set(self, notice: Notice, **values: Any) -> None:
        table = _table(notice)
        await self._conn.execute(update(table).where(table.c.id == notice.id).values(**values))

    async def location_stock(
        self, location_id: uuid.UUID, *, first: int, after_sku: str | None
    ) -> list[StockLevel]:
        s = stock_levels.c
        stmt = select(stock_levels).where(s.location_id == location_id).order_by(s.sku).limit(first)
        if after_sku is not None:
            stmt = stmt.where(s.sku > after_sku)
        return [
            StockLevel(row.sku, row.location_id, row.on_hand, row.reserved, row.version)
            for row in await self._conn.execute(stmt)
        ]

    async def endpoint(self, location_id: uuid.UUID) -> PartnerEndpoint | None:
        stmt = select(partner_endpoints).where(partner_endpoints.c.location_id == location_id)
        row = (await self._conn.execute(stmt)).first()
        return _endpoint(row) if row else None

    async def set_endpoint(self, endpoint: PartnerEndpoint) -> None:
        values = {"url": endpoint.url, "secret": endpoint.sealed_secret,
                  "updated_at": endpoint.updated_at}  # fmt: skip
        stmt = upsert_for(self._conn)(partner_endpoints).values(
            location_id=endpoint.location_id, **values
        )
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["location_id"], set_=values)
        )


def _due_order(notice: Notice) -> tuple[datetime, str]:
    return (notice.available_at or notice.created_at, str(notice.id))
