"""Sales channels as inventory sees them: the locations feeding them and their rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.inventory.availability import AvailabilityRule


class ChannelKind(StrEnum):
    SHOPIFY = "shopify"
    AMAZON = "amazon"
    EBAY = "ebay"
    MERCADOLIBRE = "mercadolibre"
    WEBSTORE = "webstore"


@dataclass(frozen=True, slots=True)
class Channel:
    id: uuid.UUID
    name: str
    kind: ChannelKind
    currency: str
    priority: int
    location_ids: tuple[uuid.UUID, ...]
    rule: AvailabilityRule
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelForSku:
    """A channel with the per-SKU override that applies to one SKU, if any."""

    channel: Channel
    override: AvailabilityRule | None
