"""eBay: the Sell Inventory and Fulfillment APIs, with signed notifications."""

from __future__ import annotations

from typing import Final

from adapters.channel_kit.descriptor import ChannelDescriptor, ChannelServices, PortFactory
from adapters.channels.ebay.adapter import CAPABILITIES
from adapters.channels.ebay.connect import ebay_factory, setup_problem
from adapters.channels.ebay.mapping import EbayListingFormat
from adapters.channels.ebay.orders import channel_order
from domain.channels.model import ChannelKind


def _connect(services: ChannelServices) -> PortFactory:
    return ebay_factory(services.http, services.rate_limiter, services.tokens)


CHANNEL: Final = ChannelDescriptor(
    kind=ChannelKind.EBAY,
    listing_format=EbayListingFormat(),
    capabilities=CAPABILITIES,
    connect=_connect,
    kept_headers=("x-ebay-",),
    setup_problem=setup_problem,
    order_mapper=channel_order,
)
