"""Read-side use cases that are more than a repository call: availability, audit, alerts."""

from __future__ import annotations

import uuid

from domain.channels.availability import ChannelAvailability
from domain.clock import utcnow
from domain.errors import NotFound
from domain.inventory.alerts import Alert
from domain.inventory.events import availability_on
from domain.inventory.model import AuditReport
from domain.inventory.stock import load_sku
from domain.ports import UnitOfWork


async def availability_for(uow: UnitOfWork, sku: str, channel_id: uuid.UUID) -> ChannelAvailability:
    """The quantity `channel_id` would be told for `sku` right now, with every step."""
    snapshot = await load_sku(uow, sku)
    for entry in await uow.channels.for_sku(sku, fresh=True):
        if entry.channel.id == channel_id:
            return availability_on(snapshot, entry)
    raise NotFound(f"unknown channel {channel_id}", field="channelId")


async def audit(uow: UnitOfWork) -> AuditReport:
    """Recompute every level from the ledger; any difference is a mismatch to investigate."""
    return await uow.inventory.audit()


async def acknowledge_alert(uow: UnitOfWork, *, alert_id: uuid.UUID, actor: str) -> Alert:
    alert = await uow.alerts.acknowledge(alert_id, actor, utcnow())
    if alert is None:
        raise NotFound(f"unknown alert {alert_id}", field="alertId")
    return alert  # acknowledging twice keeps the first acknowledgement
