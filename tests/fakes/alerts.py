"""Alerts in a dict."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime

from domain.inventory.alerts import Alert
from tests.fakes.tables import Tables, UniqueViolation, read_position


class FakeAlertRepository:
    def __init__(self, tables: Tables):
        self._t = tables

    async def add(self, alert: Alert) -> None:
        if alert.id in self._t.alerts:
            raise UniqueViolation(f"alerts.id {alert.id}")
        # Stored without an acknowledgement, whatever the alert says: only `acknowledge` sets it.
        self._t.alerts[alert.id] = dataclasses.replace(
            alert, acknowledged_at=None, acknowledged_by=None
        )

    async def add_many(self, raised: Sequence[Alert]) -> None:
        for alert in raised:
            await self.add(alert)

    async def list(
        self, *, acknowledged: bool | None, sku: str | None, first: int, after: str | None
    ) -> list[Alert]:
        found = sorted(self._t.alerts.values(), key=lambda a: (a.created_at, a.id), reverse=True)
        if acknowledged is not None:
            found = [a for a in found if (a.acknowledged_at is not None) == acknowledged]
        if sku is not None:
            found = [a for a in found if a.sku == sku]
        if after is not None:
            start = read_position(after)
            found = [a for a in found if (a.created_at, a.id) < start]
        return found[:first]

    async def acknowledge(self, alert_id: uuid.UUID, actor: str, at: datetime) -> Alert | None:
        alert = self._t.alerts.get(alert_id)
        if alert is not None and alert.acknowledged_at is None:
            alert = dataclasses.replace(alert, acknowledged_at=at, acknowledged_by=actor)
            self._t.alerts[alert_id] = alert
        return alert
