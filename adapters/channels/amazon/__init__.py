"""Amazon: the Selling Partner API (Listings Items, Feeds, Orders) and its SQS notifications."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from adapters.channel_kit.descriptor import ChannelDescriptor, ChannelServices, PortFactory
from adapters.channel_kit.queues import QueueFactory
from adapters.channels.amazon.adapter import CAPABILITIES
from adapters.channels.amazon.connect import amazon_factory, queue_factory, setup_problem
from adapters.channels.amazon.mapping import AmazonListingFormat
from adapters.channels.amazon.notifications import MESSAGE_HEADER
from adapters.channels.amazon.orders import channel_order, notified_order
from domain.channels.model import ChannelKind
from domain.channels.port import ChannelOrder


def _connect(services: ChannelServices) -> PortFactory:
    return amazon_factory(
        services.http, services.rate_limiter, services.tokens, feeds_in_flight=services.feeds
    )


def _queue(services: ChannelServices) -> QueueFactory:
    return queue_factory(services.http)


def _order(payload: Mapping[str, Any]) -> ChannelOrder:
    """An order as Orders 2026-01-01 carries it, or as an ORDER_CHANGE notification does."""
    if "NotificationType" in payload:
        return notified_order(payload)
    return channel_order(payload)


CHANNEL: Final = ChannelDescriptor(
    kind=ChannelKind.AMAZON,
    listing_format=AmazonListingFormat(),
    capabilities=CAPABILITIES,
    connect=_connect,
    kept_headers=(MESSAGE_HEADER,),
    setup_problem=setup_problem,
    order_mapper=_order,
    notification_queue=_queue,
)
