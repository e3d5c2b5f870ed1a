"""What the inventory tells the world after a commit: stock changes and alerts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from domain.channels.availability import ChannelAvailability, channel_availability
from domain.channels.model import ChannelForSku
from domain.events import Event
from domain.inventory.alerts import Alert
from domain.inventory.model import LocationKind, MovementReason, SkuSnapshot, StockLevel

STOCK_TOPIC = "stock"
ALERT_TOPIC = "inventory_alerts"


def availability_on(snapshot: SkuSnapshot, entry: ChannelForSku) -> ChannelAvailability:
    """A channel's availability for the snapshot's SKU, from the locations that feed it."""
    available: dict[uuid.UUID, int] = {}
    names: dict[uuid.UUID, str] = {}
    for location_id in entry.channel.location_ids:
        at = snapshot.location_of(location_id)
        if at is not None and at.location_kind is LocationKind.CHANNEL_MANAGED:
            continue  # the channel holds that stock itself; the hub never publishes it
        available[location_id] = at.level.available if at is not None else 0
        if at is not None:
            names[location_id] = at.location_code
    return channel_availability(available, names, entry.channel.rule, entry.override)


def stock_changed(
    snapshot: SkuSnapshot,
    level: StockLevel,
    reason: MovementReason,
    channels: Sequence[ChannelForSku],
    changed_at: datetime,
) -> Event:
    at = snapshot.location_of(level.location_id)
    feeding = [c for c in channels if level.location_id in c.channel.location_ids]
    payload: dict[str, Any] = {
        "sku": level.sku,
        "locationId": str(level.location_id),
        "locationCode": at.location_code if at else None,
        "onHand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
        "version": level.version,
        "reason": reason.value,
        "changedAt": changed_at.isoformat(),
        "channels": [
            {
                "channelId": str(c.channel.id),
                "name": c.channel.name,
                "quantity": availability_on(snapshot, c).quantity,
            }
            for c in feeding
        ],
    }
    return Event(STOCK_TOPIC, payload)


def alert_raised(alert: Alert) -> Event:
    return Event(
        ALERT_TOPIC,
        {
            "id": str(alert.id),
            "kind": alert.kind.value,
            "sku": alert.sku,
            "available": alert.available,
            "threshold": alert.threshold,
            "createdAt": alert.created_at.isoformat(),
            "channelId": str(alert.channel_id) if alert.channel_id else None,
            "message": alert.message,
        },
    )
