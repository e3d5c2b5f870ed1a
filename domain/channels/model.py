"""Sales channels as inventory sees them: the locations feeding them and their rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.channels.availability import AvailabilityRule


class ChannelKind(StrEnum):
    SHOPIFY = "shopify"
    AMAZON = "amazon"
    EBAY = "ebay"
    MERCADOLIBRE = "mercadolibre"
    WEBSTORE = "webstore"

    @property
    def time_resolution(self) -> timedelta:
        """How finely the channel stamps its orders' times: closer stamps cannot be told apart."""
        return _TIME_RESOLUTION[self]

    @property
    def refuses_at_checkout(self) -> bool:
        """Whether Nexo answers the channel's checkout, so its customer is told "order placed"
        only once Nexo holds the units (the web store); marketplaces sell first and tell us."""
        return self is ChannelKind.WEBSTORE


# Shopify's and Amazon's (createdTime) order times are whole seconds, eBay's and MercadoLibre's
# milliseconds; the web store's are Nexo's own clock.
_TIME_RESOLUTION = {
    ChannelKind.SHOPIFY: timedelta(seconds=1),
    ChannelKind.AMAZON: timedelta(seconds=1),
    ChannelKind.EBAY: timedelta(milliseconds=1),
    ChannelKind.MERCADOLIBRE: timedelta(milliseconds=1),
    ChannelKind.WEBSTORE: timedelta(microseconds=1),
}


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
