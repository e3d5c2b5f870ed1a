"""MercadoLibre: items (classic or User Products), stock, prices, orders and packs, shipments,
and unsigned pointer notifications."""

from __future__ import annotations

from typing import Final

from adapters.channel_kit.descriptor import ChannelDescriptor, ChannelServices, PortFactory
from adapters.channel_kit.queues import QueueFactory
from adapters.channels.mercadolibre.adapter import CAPABILITIES
from adapters.channels.mercadolibre.connect import mercadolibre_factory, missed_feeds_factory
from adapters.channels.mercadolibre.mapping import MercadoLibreListingFormat
from adapters.channels.mercadolibre.orders import channel_order
from domain.channels.model import ChannelKind


def _connect(services: ChannelServices) -> PortFactory:
    return mercadolibre_factory(services.http, services.rate_limiter, services.tokens)


def _missed_feeds(services: ChannelServices) -> QueueFactory:
    return missed_feeds_factory(services.http, services.rate_limiter, services.tokens)


CHANNEL: Final = ChannelDescriptor(
    kind=ChannelKind.MERCADOLIBRE,
    listing_format=MercadoLibreListingFormat(),
    capabilities=CAPABILITIES,
    connect=_connect,
    order_mapper=channel_order,
    notification_queue=_missed_feeds,
)
