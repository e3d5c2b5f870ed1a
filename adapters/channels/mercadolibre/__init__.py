"""MercadoLibre: the items and orders API. So far its listing body and order mapping: no port
connects yet."""

from __future__ import annotations

from typing import Final

from adapters.channel_kit.descriptor import ChannelDescriptor
from adapters.channels.mercadolibre.mapping import MercadoLibreListingFormat
from adapters.channels.mercadolibre.orders import channel_order
from domain.channels.model import ChannelKind

CHANNEL: Final = ChannelDescriptor(
    kind=ChannelKind.MERCADOLIBRE,
    listing_format=MercadoLibreListingFormat(),
    order_mapper=channel_order,
)
