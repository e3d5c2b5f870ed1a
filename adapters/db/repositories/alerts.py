"""Inventory alerts in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.db.cursors import before_position
from adapters.db.tables import alerts
from domain.inventory.alerts import Alert, AlertKind


def _alert(row: Any) -> Alert:
    return Alert(
        id=row.id,
        kind=AlertKind(row.kind),
        sku=row.sku,
        available=row.available,
        threshold=row.threshold,
        created_at=row.created_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        channel_id=row.channel_id,
        message=row.message,
    )


def _row(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "sku": alert.sku,
        "available": alert.available,
        "threshold": alert.threshold,
        "created_at": alert.created_at,
        "channel_id": alert.channel_id,
        "message": alert.message,
    }


class SqlAlertRepository:
    def __init__(self, connection: AsyncConnection):
        self._conn = connection

    async def add(self, alert: Alert) -> None:
        await self._conn.execute(insert(alerts).values(**_row(alert)))

    async def add_many(self, raised: Sequence[Alert]) -> None:
        if raised:  # an empty executemany would insert one row of defaults
            await self._conn.execute(insert(alerts), [_row(alert) for alert in raised])

    async def list(
        self, *, acknowledged: bool | None, sku: str | None, first: int, after: str | None
    ) -> list[Alert]:
        c = alerts.c
        stmt = select(alerts).order_by(c.created_at.desc(), c.id.desc()).limit(first)
        if acknowledged is not None:
            stmt = stmt.where(
                c.acknowledged_at.is_not(None) if acknowledged else c.acknowledged_at.is_(None)
            )
        if sku is not None:
            stmt = stmt.where(c.sku == sku)
        if after is not None:
            stmt = stmt.where(before_position(c.created_at, c.id, after))
        return [_alert(r) for r in await self._conn.execute(stmt)]

    async def acknowledge(self, alert_id: uuid.UUID, actor: str, at: datetime) -> Alert | None:
        await self._conn.execute(
            update(alerts)
            .where(alerts.c.id == alert_id, alerts.c.acknowledged_at.is_(None))
            .values(acknowledged_at=at, acknowledged_by=actor)
        )
        row = (await self._conn.execute(select(alerts).where(alerts.c.id == alert_id))).first()
        return _alert(row) if row else None
